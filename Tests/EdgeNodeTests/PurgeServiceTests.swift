import EdgeCore
@testable import EdgeNode
import NIOCore
import Testing

/// The memory tier's purge check: tombstones searched again only after some were added.
@Suite struct PurgeServiceTests {
    static func item(path: String, fetchedAt: Double) -> HotCache.Item {
        let h = CacheEntry(contentType: "image/jpeg", etag: "\"e\"", fetchedAt: fetchedAt, expiresAt: 1e12, source: "s",
                           path: path, variesOnAccept: false, body: []).header
        return HotCache.Item(header: h, body: ByteBuffer(repeating: 1, count: 10))
    }

    /// Should find an item that passed the check dead once a purge covering it is added, keep finding one it
    /// does not cover alive, and find alive an item fetched after the purge.
    @Test func itemPassesUntilTombstonesAreAdded() async throws {
        let purges = PurgeService(nodeID: "n", sources: ["s"], log: nil, tombstones: [], clock: { 1000 })
        let a = Self.item(path: "/a.jpg", fetchedAt: 10), b = Self.item(path: "/b.jpg", fetchedAt: 10)
        #expect(!purges.covers(a) && !purges.covers(b))
        #expect(!purges.covers(a), "passed: no tombstone added since")
        _ = try await purges.purge([.image(source: "s", path: "/a.jpg")])
        #expect(purges.covers(a))
        #expect(purges.covers(a), "a dead item stays dead")
        #expect(!purges.covers(b) && !purges.covers(b))
        #expect(!purges.covers(Self.item(path: "/a.jpg", fetchedAt: 2000)), "fetched after the purge")
        _ = try await purges.purge([.source("s")])
        #expect(purges.covers(b))
        await purges.shutdown()
    }
}
