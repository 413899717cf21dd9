import EdgeCore
import EdgeTestSupport
import Testing

/// The parts of S3-FIFO a store uses to restore it incrementally after a restart and to make room ahead of a write.
@Suite struct S3FIFORestoreTests {
    /// Should put restored objects behind everything in their queue, in the order restored (newest first), and
    /// new objects on probation once the cold start is over.
    @Test func restoredObjectsGoBehindTheRest() {
        var p = S3FIFO<String>(capacity: 100)
        p.endColdStart()
        let admitted = p.admit("new", size: 10)
        #expect(admitted == .store(evicting: []))
        for entry in [S3FIFO<String>.Entry(key: "b", size: 10), .init(key: "a", size: 20),
                      .init(key: "s", size: 5, queue: .small, frequency: 7)] {
            let restored = p.restoreOldest(entry)
            #expect(restored)
        }
        let snapshot = p.snapshot()
        #expect(snapshot.residents == [
            .init(key: "s", size: 5, queue: .small, frequency: 7), .init(key: "new", size: 10, queue: .small),
            .init(key: "a", size: 20), .init(key: "b", size: 10),
        ])
        #expect(p.usedBytes == 45 && p.count == 4)
        #expect(p.count(in: .small) == 2 && p.usedBytes(in: .small) == 15)
        #expect(p.count(in: .main) == 2 && p.usedBytes(in: .main) == 30)
        #expect(p.size(of: "a") == 20 && p.size(of: "absent") == nil)
    }

    /// Should refuse to restore a resident key, and turn a ghost key resident again.
    @Test func restoringTrackedKeys() {
        var p = S3FIFO<String>(capacity: 100)
        for key in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] { _ = p.admit(key, size: 10) }
        let admitted = p.admit("k", size: 10)
        #expect(admitted == .store(evicting: ["a"]))
        #expect(p.isGhost("a"))
        let resident = p.restoreOldest(.init(key: "b", size: 99))
        #expect(!resident)
        #expect(p.size(of: "b") == 10)
        let ghost = p.restoreOldest(.init(key: "a", size: 1))
        #expect(ghost)
        #expect(!p.isGhost("a") && p.queue(of: "a") == .main && p.size(of: "a") == 1)
    }

    /// Should restore ghosts incrementally as `rebuild` does (weighed by their own hash, counted once in the
    /// sketch): the same admissions then make the same decisions, ghost hits included.
    @Test func incrementalGhostsMatchRebuild() {
        let residents = (0..<40).map { S3FIFO<String>.Entry(key: "r\($0)", size: 10, queue: $0 % 8 == 0 ? .small : .main) }
        let ghosts = (0..<20).map { "g\($0)" }
        var rebuilt = S3FIFO<String>(capacity: 500)
        _ = rebuilt.rebuild(residents: residents, ghosts: ghosts)
        var incremental = S3FIFO<String>(capacity: 500)
        for entry in residents.reversed() { _ = incremental.restoreOldest(entry) }
        for key in ghosts.reversed() { _ = incremental.restoreOldestGhost(key) }
        #expect(incremental.snapshot() == rebuilt.snapshot())
        for key in ["g3", "n1", "g7", "r5", "n2", "g3", "n3", "g11"] {
            #expect(incremental.admit(key, size: 10) == rebuilt.admit(key, size: 10), "\(key)")
        }
        // The same objects in the same queues, and the same ghosts in the same order. Within `M` the order may
        // differ: survivors of a victim's choice asked for twice go round again, and the incremental sketch grew
        // by doubling (its early collisions doubled with it), so an estimate near 2 can fall either side.
        let a = incremental.snapshot(), b = rebuilt.snapshot()
        #expect(a.ghosts == b.ghosts)
        #expect(a.residents.filter { $0.queue == .small } == b.residents.filter { $0.queue == .small })
        #expect(Set(a.residents.filter { $0.queue == .main }.map(\.key))
                == Set(b.residents.filter { $0.queue == .main }.map(\.key)))
    }

    /// Should end the cold-start rule on restore, as `rebuild` does: new objects go to the small queue even while
    /// it is full.
    @Test func restoreEndsColdStart() {
        var p = S3FIFO<String>(capacity: 100)
        _ = p.admit("s", size: 10)
        _ = p.admit("m", size: 10)
        #expect(p.queue(of: "m") == .main)
        _ = p.restoreOldest(.init(key: "old", size: 10))
        _ = p.admit("after", size: 10)
        #expect(p.queue(of: "after") == .small)
    }

    /// Should evict as an admission would until the given bytes fit, and stop when nothing is left.
    @Test func evictToFit() {
        var p = S3FIFO<String>(capacity: 100)
        for key in ["a", "b", "c", "d", "e"] { _ = p.admit(key, size: 10) }
        let none = p.evict(toFit: 50)
        #expect(none == [])
        let victims = p.evict(toFit: 70)
        #expect(victims == ["a", "b"] && p.usedBytes == 30)
        let rest = p.evict(toFit: 1000)
        #expect(rest.count == 3 && p.count == 0)
        let nothing = p.evict(toFit: 1000)
        #expect(nothing == [])
    }

    /// Should make the same key from raw digest bytes as from a collection, and give the bytes back.
    @Test func digestKeyFromRawBytes() {
        var g = SeededGenerator(seed: 5)
        for _ in 0..<100 {
            let bytes = (0..<32).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            let k = bytes.withUnsafeBytes { DigestKey(digest: $0) }
            #expect(k == DigestKey(bytes: bytes))
            #expect(k.withDigest { Array($0) } == bytes)
            #expect(k.bytes == bytes)
        }
    }
}
