import EdgeCore
import Foundation

// The writer side: everything here runs on the writer thread only. The policy is touched under `lock`, in short
// sections, so that readers recording hits never wait for LMDB I/O.
extension LMDBCacheStore {
    enum Operation: Sendable {
        /// Key, value and the value's CRC-32 (computed by the caller, off the writer thread).
        case put([UInt8], [UInt8], UInt32)
        /// Key, and the version (the entry's sequence) to delete only: nil deletes whatever is stored.
        case delete([UInt8], version: UInt64?)
        /// Restore every entry found at open into the policy.
        case restore
        /// Restore the policy, then save its snapshot.
        case snapshot

        var isWrite: Bool {
            switch self {
            case .put, .delete: true
            case .restore, .snapshot: false
            }
        }

        /// Value bytes the operation writes, for bounding batches.
        var valueBytes: Int {
            if case .put(_, let value, _) = self { return value.count }
            return 0
        }
    }

    /// Runs a batch: consecutive puts and deletes in one write transaction each. Returns each operation's result.
    func apply(_ ops: [Operation]) -> [Result<Void, any Error>] {
        applyPendingHits()
        var results: [Result<Void, any Error>] = []
        results.reserveCapacity(ops.count)
        var start = 0
        while start < ops.count {
            switch ops[start] {
            case .restore:
                results.append(Result { while try restoreStep(limit: 65_536) {} })
                start += 1
                continue
            case .snapshot:
                results.append(Result {
                    while try restoreStep(limit: 65_536) {}
                    if let snapshot = takeSnapshot() { snapshotQueue.sync { save(snapshot) } }
                })
                start += 1
                continue
            case .put, .delete: break
            }
            var end = start
            while end < ops.count, ops[end].isWrite { end += 1 }
            results += commit(Array(ops[start..<end]))
            start = end
        }
        return results
    }

    /// Applies `ops` in one transaction. A record on a damaged page can make any LMDB call fail, and the whole
    /// transaction with it: then the keys the failed transaction left to delete are settled one at a time, and
    /// each operation is retried in a transaction of its own, so that a damaged entry fails only the operation
    /// that touches it, not the fills it was batched with.
    private func commit(_ ops: [Operation]) -> [Result<Void, any Error>] {
        do {
            try attempt(ops)
            return Array(repeating: .success(()), count: ops.count)
        } catch {
            guard ops.count > 1 else {
                settleOrphans()
                lock.withLock { faults.failedOperations += 1 }
                return [.failure(error)]
            }
        }
        lock.withLock { faults.isolatedBatches += 1 }
        settleOrphans()
        return ops.map { op in
            do {
                try attempt([op])
                return .success(())
            } catch {
                settleOrphans()
                lock.withLock { faults.failedOperations += 1 }
                return .failure(error)
            }
        }
    }

    /// One transaction. On MAP_FULL (not expected: see the type's comment), makes room and retries once. When the
    /// pieces of a value cannot be deleted (a damaged page), leaves them behind for good and retries without
    /// them: the entry's other records still go, so its key can be filled again.
    private func attempt(_ ops: [Operation]) throws {
        for _ in 0..<4 {
            do {
                do {
                    try transact(ops)
                } catch let e as LMDBError where e.kind == .mapFull {
                    try transact([], freeing: maxBytes / 8)
                    try transact(ops)
                }
                return
            } catch let e as PiecesUndeletable where !abandonedPieces.contains(e.sequence) {
                abandonedPieces.insert(e.sequence)
                lock.withLock { faults.abandonedRecords += 1 }
            }
        }
        try transact(ops)
    }

    /// Deletes the entries a failed transaction left for the next one (`orphans`): together, else one at a time.
    /// One whose delete fails even alone (a damaged page) is left on disk, counted, untracked by the policy.
    private func settleOrphans() {
        guard !orphans.isEmpty, (try? attempt([])) == nil else { return }
        let keys = orphans
        for key in keys {
            orphans = [key]
            if (try? attempt([])) == nil { lock.withLock { faults.abandonedRecords += 1 } }
        }
        orphans = []
    }

