@testable import EdgeStore
import EdgeTestSupport
import Testing

/// An environment in a fresh folder with one database, "db", created in its first transaction.
private func openEnvironment(_ dir: TemporaryDirectory, mapSize: Int? = nil) throws -> (LMDBEnvironment, LMDBDatabase) {
    let env = try LMDBEnvironment(path: dir.path, flags: [.noThreadLocalStorage], mapSize: mapSize, maxDatabases: 1)
    let db = try env.withWriteTransaction { try $0.openDatabase("db", create: true) }
    return (env, db)
}

/// The bytes of `text`, as a key or value.
private func b(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A copy of what `db` holds under `key`, in a transaction of its own.
private func stored(_ env: LMDBEnvironment, _ db: LMDBDatabase, _ key: String) throws -> String? {
    try env.withReadTransaction { txn in try txn.get(b(key), in: db) { String(decoding: $0, as: UTF8.self) } }
}

@Suite struct LMDBEnvironmentTests {
    /// Should read back what a committed transaction put, in place (a reserved value too), and nothing once deleted.
    @Test func putGetDeleteRoundTrip() throws {
        let dir = try TemporaryDirectory()
        let (env, db) = try openEnvironment(dir)
        let before = env.info.lastTransactionID
        try env.withWriteTransaction { txn in
            try txn.put(b("one"), forKey: b("a"), in: db)
            try txn.reserve(3, forKey: b("b"), in: db) { $0.copyBytes(from: b("two")) }
            // Visible to the transaction that wrote it.
            #expect(try txn.get(b("a"), in: db) { Array($0) } == b("one"))
        }
        #expect(env.info.lastTransactionID == before + 1)
        #expect(try stored(env, db, "a") == "one")
        #expect(try stored(env, db, "b") == "two")
        #expect(try env.withReadTransaction { try $0.statistics(of: db).entries } == 2)
        let deleted = try env.withWriteTransaction { txn in (try txn.delete(b("a"), in: db), try txn.delete(b("a"), in: db)) }
        #expect(deleted == (true, false))
        #expect(try stored(env, db, "a") == nil)
        #expect(try stored(env, db, "b") == "two")
    }

    /// Should answer nil or false for a key that is not there, never throw: get, delete, and cursor moves past
    /// either end.
    @Test func absentKeysAreNilNotErrors() throws {
        let dir = try TemporaryDirectory()
        let (env, db) = try openEnvironment(dir)
        try env.withWriteTransaction { txn in
            #expect(try txn.get(b("missing"), in: db) { _ in true } == nil)
            #expect(try txn.delete(b("missing"), in: db) == false)
            try txn.withCursor(db) { cursor throws in
                #expect(try cursor.first() == nil)
                #expect(try cursor.last() == nil)
                #expect(try cursor.seek(atLeast: b("a")) == nil)
                #expect(try cursor.seek(exactly: b("a")) == nil)
            }
            try txn.put(b("1"), forKey: b("k"), in: db)
            try txn.withCursor(db) { cursor throws in
                #expect(try cursor.seek(atLeast: b("l")) == nil)
                #expect(try cursor.last() != nil)
                #expect(try cursor.next() == nil)
                #expect(try cursor.first() != nil)
                #expect(try cursor.previous() == nil)
            }
        }
    }

    /// Should walk keys in byte order both ways, seek to the first key at or after a given one, and delete at the
    /// cursor, which then stands on the next record.
    @Test func cursorOrderAndSeek() throws {
        let dir = try TemporaryDirectory()
        let (env, db) = try openEnvironment(dir)
        let keys = ["b", "d", "a", "ca", "c"]
        try env.withWriteTransaction { txn in
            for k in keys { try txn.put(b(k.uppercased()), forKey: b(k), in: db) }
        }
        func text(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }
        try env.withReadTransaction { txn in
            try txn.withCursor(db) { cursor in
                var forward: [String] = []
                var record = try cursor.first()
                while let r = record {
                    #expect(text(r.value) == text(r.key).uppercased())
                    forward.append(text(r.key))
                    record = try cursor.next()
                }
                #expect(forward == keys.sorted())
                var backward: [String] = []
                record = try cursor.last()
                while let r = record {
                    backward.append(text(r.key))
                    record = try cursor.previous()
                }
                #expect(backward == keys.sorted().reversed())
                #expect(try cursor.seek(atLeast: b("bb")).map { text($0.key) } == "c")
                #expect(try cursor.seek(atLeast: b("c")).map { text($0.key) } == "c")
                #expect(try cursor.next().map { text($0.key) } == "ca")
                #expect(try cursor.seek(exactly: b("cb")) == nil)
                #expect(try cursor.seekKey(atLeast: b("cb")).map(text) == "d")
            }
        }
        try env.withWriteTransaction { txn in
            try txn.withCursor(db) { cursor in
                #expect(try cursor.seek(exactly: b("c")) != nil)
                try cursor.deleteCurrent()
                #expect(try cursor.nextKey().map(text) == "ca")
            }
        }
        #expect(try stored(env, db, "c") == nil)
        #expect(try stored(env, db, "ca") == "CA")
    }

    /// Should keep a record that a put may not overwrite, and refuse an append whose key does not sort last,
    /// answering false rather than throwing.
    @Test func putFlags() throws {
        let dir = try TemporaryDirectory()
        let (env, db) = try openEnvironment(dir)
        try env.withWriteTransaction { txn throws in
            #expect(try txn.put(b("1"), forKey: b("k"), in: db, .noOverwrite))
            #expect(try !txn.put(b("2"), forKey: b("k"), in: db, .noOverwrite))
            #expect(try txn.put(b("3"), forKey: b("m"), in: db, .append))
            #expect(try !txn.put(b("4"), forKey: b("l"), in: db, .append))
        }
        #expect(try stored(env, db, "k") == "1" && stored(env, db, "m") == "3")
        #expect(try stored(env, db, "l") == nil)
    }

    /// Should leave nothing of a write transaction whose body threw, and pass the error on.
    @Test func abortedWriteLeavesNothing() throws {
        struct Stop: Error {}
        let dir = try TemporaryDirectory()
        let (env, db) = try openEnvironment(dir)
        try env.withWriteTransaction { try $0.put(b("kept"), forKey: b("a"), in: db) }
        let committed = env.info.lastTransactionID
        #expect(throws: Stop.self) {
            try env.withWriteTransaction { txn in
                try txn.put(b("lost"), forKey: b("a"), in: db)
                try txn.put(b("lost"), forKey: b("b"), in: db)
                throw Stop()
            }
        }
        #expect(try stored(env, db, "a") == "kept")
        #expect(try stored(env, db, "b") == nil)
        #expect(env.info.lastTransactionID == committed)
    }

    /// Should see, in a read transaction, the database as it was when the transaction began: not a write
    /// committed meanwhile (which a transaction begun after it sees).
    @Test func readTransactionSeesASnapshot() throws {
        let dir = try TemporaryDirectory()
        let (env, db) = try openEnvironment(dir)
        try env.withWriteTransaction { try $0.put(b("old"), forKey: b("a"), in: db) }
        try env.withReadTransaction { reader in
            // Without thread-local storage a thread may hold a read transaction while it writes.
            try env.withWriteTransaction { txn in
                try txn.put(b("new"), forKey: b("a"), in: db)
                try txn.put(b("new"), forKey: b("b"), in: db)
            }
            #expect(try reader.get(b("a"), in: db) { String(decoding: $0, as: UTF8.self) } == "old")
            #expect(try reader.get(b("b"), in: db) { _ in true } == nil)
        }
        #expect(try stored(env, db, "a") == "new")
        #expect(try stored(env, db, "b") == "new")
    }

    /// Should throw a map-full error when a write transaction needs more than the map holds, lose that
    /// transaction only, and take writes again once the map is larger.
    @Test func mapFullIsTypedError() throws {
        let dir = try TemporaryDirectory()
        let (env, db) = try openEnvironment(dir, mapSize: 64 << 10)
        try env.withWriteTransaction { try $0.put(b("small"), forKey: b("first"), in: db) }
        let page = [UInt8](repeating: 7, count: 4000)
        func fill() throws {
            try env.withWriteTransaction { txn in
                for i in 0..<64 { try txn.put(page, forKey: b("k\(i)"), in: db) }
            }
        }
        let error = #expect(throws: LMDBError.self) { try fill() }
        #expect(error?.kind == .mapFull)
        #expect(error.map { "\($0)" }?.hasPrefix("mdb_put db: ") == true)
        #expect(try stored(env, db, "first") == "small")
        #expect(try stored(env, db, "k0") == nil)
        try env.setMapSize(4 << 20)
        try fill()
        #expect(try env.withReadTransaction { try $0.statistics(of: db).entries } == 65)
    }
}
