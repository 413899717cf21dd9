import EdgeCore
@testable import EdgeStore
import EdgeTestSupport
import Foundation
import Testing

@Suite struct EvictionTests {
    /// Should keep a popular set that keeps being hit while a scan of one-hit wonders four times the cache's size
    /// goes through (plain FIFO would have flushed it after one cache's worth).
    @Test func popularSetSurvivesAScan() async throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 4 << 20)
        defer { store.close() }
        let size = 20_000
        let popular = (0..<16).map { key("popular\($0)") }
        let popularValues = (0..<16).map { value($0, count: size) }
        for (i, k) in popular.enumerated() { try await store.write(k, value: popularValues[i]) }
        for k in popular + popular { #expect(store.bytes(k) != nil) }
        let scan = 4 * (4 << 20) / size
        let pool = ValuePool(seed: 3)
        var misses = 0
        for i in 0..<scan {
            try await store.write(key("scan\(i)"), value: pool.value(i, count: size))
            #expect(store.statistics.chargedBytes <= 4 << 20)
            guard i % 10 == 9 else { continue }
            for (j, k) in popular.enumerated() where store.bytes(k) != popularValues[j] {
                // What a node does on a miss: fill again.
                misses += 1
                try await store.write(k, value: popularValues[j])
            }
        }
        #expect(misses == 0)
        #expect(popular.allSatisfy { store.queue(of: $0) == .main })
        // Evicting no more than needed: the store is full, the newest object in.
        #expect(store.statistics.chargedBytes > (4 << 20) - 2 * store.footprint(ofValueBytes: size))
        #expect(store.bytes(key("scan\(scan - 1)")) != nil)
    }

    /// Should record hits in memory only: a thousand reads, hits and misses, commit no write transaction.
    @Test func hitsDoNotWrite() async throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
        defer { store.close() }
        let values = (0..<20).map { value($0, count: 1000 + $0 * 3000) }
        for i in 0..<20 { try await store.write(key("k\(i)"), value: values[i]) }
        let before = store.statistics
        let dataFile = dir.appending("data.mdb").path
        let modified = try FileManager.default.attributesOfItem(atPath: dataFile)[.modificationDate] as? Date
        for i in 0..<1000 {
            #expect(store.bytes(key("k\(i % 20)")) == values[i % 20])
            #expect(store.bytes(key("absent\(i)")) == nil)
        }
        let after = store.statistics
        #expect(after.lastTransactionID == before.lastTransactionID)
        #expect(after.writeTransactions == before.writeTransactions)
        #expect(after.writeTransactions == 20)
        #expect(try FileManager.default.attributesOfItem(atPath: dataFile)[.modificationDate] as? Date == modified)
    }

    /// Should put new objects on probation in the small queue, and evict those never hit there before older
    /// objects of the main queue.
    @Test func newObjectsStartOnProbation() async throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
        defer { store.close() }
        let size = 10_000
        // Fill: the first tenth goes to the small queue, the rest (before any eviction) to the main queue.
        let i = try await Self.fill(store, size: size)
        #expect(store.queue(of: key("fill0")) == .small)
        #expect(store.queue(of: key("fill\(i - 1)")) == .main)
        // Hit the first one twice: the next eviction promotes it to the main queue instead of evicting it.
        _ = store.bytes(key("fill0"))
        _ = store.bytes(key("fill0"))
        try await store.write(key("new"), value: value(999, count: size))
        #expect(store.queue(of: key("fill0")) == .main)
        #expect(store.queue(of: key("new")) == .small)
        // The victim was an unhit object of the small queue, not the main queue's oldest.
        #expect(store.queue(of: key("fill1")) == nil && store.bytes(key("fill1")) == nil)
        #expect(store.queue(of: key("fill\(i - 1)")) == .main)
    }

    /// Writes `fill0`, `fill1`… of `size` bytes until one more would not fit in the store's 1 MiB; returns how many.
    @discardableResult
    static func fill(_ store: LMDBCacheStore, size: Int) async throws -> Int {
        var i = 0
        while store.statistics.chargedBytes + store.footprint(ofValueBytes: size) <= 1 << 20 {
            try await store.write(key("fill\(i)"), value: value(i, count: size))
            i += 1
        }
        return i
    }

    /// Should count hits reported for copies held elsewhere (a memory tier) as it counts its own reads: two
    /// reported hits promote an object on probation instead of letting it be evicted; hits on absent keys change
    /// nothing; no write transaction is made for them.
    @Test func reportedHitsCount() async throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
        defer { store.close() }
        let size = 10_000
        try await Self.fill(store, size: size)
        let transactions = store.statistics.writeTransactions
        store.recordHit(key("fill0"))
        store.recordHit(key("fill0"))
        store.recordHit(key("absent"))
        #expect(store.statistics.writeTransactions == transactions)
        #expect(store.policyState().residents.first { $0.key == DigestKey(bytes: key("fill0").bytes) }?.frequency == 2)
        try await store.write(key("new"), value: value(999, count: size))
        #expect(store.queue(of: key("fill0")) == .main)
        #expect(store.queue(of: key("fill1")) == nil)
        #expect(store.queue(of: key("absent")) == nil)
    }
}

