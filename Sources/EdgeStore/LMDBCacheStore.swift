public import EdgeCore
import Foundation

/// The cache store on LMDB, with S3-FIFO admission and eviction. Reads run on the caller's thread in short
/// read-only transactions (LMDB readers never block); all writes go through one writer thread that commits them
/// in batches, so no write transaction ever spans an `await` or moves between threads.
///
/// Layout (format 3): `entries` maps the 32-byte key to a 24-byte header (sequence, length, CRC-32 of the value,
/// piece count) followed by the value when it fits in one page; a larger value is cut into single-page pieces in
/// `chunks`, keyed by its sequence and piece index (see `Layout` for why no value spans pages). `order` maps the
/// big-endian sequence to the key and length, oldest first. `meta` holds the format and the running totals
/// (entries, value bytes, charged bytes, next sequence), updated in the same transaction as every change, so
/// opening a store of any size reads one record; also the store's random id and the repair flag (below).
///
/// Eviction: an in-memory `S3FIFO` keyed by `DigestKey`, charged each entry's footprint in pages (`Layout`), so
/// the footprints stay within `maxBytes` and one-hit wonders pass through its small queue without flushing the
/// popular variants in its main queue. A hit only bumps a counter in memory, behind a lock: it never writes to
/// LMDB. Admission and eviction happen on the writer thread, inside the write transaction that stores the object,
/// and the victims are deleted in that same transaction; a write that needs room frees a little more with it
/// (`evictionSlack`), so that evictions come in bursts rather than one per write. Values over the policy's
/// largest object (10 % of `maxBytes`) are refused with `CacheWriteRefused`.
///
/// Restart: nothing but the totals is read at open, and hits are served at once. The policy's state is saved in
/// `policy.snapshot` beside the data file (each resident's queue, frequency and place, and the ghost keys, with a
/// CRC-32, the store's id and the sequence it reached): at `close()`, after `snapshotAdmissions` admissions, and
/// `snapshotInterval` after an admission, never on a hit; taking one copies the policy in O(1) under its lock
/// and it is encoded and written off the writer thread (see `LMDBCacheStore+Snapshot.swift`). The entries found at
/// open are "unrestored" until the writer thread restores them into the policy in the background: first the
/// snapshot's, newest first, each checked to be still the entry it saw, into its queue with its frequency, behind
/// everything admitted since; then the entries it lacks (written after it, before a crash), newest first from
/// `order`, each in the main queue as never hit (S3-FIFO's restart without a snapshot), behind everything. A
/// snapshot that is damaged, of another store or newer than the store is ignored: every entry then restarts in
/// the main queue, unhit. Until restored, entries are evicted first: those the snapshot lacks oldest first, then
/// the snapshot's in its eviction order. A million entries are restored in under a second from the page cache
/// without a snapshot, about two from disk (tools/bench/churn); 40,000 from a snapshot in 0.34 s in a debug build
/// (0.16 s without); meanwhile hits on unrestored entries are served, not counted.
///
/// Repair: a record can become unreachable. An entry whose header is damaged is deleted without trusting the
/// header (its sequence might name another entry's pieces), so its pieces and order record stay behind, still
/// counted in the totals. Such a delete sets the repair flag in `meta` in its transaction; when the flag is set
/// (or absent, in a store written before it existed), the writer runs a repair pass when idle, after the restore,
/// in short write transactions of `repairBatch` records: it deletes order records and pieces that no live entry
/// holds (and an entry whose damaged header left it with no order record, which eviction would never reach),
/// recomputes the totals from the live entries, and clears the flag (see `RepairPass`). Nothing is scanned at
/// open. 40,000 entries of which 4,400 had lost their records (2,000 pieces) took 0.31 s in a debug build.
///
/// Disk: the data file stays within `maxBytes + headroom(maxBytes:)` under churn (1.2 % over `maxBytes` at most
/// in tools/bench/churn, against 6.25 % + 4 MiB allowed): every allocation is one page, so LMDB reuses any freed
/// page, and what is beyond the footprints is the index's branch pages and the pages freed by the last
/// transactions (LMDB reuses a page once no reader can see it). Write batches are bounded in bytes to keep that
/// last part small. The map is sized with room to spare; if it fills anyway, the writer evicts an eighth of the
/// cache and retries.
///
/// A value whose checksum does not match (a torn write, a damaged disk) is never returned: it reads as absent
/// and is deleted. Damage to LMDB's own pages (a node pointing at a page that is not there) makes LMDB fail the
/// calls that touch that record, and the whole write transaction with them: a batch that fails is retried one
/// operation at a time, so that only the operation touching the damaged record fails; pieces LMDB cannot free are
/// left behind and the entry's other records deleted, so that its key can be filled again (`Statistics`'
/// `isolatedBatches`, `failedOperations`, `abandonedRecords`). LMDB keeps no checksums of its own pages and trusts
/// their headers and node offsets: where a damaged page makes liblmdb itself crash or loop, nothing in Swift can
/// help (tools/crash-test `--corrupt-mode raw` reports such runs apart, exit status 3); deleting the cache folder
/// is the fix. A repair pass that meets an LMDB error gives up and is tried again at the next open.
public final class LMDBCacheStore: CacheStoring, @unchecked Sendable {
    /// Tuning for tests and benchmarks; the defaults are what the node runs.
    public struct Options: Sendable {
        /// S3-FIFO's knobs (the paper's defaults).
        public var policy: S3FIFO<DigestKey>.Configuration
        /// Restore the entries found at open into the policy in the background (the default), or only as eviction
        /// reaches them or an operation asks (`Operation.restore`, `.snapshot`: tests).
        public var restoresInBackground: Bool
        /// Records a repair pass examines per write transaction (so that fills never wait long for one).
        public var repairBatch: Int
        /// How long after an admission the policy's snapshot is saved at the latest (nil: only at close and after
        /// `snapshotAdmissions`), and after how many admissions at the latest.
        public var snapshotInterval: Duration?
        public var snapshotAdmissions: Int

