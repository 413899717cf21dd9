internal import CLMDB

/// An LMDB environment: the memory map of one folder's data file, its lock file, and the databases in it.
/// Transactions run inside `withReadTransaction` and `withWriteTransaction`, which end them however their body
/// leaves; the environment outlives them all (`close()` only once none runs: LMDB does not check).
///
/// LMDB's rule applies: one environment per file per process (a second one breaks its locks).
final class LMDBEnvironment: @unchecked Sendable {
    /// How the environment is opened (LMDB's MDB_* environment flags).
    struct Flags: OptionSet, Sendable {
        let rawValue: UInt32

        /// Read transactions are not tied to the thread that began them (MDB_NOTLS).
        static let noThreadLocalStorage = Flags(rawValue: UInt32(MDB_NOTLS))
        /// No read-ahead on the map (MDB_NORDAHEAD): random reads of a file larger than memory.
        static let noReadAhead = Flags(rawValue: UInt32(MDB_NORDAHEAD))
        /// A commit is not flushed to disk (MDB_NOSYNC); `flush()` does that.
        static let noSync = Flags(rawValue: UInt32(MDB_NOSYNC))
        /// No writes at all (MDB_RDONLY).
        static let readOnly = Flags(rawValue: UInt32(MDB_RDONLY))
    }

    /// The map and the last commit, as `mdb_env_info` reports them.
    struct Info: Sendable {
        /// Bytes the map can hold before MDB_MAP_FULL.
        var mapSize: Int
        /// The last page in use: the file's pages up to it hold data or free pages.
        var lastPage: Int
        /// The last committed transaction's id (reads do not change it).
        var lastTransactionID: Int
    }

    private let handle: OpaquePointer
    private var closed = false

    /// Opens the environment in the folder `path` (the folder must exist; LMDB creates the files). The sizes are
    /// LMDB's defaults when nil.
    init(path: String, flags: Flags = [], mapSize: Int? = nil, maxDatabases: Int? = nil, maxReaders: Int? = nil,
         mode: UInt32 = 0o644) throws {
        var env: OpaquePointer?
        try LMDBError.check(mdb_env_create(&env), "mdb_env_create")
        do {
            if let maxDatabases {
                try LMDBError.check(mdb_env_set_maxdbs(env, MDB_dbi(maxDatabases)), "mdb_env_set_maxdbs")
            }
            if let mapSize { try LMDBError.check(mdb_env_set_mapsize(env, mapSize), "mdb_env_set_mapsize") }
            if let maxReaders {
                try LMDBError.check(mdb_env_set_maxreaders(env, UInt32(maxReaders)), "mdb_env_set_maxreaders")
            }
            try LMDBError.check(mdb_env_open(env, path, flags.rawValue, mdb_mode_t(mode)), "mdb_env_open")
        } catch {
            mdb_env_close(env)
            throw error
        }
        handle = env!
    }

    deinit { close() }

    /// Closes the environment; later calls do nothing. No transaction may be running, nor start after it.
    func close() {
        guard !closed else { return }
        closed = true
        mdb_env_close(handle)
    }

    var info: Info {
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        return Info(mapSize: info.me_mapsize, lastPage: info.me_last_pgno, lastTransactionID: info.me_last_txnid)
    }

    /// Changes the map's size (no transaction of this process may be running).
    func setMapSize(_ bytes: Int) throws {
        try LMDBError.check(mdb_env_set_mapsize(handle, bytes), "mdb_env_set_mapsize")
    }

    /// Writes the committed pages to disk and waits for them (a forced `mdb_env_sync`, also under `noSync`).
    func flush() throws {
        try LMDBError.check(mdb_env_sync(handle, 1), "mdb_env_sync")
    }

    /// Runs `body` in a read-only transaction, a snapshot of the last commit, and aborts it after (a reader never
    /// blocks the writer, nor another reader).
    @discardableResult
    func withReadTransaction<T>(_ body: (LMDBTransaction) throws -> T) throws -> T {
        let txn = try begin(UInt32(MDB_RDONLY))
        defer { mdb_txn_abort(txn.handle) }
        return try body(txn)
    }

    /// Runs `body` in a write transaction and commits it when `body` returns; aborts it when `body` throws.
    /// Not async, so that it begins and commits on one thread (LMDB's rule for write transactions). One write
    /// transaction runs at a time: a second waits for the first.
    @discardableResult
    func withWriteTransaction<T>(_ body: (LMDBTransaction) throws -> T) throws -> T {
        let txn = try begin(0)
        let result: T
        do {
            result = try body(txn)
        } catch {
            mdb_txn_abort(txn.handle)
            throw error
        }
        // A failed commit has aborted the transaction already (and freed it).
        try LMDBError.check(mdb_txn_commit(txn.handle), "mdb_txn_commit")
        return result
    }

    private func begin(_ flags: UInt32) throws -> LMDBTransaction {
        var txn: OpaquePointer?
        try LMDBError.check(mdb_txn_begin(handle, nil, flags, &txn), "mdb_txn_begin")
        return LMDBTransaction(handle: txn!)
    }
}
