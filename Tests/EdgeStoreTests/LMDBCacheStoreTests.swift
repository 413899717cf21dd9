import EdgeCore
import EdgeStore
import EdgeTestSupport
import Testing

/// A distinct key per name.
func key(_ name: String) -> CacheKey {
    CacheKey(source: "test", path: "/" + name, spec: TransformSpec(), format: .sourceFormat)
}

/// A value whose every byte depends on its seed and position, so torn or mixed-up reads show.
func value(_ seed: Int, count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 7 &+ ($0 >> 8)) }
}

extension LMDBCacheStore {
    /// A copy of the stored value.
    func bytes(_ k: CacheKey) -> [UInt8]? { read(k) { Array($0) } }
}

@Suite struct LMDBCacheStoreTests {
    /// Should read back exactly what was written, and nothing for other keys.
    @Test func writeThenRead() async throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
        defer { store.close() }
        #expect(store.usage == CacheUsage(entries: 0, bytes: 0))
        let v = value(1, count: 5000)
        try await store.write(key("a"), value: v)
        #expect(store.bytes(key("a")) == v)
        #expect(store.bytes(key("b")) == nil)
        #expect(store.read(key("a")) { $0.count } == 5000)
        #expect(store.usage == CacheUsage(entries: 1, bytes: 5000))
        // An empty value is a value.
        try await store.write(key("empty"), value: [])
        #expect(store.bytes(key("empty")) == [])
        #expect(store.usage == CacheUsage(entries: 2, bytes: 5000))
    }

    /// Should visit every value in key order, in batches, with its first bytes — from inline, single-record and
    /// many-piece values alike — and the whole of a value shorter than the prefix.
    @Test func scanVisitsPrefixes() async throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
        defer { store.close() }
        let sizes = [10, 300, 3000, 20_000, 70_000]
        for (i, n) in sizes.enumerated() { try await store.write(key("v\(i)"), value: value(i, count: n)) }
        var seen: [CacheKey: [UInt8]] = [:]
        var cursor: [UInt8]?
        var batches = 0
        repeat {
            cursor = store.scan(after: cursor, limit: 2, prefix: 5000) { k, bytes in seen[k] = Array(bytes) }
            batches += 1
        } while cursor != nil && batches < 10
        #expect(batches == 3)
        #expect(seen.count == sizes.count)
        for (i, n) in sizes.enumerated() { #expect(seen[key("v\(i)")] == Array(value(i, count: n).prefix(5000)), "\(n)") }
    }

    /// Should delete an entry by the version a scan showed only while that version is stored: a later write under
    /// the key stays (what the purge sweeper relies on), for inline and many-piece values alike.
    @Test func removeByVersionKeepsLaterWrites() async throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
        defer { store.close() }
        for n in [10, 70_000] {
            let k = key("versioned-\(n)")
            try await store.write(k, value: value(1, count: n))
            var first: UInt64?
            _ = store.scan(after: nil, limit: 100, prefix: 16) { found, version, _ in if found == k { first = version } }
            let old = try #require(first)
            try await store.write(k, value: value(2, count: n))
            try await store.remove(k, version: old)
            #expect(store.read(k) { Array($0) } == value(2, count: n), "a later write stays")
            var second: UInt64?
            _ = store.scan(after: nil, limit: 100, prefix: 16) { found, version, _ in if found == k { second = version } }
            #expect(second != nil && second != old)
            try await store.remove(k, version: try #require(second))
            #expect(store.read(k) { _ in true } == nil, "the version shown is deleted")
        }
        #expect(store.usage.entries == 0)
    }

    /// Should keep entries and recompute usage after close and reopen.
    @Test func survivesReopen() async throws {
        let dir = try TemporaryDirectory()
        let sizes = [100, 2000, 30_000]
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
            for (i, n) in sizes.enumerated() { try await store.write(key("k\(i)"), value: value(i, count: n)) }
            store.close()
        }
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
            #expect(store.usage == CacheUsage(entries: 3, bytes: sizes.reduce(0, +)))
            for (i, n) in sizes.enumerated() { #expect(store.bytes(key("k\(i)")) == value(i, count: n)) }
            // Sequence numbers continue: a new entry is the newest, so eviction takes the old ones first.
            try await store.write(key("k3"), value: value(3, count: 10))
            #expect(store.usage.entries == 4)
            store.close()
        }
        // Reopen with a smaller bound: the oldest go first (at once, in the background, or on the next write).
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 8000)
            try await store.write(key("k4"), value: value(4, count: 100))
            #expect(store.usage.bytes <= 8000)
            #expect(store.bytes(key("k4")) == value(4, count: 100))
            #expect(store.bytes(key("k3")) == value(3, count: 10))
            #expect(store.bytes(key("k2")) == nil)
            store.close()
        }
    }

    /// Should replace a value written twice under one key and count it once.
    @Test func overwriteKeepsUsage() async throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
            try await store.write(key("a"), value: value(1, count: 100))
            try await store.write(key("b"), value: value(2, count: 50))
            try await store.write(key("a"), value: value(3, count: 300))
            #expect(store.bytes(key("a")) == value(3, count: 300))
            #expect(store.usage == CacheUsage(entries: 2, bytes: 350))
            try await store.write(key("a"), value: value(4, count: 10))
            #expect(store.usage == CacheUsage(entries: 2, bytes: 60))
            store.close()
        }
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
        defer { store.close() }
        #expect(store.usage == CacheUsage(entries: 2, bytes: 60))
        #expect(store.bytes(key("a")) == value(4, count: 10))
    }

    /// Should stay within maxBytes under many inserts of varied sizes, keeping what it holds intact and counted.
    @Test func boundedUnderVariedInserts() async throws {
        let dir = try TemporaryDirectory()
        let maxBytes = 64 * 1024
        let store = try LMDBCacheStore(path: dir.path, maxBytes: maxBytes)
        defer { store.close() }
        var rng = SeededGenerator(seed: 7)
        var sizes: [Int] = []
        for i in 0..<300 {
            let n = Int.random(in: 0...3000, using: &rng)
            sizes.append(n)
            try await store.write(key("k\(i)"), value: value(i, count: n))
            #expect(store.statistics.chargedBytes <= maxBytes)
        }
        var entries = 0, bytes = 0
        for i in 0..<300 {
            guard let v = store.bytes(key("k\(i)")) else { continue }
            #expect(v == value(i, count: sizes[i]))
            entries += 1
            bytes += v.count
        }
        #expect(store.usage == CacheUsage(entries: entries, bytes: bytes))
        // Evicting no more than needed: the store is nearly full, and the newest entry is in.
        #expect(store.statistics.chargedBytes > maxBytes - 2 * 4400)
        #expect(store.bytes(key("k299")) == value(299, count: sizes[299]))
    }

    /// Should stay within maxBytes with many concurrent writers, with usage matching what is stored.
    @Test func boundedUnderConcurrentWrites() async throws {
        let dir = try TemporaryDirectory()
        let maxBytes = 100_000
        let store = try LMDBCacheStore(path: dir.path, maxBytes: maxBytes)
        defer { store.close() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<8 {
                group.addTask {
                    for i in 0..<50 {
                        let id = t * 1000 + i
                        try await store.write(key("c\(id)"), value: value(id, count: 500 + (id * 37) % 2500))
                    }
                }
            }
            try await group.waitForAll()
        }
        var entries = 0, bytes = 0
        for t in 0..<8 {
            for i in 0..<50 {
                let id = t * 1000 + i
                if let v = store.bytes(key("c\(id)")) {
                    #expect(v == value(id, count: 500 + (id * 37) % 2500))
                    entries += 1
                    bytes += v.count
                }
            }
        }
        #expect(store.usage == CacheUsage(entries: entries, bytes: bytes))
        #expect(bytes <= maxBytes && entries > 10)
    }

    /// Should refuse a value whose footprint is over a tenth of the bound (S3-FIFO's largest object: it would
    /// flush the small queue on arrival), saying so.
    @Test func oversizedValueSkipped() async throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 100_000)
        defer { store.close() }
        try await store.write(key("small"), value: value(1, count: 1000))
        try await store.write(key("fits"), value: value(3, count: 8000))
        await #expect(throws: CacheWriteRefused.self) { try await store.write(key("huge"), value: value(2, count: 12_000)) }
        #expect(store.bytes(key("huge")) == nil)
        #expect(store.bytes(key("small")) == value(1, count: 1000))
        #expect(store.usage == CacheUsage(entries: 2, bytes: 9000))
    }

    /// Should remove an entry and its usage; removing an absent key is harmless.
    @Test func remove() async throws {
        let dir = try TemporaryDirectory()
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
            try await store.write(key("a"), value: value(1, count: 700))
            try await store.write(key("b"), value: value(2, count: 300))
            try await store.remove(key("a"))
            #expect(store.bytes(key("a")) == nil)
            #expect(store.bytes(key("b")) == value(2, count: 300))
            #expect(store.usage == CacheUsage(entries: 1, bytes: 300))
            try await store.remove(key("a"))
            try await store.remove(key("never"))
            #expect(store.usage == CacheUsage(entries: 1, bytes: 300))
            // A removed key can be written again.
            try await store.write(key("a"), value: value(3, count: 10))
            #expect(store.bytes(key("a")) == value(3, count: 10))
            store.close()
        }
        // Removal persisted: usage recomputed after reopening agrees.
        let again = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
        defer { again.close() }
        #expect(again.usage == CacheUsage(entries: 2, bytes: 310))
        #expect(again.bytes(key("a")) == value(3, count: 10))
    }

    /// Should refuse writes after close.
    @Test func writeAfterClose() async throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 1 << 20)
        store.close()
        await #expect(throws: (any Error).self) { try await store.write(key("a"), value: [1, 2, 3]) }
    }

    /// Should flush the file to disk in the background once writes have gone on for a second (not on the writer's
    /// thread: writes complete while a flush runs), and close cleanly after, waiting for the flush under way.
    @Test func flushesInTheBackgroundWhileWriting() async throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 64 << 20)
        #expect(store.statistics.diskFlushes == 0 && !store.statistics.diskFlushing)
        func flushed() -> Bool { store.statistics.diskFlushes > 0 || store.statistics.diskFlushing }
        try await store.write(key("a"), value: value(1, count: 8000))
        try await Task.sleep(for: .milliseconds(1100))
        // A batch more than a second after the writer started (or last flushed) asks for a flush.
        try await store.write(key("b"), value: value(2, count: 8000))
        let asked = ContinuousClock.now
        while !flushed() && ContinuousClock.now - asked < .seconds(30) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(flushed())
        // The writer is not held by a flush (on a busy disk one can take many seconds).
        try await store.write(key("c"), value: value(3, count: 8000))
        store.close()
        let reopened = try LMDBCacheStore(path: dir.path, maxBytes: 64 << 20)
        defer { reopened.close() }
        #expect(reopened.bytes(key("c")) == value(3, count: 8000))
    }

    /// Should serve consistent values to many concurrent readers while a writer replaces and adds entries.
    @Test func concurrentReadsWhileWriting() async throws {
        let dir = try TemporaryDirectory()
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 32 << 20)
        defer { store.close() }
        let keys = 20
        for i in 0..<keys { try await store.write(key("r\(i)"), value: value(i, count: 1000 + i * 100)) }
        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                for round in 1...5 {
                    for i in 0..<keys {
                        // Replacement values keep the length but change the seed.
                        try await store.write(key("r\(i)"), value: value(i + round * 100, count: 1000 + i * 100))
                    }
                    try await store.write(key("new\(round)"), value: value(round, count: 4000))
                }
                return 0
            }
            for reader in 0..<8 {
                group.addTask {
                    var rng = SeededGenerator(seed: UInt64(reader))
                    var seen = 0
                    for _ in 0..<400 {
                        let i = Int.random(in: 0..<keys, using: &rng)
                        let got = store.bytes(key("r\(i)"))
                        let ok = (0...5).contains { round in got == value(i + round * 100, count: 1000 + i * 100) }
                        #expect(ok, "reader \(reader) saw a torn or foreign value for r\(i)")
                        seen += 1
                        if seen % 50 == 0 { await Task.yield() }
                    }
                    return seen
                }
            }
            var total = 0
            for try await n in group { total += n }
            #expect(total == 8 * 400)
        }
        for i in 0..<keys { #expect(store.bytes(key("r\(i)")) == value(i + 500, count: 1000 + i * 100)) }
        #expect(store.usage.entries == keys + 5)
    }
}

