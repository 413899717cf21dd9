import EdgeCore
@testable import EdgeNode
import NIOCore
import Testing

@Suite struct HotCacheTests {
    static func key(_ n: Int) -> CacheKey {
        CacheKey(source: "s", path: "/\(n).jpg", spec: TransformSpec(), format: .sourceFormat)
    }
    static func item(_ size: Int) -> HotCache.Item {
        let h = CacheEntry(contentType: "image/jpeg", etag: "\"e\"", fetchedAt: 0, expiresAt: 1e12, source: "s",
                           path: "/x", variesOnAccept: false, body: []).header
        return HotCache.Item(header: h, body: ByteBuffer(repeating: 7, count: size))
    }

    /// Should stay within its byte bound by dropping the least recently used items first.
    @Test func evictsLeastRecentlyUsed() {
        let cache = HotCache(maxBytes: 16_000)  // items up to 1000 bytes
        for n in 0..<16 { cache.put(Self.key(n), Self.item(1000)) }
        #expect(cache.usage.entries == 16 && cache.usage.bytes == 16_000)
        _ = cache.get(Self.key(0))           // 0 becomes the most recent
        cache.put(Self.key(16), Self.item(1000))
        #expect(cache.get(Self.key(0)) != nil)
        #expect(cache.get(Self.key(1)) == nil)  // the least recent went
        #expect(cache.usage.bytes <= 16_000)
    }

    /// Should refuse items over a sixteenth of its size, and replace an item put twice.
    @Test func boundsAndReplacement() {
        let cache = HotCache(maxBytes: 16_000)
        cache.put(Self.key(1), Self.item(1001))
        #expect(cache.get(Self.key(1)) == nil)
        cache.put(Self.key(2), Self.item(500))
        cache.put(Self.key(2), Self.item(800))
        #expect(cache.usage.entries == 1 && cache.usage.bytes == 800)
        cache.remove(Self.key(2))
        #expect(cache.usage.entries == 0 && cache.usage.bytes == 0)
        #expect(HotCache(maxBytes: 0).isEnabled == false)
    }
}
