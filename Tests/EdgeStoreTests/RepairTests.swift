import EdgeCore
@testable import EdgeStore
import EdgeTestSupport
import Foundation
import Testing

/// Deletes the record stored under `key` in `db`.
func deleteRecord(_ txn: LMDBTransaction, _ db: LMDBDatabase, _ key: [UInt8]) throws {
    #expect(try txn.delete(key, in: db))
}

/// Gives the `entries` record of `key` another sequence number, as a damaged header would have.
func setSequence(_ txn: LMDBTransaction, _ entries: LMDBDatabase, _ key: CacheKey, to sequence: UInt64) throws {
    var record = try #require(try txn.get(key.bytes, in: entries) { Array($0) })
    withUnsafeBytes(of: sequence.littleEndian) { record.replaceSubrange(0..<8, with: $0) }
    try txn.put(record, forKey: key.bytes, in: entries)
}

/// Waits (up to 10 s) until the store has completed `passes` repair passes.
func waitForRepair(_ store: LMDBCacheStore, passes: Int = 1) async throws {
    for _ in 0..<500 where store.statistics.repairPasses < passes {
        try await Task.sleep(for: .milliseconds(20))
    }
    #expect(store.statistics.repairPasses >= passes)
}

@Suite struct RepairTests {
    /// Should find, in the background after reopening, the pieces and order records of entries whose records
    /// were lost or whose headers name another sequence, delete them (and the damaged entries), correct the
    /// totals, and leave every other entry byte-exact.
    @Test func backgroundPassDeletesLeakedRecords() async throws {
        let dir = try TemporaryDirectory()
        let pool = ValuePool(seed: 5)
        // Pieced values (10 pieces), values on one page, and values inline in their leaf.
        let sizes = (0..<300).map { [40_000, 3000, 500][$0 % 3] }
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 32 << 20)
            for (i, n) in sizes.enumerated() { try await store.write(key("k\(i)"), value: pool.value(i, count: n)) }
            store.close()
        }
        let lost = Set(stride(from: 0, to: 300, by: 7))
        let renumbered = Set(stride(from: 3, to: 300, by: 11)).subtracting(lost)
        try withRawStore(at: dir.path) { db in
            for i in lost { try deleteRecord(db.txn, db.entries, key("k\(i)").bytes) }
            for i in renumbered { try setSequence(db.txn, db.entries, key("k\(i)"), to: 1_000_000 + UInt64(i)) }
            // A store written before the repair flag existed: the first idle step runs a pass.
            try deleteRecord(db.txn, db.meta, Array("repair".utf8))
        }
        let leakedPieces = lost.union(renumbered).filter { sizes[$0] == 40_000 }.count * 10
        let kept = (0..<300).filter { !lost.contains($0) && !renumbered.contains($0) }
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 32 << 20)
            try await waitForRepair(store)
            let stats = store.statistics
            #expect(stats.repaired.orderRecords == lost.count + renumbered.count)
            #expect(stats.repaired.entries == renumbered.count)
            #expect(stats.repaired.pieces == leakedPieces)
            #expect(stats.repaired.chargedBytesCorrected == lost.union(renumbered).reduce(0) { $0 + store.footprint(ofValueBytes: sizes[$1]) })
            #expect(store.usage == CacheUsage(entries: kept.count, bytes: kept.reduce(0) { $0 + sizes[$1] }))
            #expect(stats.chargedBytes == kept.reduce(0) { $0 + store.footprint(ofValueBytes: sizes[$1]) })
            #expect(stats.unrestoredEntries == 0 && stats.smallQueueEntries + stats.mainQueueEntries == kept.count)
            for i in kept { #expect(store.bytes(key("k\(i)")) == pool.value(i, count: sizes[i]), "k\(i)") }
            for i in lost.union(renumbered) { #expect(store.bytes(key("k\(i)")) == nil) }
            print("repair pass: \(leakedPieces) leaked pieces and \(lost.count + renumbered.count) order records among 300 entries in \(stats.lastRepairDuration!)")
            store.close()
        }
        let counts = try recordCounts(storeAt: dir.path)
        #expect(counts.entries == kept.count)
        #expect(counts.pieces == counts.namedPieces)
        #expect(counts.order == counts.entries)
        // The pass cleared the flag: reopening runs none.
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 32 << 20)
        defer { store.close() }
        try await store.restorePolicy()
        try await Task.sleep(for: .milliseconds(100))
        #expect(store.statistics.repairPasses == 0)
    }

    /// Should start a pass by itself once a damaged header made it delete an entry without its pieces and order
    /// record, and leave none of them behind.
    @Test func damagedHeaderTriggersAPass() async throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
            for i in 0..<20 { try await store.write(key("k\(i)"), value: value(i, count: 20_000)) }
            store.close()
        }
        // The sequence's low byte: the header no longer names the entry's order record.
        try damage(storeAt: dir.path, key: key("k4"), at: 0)
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
            #expect(store.bytes(key("k4")) == nil)
            try await waitForRepair(store)
            let stats = store.statistics
            #expect(stats.repaired.orderRecords == 1 && stats.repaired.pieces == 5)
            #expect(store.usage == CacheUsage(entries: 19, bytes: 19 * 20_000))
            #expect(stats.chargedBytes == 19 * store.footprint(ofValueBytes: 20_000))
            for i in 0..<20 where i != 4 { #expect(store.bytes(key("k\(i)")) == value(i, count: 20_000)) }
            store.close()
        }
        let counts = try recordCounts(storeAt: dir.path)
        #expect(counts.entries == 19 && counts.order == 19 && counts.pieces == counts.namedPieces)
    }

    /// Should never delete what writes running alongside it store: fills and removals interleaved with a pass
    /// (in short transactions of its own) all land, and the store ends consistent.
    @Test func passRunsAlongsideWrites() async throws {
        let dir = try TemporaryDirectory()
        let pool = ValuePool(seed: 8)
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 64 << 20)
            for i in 0..<1500 { try await store.write(key("old\(i)"), value: pool.value(i, count: 9000)) }
            store.close()
        }
        try withRawStore(at: dir.path) { db in
            for i in stride(from: 0, to: 1500, by: 5) { try deleteRecord(db.txn, db.entries, key("old\(i)").bytes) }
            try deleteRecord(db.txn, db.meta, Array("repair".utf8))
        }
        do {
            // Small batches: many short transactions between the writes.
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 64 << 20, options: .init(repairBatch: 16))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<4 {
                    group.addTask {
                        for i in 0..<150 {
                            let id = 10_000 + t * 1000 + i
                            try await store.write(key("new\(id)"), value: pool.value(id, count: 5000 + (id % 7) * 3000))
                            if i % 10 == 9 { try await store.remove(key("old\(t * 300 + i)")) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await waitForRepair(store)
            var entries = 0, bytes = 0, charged = 0
            for t in 0..<4 {
                for i in 0..<150 {
                    let id = 10_000 + t * 1000 + i
                    let size = 5000 + (id % 7) * 3000
                    #expect(store.bytes(key("new\(id)")) == pool.value(id, count: size))
                    (entries, bytes, charged) = (entries + 1, bytes + size, charged + store.footprint(ofValueBytes: size))
                }
            }
            for i in 0..<1500 {
                guard let v = store.bytes(key("old\(i)")) else { continue }
                #expect(v == pool.value(i, count: 9000))
                (entries, bytes, charged) = (entries + 1, bytes + 9000, charged + store.footprint(ofValueBytes: 9000))
            }
            #expect(entries == 600 + 1200 - 60)
            #expect(store.usage == CacheUsage(entries: entries, bytes: bytes))
            #expect(store.statistics.chargedBytes == charged)
            store.close()
        }
        let counts = try recordCounts(storeAt: dir.path)
        #expect(counts.pieces == counts.namedPieces && counts.order == counts.entries)
    }
}