        public init(policy: S3FIFO<DigestKey>.Configuration = .init(), restoresInBackground: Bool = true,
                    repairBatch: Int = 1024, snapshotInterval: Duration? = .seconds(300),
                    snapshotAdmissions: Int = 100_000) {
            precondition(repairBatch > 0, "repairBatch must be positive")
            precondition(snapshotAdmissions > 0, "snapshotAdmissions must be positive")
            self.policy = policy
            self.restoresInBackground = restoresInBackground
            self.repairBatch = repairBatch
            self.snapshotInterval = snapshotInterval
            self.snapshotAdmissions = snapshotAdmissions
        }
    }

    /// What the store holds and what it costs on disk, for metrics, tests and benchmarks.
    public struct Statistics: Sendable, Equatable {
        public var entries: Int
        /// Bytes of the stored values.
        public var valueBytes: Int
        /// The entries' footprints (pages and index), which `maxBytes` bounds.
        public var chargedBytes: Int
        /// Entries found at open that the policy does not track yet.
        public var unrestoredEntries: Int
        /// Resident objects in the policy's small and main queues, and its ghost keys.
        public var smallQueueEntries: Int
        public var mainQueueEntries: Int
        public var ghostKeys: Int
        /// Write transactions committed since open.
        public var writeTransactions: Int
        /// Records read from LMDB while opening, besides the databases' own headers: the totals, whatever the size.
        public var recordsReadAtOpen: Int
        /// LMDB's page size.
        public var pageSize: Int
        /// Pages up to the last one in use (LMDB's last page number + 1), in bytes: the data file's size unless
        /// it holds trailing free pages.
        public var mappedBytesInUse: Int
        /// LMDB's last committed transaction id (reads do not change it).
        public var lastTransactionID: Int
        /// Write batches that failed as a whole (a record on a damaged page) and were retried one operation at a time.
        public var isolatedBatches: Int
        /// Writes and removals that failed even in a transaction of their own; their callers got the error.
        public var failedOperations: Int
        /// Entries, or the pieces of one value, left on disk because deleting them failed (damaged pages).
        public var abandonedRecords: Int
        /// Whether a repair pass is under way; passes completed since open, what they deleted or corrected, and
        /// how long the last one took.
        public var repairing: Bool
        public var repairPasses: Int
        public var repaired: RepairReport
        public var lastRepairDuration: Duration?
        /// Policy snapshots written since open (see `takeSnapshot`), and those that failed to write.
        public var snapshotsSaved: Int
        public var snapshotsFailed: Int
        /// A snapshot found at open and not used (damaged, of another store, or newer than the store).
        public var snapshotsIgnored: Int
        /// Entries restored into the policy from a snapshot, with the queue and frequency it saved.
        public var restoredFromSnapshot: Int
        /// Flushes of the data file to disk done in the background while writing (at most one a second), and
        /// whether one is under way (on a busy disk one can take many seconds; writes go on meanwhile).
        public var diskFlushes: Int
        public var diskFlushing: Bool
    }

