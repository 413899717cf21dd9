import CLMDB
import EdgeCore
import EdgeStore
import EdgeTestSupport
import Foundation
import Testing

/// The store's databases, as `withRawStore` opens them.
struct RawStore {
    var txn: OpaquePointer
    var entries: MDB_dbi = 0
    var chunks: MDB_dbi = 0
    var order: MDB_dbi = 0
    var meta: MDB_dbi = 0
}

/// Opens a closed store's file directly, as another program would, and runs `body` in one transaction: a write
/// transaction committed after it, or with `readOnly` a read-only one.
func withRawStore<T>(at path: String, readOnly: Bool = false, _ body: (RawStore) throws -> T) throws -> T {
    var env: OpaquePointer?
    #expect(mdb_env_create(&env) == 0)
    defer { mdb_env_close(env) }
    mdb_env_set_maxdbs(env, 4)
    #expect(mdb_env_open(env, path, UInt32(MDB_NOTLS | (readOnly ? MDB_RDONLY : 0)), 0o644) == 0)
    var txn: OpaquePointer?
    #expect(mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn) == 0)
    var store = RawStore(txn: try #require(txn))
    for (name, dbi) in [("entries", \RawStore.entries), ("chunks", \.chunks), ("order", \.order), ("meta", \.meta)] {
        #expect(mdb_dbi_open(txn, name, 0, &store[keyPath: dbi]) == 0)
    }
    do {
        let result = try body(store)
        if readOnly { mdb_txn_abort(txn) } else { #expect(mdb_txn_commit(txn) == 0) }
        return result
    } catch {
        mdb_txn_abort(txn)
        throw error
    }
}

/// Flips one byte of a stored value behind the store's back, as a torn write or a bad disk would: at `offset` in
/// the key's `entries` record (a 24-byte header, then the value when it fits in one page), or in piece `piece` of
/// a larger value.
func damage(storeAt path: String, key k: CacheKey, piece: Int? = nil, at offset: Int) throws {
    try withRawStore(at: path) { db in
        var kb = k.bytes
        let record: [UInt8]? = kb.withUnsafeMutableBytes { kp in
            var kv = MDB_val(mv_size: kp.count, mv_data: kp.baseAddress)
            var vv = MDB_val()
            guard mdb_get(db.txn, db.entries, &kv, &vv) == 0 else { return nil }
            return Array(UnsafeRawBufferPointer(start: vv.mv_data, count: vv.mv_size))
        }
        let stored = try #require(record)
        var (dbi, storedKey) = (db.entries, kb)
        if let piece {
            storedKey = pieceKey(sequenceIn: stored, piece: piece)
            dbi = db.chunks
        }
        let rc: Int32 = storedKey.withUnsafeMutableBytes { kp in
            var kv = MDB_val(mv_size: kp.count, mv_data: kp.baseAddress)
            var vv = MDB_val()
            guard mdb_get(db.txn, dbi, &kv, &vv) == 0 else { return -1 }
            var copy = Array(UnsafeRawBufferPointer(start: vv.mv_data, count: vv.mv_size))
            copy[offset] ^= 0xff
            return copy.withUnsafeMutableBytes { cp in
                var nv = MDB_val(mv_size: cp.count, mv_data: cp.baseAddress)
                return mdb_put(db.txn, dbi, &kv, &nv, 0)
            }
        }
        #expect(rc == 0)
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
        func each(_ dbi: MDB_dbi, _ body: (UnsafeRawBufferPointer) -> Void) -> Int {
            var cursor: OpaquePointer?
            guard mdb_cursor_open(db.txn, dbi, &cursor) == 0 else { return -1 }
            defer { mdb_cursor_close(cursor) }
            var k = MDB_val(), v = MDB_val(), n = 0
            var rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
            while rc == 0 {
                body(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
                n += 1
                rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
            }
            return n
        }
        var named = 0
        let entries = each(db.entries) { named += Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 20, as: UInt32.self))) }
        return (entries, named, each(db.chunks) { _ in }, each(db.order) { _ in })
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
