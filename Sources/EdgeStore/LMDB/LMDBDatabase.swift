internal import CLMDB

/// A named database of an environment (LMDB's DBI handle): opened in a transaction (`openDatabase`), then valid
/// in every transaction until the environment closes, once that transaction committed.
struct LMDBDatabase: Sendable {
    let handle: MDB_dbi
    /// Its name, for errors.
    let name: StaticString

    /// A database's size, as `mdb_stat` reports it (from its own header: no record is read).
    struct Statistics: Sendable {
        /// The environment's page size.
        var pageSize: Int
        /// Height of its B-tree, and its records.
        var depth: Int
        var entries: Int
    }
}