    let env: LMDBEnvironment
    let entriesDB: LMDBDatabase
    let chunksDB: LMDBDatabase
    let orderDB: LMDBDatabase
    let metaDB: LMDBDatabase
    let maxBytes: Int
    let options: Options
    let layout: Layout
    /// Largest footprint the policy admits.
    let maxObjectBytes: Int
    /// Write batches stop growing at this many value bytes (one value may exceed it alone).
    let batchBytes: Int
    /// When a write needs room, this much more is freed with it (1/64 of `maxBytes`, at most `batchBytes`).
    let evictionSlack: Int
    let writer: Writer
    let flusher: Flusher
    let lock = NSLock()
    // Guarded by `lock`. The policy is mutated by readers only through `recordHit`; membership changes only on
    // the writer thread.
    var policy: S3FIFO<DigestKey>
    /// Hits noted by readers (`recordHit`), guarded by `hitLock`; the writer swaps them into `hitsToApply`
    /// (guarded by `lock`) and counts them.
    let hitLock = NSLock()
    var pendingHits: [DigestKey] = []
    var hitsToApply: [DigestKey] = []
    var totals = Totals()
    var unrestored = 0
    var writeTransactions = 0
    var faults = Faults()
    var repairing = false
    var repairPasses = 0
    var repairFound = RepairReport()
    var lastRepairDuration: Duration?
    var snapshotsSaved = 0
    var snapshotsFailed = 0
    var snapshotsIgnored = 0
    var restoredFromSnapshot = 0
    private(set) var recordsReadAtOpen = 0
    // Writer thread only.
    var cold = ColdRegion()
    var orphans: [[UInt8]] = []
    /// Sequences whose pieces could not be deleted (a damaged page): left on disk, never tried again this run.
    var abandonedPieces: Set<UInt64> = []
    /// The repair pass under way; whether one is wanted (nil: not read from `meta` yet); when the last ended.
    var repair: RepairPass?
    var repairNeeded: Bool?
    var lastRepairEnd: ContinuousClock.Instant?
    /// The snapshot being restored; whether the file was read; admissions since the last snapshot and when it
    /// was taken; the store's identity (read from `meta` when first needed).
    var snapshotRestore: SnapshotRestore?
    var snapshotExamined = false
    var admissionsSinceSnapshot = 0
    var lastSnapshot = ContinuousClock.now
    var storeID: UInt64?
    /// The last sequence in use at open.
    let highAtOpen: UInt64
    let snapshotPath: String
    /// Encodes and writes snapshots, one at a time, off the writer thread.
    let snapshotQueue = DispatchQueue(label: "imgedge-lmdb-snapshot", qos: .utility)
    // Guarded by `lock`: set once the final snapshot is written.
    var closed = false
    /// The values whose pieces the current transaction writes last, by sequence.
    var deferredPieces: [UInt64: [UInt8]] = [:]

    /// Bumped when the stored layout changes; a store of another format is deleted and recreated on open.
    static let format: UInt64 = 3

    /// The running totals, persisted in `meta` with every change.
    struct Totals: Equatable {
        var entries = 0
        var valueBytes = 0
        var chargedBytes = 0
        var nextSequence: UInt64 = 1
    }

    /// What damaged pages cost the writer since open (see `commit`).
    struct Faults: Equatable {
        var isolatedBatches = 0
        var failedOperations = 0
        var abandonedRecords = 0
    }

    /// The entries found at open and not restored into the policy yet: every entry with a sequence in
    /// (`low`, `high`], and, when a policy snapshot is being restored, the snapshot's residents
    /// `snapshotLo..<snapshotHi` whose entry is still the one it saw (sequences up to `low`). `count` and
    /// `charged` are their number and footprints, as far as the totals tell.
    struct ColdRegion: Equatable {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var count = 0
        var charged = 0
        var snapshotLo = 0
        var snapshotHi = 0

