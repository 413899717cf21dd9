internal import CLMDB
internal import CZlib
public import EdgeCore
import Foundation

/// The cache store on LMDB. Reads run on the caller's thread in short read-only transactions (LMDB readers
/// never block); all writes go through one writer thread that commits them in batches, so no write
/// transaction ever spans an `await` or moves between threads.
///
/// Layout: `entries` maps the 32-byte key to an 8-byte insertion sequence, a 4-byte CRC-32 of the value, then
/// the value; `order` maps the big-endian sequence to the key, oldest first, for FIFO eviction within `maxBytes`;
/// `meta` holds the format version and the running totals (entries, bytes, next sequence), updated in the same
/// transaction as every change, so opening a store of any size reads one record instead of scanning.
///
/// A value whose checksum does not match (a torn write, a damaged disk) is never returned: it reads as absent
/// and is deleted.
public final class LMDBCacheStore: CacheStoring, @unchecked Sendable {
    private let env: OpaquePointer
    private var entriesDBI: MDB_dbi = 0
    private var orderDBI: MDB_dbi = 0
    private var metaDBI: MDB_dbi = 0
    private let maxBytes: Int
    private let writer: Writer
    private let lock = NSLock()
    // Guarded by `lock`; changed only by the writer thread.
    private var _usage = CacheUsage(entries: 0, bytes: 0)
    private var nextSequence: UInt64 = 1

    static let sequenceSize = 8
    /// Sequence and checksum in front of every value.
    static let prefixSize = 12
    /// Bumped when the stored layout changes; a store of another format is emptied on open.
    static let format: UInt64 = 2

