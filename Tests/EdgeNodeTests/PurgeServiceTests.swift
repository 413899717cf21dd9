import EdgeCore
@testable import EdgeNode
import EdgeStore
import EdgeTestSupport
import Foundation
import NIOConcurrencyHelpers
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

    /// Should write every purge to the log before it returns, purges arriving together sharing flushes; and once the
    /// log's writer has shut down, refuse a purge at once (applied in memory, reported as not recorded) rather than
    /// leave it waiting for a flush that will never run.
    @Test func purgesAreOnDiskBeforeTheyReturnAndRefusedAfterShutdown() async throws {
        let dir = try TemporaryDirectory(prefix: "imgedge-purge-service")
        let path = dir.path + "/tombstones.log"
        let (log, _) = try TombstoneLog.open(path: path)
        let purges = PurgeService(nodeID: "n", sources: ["s"], log: log, tombstones: [], clock: { 1000 })
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<50 { group.addTask { try await purges.purge([.image(source: "s", path: "/\(i).jpg")]).id } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(ids.count == 50 && ids.allSatisfy { written.contains("\t\($0)\t") })
        await purges.shutdown()
        // Run apart, so that a purge that never returns fails the test instead of hanging it.
        let outcome = NIOLockedValueBox<Bool?>(nil)
        Task { let r = (try? await purges.purge([.source("s")])) == nil; outcome.withLockedValue { $0 = r } }
        for _ in 0..<200 where outcome.withLockedValue({ $0 }) == nil { try await Task.sleep(for: .milliseconds(50)) }
        let refused = outcome.withLockedValue { $0 } == true
        #expect(refused, "a purge after shutdown should be refused at once, not wait for a writer that is gone")
        #expect(purges.covers(Self.item(path: "/x.jpg", fetchedAt: 10)), "still applied in memory")
    }
}
