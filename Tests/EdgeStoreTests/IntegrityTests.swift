import CLMDB
import EdgeCore
import EdgeStore
import EdgeTestSupport
import Foundation
import Testing

/// Flips one byte of a stored value behind the store's back, as a torn write or a bad disk would.
func damage(storeAt path: String, key k: CacheKey, at offset: Int) throws {
    var env: OpaquePointer?
    #expect(mdb_env_create(&env) == 0)
    defer { mdb_env_close(env) }
    mdb_env_set_maxdbs(env, 4)
    #expect(mdb_env_open(env, path, UInt32(MDB_NOTLS), 0o644) == 0)
    var txn: OpaquePointer?
    #expect(mdb_txn_begin(env, nil, 0, &txn) == 0)
    var dbi: MDB_dbi = 0
    #expect(mdb_dbi_open(txn, "entries", 0, &dbi) == 0)
    var kb = k.bytes
    let rc: Int32 = kb.withUnsafeMutableBytes { kp in
        var kv = MDB_val(mv_size: kp.count, mv_data: kp.baseAddress)
        var vv = MDB_val()
        guard mdb_get(txn, dbi, &kv, &vv) == 0 else { return -1 }
        var copy = Array(UnsafeRawBufferPointer(start: vv.mv_data, count: vv.mv_size))
        copy[offset] ^= 0xff
        return copy.withUnsafeMutableBytes { cp in
            var nv = MDB_val(mv_size: cp.count, mv_data: cp.baseAddress)
            return mdb_put(txn, dbi, &kv, &nv, 0)
        }
    }
    #expect(rc == 0)
    #expect(mdb_txn_commit(txn) == 0)
}

@Suite struct IntegrityTests {
    /// Should never return a value whose checksum fails, and should delete it.
    @Test func damagedValueIsAMissAndRemoved() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 4 << 20)
            try await store.write(key("good"), value: value(1, count: 4000))
            try await store.write(key("bad"), value: value(2, count: 4000))
            store.close()
        }
        try damage(storeAt: dir.path, key: key("bad"), at: 12 + 1234)
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 4 << 20)
        defer { store.close() }
        #expect(store.bytes(key("good")) == value(1, count: 4000))
        #expect(store.bytes(key("bad")) == nil)
        // The removal runs on the writer; wait for it through another write.
        for _ in 0..<50 where store.usage.entries != 1 {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(store.usage.entries == 1)
    }

    /// Should reopen with the totals it had, without reading the entries (the totals are stored with them).
    @Test func reopensWithStoredTotals() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var expected = CacheUsage(entries: 0, bytes: 0)
        do {
            let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
            for i in 0..<200 { try await store.write(key("k\(i)"), value: value(i, count: 100 + i)) }
            try await store.remove(key("k7"))
            expected = store.usage
            store.close()
        }
        #expect(expected.entries == 199)
        let store = try LMDBCacheStore(path: dir.path, maxBytes: 8 << 20)
        defer { store.close() }
        #expect(store.usage == expected)
        // New writes continue the insertion order: the oldest entries are still evicted first.
        try await store.write(key("new"), value: value(9, count: 10))
        #expect(store.usage.entries == 200)
    }
}