@Suite struct RestartTests {
    /// Should serve hits at once after reopening, before restoring anything into the policy, having read only
    /// its totals; without a policy snapshot (a crash before the first), restoring then puts every entry in the
    /// main queue, never hit, and new ones on probation.
    @Test func reopenServesAtOnceAndRestoresLater() async throws {
        let dir = try TemporaryDirectory()
        let sizes = (0..<300).map { 500 + ($0 * 7919) % 9000 }
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
            for (i, n) in sizes.enumerated() { try await store.write(key("k\(i)"), value: value(i, count: n)) }
            store.close()
        }
        try FileManager.default.removeItem(at: dir.appending("policy.snapshot"))
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20, options: .init(restoresInBackground: false))
        defer { store.close() }
        var stats = store.statistics
        #expect(stats.recordsReadAtOpen == 1)
        #expect(stats.entries == 300 && stats.unrestoredEntries == 300)
        #expect(stats.smallQueueEntries + stats.mainQueueEntries == 0)
        for (i, n) in sizes.enumerated() { #expect(store.bytes(key("k\(i)")) == value(i, count: n)) }
        #expect(store.statistics.unrestoredEntries == 300)

        // New objects go on probation at once (the store is past its cold start); removing or replacing an
        // unrestored entry takes it out of the unrestored ones.
        try await store.write(key("new"), value: value(7, count: 3000))
        #expect(store.queue(of: key("new")) == .small)
        try await store.remove(key("k10"))
        try await store.write(key("k11"), value: value(11, count: 100))
        #expect(store.statistics.unrestoredEntries == 298)

        try await store.restorePolicy()
        stats = store.statistics
        #expect(stats.unrestoredEntries == 0)
        #expect(stats.mainQueueEntries == 298 && stats.smallQueueEntries == 2)
        #expect(store.queue(of: key("k0")) == .main && store.queue(of: key("k299")) == .main)
        #expect(store.queue(of: key("k11")) == .small)
        #expect(store.usage.entries == 300)
        #expect(store.bytes(key("k11")) == value(11, count: 100))
    }

    /// Should evict the entries it has not restored yet first, oldest first, when new ones need room.
    @Test func unrestoredEntriesGoFirstOldestFirst() async throws {
        let dir = try TemporaryDirectory()
        let size = 5000
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
            for i in 0..<100 { try await store.write(key("old\(i)"), value: value(i, count: size)) }
            #expect(store.usage.entries == 100)
            store.close()
        }
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20, options: .init(restoresInBackground: false))
        defer { store.close() }
        for i in 0..<30 { try await store.write(key("new\(i)"), value: value(1000 + i, count: size)) }
        let present = (0..<100).map { store.bytes(key("old\($0)")) != nil }
        let firstPresent = try #require(present.firstIndex(of: true))
        #expect(firstPresent > 0)
        #expect(present[firstPresent...].allSatisfy { $0 })
        #expect((0..<30).allSatisfy { store.bytes(key("new\($0)")) != nil })
        #expect(store.statistics.unrestoredEntries == 100 - firstPresent)
        #expect(store.statistics.chargedBytes <= 1 << 20)
    }

    /// Should restore in the background by itself, and keep entries and totals across any number of restarts.
    @Test func restoresInTheBackground() async throws {
        let dir = try TemporaryDirectory()
        var expected = CacheUsage(entries: 0, bytes: 0)
        for round in 0..<3 {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
            #expect(store.usage == expected)
            for i in 0..<50 { try await store.write(key("r\(round)-\(i)"), value: value(i, count: 2000 + i * 100)) }
            for _ in 0..<100 where store.statistics.unrestoredEntries > 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(store.statistics.unrestoredEntries == 0)
            #expect(store.statistics.smallQueueEntries + store.statistics.mainQueueEntries == 50 * (round + 1))
            expected = store.usage
            store.close()
        }
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
        defer { store.close() }
        for round in 0..<3 {
            for i in 0..<50 { #expect(store.bytes(key("r\(round)-\(i)")) == value(i, count: 2000 + i * 100)) }
        }
    }

    /// Should empty a store of another format on open, deleting its file (an old one may be twice the bound).
    @Test func storeOfAnotherFormatIsEmptied() async throws {
        let dir = try TemporaryDirectory()
        // A format-2 store: totals (format, entries, bytes, next sequence) and one large entry.
        let env = try LMDBEnvironment(path: dir.path, flags: [.noThreadLocalStorage], mapSize: 64 << 20, maxDatabases: 4)
        try env.withWriteTransaction { txn in
            let totals = [UInt64(2), 1, 8 << 20, 2].flatMap { w in withUnsafeBytes(of: w.littleEndian) { Array($0) } }
            try txn.put(totals, forKey: Array("totals".utf8), in: try txn.openDatabase("meta", create: true))
            try txn.put([UInt8](repeating: 1, count: 8 << 20), forKey: key("old").bytes,
                        in: try txn.openDatabase("entries", create: true))
        }
        env.close()

        let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
        defer { store.close() }
        #expect(store.usage == CacheUsage(entries: 0, bytes: 0))
        #expect(store.bytes(key("old")) == nil)
        try await store.write(key("new"), value: value(1, count: 5000))
        #expect(store.bytes(key("new")) == value(1, count: 5000))
        let size = try FileManager.default.attributesOfItem(atPath: dir.appending("data.mdb").path)[.size] as? Int ?? 0
        #expect(size < 1 << 20)
    }
}
