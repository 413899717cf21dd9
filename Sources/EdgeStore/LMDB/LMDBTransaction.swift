internal import CLMDB
import Foundation

/// A transaction, valid only inside the closure `LMDBEnvironment.withReadTransaction` or `withWriteTransaction`
/// runs. What it reads is not copied: each value is handed to a closure as a buffer into the map, valid only
/// inside that closure. Writes in a read-only transaction fail (EACCES). A key absent is not an error: `get`
/// answers nil, `delete` false.
///
/// Keys and values are any contiguous bytes: `[UInt8]`, an `UnsafeRawBufferPointer`, or a type of the caller's
/// that lays its bytes out itself (the store's big-endian sequence keys).
struct LMDBTransaction {
    let handle: OpaquePointer

    /// How a put treats a key that is there already (LMDB's MDB_* write flags).
    struct PutFlags: OptionSet, Sendable {
        let rawValue: UInt32

        /// Leave the record there and answer false (MDB_NOOVERWRITE).
        static let noOverwrite = PutFlags(rawValue: UInt32(MDB_NOOVERWRITE))
        /// The key sorts after every key of the database: LMDB fills the last leaf and starts the next, instead
        /// of searching and splitting (MDB_APPEND). A key that does not sort last is not written: false.
        static let append = PutFlags(rawValue: UInt32(MDB_APPEND))
    }

    /// Opens (with `create`, creating) the database `name`. Its handle is valid in other transactions once this
    /// one commits; an aborted transaction closes it.
    func openDatabase(_ name: StaticString, create: Bool = false) throws -> LMDBDatabase {
        var dbi: MDB_dbi = 0
        try name.description.withCString { cName in
            try LMDBError.check(mdb_dbi_open(handle, cName, create ? UInt32(MDB_CREATE) : 0, &dbi),
                                "mdb_dbi_open \(name)")
        }
        return LMDBDatabase(handle: dbi, name: name)
    }

    func statistics(of db: LMDBDatabase) throws -> LMDBDatabase.Statistics {
        var stat = MDB_stat()
        try LMDBError.check(mdb_stat(handle, db.handle, &stat), "mdb_stat \(db.name)")
        return .init(pageSize: Int(stat.ms_psize), depth: Int(stat.ms_depth), entries: stat.ms_entries)
    }

    /// Calls `body` with the value stored under `key` (valid only inside `body`) and returns what it returns;
    /// nil when there is no such key.
    func get<Key: ContiguousBytes, T>(_ key: Key, in db: LMDBDatabase,
                                      _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        try key.withUnsafeBytes { kb in
            var k = MDB_val(kb)
            var v = MDB_val()
            let rc = mdb_get(handle, db.handle, &k, &v)
            if rc == MDB_NOTFOUND { return nil }
            try LMDBError.check(rc, "mdb_get \(db.name)")
            return try body(v.bytes)
        }
    }

    /// Stores `value` under `key`, replacing what is there unless `flags` say otherwise. Returns false when
    /// `flags` kept it from writing (MDB_KEYEXIST), true when it wrote.
    @discardableResult
    func put<Key: ContiguousBytes, Value: ContiguousBytes>(_ value: Value, forKey key: Key, in db: LMDBDatabase,
                                                           _ flags: PutFlags = []) throws -> Bool {
        try key.withUnsafeBytes { kb in
            try value.withUnsafeBytes { vb in
                var k = MDB_val(kb)
                var v = MDB_val(vb)
                let rc = mdb_put(handle, db.handle, &k, &v, flags.rawValue)
                if rc == MDB_KEYEXIST && !flags.isEmpty { return false }
                try LMDBError.check(rc, "mdb_put \(db.name)")
                return true
            }
        }
    }

    /// Makes room for a value of `count` bytes under `key` (replacing what is there) and lets `fill` write it in
    /// place: no copy of the value is made first (MDB_RESERVE). `fill` must write every byte.
    func reserve<Key: ContiguousBytes>(_ count: Int, forKey key: Key, in db: LMDBDatabase,
                                       _ fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        try key.withUnsafeBytes { kb in
            var k = MDB_val(kb)
            var v = MDB_val(mv_size: count, mv_data: nil)
            try LMDBError.check(mdb_put(handle, db.handle, &k, &v, UInt32(MDB_RESERVE)), "mdb_put \(db.name)")
            try fill(UnsafeMutableRawBufferPointer(start: v.mv_data, count: count))
        }
    }

    /// Deletes the record stored under `key`. Returns false when there is none.
    @discardableResult
    func delete<Key: ContiguousBytes>(_ key: Key, in db: LMDBDatabase) throws -> Bool {
        try key.withUnsafeBytes { kb in
            var k = MDB_val(kb)
            let rc = mdb_del(handle, db.handle, &k, nil)
            if rc == MDB_NOTFOUND { return false }
            try LMDBError.check(rc, "mdb_del \(db.name)")
            return true
        }
    }

    /// Runs `body` with a cursor on `db`, closed after.
    func withCursor<T>(_ db: LMDBDatabase, _ body: (LMDBCursor) throws -> T) throws -> T {
        var cursor: OpaquePointer?
        try LMDBError.check(mdb_cursor_open(handle, db.handle, &cursor), "mdb_cursor_open \(db.name)")
        defer { mdb_cursor_close(cursor) }
        return try body(LMDBCursor(handle: cursor!, database: db))
    }
}

extension MDB_val {
    /// A key or value for LMDB to read: LMDB never writes through it (its C type is not const only).
    init(_ bytes: UnsafeRawBufferPointer) {
        self.init(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
    }

    /// What LMDB returned: a buffer into the map.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: mv_data, count: mv_size) }
}
