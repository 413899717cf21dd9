/// The on-disk store of cache entries, keyed by `CacheKey`. Values are opaque bytes (`CacheEntry.encoded()`).
public protocol CacheStoring: Sendable {
    /// Calls `body` with the stored value while it is valid (inside a short read transaction; the pointer must
    /// not escape). Returns nil when the key is absent. Never blocks on writers.
    func read<T>(_ key: CacheKey, _ body: (UnsafeRawBufferPointer) -> T) -> T?
    /// Stores a value, evicting older entries to stay within the size bound; returns once committed. Throws
    /// `CacheWriteRefused` for a value the bound cannot hold.
    func write(_ key: CacheKey, value: [UInt8]) async throws
    /// Removes a value (a corrupt or unusable entry); returns once committed.
    func remove(_ key: CacheKey) async throws
    /// Entries and value bytes currently stored.
    var usage: CacheUsage { get }
    /// Counts a hit on `key` served from a copy of its value held elsewhere (a memory tier), so that the store's
    /// eviction policy sees it as it sees its own reads. Cheap enough for every hit; never a disk write.
    func recordHit(_ key: CacheKey)
}

/// Size of the store's contents.
public struct CacheUsage: Sendable, Equatable {
    public var entries: Int
    public var bytes: Int
    public init(entries: Int, bytes: Int) { self.entries = entries; self.bytes = bytes }
}

/// A store declined a value it cannot hold (larger than its bound allows): not a failure of the store.
public struct CacheWriteRefused: Error, Sendable {
    public var size: Int
    public init(size: Int) { self.size = size }
}