    /// The idle work, a step at a time: shed what a smaller bound no longer holds, restore the policy, then
    /// repair the index if it may hold unreachable records. Returns whether there may be more.
    func idleStep() -> Bool {
        applyPendingHits()
        do {
            let charged = lock.withLock { totals.chargedBytes }
            if charged > maxBytes {
                try transact([], freeing: charged - maxBytes)
                return true
            }
            if options.restoresInBackground && cold.isPending {
                _ = try restoreStep(limit: 4096)
                return true
            }
            if snapshotIfDue() { return true }
            if repair != nil { return try repairStep() }
            if repairNeeded == nil { repairNeeded = try loadRepairFlag() }
            if repairNeeded == true, lastRepairEnd.map({ ContinuousClock.now - $0 > Self.repairInterval }) ?? true {
                return try repairStep()
            }
        } catch {
            // A victim on a damaged page, perhaps: do not leave it to fail the next batch.
            settleOrphans()
            return false
        }
        return false
    }

    /// Passes started by damage found while running are this far apart at least.
    static let repairInterval = Duration.seconds(60)

    /// Applies `ops` in one write transaction, after deleting `freeing` bytes' worth of entries.
    func transact(_ ops: [Operation], freeing: Int = 0) throws {
        let savedCold = cold
        let savedRepair = repair
        var t = lock.withLock { totals }
        // Keys whose entry the policy admitted or forgot in this transaction.
        var touched: [[UInt8]] = []
        do {
            try env.withWriteTransaction { txn in
                for key in orphans { try drop(txn, key, &t, tracked: true) }
                if freeing > 0 { try evict(txn, freeing: freeing, &t, &touched) }
                for op in ops {
                    switch op {
                    case .put(let key, let value, let crc): try put(txn, key, value, crc, &t, &touched)
                    case .delete(let key, let version):
                        // A version that is no longer the stored one: a later write replaced it, which stays.
                        if let version, header(txn, key)?.sequence != version { continue }
                        touched.append(key)
                        let k = Self.digestKey(key)
                        let tracked = lock.withLock { policy.remove(k) != nil }
                        try drop(txn, key, &t, tracked: tracked)
                    case .restore, .snapshot: break
                    }
                }
                try Self.saveTotals(txn, metaDB, t)
                // The pieces last, together: see `writeDeferredPieces`.
                try writeDeferredPieces(txn)
            }
        } catch {
            deferredPieces.removeAll()
            cold = savedCold
            repair = savedRepair
            // The policy admitted or forgot these keys and LMDB did not follow: forget them in the policy too, and
            // delete whatever LMDB holds under them first thing in the next transaction, so that nothing stays on
            // disk that the policy does not account for.
            lock.withLock {
                for key in touched { policy.remove(Self.digestKey(key)) }
            }
            orphans += touched
            throw error
        }
        orphans.removeAll()
        lock.withLock {
            totals = t
            unrestored = cold.count
            writeTransactions += 1
        }
    }

    private func put(_ txn: LMDBTransaction, _ key: [UInt8], _ value: [UInt8], _ crc: UInt32, _ t: inout Totals,
                     _ touched: inout [[UInt8]]) throws {
        let k = Self.digestKey(key)
        let footprint = layout.footprint(value.count)
        touched.append(key)
        if let old = header(txn, key) { try dropRecord(txn, key, old, &t, tracked: lock.withLock { policy.contains(k) }) }
        // What the policy holds besides the version of this key being replaced.
        var policyBytes = 0
        func measure() {
            lock.withLock { policyBytes = policy.usedBytes - (policy.size(of: k) ?? 0) }
        }
        measure()
        if policyBytes + cold.charged + footprint > maxBytes {
            // Room for this object and `evictionSlack` more, so that the next writes need none: evictions come in
            // bursts that share the index pages they copy, and free pages in longer runs.
            let target = maxBytes - footprint - evictionSlack
            // Entries not restored yet go first, oldest first: they stand for the main queue's oldest objects,
            // never hit since open.
            while cold.count > 0 && policyBytes + cold.charged > target {
                try evictOldestUnrestored(txn, &t)
                measure()
            }
            let excess = policyBytes + cold.charged - target
            if excess > 0 {
                let victims = lock.withLock { policy.evict(toFit: policy.capacity - policy.usedBytes + excess) }
                try drop(victims, txn, &t, &touched)
            }
        }
        let admission = lock.withLock { policy.admit(k, size: footprint) }
        // `write` refuses what the policy would bypass, so this is only a bound that changed under it.
        guard case .store(let victims) = admission else { return }
        try drop(victims, txn, &t, &touched)
        try store(txn, key, value, crc, &t)
        admissionsSinceSnapshot += 1
    }

