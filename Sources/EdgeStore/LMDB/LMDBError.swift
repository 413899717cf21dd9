internal import CLMDB

/// An LMDB call that failed: LMDB's return code (one of its own codes, or an errno such as EIO or ENOSPC) and the
/// call, for the log. `kind` names the codes the store acts on; for the rest, LMDB's own text says what happened.
public struct LMDBError: Error, Sendable, CustomStringConvertible {
    /// What a code means to the store; anything else is `other`.
    public enum Kind: Sendable, Equatable {
        /// No such key. Lookups, cursor moves and deletes answer nil or false instead of throwing it.
        case notFound
        /// The key is there already: a put that may not overwrite, or an append whose key does not sort last.
        case keyExists
        /// The data file reached the map's size (MDB_MAP_FULL): the write transaction is lost.
        case mapFull
        /// A page is not in the file (MDB_PAGE_NOTFOUND) or is not the kind expected (MDB_CORRUPTED): the file
        /// is damaged under that record. LMDB then fails the rest of the transaction too.
        case pageNotFound
        case corrupted
        /// An earlier call failed the transaction (MDB_BAD_TXN): it can only be aborted.
        case badTransaction
        /// A file of another LMDB version, or not the layout the caller expects (MDB_INCOMPATIBLE).
        case incompatible
        case other
    }

    /// LMDB's return code.
    public let code: Int32
    /// The call that returned it (with the database's name where there is one).
    public let call: String

    init(code: Int32, call: String) {
        self.code = code
        self.call = call
    }

    /// Throws unless `rc` is 0; the call's name is made only then.
    static func check(_ rc: Int32, _ call: @autoclosure () -> String) throws {
        if rc != 0 { throw LMDBError(code: rc, call: call()) }
    }

    public var kind: Kind {
        switch code {
        case MDB_NOTFOUND: .notFound
        case MDB_KEYEXIST: .keyExists
        case MDB_MAP_FULL: .mapFull
        case MDB_PAGE_NOTFOUND: .pageNotFound
        case MDB_CORRUPTED: .corrupted
        case MDB_BAD_TXN: .badTransaction
        case MDB_INCOMPATIBLE: .incompatible
        default: .other
        }
    }

    /// MDB_INCOMPATIBLE for a file its caller found it cannot use (LMDB did not say so).
    static func incompatible(_ call: String) -> LMDBError { LMDBError(code: MDB_INCOMPATIBLE, call: call) }

    public var description: String { "\(call): \(String(cString: mdb_strerror(code)))" }
}