        /// Whether anything found at open may still be untracked by the policy.
        var isPending: Bool { count > 0 || snapshotLo < snapshotHi }

        /// Whether the entry stored under `sequence`, which the policy does not track, is one of these.
        func holds(_ sequence: UInt64) -> Bool {
            count > 0 && (sequence <= high && sequence > low || snapshotLo < snapshotHi && sequence <= low)
        }
    }

    /// Room the data file may take beyond `maxBytes`: the index's branch pages, leaves emptier than the
    /// footprints assume, and the pages the last write transactions freed (at most a few batches).
    public static func headroom(maxBytes: Int) -> Int {
        maxBytes / 16 + 4 << 20
    }

    /// Opens (creating if needed) the store in the folder `path`, bounded to `maxBytes` of footprints.
    public init(path: String, maxBytes: Int, options: Options = Options()) throws {
        precondition(maxBytes > 0, "maxBytes must be positive")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        snapshotPath = (path as NSString).appendingPathComponent(Self.snapshotFile)
        self.maxBytes = maxBytes
        self.options = options
        policy = S3FIFO(capacity: maxBytes, configuration: options.policy)
        maxObjectBytes = policy.maxObjectBytes
        batchBytes = min(8 << 20, max(256 << 10, maxBytes / 64))
        evictionSlack = min(batchBytes, maxBytes / 64)
        writer = Writer()
        var opened: (env: LMDBEnvironment, databases: Databases)?
        var found: Totals?
        var pageSize = 4096
        var reads = 0
        // Twice at most: a store of another format is deleted, then made afresh.
        for attempt in 0..<2 {
            let env = try Self.openEnvironment(path: path, maxBytes: maxBytes)
            do {
                let databases = try env.withWriteTransaction { txn in
                    let databases = (entries: try txn.openDatabase("entries", create: true),
                                     chunks: try txn.openDatabase("chunks", create: true),
                                     order: try txn.openDatabase("order", create: true),
                                     meta: try txn.openDatabase("meta", create: true))
                    let meta = databases.meta
                    // The databases' own records (counts, depth, page size): no entry is read.
                    let stat = try txn.statistics(of: databases.entries)
                    pageSize = stat.pageSize
                    let empty = stat.entries == 0
                    reads += 1
                    switch Self.loadTotals(txn, meta) {
                    case .valid(let totals) where (totals.entries == 0) == empty: found = totals
                    case .absent where empty: found = Totals()
                    default: found = nil
                    }
                    // Nothing is written to a store of another format.
                    guard let found else { throw OtherFormat() }
                    try Self.saveTotals(txn, meta, found)
                    // A new store has nothing to repair (an older one without the flag gets one pass).
                    if empty { try Self.saveRepairFlag(txn, meta, false, initial: true) }
                    try Self.createStoreID(txn, meta)
                    return databases
                }
                opened = (env, databases)
                break
            } catch is OtherFormat {
            } catch {
                env.close()
                throw error
            }
            // Another format (or totals that disagree with the contents): start over with an empty file, so that
            // nothing of the old layout stays on disk (an older file may be twice the bound).
            env.close()
            guard attempt == 0 else { break }
            for file in ["data.mdb", "lock.mdb"] {
                try? FileManager.default.removeItem(atPath: (path as NSString).appendingPathComponent(file))
            }
        }
        guard let opened, let totals = found else { throw LMDBError.incompatible("open") }
        env = opened.env
        (entriesDB, chunksDB, orderDB, metaDB) = opened.databases
        flusher = Flusher(env: env)
        layout = Layout(pageSize: pageSize)
        self.totals = totals
        recordsReadAtOpen = reads
        highAtOpen = totals.nextSequence - 1
        cold = ColdRegion(high: totals.nextSequence - 1, count: totals.entries, charged: totals.chargedBytes)
        unrestored = totals.entries
        if totals.entries > 0 {
            policy.endColdStart()
            policy.reserveCapacity(totals.entries)
        }
        ensureMapRoom()
        // When idle, the writer restores the policy and sheds what a smaller bound no longer holds.
        writer.start(store: self)
    }

    private typealias Databases = (entries: LMDBDatabase, chunks: LMDBDatabase, order: LMDBDatabase, meta: LMDBDatabase)