    /// Deletes entries worth `bytes` of footprint: unrestored ones first, then the policy's victims.
    private func evict(_ txn: LMDBTransaction, freeing bytes: Int, _ t: inout Totals, _ touched: inout [[UInt8]]) throws {
        let target = max(0, t.chargedBytes - bytes)
        while cold.count > 0 && t.chargedBytes > target { try evictOldestUnrestored(txn, &t) }
        let excess = t.chargedBytes - target
        guard excess > 0 else { return }
        let victims = lock.withLock { policy.evict(toFit: policy.capacity - policy.usedBytes + excess) }
        try drop(victims, txn, &t, &touched)
    }

    /// Deletes the entries of the policy's victims.
    private func drop(_ victims: [DigestKey], _ txn: LMDBTransaction, _ t: inout Totals, _ touched: inout [[UInt8]]) throws {
        for victim in victims {
            let key = victim.withDigest { Array($0) }
            touched.append(key)
            try drop(txn, key, &t, tracked: true)
        }
    }

    /// Deletes the oldest entry the policy has not restored yet: the oldest of (`low`, `high`] (those a snapshot
    /// lacks go behind everything it has), then the snapshot's oldest. When none is left, the region is empty.
    private func evictOldestUnrestored(_ txn: LMDBTransaction, _ t: inout Totals) throws {
        if cold.high > cold.low {
            let evicted = try txn.withCursor(orderDB) { cursor -> Bool in
                guard let record = try cursor.seek(atLeast: OrderKey(cold.low + 1)),
                      record.key.count == Layout.orderKeySize, record.value.count == Layout.orderValueSize
                else { return false }
                let sequence = OrderKey.sequence(in: record.key)
                guard sequence <= cold.high else { return false }
                let key = Array(record.value.prefix(Layout.keySize))
                if let h = header(txn, key), h.sequence == sequence {
                    try dropRecord(txn, key, h, &t, tracked: false)
                } else {
                    // An order record without its entry: drop it, and the pieces it leaves (nothing else holds
                    // that sequence).
                    if !abandonedPieces.contains(sequence) { _ = try deletePieces(txn, sequence: sequence) }
                    try cursor.deleteCurrent()
                }
                return true
            }
            if evicted { return }
            // Nothing (or nothing readable) left in the range.
            cold.high = cold.low
        }
        if try evictOldestFromSnapshot(txn, &t) { return }
        // Nothing left: the totals overcounted.
        cold = ColdRegion(high: cold.low, low: cold.low)
    }

    /// Restores up to `limit` of the entries found at open into the policy: first a snapshot's (see
    /// `examineSnapshot`), then the newest of the rest (in its main queue, never hit, behind everything there);
    /// returns whether any remain.
    func restoreStep(limit: Int) throws -> Bool {
        guard cold.isPending else { return false }
        if !snapshotExamined {
            snapshotExamined = true
            examineSnapshot()
        }
        if cold.snapshotLo < cold.snapshotHi {
            try restoreFromSnapshot(limit: limit)
            return cold.isPending
        }
        guard cold.count > 0 else { return false }
        var entries: [S3FIFO<DigestKey>.Entry] = []
        entries.reserveCapacity(min(limit, cold.count))
        var lowest = cold.high
        var charged = 0
        // Whether the walk went past the oldest record, or below the range.
        var reachedEnd = false
        try env.withReadTransaction { txn in
            try txn.withCursor(orderDB) { cursor in
                // The newest record at or below `high`: the one before the first record above it, else (none
                // above, or the seek failed) the last.
                let above = (try? cursor.seek(atLeast: OrderKey(cold.high &+ 1))) ?? nil
                var record = try above == nil ? cursor.last() : cursor.previous()
                reachedEnd = record == nil
                while let r = record, entries.count < limit {
                    guard r.key.count == Layout.orderKeySize, r.value.count == Layout.orderValueSize else { break }
                    let sequence = OrderKey.sequence(in: r.key)
                    // Below the range: the snapshot had those.
                    guard sequence > cold.low else {
                        reachedEnd = true
                        break
                    }
                    let length = Int(UInt64(littleEndian: r.value.loadUnaligned(fromByteOffset: Layout.keySize, as: UInt64.self)))
                    let footprint = layout.footprint(length)
                    let digest = DigestKey(digest: UnsafeRawBufferPointer(rebasing: r.value[..<Layout.keySize]))
                    entries.append(.init(key: digest, size: footprint))
                    charged += footprint
                    lowest = sequence
                    record = try cursor.previous()
                    reachedEnd = record == nil
                }
            }
        }
        // In slices, so that a reader recording a hit never waits long.
        for slice in stride(from: 0, to: entries.count, by: 512) {
            lock.withLock {
                for e in entries[slice..<min(entries.count, slice + 512)] { policy.restoreOldest(e) }
            }
        }
        if reachedEnd {
            cold = ColdRegion()
        } else {
            cold.high = lowest - 1
            cold.count = max(0, cold.count - entries.count)
            cold.charged = max(0, cold.charged - charged)
        }
        lock.withLock { unrestored = cold.count }
        return cold.count > 0
    }

