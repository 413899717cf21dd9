import EdgeCore
import Foundation

// The repair pass: runs on the writer thread only, between write transactions, so no write is in progress while
// it looks: every piece and order record of a committed write is reachable from its entry, and a write that
// commits later either adds records with a sequence above everything the pass has seen or deletes through
// `dropRecord`, which keeps the pass's tally current.
extension LMDBCacheStore {
    /// A repair pass under way: which database it walks, how far, and what it found.
    ///
    /// Records can become unreachable: an entry whose header is damaged is deleted without trusting the header
    /// (`dropRecord`), which leaves its pieces and its order record behind; evicting an entry not restored yet
    /// whose record names another sequence drops its order record alone. Nothing ever reads them again, and the
    /// totals still count their value, so they would take room from `maxBytes` for good. The pass walks `order`,
    /// deleting every record whose entry does not name it back (with its pieces, and with the entry when that
    /// entry is itself named by no order record), and sums the live entries: at the end of the walk that sum
    /// replaces the stored totals. It then walks `chunks` a sequence at a time, deleting the pieces of every
    /// sequence that no live entry holds.
    struct RepairPass {
        enum Phase { case order, chunks }
        var phase = Phase.order
        /// The last sequence examined in the current phase.
        var cursor: UInt64 = 0
        /// The live entries examined so far (order phase); `dropRecord` takes out those deleted since.
        var live = Totals()
        var found = RepairReport()
        let started = ContinuousClock.now
    }

    /// What repair passes found and deleted.
    public struct RepairReport: Sendable, Equatable {
        /// Order records that named no entry (or an entry of another sequence).
        public var orderRecords = 0
        /// Pieces that belonged to no live entry.
        public var pieces = 0
        /// Entries records named by no order record (so never evicted), deleted.
        public var entries = 0
        /// Live entries the eviction policy did not track, restored into it.
        public var untracked = 0
        /// Footprints the totals counted beyond the live entries, taken off (negative: counted short).
        public var chargedBytesCorrected = 0

        public init() {}
    }

    /// What `meta` holds under "repair": 1 while the store may hold unreachable records.
    static let repairKey = Array("repair".utf8)

    /// Whether a repair pass is wanted. Read from `meta` on the writer's first idle step (never at open): a store
    /// written by a build without the flag is repaired once.
    func loadRepairFlag() throws -> Bool {
        // Unreadable reads as absent.
        let stored: UInt8? = try env.withReadTransaction { txn in
            (try? txn.get(Self.repairKey, in: metaDB) { raw in raw.count == 1 ? raw[0] : nil }) ?? nil
        }
        if let stored { return stored != 0 }
        return lock.withLock { totals.entries > 0 }
    }

    /// Stores the flag in the transaction `txn`; with `initial`, only if none is stored.
    static func saveRepairFlag(_ txn: LMDBTransaction, _ meta: LMDBDatabase, _ needed: Bool,
                               initial: Bool = false) throws {
        _ = try withUnsafeBytes(of: needed ? UInt8(1) : 0) {
            try txn.put($0, forKey: repairKey, in: meta, initial ? .noOverwrite : [])
        }
    }

    /// One batch of the repair pass under way (starting one if none is), in one write transaction. Returns
    /// whether the pass has more to do.
    func repairStep() throws -> Bool {
        if repair == nil {
            repair = RepairPass()
            repairNeeded = false
            lock.withLock { repairing = true }
        }
        var pass = repair!
        for _ in 0..<4 {
            do {
                let more = try repairTransaction(&pass)
                repair = more ? pass : nil
                if !more { finishRepair(pass) }
                return more
            } catch let e as PiecesUndeletable where !abandonedPieces.contains(e.sequence) {
                // A damaged page under those pieces: they stay, and the batch is done again without them.
                abandonedPieces.insert(e.sequence)
                lock.withLock { faults.abandonedRecords += 1 }
                pass = repair!
            } catch {
                // Anything else (LMDB failing on a damaged page, most likely): give this pass up; the flag stays
                // set, so the next open tries again.
                repair = nil
                lastRepairEnd = .now
                lock.withLock { repairing = false }
                throw error
            }
        }
        repair = nil
        lock.withLock { repairing = false }
        return false
    }

    private func finishRepair(_ pass: RepairPass) {
        lastRepairEnd = .now
        lock.withLock {
            repairing = false
            repairPasses += 1
            repairFound.orderRecords += pass.found.orderRecords
            repairFound.pieces += pass.found.pieces
            repairFound.entries += pass.found.entries
            repairFound.untracked += pass.found.untracked
            repairFound.chargedBytesCorrected += pass.found.chargedBytesCorrected
            lastRepairDuration = ContinuousClock.now - pass.started
        }
    }

