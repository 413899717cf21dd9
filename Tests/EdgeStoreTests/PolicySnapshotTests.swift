import EdgeCore
import EdgeStore
import EdgeTestSupport
import Foundation
import Testing

/// Fills a 1 MiB store past its bound with 10 KB values, hitting some of them, so that its policy has residents in
/// both queues with various frequencies, and ghosts.
func exercisePolicy(_ store: LMDBCacheStore, prefix: String, count: Int = 140) async throws {
    for i in 0..<count {
        try await store.write(key("\(prefix)\(i)"), value: value(i, count: 10_000))
        // Every third one hit once, every seventh twice more: some move to the main queue, some have credit there.
        if i % 3 == 0 { _ = store.bytes(key("\(prefix)\(i)")) }
        if i % 7 == 0 {
            _ = store.bytes(key("\(prefix)\(i / 2)"))
            _ = store.bytes(key("\(prefix)\(i / 2)"))
        }
    }
}

/// Waits (up to 5 s) until `condition` holds.
func eventually(_ condition: () -> Bool) async throws {
    for _ in 0..<250 where !condition() {
        try await Task.sleep(for: .milliseconds(20))
    }
}

@Suite struct PolicySnapshotTests {
    /// Should come back after a clean restart with the policy exactly as it was: every resident in its queue,
    /// in its place, with its frequency, and the same ghosts.
    @Test func policySurvivesRestart() async throws {
        let dir = try TemporaryDirectory()
        var before = S3FIFO<DigestKey>.Snapshot(residents: [], ghosts: [])
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
            try await exercisePolicy(store, prefix: "k")
            before = store.policyState()
            store.close()
            #expect(store.statistics.snapshotsSaved == 1)
        }
        #expect(Set(before.residents.map(\.queue)) == [.small, .main])
        #expect(before.residents.contains { $0.frequency > 0 } && !before.ghosts.isEmpty)
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20, options: .init(restoresInBackground: false))
        defer { store.close() }
        #expect(store.statistics.recordsReadAtOpen == 1)
        try await store.restorePolicy()
        #expect(store.policyState() == before)
        let stats = store.statistics
        #expect(stats.restoredFromSnapshot == before.residents.count && stats.snapshotsIgnored == 0)
        #expect(stats.unrestoredEntries == 0 && stats.smallQueueEntries + stats.mainQueueEntries == stats.entries)
        for e in before.residents.prefix(5) { #expect(store.policyState().residents.first { $0.key == e.key }?.queue == e.queue) }
    }

    /// Should restore a snapshot older than the store (a crash after it): the entries it saw keep their queue and
    /// frequency, those deleted since are not tracked, and those written since come back as without a snapshot —
    /// in the main queue, never hit, behind everything.
    @Test func crashAfterSnapshotAppendsNewerEntries() async throws {
        let dir = try TemporaryDirectory()
        let image = try TemporaryDirectory()
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
        defer { store.close() }
        try await exercisePolicy(store, prefix: "a")
        try await store.savePolicySnapshot()
        let saved = store.policyState()
        let victim = try #require(saved.residents.first { $0.queue == .main }?.key)
        let rewritten = try #require(saved.residents.last { $0.queue == .small }?.key)
        // Keys of the policy are digests: the store keys behind them.
        let names = Dictionary(uniqueKeysWithValues: (0..<140).map { (DigestKey(bytes: key("a\($0)").bytes), "a\($0)") })
        let victimName = try #require(names[victim]), rewrittenName = try #require(names[rewritten])
        // Written after the snapshot (evicting some of what it saw), deleted, replaced.
        for i in 0..<5 { try await store.write(key("n\(i)"), value: value(500 + i, count: 3000)) }
        try await store.remove(key(victimName))
        try await store.write(key(rewrittenName), value: value(999, count: 2000))
        // What kill -9 leaves: the data file as written so far (no sync needed: it is in the page cache), and
        // the last snapshot.
        for file in ["data.mdb", "policy.snapshot"] {
            try FileManager.default.copyItem(at: dir.appending(file), to: image.appending(file))
        }
        let stored = Set(names.keys.filter { store.bytes(key(names[$0]!)) != nil })

        let after = try LMDBCacheStore(path: image.path, maxBytes: 1 << 20, options: .init(restoresInBackground: false))
        defer { after.close() }
        try await after.restorePolicy()
        let restored = after.policyState()
        let stats = after.statistics
        #expect(stats.unrestoredEntries == 0 && stats.smallQueueEntries + stats.mainQueueEntries == stats.entries)
        #expect(after.queue(of: key(victimName)) == nil && after.bytes(key(victimName)) == nil)
        let newer = Set((0..<5).map { DigestKey(bytes: key("n\($0)").bytes) } + [rewritten])
        // Behind everything in the main queue (its oldest), unhit.
        let main = restored.residents.filter { $0.queue == .main }
        #expect(Set(main.prefix(newer.count).map(\.key)) == newer)
        #expect(main.prefix(newer.count).allSatisfy { $0.frequency == 0 })
        // The rest as saved, in the same order.
        let expected = saved.residents.filter { $0.key != rewritten && stored.contains($0.key) }
        #expect(restored.residents.filter { !newer.contains($0.key) } == expected)
        #expect(stats.restoredFromSnapshot == expected.count)
        #expect(after.bytes(key(rewrittenName)) == value(999, count: 2000))
    }

    /// Should ignore a snapshot that is damaged, cut short or another store's, and restore as without one: every
    /// entry in the main queue, never hit.
    @Test(arguments: ["flipped", "truncated", "foreign"])
    func unusableSnapshotIsIgnored(kind: String) async throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
            try await exercisePolicy(store, prefix: "k", count: 60)
            store.close()
        }
        let file = dir.appending("policy.snapshot")
        var bytes = try [UInt8](Data(contentsOf: file))
        switch kind {
        case "flipped": bytes[bytes.count / 2] ^= 0x10
        case "truncated": bytes.removeLast(50)
        default:
            let other = try TemporaryDirectory()
            let store = try LMDBCacheStore(path: other.path, maxBytes: 1 << 20)
            try await exercisePolicy(store, prefix: "k", count: 60)
            store.close()
            bytes = try [UInt8](Data(contentsOf: other.appending("policy.snapshot")))
        }
        try Data(bytes).write(to: file)
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20, options: .init(restoresInBackground: false))
        defer { store.close() }
        try await store.restorePolicy()
        let stats = store.statistics
        #expect(stats.snapshotsIgnored == 1 && stats.restoredFromSnapshot == 0)
        #expect(stats.unrestoredEntries == 0 && stats.mainQueueEntries == stats.entries && stats.smallQueueEntries == 0)
        #expect(store.policyState().residents.allSatisfy { $0.frequency == 0 })
    }

    /// Should save a snapshot by itself after enough admissions, and on its timer after fewer, with no write or
    /// close to wake it; hits alone never cause one.
    @Test func savesAfterAdmissionsAndOnATimer() async throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20,
                                           options: .init(snapshotInterval: nil, snapshotAdmissions: 10))
            for i in 0..<9 { try await store.write(key("k\(i)"), value: value(i, count: 100)) }
            for _ in 0..<50 { _ = store.bytes(key("k1")) }
            try await Task.sleep(for: .milliseconds(100))
            #expect(store.statistics.snapshotsSaved == 0)
            try await store.write(key("k9"), value: value(9, count: 100))
            try await eventually { store.statistics.snapshotsSaved == 1 }
            #expect(store.statistics.snapshotsSaved == 1)
            store.close()
        }
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20, options: .init(snapshotInterval: .seconds(1)))
        defer { store.close() }
        // The interval passes with no admission: nothing to save.
        try await Task.sleep(for: .milliseconds(1200))
        #expect(store.statistics.snapshotsSaved == 0)
        try await store.write(key("timed"), value: value(1, count: 100))
        try await eventually { store.statistics.snapshotsSaved == 1 }
        // The next is due a second after that one: the idle writer wakes for it.
        try await store.write(key("timed2"), value: value(2, count: 100))
        try await eventually { store.statistics.snapshotsSaved == 2 }
        #expect(store.statistics.snapshotsSaved == 2)
    }
}