    /// Thrown inside the opening transaction to abort it: the file holds a store of another format.
    private struct OtherFormat: Error {}

    private static func openEnvironment(path: String, maxBytes: Int) throws -> LMDBEnvironment {
        // The file stays within maxBytes + headroom; the map leaves as much again before MAP_FULL.
        // No thread-local storage: async code hops threads, so read transactions must not be tied to one.
        // No sync: a killed process loses nothing (pages are in the OS cache); the flusher syncs once a second
        // while writes go on.
        try LMDBEnvironment(path: path, flags: [.noThreadLocalStorage, .noReadAhead, .noSync],
                            mapSize: Self.mapSize(maxBytes: maxBytes), maxDatabases: 4, maxReaders: 1024)
    }

    static func mapSize(maxBytes: Int) -> Int {
        maxBytes + 2 * headroom(maxBytes: maxBytes) + (32 << 20)
    }

    /// A file left larger than this map (by an older format or a larger bound) needs a larger map to take writes.
    private func ensureMapRoom() {
        let info = env.info
        let inUse = (info.lastPage + 1) * layout.pageSize
        let wanted = inUse + 2 * Self.headroom(maxBytes: maxBytes) + (32 << 20)
        if wanted > info.mapSize { try? env.setMapSize(wanted) }
    }

    deinit {
        shutDown()
        env.close()
    }

    /// Stops the writer after the queued writes, saves the policy's snapshot (unless restoring it from the last
    /// one was not finished: that one still holds) and flushes to disk. Further writes fail.
    public func close() {
        shutDown()
    }

    private func shutDown() {
        writer.stop()
        // The writer has stopped (or this is its own thread, releasing the store): its state is ours now.
        if !lock.withLock({ defer { closed = true }; return closed }) {
            let final = takeSnapshot()
            snapshotQueue.sync { if let final { save(final) } }
        }
        flusher.stop()
        try? env.flush()
    }

    public var usage: CacheUsage {
        lock.withLock { CacheUsage(entries: totals.entries, bytes: totals.valueBytes) }
    }

    /// The bound on the data file's size: `maxBytes` plus `headroom(maxBytes:)`.
    public var fileLimit: Int { maxBytes + Self.headroom(maxBytes: maxBytes) }

    public var statistics: Statistics {
        let info = env.info
        let flushes = flusher.state
        return lock.withLock {
            Statistics(entries: totals.entries, valueBytes: totals.valueBytes, chargedBytes: totals.chargedBytes,
                       unrestoredEntries: unrestored, smallQueueEntries: policy.count(in: .small),
                       mainQueueEntries: policy.count(in: .main), ghostKeys: policy.ghostCount,
                       writeTransactions: writeTransactions, recordsReadAtOpen: recordsReadAtOpen,
                       pageSize: layout.pageSize, mappedBytesInUse: (info.lastPage + 1) * layout.pageSize,
                       lastTransactionID: info.lastTransactionID, isolatedBatches: faults.isolatedBatches,
                       failedOperations: faults.failedOperations, abandonedRecords: faults.abandonedRecords,
                       repairing: repairing, repairPasses: repairPasses, repaired: repairFound,
                       lastRepairDuration: lastRepairDuration, snapshotsSaved: snapshotsSaved,
                       snapshotsFailed: snapshotsFailed, snapshotsIgnored: snapshotsIgnored,
                       restoredFromSnapshot: restoredFromSnapshot, diskFlushes: flushes.done,
                       diskFlushing: flushes.running)
        }
    }

    /// What a value of `count` bytes is charged against `maxBytes` (its pages and index records).
    public func footprint(ofValueBytes count: Int) -> Int { layout.footprint(count) }

    /// Counts a hit on `key` for the eviction policy: a read from this store counts itself; a hit served from a
    /// copy held elsewhere (the node's memory tier) is reported here. The hit is only noted, under a lock of its
    /// own held for one append: the writer thread counts noted hits into the policy before it next decides
    /// anything with it (an admission, an eviction, a snapshot), so a reader never waits on the policy — not
    /// even while the writer copies it for a snapshot. At a quarter of `pendingHitsLimit` noted hits the writer is
    /// woken; past the limit, hits are not counted until it catches up (frequencies are estimates: a burst that
    /// fast has already made its objects the most popular).
    public func recordHit(_ key: CacheKey) {
        let k = Self.digestKey(key.bytes)
        let wake = hitLock.withLock { () -> Bool in
            guard pendingHits.count < Self.pendingHitsLimit else { return false }
            pendingHits.append(k)
            return pendingHits.count == Self.pendingHitsLimit / 4
        }
        if wake { writer.wake() }
    }

