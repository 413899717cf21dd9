import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

/// `limits.decodeMemory`: transforms are admitted by the memory their decode needs; more wait, and one that alone
/// needs more than the budget is refused.
@Suite struct DecodeMemoryNodeTests {
    /// Should refuse with 413 (JSON, not cached) a transform whose decode alone needs more than the budget, and still
    /// serve the original as it is.
    @Test func tooLargeAlone() async throws {
        let node = try await TestNode.start { $0.decodeMemory = 1 << 20 }
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders)
        let r = try await node.get("/p.jpg?w=100")
        #expect(r.status == 413)
        #expect(r.header("cache-control") == "no-store")
        #expect(r.text.contains("memory"))
        #expect(try await node.get("/p.jpg").status == 200)
    }

    /// Should make concurrent transforms that do not fit together wait their turn — every one answered — and
    /// leave nothing held.
    @Test func concurrentDecodesWait() async throws {
        // Room for one decode of the test photo (722 x 1024, progressive) at a time: each is estimated at 14–19 MB.
        let node = try await TestNode.start { c in
            c.decodeMemory = 24 << 20
            c.maxQueuedTransforms = 32
        }
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for w in stride(from: 300, to: 900, by: 50) { group.addTask { try await node.get("/p.jpg?w=\(w)&fm=png").status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 12 && statuses.allSatisfy { $0 == 200 })
        let budget = try await node.stats()["decodeMemory"] as? [String: Int] ?? [:]
        #expect(budget["capacity"] == 24 << 20)
        #expect((budget["waited"] ?? 0) > 0)
        #expect(budget["inUse"] == 0 && budget["waiting"] == 0)
    }
}