    /// Examines the next batch of `pass` in one write transaction and commits what it deleted. Returns whether
    /// the pass has more to do.
    private func repairTransaction(_ pass: inout RepairPass) throws -> Bool {
        var t = lock.withLock { totals }
        let savedCold = cold
        var forget: [DigestKey] = []
        var restore: [S3FIFO<DigestKey>.Entry] = []
        var more = true
        do {
            try env.withWriteTransaction { txn in
                switch pass.phase {
                case .order:
                    let records = try orderRecords(txn, after: pass.cursor, limit: options.repairBatch)
                    for r in records {
                        try repairOrderRecord(txn, r, &pass, &t, &forget, &restore)
                        pass.cursor = r.sequence
                    }
                    if records.count < options.repairBatch {
                        // Every order record has been seen: the live entries are what the totals should say.
                        pass.found.chargedBytesCorrected = t.chargedBytes - pass.live.chargedBytes
                        t.entries = pass.live.entries
                        t.valueBytes = pass.live.valueBytes
                        t.chargedBytes = pass.live.chargedBytes
                        pass.phase = .chunks
                        pass.cursor = 0
                    }
                case .chunks:
                    let sequences = try pieceSequences(txn, after: pass.cursor, limit: options.repairBatch)
                    for sequence in sequences {
                        if !abandonedPieces.contains(sequence), liveKey(txn, sequence: sequence) == nil {
                            pass.found.pieces += try deletePieces(txn, sequence: sequence)
                        }
                        pass.cursor = sequence
                    }
                    if sequences.count < options.repairBatch {
                        more = false
                        try Self.saveRepairFlag(txn, metaDB, repairNeeded ?? false)
                    }
                }
                try Self.saveTotals(txn, metaDB, t)
            }
        } catch {
            cold = savedCold
            throw error
        }
        lock.withLock {
            totals = t
            unrestored = cold.count
            writeTransactions += 1
            for key in forget { policy.remove(key) }
            for entry in restore { policy.restoreOldest(entry) }
        }
        return more
    }

    /// One `order` record: its sequence, the key it names and the value's length.
    struct OrderRecord {
        var sequence: UInt64
        var key: [UInt8]
        var length: Int
    }

    /// Up to `limit` order records after `sequence`, oldest first.
    private func orderRecords(_ txn: LMDBTransaction, after sequence: UInt64, limit: Int) throws -> [OrderRecord] {
        try txn.withCursor(orderDB) { cursor in
            var records: [OrderRecord] = []
            var record = try cursor.seek(atLeast: OrderKey(sequence &+ 1))
            while let (k, raw) = record, records.count < limit {
                if k.count == Layout.orderKeySize {
                    // A record of the wrong size names nothing usable: an empty key makes it dangling.
                    let key = raw.count == Layout.orderValueSize ? Array(raw.prefix(Layout.keySize)) : []
                    let length = raw.count == Layout.orderValueSize
                        ? Int(clamping: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: Layout.keySize, as: UInt64.self)))
                        : 0
                    records.append(OrderRecord(sequence: OrderKey.sequence(in: k), key: key, length: length))
                }
                record = try cursor.next()
            }
            return records
        }
    }

    /// Counts a live order record, or deletes a dangling one with its pieces (and with its entry when no order
    /// record names that entry).
    private func repairOrderRecord(_ txn: LMDBTransaction, _ r: OrderRecord, _ pass: inout RepairPass, _ t: inout Totals,
                                   _ forget: inout [DigestKey], _ restore: inout [S3FIFO<DigestKey>.Entry]) throws {
        let entry = r.key.count == Layout.keySize ? header(txn, r.key) : nil
        if let entry, entry.sequence == r.sequence {
            let footprint = layout.footprint(r.length)
            pass.live.entries += 1
            pass.live.valueBytes += r.length
            pass.live.chargedBytes += footprint
            // Every entry is tracked once the entries found at open are restored; one that is not would never be
            // evicted.
            if !cold.isPending {
                let k = Self.digestKey(r.key)
                if !lock.withLock({ policy.contains(k) }) {
                    restore.append(.init(key: k, size: footprint))
                    pass.found.untracked += 1
                }
            }
            return
        }
        // Dangling: nothing reaches these records any more.
        if !abandonedPieces.contains(r.sequence) { pass.found.pieces += try deletePieces(txn, sequence: r.sequence) }
        try txn.delete(OrderKey(r.sequence), in: orderDB)
        pass.found.orderRecords += 1
        if cold.holds(r.sequence) {
            cold.count -= 1
            cold.charged = max(0, cold.charged - layout.footprint(r.length))
        }
        guard r.key.count == Layout.keySize else { return }
        let k = Self.digestKey(r.key)
        if let entry {
            // The entry holds another sequence: a refill (leave it), or a damaged header that no order record
            // names, which eviction would never reach (delete it; its pieces, if any, go in the chunks phase).
            guard orderedLength(txn, sequence: entry.sequence, key: r.key) == nil else { return }
            try txn.delete(r.key, in: entriesDB)
            pass.found.entries += 1
            t.entries = max(0, t.entries - 1)
        }
        // Restored from this record at open, perhaps: the policy must not keep a key with no entry.
        forget.append(k)
    }

    /// Up to `limit` distinct sequences of `chunks` after `sequence`, in order (one cursor move per sequence).
    private func pieceSequences(_ txn: LMDBTransaction, after sequence: UInt64, limit: Int) throws -> [UInt64] {
        try txn.withCursor(chunksDB) { cursor in
            var sequences: [UInt64] = []
            var next = sequence &+ 1
            while sequences.count < limit && next != 0 {
                guard let found = try cursor.seek(atLeast: PieceKey(sequence: next, index: 0))?.key,
                      found.count == Layout.pieceKeySize
                else { break }
                let s = OrderKey.sequence(in: found)
                sequences.append(s)
                next = s &+ 1
            }
            return sequences
        }
    }

    /// The key of the live entry stored under `sequence`: its order record names the key, whose entry holds
    /// that sequence. Nil when there is none.
    private func liveKey(_ txn: LMDBTransaction, sequence: UInt64) -> [UInt8]? {
        let key = try? txn.get(OrderKey(sequence), in: orderDB) { raw -> [UInt8]? in
            raw.count == Layout.orderValueSize ? Array(raw.prefix(Layout.keySize)) : nil
        }
        guard let key = key ?? nil, header(txn, key)?.sequence == sequence else { return nil }
        return key
    }
}