    static let pendingHitsLimit = 1 << 16

    /// Counts the noted hits into the policy (see `recordHit`).
    func applyPendingHits() {
        lock.withLock {
            hitLock.withLock { swap(&hitsToApply, &pendingHits) }
            for k in hitsToApply { _ = policy.recordHit(k) }
            hitsToApply.removeAll(keepingCapacity: true)
        }
    }

    /// The policy's state as a snapshot saves it: its residents in eviction order with their queue and
    /// frequency, and its ghost keys. For tests and diagnostics (it copies every tracked key).
    public func policyState() -> S3FIFO<DigestKey>.Snapshot {
        applyPendingHits()
        return lock.withLock { policy }.snapshot()
    }

    public func read<T>(_ key: CacheKey, _ body: (UnsafeRawBufferPointer) -> T) -> T? {
        let layout = layout
        let found: Lookup<T>
        do {
            found = try env.withReadTransaction { txn in
                // An LMDB error reads as a miss, as an absent key does.
                let lookup = try? txn.get(key.bytes, in: entriesDB) { raw -> Lookup<T> in
                    guard let header = Header(raw, layout: layout) else { return .damaged }
                    if header.pieces == 0 {
                        let value = UnsafeRawBufferPointer(rebasing: raw[Layout.headerSize...])
                        guard Self.checksum(value) == header.crc else { return .damaged }
                        return .found(body(value))
                    }
                    return withUnsafeTemporaryAllocation(byteCount: header.length, alignment: 16) { buffer in
                        guard readPieces(txn, header, into: buffer) else { return .damaged }
                        return .found(body(UnsafeRawBufferPointer(buffer)))
                    }
                }
                return lookup ?? .absent
            }
        } catch {
            return nil
        }
        switch found {
        case .absent:
            return nil
        case .damaged:
            // Never served, and removed (off this thread; the writer does it).
            Task { [weak self] in try? await self?.remove(key) }
            return nil
        case .found(let value):
            recordHit(key)
            return value
        }
    }

    /// What `read` found under a key.
    private enum Lookup<T> {
        case absent
        /// A record whose header or checksum is wrong, or a piece missing.
        case damaged
        case found(T)
    }

    /// Visits up to `limit` stored values in key order, starting after `start` (nil: from the first), each with
    /// its first bytes (up to `prefix`; the pieces of a large value are read only as far as that). One read-only
    /// transaction, no policy effect (a sweep is not a hit). Returns the last key visited, nil when the scan
    /// reached the end (or LMDB failed). Checksums are not checked: the bytes are a hint for a sweep, and damaged
    /// values are found and dropped when read.
    public func scan(after start: [UInt8]?, limit: Int, prefix: Int,
                     _ visit: (CacheKey, UnsafeRawBufferPointer) -> Void) -> [UInt8]? {
        scan(after: start, limit: limit, prefix: prefix) { key, _, bytes in visit(key, bytes) }
    }

    /// `scan`, also giving each entry's version (what `remove(_:version:)` takes).
    public func scan(after start: [UInt8]?, limit: Int, prefix: Int,
                     _ visit: (CacheKey, UInt64, UnsafeRawBufferPointer) -> Void) -> [UInt8]? {
        let layout = layout
        let last = try? env.withReadTransaction { txn in
            try txn.withCursor(entriesDB) { cursor -> [UInt8]? in
                // A move that fails ends the scan, as the end of the database does.
                func move(_ step: () throws -> LMDBCursor.Record?) -> LMDBCursor.Record? { (try? step()) ?? nil }
                var record: LMDBCursor.Record?
                if let start {
                    record = move { try cursor.seek(atLeast: start) }
                    if let r = record, r.key.elementsEqual(start) { record = move { try cursor.next() } }
                } else {
                    record = move { try cursor.first() }
                }
                var last: [UInt8]?
                var visited = 0
                while let (k, v) = record, visited < limit {
                    let key = Array(k)
                    if let cacheKey = CacheKey(bytes: key), let header = Header(v, layout: layout) {
                        if header.pieces == 0 {
                            visit(cacheKey, header.sequence, UnsafeRawBufferPointer(rebasing: v[Layout.headerSize...].prefix(prefix)))
                        } else {
                            let wanted = min(prefix, header.length)
                            withUnsafeTemporaryAllocation(byteCount: wanted, alignment: 16) { buffer in
                                if readPieces(txn, header, into: buffer) { visit(cacheKey, header.sequence, UnsafeRawBufferPointer(buffer)) }
                            }
                        }
                    }
                    last = key
                    visited += 1
                    record = move { try cursor.next() }
                }
                return record == nil ? nil : last
            }
        }
        return last ?? nil
    }

