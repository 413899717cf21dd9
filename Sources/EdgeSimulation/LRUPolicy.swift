public import EdgeCore

/// Plain least-recently-used eviction in bytes: the baseline S3-FIFO is measured against (`EdgeBench eviction`).
/// Every hit moves the object to the head of one list; admission evicts from the tail until the object fits.
public struct LRUPolicy<Key: Hashable>: EvictionPolicy {
    public let capacity: Int
    /// Largest object admitted, in bytes (plain LRU admits whatever fits).
    public let maxObjectBytes: Int
    @usableFromInline var table = SlotTable<Key>(lists: 1)

    /// A policy for a budget of `capacity` bytes.
    public init(capacity: Int, maxObjectBytes: Int? = nil) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
        self.maxObjectBytes = min(capacity, maxObjectBytes ?? capacity)
    }

    @inlinable public var usedBytes: Int { table.lists[0].bytes }
    @inlinable public var count: Int { table.lists[0].count }

    @inlinable public func contains(_ key: Key) -> Bool { table.find(key) != nil }

    @inlinable public mutating func recordHit(_ key: Key) -> Bool {
        guard let i = table.find(key) else { return false }
        table.moveToHead(i, of: 0)
        return true
    }

    @inlinable public mutating func admit(_ key: Key, size: Int) -> Admission<Key> {
        precondition(size >= 0, "negative object size")
        guard size <= maxObjectBytes else { return .bypass }
        if let i = table.find(key) { table.delete(i) }
        var evicted: [Key] = []
        while usedBytes + size > capacity {
            let tail = table.lists[0].tail
            evicted.append(table[tail].key)
            table.delete(tail)
        }
        table.insert(key, size: size, frequency: 0, list: 0)
        return .store(evicting: evicted)
    }

    @inlinable @discardableResult
    public mutating func remove(_ key: Key) -> Int? {
        guard let i = table.find(key) else { return nil }
        let size = table[i].size
        table.delete(i)
        return size
    }

    /// Resident keys, least recently used first.
    public var keysByRecency: [Key] { table.walk(0).map(\.key) }
}

extension LRUPolicy: Sendable where Key: Sendable {}
