/// A cache key's 32 digest bytes held inline as four words: the key to give an eviction policy. Unlike
/// `CacheKey.bytes` (a heap array hashed byte by byte) it costs no allocation and hashes one word, which is
/// enough because a SHA-256 digest is already uniformly distributed; equality still compares all 32 bytes.
public struct DigestKey: Hashable, Sendable {
    public let w0, w1, w2, w3: UInt64

    /// The key of `key`.
    public init(_ key: CacheKey) {
        self.init(bytes: key.bytes)!
    }

    /// The key for 32 digest bytes (as stored in LMDB); nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var words = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        for (i, byte) in bytes.enumerated() {
            let shifted = UInt64(byte) << (8 * UInt64(i % 8))
            switch i / 8 {
            case 0: words.0 |= shifted
            case 1: words.1 |= shifted
            case 2: words.2 |= shifted
            default: words.3 |= shifted
            }
        }
        (w0, w1, w2, w3) = words
    }

    /// The 32 bytes, in the order they were given.
    public var bytes: [UInt8] {
        [w0, w1, w2, w3].flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * UInt64($0))) } }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(w0)
    }
}