    /// Opens (creating if needed) the store in the folder `path`, bounded to `maxBytes` of values.
    public init(path: String, maxBytes: Int) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var env: OpaquePointer?
        try LMDBError.check(mdb_env_create(&env), "mdb_env_create")
        self.env = env!
        self.maxBytes = maxBytes
        self.writer = Writer()
        do {
            try LMDBError.check(mdb_env_set_maxdbs(self.env, 4), "mdb_env_set_maxdbs")
            // Room for the values, LMDB's page overhead and fragmentation from overflow pages of varied sizes.
            let mapSize = maxBytes * 2 + 64 << 20
            try LMDBError.check(mdb_env_set_mapsize(self.env, mapSize), "mdb_env_set_mapsize")
            try LMDBError.check(mdb_env_set_maxreaders(self.env, 1024), "mdb_env_set_maxreaders")
            // NOTLS: async code hops threads, so read transactions must not be tied to one.
            // NOSYNC: a killed process loses nothing (pages are in the OS cache); the writer syncs periodically.
            let flags = UInt32(MDB_NOTLS | MDB_NORDAHEAD | MDB_NOSYNC)
            try LMDBError.check(mdb_env_open(self.env, path, flags, 0o644), "mdb_env_open")
            var txn: OpaquePointer?
            try LMDBError.check(mdb_txn_begin(self.env, nil, 0, &txn), "mdb_txn_begin")
            do {
                try LMDBError.check(mdb_dbi_open(txn, "entries", UInt32(MDB_CREATE), &entriesDBI), "mdb_dbi_open entries")
                try LMDBError.check(mdb_dbi_open(txn, "order", UInt32(MDB_CREATE), &orderDBI), "mdb_dbi_open order")
                try LMDBError.check(mdb_dbi_open(txn, "meta", UInt32(MDB_CREATE), &metaDBI), "mdb_dbi_open meta")
                try loadTotals(txn!)
                try LMDBError.check(mdb_txn_commit(txn), "mdb_txn_commit")
            } catch {
                mdb_txn_abort(txn)
                throw error
            }
        } catch {
            mdb_env_close(self.env)
            throw error
        }
        writer.start(store: self)
    }

    deinit {
        writer.stop()
        mdb_env_sync(env, 1)
        mdb_env_close(env)
    }

    /// Stops the writer after the queued writes and flushes to disk. Further writes fail.
    public func close() {
        writer.stop()
        mdb_env_sync(env, 1)
    }

    public var usage: CacheUsage { lock.withLock { _usage } }

    public func read<T>(_ key: CacheKey, _ body: (UnsafeRawBufferPointer) -> T) -> T? {
        var txn: OpaquePointer?
        guard mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn) == 0 else { return nil }
        defer { mdb_txn_abort(txn) }
        let found: T?? = key.bytes.withUnsafeBytes { kb -> T?? in
            var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
            var v = MDB_val()
            guard mdb_get(txn, entriesDBI, &k, &v) == 0 else { return .some(nil) }
            let raw = UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
            guard raw.count >= Self.prefixSize else { return nil }
            let value = UnsafeRawBufferPointer(rebasing: raw[Self.prefixSize...])
            guard Self.checksum(value) == Self.readUInt32(raw, at: Self.sequenceSize) else { return nil }
            return .some(body(value))
        }
        guard let found else {
            // Damaged: never served, and removed (off this thread; the writer does it).
            Task { [weak self] in try? await self?.remove(key) }
            return nil
        }
        return found
    }

    public func write(_ key: CacheKey, value: [UInt8]) async throws {
        // One value may not take more than half the bound, or it would flush everything else.
        guard value.count + Self.prefixSize <= maxBytes / 2 else { throw CacheWriteRefused(size: value.count) }
        try await writer.submit(.put(key.bytes, value))
    }

    public func remove(_ key: CacheKey) async throws {
        try await writer.submit(.delete(key.bytes))
    }

    // MARK: - Writer side (only ever called on the writer thread)

    enum Operation: Sendable {
        case put([UInt8], [UInt8])
        case delete([UInt8])
    }

    /// Applies a batch in one write transaction. On MAP_FULL, evicts harder and retries once.
    func apply(_ ops: [Operation]) throws {
        do {
            try applyOnce(ops, extraEviction: 0)
        } catch let e as LMDBError where e.code == MDB_MAP_FULL {
            try applyOnce(ops, extraEviction: maxBytes / 4)
        }
    }

    private func applyOnce(_ ops: [Operation], extraEviction: Int) throws {
        var txn: OpaquePointer?
        try LMDBError.check(mdb_txn_begin(env, nil, 0, &txn), "mdb_txn_begin")
        var usage = lock.withLock { _usage }
        var seq = nextSequence
        do {
            if extraEviction > 0 { try evict(txn!, until: max(0, usage.bytes - extraEviction), usage: &usage) }
            for op in ops {
                switch op {
                case .put(let key, let value):
                    try deleteEntry(txn!, key, usage: &usage)
                    let size = value.count + Self.prefixSize
                    try evict(txn!, until: maxBytes - size, usage: &usage)
                    var stored = [UInt8](repeating: 0, count: Self.prefixSize)
                    withUnsafeBytes(of: seq.bigEndian) { stored.replaceSubrange(0..<Self.sequenceSize, with: $0) }
                    let crc = value.withUnsafeBytes { Self.checksum($0) }
                    withUnsafeBytes(of: crc.littleEndian) { stored.replaceSubrange(Self.sequenceSize..<Self.prefixSize, with: $0) }
                    stored += value
                    try put(txn!, entriesDBI, key, stored)
                    try put(txn!, orderDBI, Array(stored[0..<Self.sequenceSize]), key)
                    usage.entries += 1
                    usage.bytes += size
                    seq += 1
                case .delete(let key):
                    try deleteEntry(txn!, key, usage: &usage)
                }
            }
            try saveTotals(txn!, usage: usage, nextSequence: seq)
            try LMDBError.check(mdb_txn_commit(txn), "mdb_txn_commit")
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        nextSequence = seq
        lock.withLock { _usage = usage }
    }

    /// Deletes the oldest entries until at most `target` bytes remain.
    private func evict(_ txn: OpaquePointer, until target: Int, usage: inout CacheUsage) throws {
        guard usage.bytes > target else { return }
        var cursor: OpaquePointer?
        try LMDBError.check(mdb_cursor_open(txn, orderDBI, &cursor), "mdb_cursor_open")
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val(), v = MDB_val()
        while usage.bytes > target, mdb_cursor_get(cursor, &k, &v, MDB_FIRST) == 0 {
            let seqBytes = Array(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size))
            let key = Array(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
            try LMDBError.check(mdb_cursor_del(cursor, 0), "mdb_cursor_del")
            // Only delete the entry if this order record is still its current one.
            if let stored = get(txn, entriesDBI, key), stored.prefix(Self.sequenceSize).elementsEqual(seqBytes) {
                try del(txn, entriesDBI, key)
                usage.entries -= 1
                usage.bytes -= stored.count
            }
        }
    }

    private func deleteEntry(_ txn: OpaquePointer, _ key: [UInt8], usage: inout CacheUsage) throws {
        guard let stored = get(txn, entriesDBI, key) else { return }
        try del(txn, entriesDBI, key)
        try del(txn, orderDBI, Array(stored.prefix(Self.sequenceSize)))
        usage.entries -= 1
        usage.bytes -= stored.count
    }

    /// Reads the running totals; a store of another format (or none) is emptied and starts from zero.
    private func loadTotals(_ txn: OpaquePointer) throws {
        if let meta = get(txn, metaDBI, Array("totals".utf8)), meta.count == 32,
           meta.withUnsafeBytes({ Self.readUInt64($0, at: 0) }) == Self.format {
            meta.withUnsafeBytes { m in
                _usage = CacheUsage(entries: Int(Self.readUInt64(m, at: 8)), bytes: Int(Self.readUInt64(m, at: 16)))
                nextSequence = Self.readUInt64(m, at: 24)
            }
            return
        }
        try LMDBError.check(mdb_drop(txn, entriesDBI, 0), "mdb_drop entries")
        try LMDBError.check(mdb_drop(txn, orderDBI, 0), "mdb_drop order")
        _usage = CacheUsage(entries: 0, bytes: 0)
        nextSequence = 1
        try saveTotals(txn, usage: _usage, nextSequence: nextSequence)
    }

    private func saveTotals(_ txn: OpaquePointer, usage: CacheUsage, nextSequence: UInt64) throws {
        var record: [UInt8] = []
        for v in [Self.format, UInt64(usage.entries), UInt64(usage.bytes), nextSequence] {
            withUnsafeBytes(of: v.littleEndian) { record += $0 }
        }
        try put(txn, metaDBI, Array("totals".utf8), record)
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32(0, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), uInt(bytes.count)))
    }

    static func readUInt32(_ raw: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        var v: UInt32 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 4])) }
        return UInt32(littleEndian: v)
    }

    static func readUInt64(_ raw: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        var v: UInt64 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 8])) }
        return UInt64(littleEndian: v)
    }

    private func get(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8]) -> [UInt8]? {
        key.withUnsafeBytes { kb in
            var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
            var v = MDB_val()
            guard mdb_get(txn, dbi, &k, &v) == 0 else { return nil }
            return Array(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
        }
    }

    private func put(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8], _ value: [UInt8]) throws {
        try key.withUnsafeBytes { kb in
            try value.withUnsafeBytes { vb in
                var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
                var v = MDB_val(mv_size: vb.count, mv_data: UnsafeMutableRawPointer(mutating: vb.baseAddress))
                try LMDBError.check(mdb_put(txn, dbi, &k, &v, 0), "mdb_put")
            }
        }
    }

    private func del(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: [UInt8]) throws {
        try key.withUnsafeBytes { kb in
            var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
            let rc = mdb_del(txn, dbi, &k, nil)
            if rc != MDB_NOTFOUND { try LMDBError.check(rc, "mdb_del") }
        }
    }

    func sync() { mdb_env_sync(env, 1) }
}

/// An LMDB return code with the call that produced it.
public struct LMDBError: Error, CustomStringConvertible {
    public let code: Int32
    public let call: String
    static func check(_ rc: Int32, _ call: String) throws {
        if rc != 0 { throw LMDBError(code: rc, call: call) }
    }
    public var description: String { "\(call): \(String(cString: mdb_strerror(code)))" }
}
