import EdgeCore
@testable import EdgeNode
import Foundation
import Glibc
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
        let cost = Self.item(1000).memoryCost
        let cache = HotCache(maxBytes: 16 * cost)
        for n in 0..<16 { cache.put(Self.key(n), Self.item(1000)) }
        #expect(cache.usage.entries == 16 && cache.usage.bytes == 16 * cost)
        _ = cache.get(Self.key(0))           // 0 becomes the most recent
        cache.put(Self.key(16), Self.item(1000))
        #expect(cache.get(Self.key(0)) != nil)
        #expect(cache.get(Self.key(1)) == nil)  // the least recent went
        #expect(cache.usage.bytes <= 16 * cost)
    }

    /// Should refuse items over a sixteenth of its size, and replace an item put twice.
    @Test func boundsAndReplacement() {
        let cache = HotCache(maxBytes: 16_000)
        cache.put(Self.key(1), Self.item(1001))
        #expect(cache.get(Self.key(1)) == nil)
        cache.put(Self.key(2), Self.item(500))
        cache.put(Self.key(2), Self.item(800))
        #expect(cache.usage.entries == 1 && cache.usage.bytes == 2048)
        cache.remove(Self.key(2))
        #expect(cache.usage.entries == 0 && cache.usage.bytes == 0)
        #expect(HotCache(maxBytes: 0).isEnabled == false)
    }

    /// Should keep a body of 128 KiB or more as a sealed memory file with the same bytes (one that cannot be
    /// written to), and smaller ones in memory; the file outlives the item's eviction while someone holds it.
    @Test func largeBodiesKeptAsSealedFiles() throws {
        let cache = HotCache(maxBytes: 4 << 20)
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let h = Self.item(1).header
        cache.put(Self.key(1), HotCache.Item(header: h, body: ByteBuffer(bytes: bytes)))
        cache.put(Self.key(2), Self.item(1000))
        let large = try #require(cache.get(Self.key(1)))
        let file = try #require(large.file)
        #expect(large.bodyLength == 200_000 && cache.usage.bytes == 200_000 + 2048)
        #expect(Array(large.body.readableBytesView) == bytes)
        #expect(cache.get(Self.key(2))?.file == nil)
        let written = bytes.withUnsafeBytes { pwrite(file.descriptor, $0.baseAddress, 10, 0) }
        #expect(written == -1, "sealed against writes")
        cache.remove(Self.key(1))
        #expect(Array(file.read().readableBytesView) == bytes)
    }

    /// Should count a body in memory as the power-of-two buffer NIO allocates for it with a head in front, and a
    /// body in a file as its length.
    @Test func countsWhatItemsHold() {
        #expect(HotCache.Item.allocationSize(1000) == 1024 && HotCache.Item.allocationSize(1024) == 1024)
        #expect(HotCache.Item.allocationSize(1025) == 2048 && HotCache.Item.allocationSize(0) == 0)
        #expect(Self.item(1000).memoryCost == 2048 && Self.item(7000).memoryCost == 8192)
        #expect(Self.item(7200).memoryCost == 16384, "7200 bytes and a head of up to 1 KiB: over 8 KiB")
        var head = ByteBuffer(repeating: 65, count: HotCache.Item.prefixAllowance)
        head.writeString("\r\n\r\n")
        let item = Self.item(7000)
        #expect(item.keepPlainAnswer(prefix: head, age: 0, maxAge: 0).bytes.capacity <= item.memoryCost)
    }

    /// Should keep a plain answer as the head with the in-memory body after it (the body kept once: the item's
    /// buffer is a view of it), reuse it only for the same Age and max-age, leave answers already handed out as
    /// they were when a new one replaces them, and carry no body for a body kept in a file.
    @Test func plainAnswerCarriesTheBody() throws {
        let bytes = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let item = HotCache.Item(header: Self.item(1).header, body: ByteBuffer(bytes: bytes))
        #expect(item.plainAnswer(age: 0, maxAge: 60) == nil)
        let first = item.keepPlainAnswer(prefix: ByteBuffer(string: "HEAD-0\r\n\r\n"), age: 0, maxAge: 60)
        #expect(first.carriesBody && first.prefixLength == 10)
        #expect(first.bytes.capacity <= item.memoryCost, "the memory tier counts what the answer holds")
        #expect(String(buffer: first.prefix) == "HEAD-0\r\n\r\n")
        #expect(Array(first.bytes.readableBytesView) == Array("HEAD-0\r\n\r\n".utf8) + bytes)
        #expect(item.plainAnswer(age: 0, maxAge: 60)?.bytes == first.bytes)
        #expect(item.plainAnswer(age: 1, maxAge: 60) == nil && item.plainAnswer(age: 0, maxAge: 59) == nil)
        #expect(item.buffer.map { Array($0.readableBytesView) } == bytes && item.bodyLength == 5000)
        let second = item.keepPlainAnswer(prefix: ByteBuffer(string: "HEAD-1 longer\r\n\r\n"), age: 1, maxAge: 59)
        #expect(Array(second.bytes.readableBytesView) == Array("HEAD-1 longer\r\n\r\n".utf8) + bytes)
        #expect(Array(first.bytes.readableBytesView) == Array("HEAD-0\r\n\r\n".utf8) + bytes, "handed out: unchanged")
        #expect(item.plainAnswer(age: 0, maxAge: 60) == nil)
        #expect(Array(item.body.readableBytesView) == bytes)

        let cache = HotCache(maxBytes: 4 << 20)
        cache.put(Self.key(1), HotCache.Item(header: item.header, body: ByteBuffer(repeating: 1, count: 200_000)))
        let large = try #require(cache.get(Self.key(1)))
        let answer = large.keepPlainAnswer(prefix: ByteBuffer(string: "H\r\n\r\n"), age: 0, maxAge: 1)
        #expect(large.file != nil && large.buffer == nil && !answer.carriesBody && answer.body == nil)
        #expect(large.body.readableBytes == 200_000)
    }
}

@Suite struct WallClockTests {
    /// Should read the same time as Foundation's clock.
    @Test func readsTheRealTimeClock() {
        let before = Date().timeIntervalSince1970
        let now = WallClock.seconds()
        let after = Date().timeIntervalSince1970
        #expect(now >= before - 0.001 && now <= after + 0.001)
    }
}

/// The slot another adapter keeps its prepared plain answer in (HTTP/2: its header list).
@Suite struct PreparedAnswerTests {
    /// Should give back what was kept only for the same Age and max-age, and only as the type kept.
    @Test func keptPerAgeAndType() {
        let item = HotCache.Item(header: HotCacheTests.item(1).header, body: ByteBuffer(repeating: 1, count: 10))
        #expect(item.prepared(age: 0, maxAge: 60, as: String.self) == nil)
        item.keepPrepared("fields", age: 0, maxAge: 60)
        #expect(item.prepared(age: 0, maxAge: 60, as: String.self) == "fields")
        #expect(item.prepared(age: 1, maxAge: 60, as: String.self) == nil && item.prepared(age: 0, maxAge: 59, as: String.self) == nil)
        #expect(item.prepared(age: 0, maxAge: 60, as: Int.self) == nil)
        item.keepPrepared("later", age: 1, maxAge: 59)
        #expect(item.prepared(age: 0, maxAge: 60, as: String.self) == nil && item.prepared(age: 1, maxAge: 59, as: String.self) == "later")
    }
}