    // MARK: - Records

    static func digestKey(_ key: [UInt8]) -> DigestKey {
        key.withUnsafeBytes { DigestKey(digest: $0) }
    }

    /// The header of the entry stored under `key`, if any (and readable).
    func header(_ txn: LMDBTransaction, _ key: some ContiguousBytes) -> Header? {
        let layout = layout
        let header = try? txn.get(key, in: entriesDB) { raw -> Header? in
            guard raw.count >= Layout.headerSize else { return nil }
            // Trust the stored length only if the record agrees with it.
            return Header(raw, layout: layout) ?? Header(sequence: raw.loadUnaligned(as: UInt64.self).littleEndian,
                                                          length: 0, crc: 0, pieces: 0)
        }
        return header ?? nil
    }

    /// Deletes the entry stored under `key`, if any; `tracked`: whether the policy tracked it (else it may be one
    /// of the entries not restored yet).
    private func drop(_ txn: LMDBTransaction, _ key: [UInt8], _ t: inout Totals, tracked: Bool) throws {
        if let h = header(txn, key) { try dropRecord(txn, key, h, &t, tracked: tracked) }
    }

    /// The length the `order` record under `sequence` gives for `key`, or nil when that record is missing or
    /// belongs to another key. The entry header is not covered by the value's checksum: before its sequence is
    /// trusted to find pieces and the order record, it is checked against the order record, which names the key.
    func orderedLength(_ txn: LMDBTransaction, sequence: UInt64, key: [UInt8]) -> Int? {
        let length = try? txn.get(OrderKey(sequence), in: orderDB) { raw -> Int? in
            guard raw.count == Layout.orderValueSize, raw.prefix(Layout.keySize).elementsEqual(key) else { return nil }
            let length = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: Layout.keySize, as: UInt64.self))
            return length <= UInt64(Int.max / 2) ? Int(length) : nil
        }
        return length ?? nil
    }

    /// Deletes the entry stored under `key` with header `h`: its pieces, its order record, its entries record.
    /// A damaged header (its sequence not naming this key in `order`) deletes only the entries record: deleting by
    /// a wrong sequence would remove another entry's pieces. Its own pieces then stay unreachable, uncounted.
    func dropRecord(_ txn: LMDBTransaction, _ key: [UInt8], _ stated: Header, _ t: inout Totals, tracked: Bool) throws {
        guard let length = orderedLength(txn, sequence: stated.sequence, key: key) else {
            try txn.delete(key, in: entriesDB)
            t.entries = max(0, t.entries - 1)
            // Its pieces and order record are left for a repair pass, which also corrects the totals.
            try Self.saveRepairFlag(txn, metaDB, true)
            repairNeeded = true
            return
        }
        // The order record's length is the one written with the value (a damaged header may say otherwise).
        var h = stated
        h.length = length
        h.pieces = layout.pieces(length)
        // Pieces of a value stored earlier in this transaction are not written yet; pieces that could not be
        // deleted before (a damaged page) stay behind.
        if h.pieces > 0 && deferredPieces.removeValue(forKey: h.sequence) == nil && !abandonedPieces.contains(h.sequence) {
            _ = try deletePieces(txn, sequence: h.sequence)
        }
        try txn.delete(OrderKey(h.sequence), in: orderDB)
        try txn.delete(key, in: entriesDB)
        let footprint = layout.footprint(h.length)
        if !tracked && cold.holds(h.sequence) {
            cold.count -= 1
            cold.charged = max(0, cold.charged - footprint)
        }
        t.entries -= 1
        t.valueBytes -= h.length
        t.chargedBytes -= footprint
        // A repair pass counted this entry live already: it is not any more.
        if var pass = repair, pass.phase == .order, h.sequence <= pass.cursor {
            pass.live.entries -= 1
            pass.live.valueBytes -= h.length
            pass.live.chargedBytes -= footprint
            repair = pass
        }
    }

    /// Deletes every piece stored under `sequence` with one cursor, without reading them (they are consecutive
    /// keys, and after a delete the cursor stands on the next record: `nextKey()` returns it without moving).
    /// Returns how many it deleted; throws `PiecesUndeletable` when LMDB fails (a damaged page).
    func deletePieces(_ txn: LMDBTransaction, sequence: UInt64) throws -> Int {
        try txn.withCursor(chunksDB) { cursor in
            var deleted = 0
            do {
                var key = try cursor.seekKey(atLeast: PieceKey(sequence: sequence, index: 0))
                while let k = key, k.count == Layout.pieceKeySize, OrderKey.sequence(in: k) == sequence {
                    try cursor.deleteCurrent()
                    deleted += 1
                    key = try cursor.nextKey()
                }
            } catch let error as LMDBError {
                throw PiecesUndeletable(sequence: sequence, error: error)
            }
            return deleted
        }
    }

    /// Writes the pieces of the values stored in this transaction, in sequence order (so each is an append).
    ///
    /// Last, and all together, because LMDB gives each new page the lowest free one: the index pages the
    /// transaction copies on write (random keys in `entries`: about one leaf per put or delete) take the free
    /// pages lowest in the file first, and the pieces then take the next ones in a run. Interleaved, index pages
    /// freed one by one end up scattered among the pieces, and LMDB then writes most pieces with a call of their
    /// own (its writes coalesce adjacent pages only); grouped, the index settles at the start of the file and the
    /// pieces stay in runs (in a churn test, 46 % fewer write calls).
    private func writeDeferredPieces(_ txn: LMDBTransaction) throws {
        guard !deferredPieces.isEmpty else { return }
        defer { deferredPieces.removeAll(keepingCapacity: true) }
        for sequence in deferredPieces.keys.sorted() {
            let value = deferredPieces[sequence]!
            let n = layout.pieces(value.count)
            try value.withUnsafeBytes { vb in
                for i in 0..<n {
                    let range = layout.piece(i, of: n, length: value.count)
                    let piece = UnsafeRawBufferPointer(rebasing: vb[range])
                    try Self.append(txn, chunksDB, PieceKey(sequence: sequence, index: i), piece)
                }
            }
        }
    }

    /// Writes a new entry: its `entries` record and its order record (appended: sequences only grow); its pieces,
    /// if any, at the end of the transaction.
    private func store(_ txn: LMDBTransaction, _ key: [UInt8], _ value: [UInt8], _ crc: UInt32, _ t: inout Totals) throws {
        let sequence = t.nextSequence
        t.nextSequence += 1
        let n = layout.pieces(value.count)
        let header = Header(sequence: sequence, length: value.count, crc: crc, pieces: n)
        let recordSize = Layout.headerSize + (n == 0 ? value.count : 0)
        // Reserve the record in place and fill it: no intermediate copy of the value.
        try txn.reserve(recordSize, forKey: key, in: entriesDB) { out in
            header.write(to: out)
            if n == 0, !value.isEmpty {
                value.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[Layout.headerSize...]).copyMemory(from: $0) }
            }
        }
        if n > 0 { deferredPieces[sequence] = value }
        try withUnsafeTemporaryAllocation(byteCount: Layout.orderValueSize, alignment: 8) { record in
            key.withUnsafeBytes { record.copyMemory(from: $0) }
            record.storeBytes(of: UInt64(value.count).littleEndian, toByteOffset: Layout.keySize, as: UInt64.self)
            try Self.append(txn, orderDB, OrderKey(sequence), UnsafeRawBufferPointer(record))
        }
        t.entries += 1
        t.valueBytes += value.count
        t.chargedBytes += layout.footprint(value.count)
    }

    /// Puts a record whose key sorts after every other (cheap: LMDB fills the last leaf and starts the next);
    /// a plain put if that is not so.
    private static func append(_ txn: LMDBTransaction, _ db: LMDBDatabase, _ key: some ContiguousBytes,
                               _ value: UnsafeRawBufferPointer) throws {
        if try !txn.put(value, forKey: key, in: db, .append) { try txn.put(value, forKey: key, in: db) }
    }

    /// Deleting the pieces of the value stored under `sequence` failed: LMDB could not read or free one of their
    /// pages.
    struct PiecesUndeletable: Error {
        var sequence: UInt64
        var error: LMDBError
    }
}
