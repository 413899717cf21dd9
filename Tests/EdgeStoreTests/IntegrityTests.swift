import EdgeCore
@testable import EdgeStore
import EdgeTestSupport
import Foundation
import Testing

/// The store's databases, as `withRawStore` opens them.
struct RawStore {
    var txn: LMDBTransaction
    var entries: LMDBDatabase
    var chunks: LMDBDatabase
    var order: LMDBDatabase
    var meta: LMDBDatabase
}

/// Opens a closed store's file directly, as another program would, and runs `body` in one transaction: a write
/// transaction committed after it, or with `readOnly` a read-only one.
func withRawStore<T>(at path: String, readOnly: Bool = false, _ body: (RawStore) throws -> T) throws -> T {
    let env = try LMDBEnvironment(path: path, flags: readOnly ? [.noThreadLocalStorage, .readOnly] : [.noThreadLocalStorage],
                                  maxDatabases: 4)
    defer { env.close() }
    func run(_ txn: LMDBTransaction) throws -> T {
        try body(RawStore(txn: txn, entries: try txn.openDatabase("entries"), chunks: try txn.openDatabase("chunks"),
                          order: try txn.openDatabase("order"), meta: try txn.openDatabase("meta")))
    }
    return try readOnly ? env.withReadTransaction(run) : env.withWriteTransaction(run)
}

/// Flips one byte of a stored value behind the store's back, as a torn write or a bad disk would: at `offset` in
/// the key's `entries` record (a 24-byte header, then the value when it fits in one page), or in piece `piece` of
/// a larger value.
func damage(storeAt path: String, key k: CacheKey, piece: Int? = nil, at offset: Int) throws {
    try withRawStore(at: path) { db in
        let stored = try #require(try db.txn.get(k.bytes, in: db.entries) { Array($0) })
        var (dbi, storedKey) = (db.entries, k.bytes)
        if let piece {
            storedKey = pieceKey(sequenceIn: stored, piece: piece)
            dbi = db.chunks
        }
        var copy = try #require(try db.txn.get(storedKey, in: dbi) { Array($0) })
        copy[offset] ^= 0xff
        try db.txn.put(copy, forKey: storedKey, in: dbi)
    }
}

/// The `chunks` key of piece `piece` of the value whose `entries` record is `record`: the entry's big-endian
/// sequence (the header's first 8 bytes, little-endian) and the big-endian index.
func pieceKey(sequenceIn record: [UInt8], piece: Int) -> [UInt8] {
    let sequence = record.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    return withUnsafeBytes(of: sequence.bigEndian) { Array($0) } + withUnsafeBytes(of: UInt32(piece).bigEndian) { Array($0) }
}

@Suite struct IntegrityTests {
    /// Should never return a value whose checksum fails, and should delete it: a value kept in its record and a
    /// value cut into pieces alike.
    @Test(arguments: [(4000, nil as Int?, 24 + 1234), (40_000, 3, 777)])
    func damagedValueIsAMissAndRemoved(size: Int, piece: Int?, offset: Int) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 4 << 20)
            try await store.write(key("good"), value: value(1, count: size))
            try await store.write(key("bad"), value: value(2, count: size))
            store.close()
        }
        try damage(storeAt: dir.path, key: key("bad"), piece: piece, at: offset)
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 4 << 20)
        defer { store.close() }
        #expect(store.bytes(key("good")) == value(1, count: size))
        #expect(store.bytes(key("bad")) == nil)
        // The removal runs on the writer; wait for it.
        for _ in 0..<50 where store.usage.entries != 1 {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(store.usage == CacheUsage(entries: 1, bytes: size))
        #expect(store.statistics.chargedBytes == store.footprint(ofValueBytes: size))
    }

    /// Should reopen with the totals it had, without reading the entries (the totals are stored with them).
    @Test func reopensWithStoredTotals() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var expected = CacheUsage(entries: 0, bytes: 0)
        var charged = 0
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
            for i in 0..<200 { try await store.write(key("k\(i)"), value: value(i, count: 100 + i * 50)) }
            try await store.remove(key("k7"))
            expected = store.usage
            charged = store.statistics.chargedBytes
            store.close()
        }
        #expect(expected.entries == 199)
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20, options: .init(restoresInBackground: false))
        defer { store.close() }
        #expect(store.usage == expected)
        #expect(store.statistics.chargedBytes == charged)
        #expect(store.statistics.recordsReadAtOpen == 1)
        #expect(store.statistics.unrestoredEntries == 199)
        try await store.write(key("new"), value: value(9, count: 10))
        #expect(store.usage.entries == 200)
    }
}

/// Counts, in a store's files (the store closed), the `entries` records, the pieces they name, and the records of
/// `chunks` and `order`.
func recordCounts(storeAt path: String) throws -> (entries: Int, namedPieces: Int, pieces: Int, order: Int) {
    try withRawStore(at: path, readOnly: true) { db in
        func each(_ dbi: LMDBDatabase, _ body: (UnsafeRawBufferPointer) -> Void) throws -> Int {
            try db.txn.withCursor(dbi) { cursor in
                var n = 0
                var record = try cursor.first()
                while let r = record {
                    body(r.value)
                    n += 1
                    record = try cursor.next()
                }
                return n
            }
        }
        var named = 0
        let entries = try each(db.entries) { named += Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 20, as: UInt32.self))) }
        return (entries, named, try each(db.chunks) { _ in }, try each(db.order) { _ in })
    }
}

@Suite struct BatchTests {
    /// Should leave no stray record when one batch writes a key twice or writes and removes it (a value's pieces
    /// are written at the end of its transaction): every piece on disk belongs to an entry, and every entry has
    /// its order record.
    @Test func rewritesWithinABatchLeaveNoStrayPieces() async throws {
        let dir = try TemporaryDirectory()
        let pool = ValuePool(seed: 9)
        let sizes = (0..<400).map { 3000 + ($0 * 7919) % 60_000 }
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 2 << 20)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<400 {
                    group.addTask {
                        if i % 7 == 6 {
                            try await store.remove(key("hot\(i % 8)"))
                        } else {
                            try await store.write(key("hot\(i % 8)"), value: pool.value(i, count: sizes[i]))
                        }
                    }
                }
                try await group.waitForAll()
            }
            var entries = 0, bytes = 0
            for k in 0..<8 {
                guard let v = store.bytes(key("hot\(k)")) else { continue }
                let matches = (0..<400).filter { $0 % 8 == k && $0 % 7 != 6 }.contains { v == pool.value($0, count: sizes[$0]) }
                #expect(matches, "hot\(k) holds a value nobody wrote")
                entries += 1
                bytes += v.count
            }
            #expect(store.usage == CacheUsage(entries: entries, bytes: bytes))
            store.close()
        }
        let counts = try recordCounts(storeAt: dir.path)
        #expect(counts.pieces == counts.namedPieces)
        #expect(counts.order == counts.entries)
    }
}