    /// Copies the value `header` describes into `buffer`: all of it (a buffer of its length), checked against its
    /// CRC, or only its first `buffer.count` bytes (a shorter buffer: the pieces that hold them), unchecked. False
    /// when a piece is missing or misplaced, the checksum fails, or LMDB fails.
    private func readPieces(_ txn: LMDBTransaction, _ header: Header, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        let layout = layout
        let whole = buffer.count == header.length
        let read = try? txn.withCursor(chunksDB) { cursor -> Bool in
            var crc: UInt32 = 0
            for i in 0..<header.pieces {
                let range = layout.piece(i, of: header.pieces, length: header.length)
                guard range.lowerBound < buffer.count else { break }
                let pieceKey = PieceKey(sequence: header.sequence, index: i)
                // The pieces are consecutive keys.
                let record = try i == 0 ? cursor.seek(exactly: pieceKey) : cursor.next()
                guard let record, i == 0 || pieceKey.matches(record.key), record.value.count == range.count else {
                    return false
                }
                let piece = UnsafeRawBufferPointer(rebasing: record.value.prefix(buffer.count - range.lowerBound))
                UnsafeMutableRawBufferPointer(rebasing: buffer[range.lowerBound..<(range.lowerBound + piece.count)]).copyMemory(from: piece)
                if whole { crc = Self.checksum(piece, continuing: crc) }
            }
            return !whole || crc == header.crc
        }
        return read ?? false
    }

    public func write(_ key: CacheKey, value: [UInt8]) async throws {
        // A value over the policy's largest object would flush much of the small queue on arrival.
        guard layout.footprint(value.count) <= maxObjectBytes else { throw CacheWriteRefused(size: value.count) }
        let crc = value.withUnsafeBytes { Self.checksum($0) }
        try await writer.submit(.put(key.bytes, value, crc))
    }

    public func remove(_ key: CacheKey) async throws {
        try await writer.submit(.delete(key.bytes, version: nil))
    }

    /// Removes the entry under `key` only if it is still the version `scan` showed (a later write stays);
    /// returns once committed.
    public func remove(_ key: CacheKey, version: UInt64) async throws {
        try await writer.submit(.delete(key.bytes, version: version))
    }

    // MARK: - Totals

    /// What `meta` says about the store.
    enum StoredTotals {
        /// No totals record: a new file.
        case absent
        /// Totals of another format.
        case foreign
        case valid(Totals)
    }

    static let totalsKey = Array("totals".utf8)

    /// What `meta` says; unreadable reads as absent.
    static func loadTotals(_ txn: LMDBTransaction, _ meta: LMDBDatabase) -> StoredTotals {
        let stored = try? txn.get(totalsKey, in: meta) { raw -> StoredTotals in
            guard raw.count == 40 else { return .foreign }
            func word(_ i: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) }
            guard word(0) == format else { return .foreign }
            return .valid(Totals(entries: Int(word(1)), valueBytes: Int(word(2)), chargedBytes: Int(word(3)),
                                 nextSequence: word(4)))
        }
        return stored ?? .absent
    }

    static func saveTotals(_ txn: LMDBTransaction, _ meta: LMDBDatabase, _ t: Totals) throws {
        var record: [UInt8] = []
        record.reserveCapacity(40)
        for v in [format, UInt64(t.entries), UInt64(t.valueBytes), UInt64(t.chargedBytes), t.nextSequence] {
            withUnsafeBytes(of: v.littleEndian) { record += $0 }
        }
        try txn.put(record, forKey: totalsKey, in: meta)
    }
}
