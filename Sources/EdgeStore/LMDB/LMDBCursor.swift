internal import CLMDB
import Foundation

/// A cursor on one database, valid only inside the closure `LMDBTransaction.withCursor` runs. Each move returns
/// the record it lands on, or nil past either end (MDB_NOTFOUND); any other failure throws. A record's buffers
/// point into the map: valid until the transaction next writes, or ends.
struct LMDBCursor {
    typealias Record = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    let handle: OpaquePointer
    let database: LMDBDatabase

    func first() throws -> Record? { try move(MDB_FIRST) }
    func last() throws -> Record? { try move(MDB_LAST) }
    func next() throws -> Record? { try move(MDB_NEXT) }
    func previous() throws -> Record? { try move(MDB_PREV) }

    /// The first record whose key is `key` or sorts after it (MDB_SET_RANGE).
    func seek<Key: ContiguousBytes>(atLeast key: Key) throws -> Record? {
        try key.withUnsafeBytes { try move(MDB_SET_RANGE, from: $0) }
    }

    /// The record stored under `key` exactly (MDB_SET_KEY).
    func seek<Key: ContiguousBytes>(exactly key: Key) throws -> Record? {
        try key.withUnsafeBytes { try move(MDB_SET_KEY, from: $0) }
    }

    /// `next()` and `seek(atLeast:)` for the key alone: LMDB does not read the value, so a value on overflow
    /// pages is not touched (nor a damaged page under it).
    func nextKey() throws -> UnsafeRawBufferPointer? { try move(MDB_NEXT, value: false)?.key }

    func seekKey<Key: ContiguousBytes>(atLeast key: Key) throws -> UnsafeRawBufferPointer? {
        try key.withUnsafeBytes { try move(MDB_SET_RANGE, from: $0, value: false)?.key }
    }

    /// Deletes the record the cursor stands on. The cursor then stands on the next one: `next()` returns it
    /// without moving.
    func deleteCurrent() throws {
        try LMDBError.check(mdb_cursor_del(handle, 0), "mdb_cursor_del \(database.name)")
    }

    private func move(_ op: MDB_cursor_op, from key: UnsafeRawBufferPointer? = nil,
                      value: Bool = true) throws -> Record? {
        var k = key.map { MDB_val($0) } ?? MDB_val()
        var v = MDB_val()
        let rc = value ? mdb_cursor_get(handle, &k, &v, op) : mdb_cursor_get(handle, &k, nil, op)
        if rc == MDB_NOTFOUND { return nil }
        try LMDBError.check(rc, "mdb_cursor_get \(database.name)")
        return (k.bytes, v.bytes)
    }
}
