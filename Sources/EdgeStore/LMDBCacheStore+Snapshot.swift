import EdgeCore
import Foundation

// The policy snapshot: S3-FIFO's state (each resident's queue, frequency and place, and the ghost keys) saved in
// a side file beside data.mdb, so that a restart keeps what the policy learnt instead of restarting every entry
// in the main queue unhit. Taken on the writer thread between transactions (a copy of the policy: O(1) under the
// lock, copy-on-write), encoded and written on a queue of its own; restored by the writer in the background.
extension LMDBCacheStore {
    /// The snapshot file in the store's folder.
    static let snapshotFile = "policy.snapshot"
    static let snapshotMagic = Array("IEPOLICY".utf8)
    static let snapshotVersion: UInt32 = 1
    /// Magic, version, page size, store id, next sequence, resident and ghost counts.
    static let snapshotHeaderSize = 48
    /// Key, footprint, queue, frequency.
    static let snapshotResidentSize = Layout.keySize + 10

    /// A snapshot as saved: the policy's state, and the store it describes up to which sequence.
    struct PolicySnapshot {
        var storeID: UInt64
        var pageSize: Int
        /// The store's next sequence when it was taken: every entry with a smaller sequence was tracked by the
        /// policy then, so one that still exists is in the snapshot.
        var nextSequence: UInt64
        var state: S3FIFO<DigestKey>.Snapshot
    }

    /// What the writer restores from a snapshot found at open: its residents, taken newest first from the end of
    /// `ColdRegion`'s snapshot window (and evicted oldest first from its start), for entries older than
    /// `nextSequence`.
    struct SnapshotRestore {
        var residents: [S3FIFO<DigestKey>.Entry]
        var nextSequence: UInt64
    }

    /// The file's bytes: a header, the residents (each queue oldest first, `S` then `M`), the ghosts (oldest
    /// first), then a CRC-32 of everything before it. Little-endian.
    static func encode(_ s: PolicySnapshot) -> [UInt8] {
        let count = snapshotHeaderSize + s.state.residents.count * snapshotResidentSize
            + s.state.ghosts.count * Layout.keySize + 4
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let out = UnsafeMutableRawBufferPointer(buffer)
            var at = 0
            func put<T: FixedWidthInteger>(_ v: T) {
                out.storeBytes(of: v.littleEndian, toByteOffset: at, as: T.self)
                at += MemoryLayout<T>.size
            }
            func put(_ key: DigestKey) {
                key.withDigest { UnsafeMutableRawBufferPointer(rebasing: out[at..<(at + Layout.keySize)]).copyMemory(from: $0) }
                at += Layout.keySize
            }
            UnsafeMutableRawBufferPointer(rebasing: out[0..<8]).copyBytes(from: snapshotMagic)
            at = 8
            put(snapshotVersion)
            put(UInt32(s.pageSize))
            put(s.storeID)
            put(s.nextSequence)
            put(UInt64(s.state.residents.count))
            put(UInt64(s.state.ghosts.count))
            for e in s.state.residents {
                put(e.key)
                put(UInt64(e.size))
                put(e.queue.rawValue)
                put(e.frequency)
            }
            for g in s.state.ghosts { put(g) }
            put(checksum(UnsafeRawBufferPointer(rebasing: out[0..<at])))
            initialized = at
        }
    }

    /// Reads a snapshot file's bytes; nil when they are not a whole, intact snapshot of this version.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> PolicySnapshot? {
        guard bytes.count >= snapshotHeaderSize + 4, bytes.prefix(8).elementsEqual(snapshotMagic) else { return nil }
        func word<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T { T(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: T.self)) }
        guard word(8, UInt32.self) == snapshotVersion else { return nil }
        let residents = word(32, UInt64.self), ghosts = word(40, UInt64.self)
        guard residents <= UInt64(bytes.count), ghosts <= UInt64(bytes.count),
              bytes.count == snapshotHeaderSize + Int(residents) * snapshotResidentSize + Int(ghosts) * Layout.keySize + 4,
              checksum(UnsafeRawBufferPointer(rebasing: bytes.dropLast(4))) == word(bytes.count - 4, UInt32.self)
        else { return nil }
        var state = S3FIFO<DigestKey>.Snapshot(residents: [], ghosts: [])
        state.residents.reserveCapacity(Int(residents))
        state.ghosts.reserveCapacity(Int(ghosts))
        var at = snapshotHeaderSize
        for _ in 0..<residents {
            let key = DigestKey(digest: UnsafeRawBufferPointer(rebasing: bytes[at..<(at + Layout.keySize)]))
            let size = word(at + Layout.keySize, UInt64.self)
            guard size <= UInt64(Int.max / 2), let queue = S3FIFO<DigestKey>.Queue(rawValue: bytes[at + Layout.keySize + 8])
            else { return nil }
            state.residents.append(.init(key: key, size: Int(size), queue: queue, frequency: bytes[at + Layout.keySize + 9]))
            at += snapshotResidentSize
        }
        for _ in 0..<ghosts {
            state.ghosts.append(DigestKey(digest: UnsafeRawBufferPointer(rebasing: bytes[at..<(at + Layout.keySize)])))
            at += Layout.keySize
        }
        return PolicySnapshot(storeID: word(16, UInt64.self), pageSize: Int(word(12, UInt32.self)),
                              nextSequence: word(24, UInt64.self), state: state)
    }

    /// A snapshot taken and not saved yet: a copy of the policy (its storage shared with the store's until the
    /// next change to either), walked when saved.
    struct PendingSnapshot: Sendable {
        var storeID: UInt64
        var pageSize: Int
        var nextSequence: UInt64
        var policy: S3FIFO<DigestKey>
    }

    /// Writes `pending` to the file, replacing it whole (a crash leaves the old one or the new one; a torn file
    /// fails its checksum and is ignored).
    func save(_ pending: PendingSnapshot) {
        let bytes = Self.encode(PolicySnapshot(storeID: pending.storeID, pageSize: pending.pageSize,
                                               nextSequence: pending.nextSequence, state: pending.policy.snapshot()))
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: snapshotPath), options: .atomic)
            lock.withLock { snapshotsSaved += 1 }
        } catch {
            lock.withLock { snapshotsFailed += 1 }
        }
    }

    /// The store's identity (a random number made with the store), so that a snapshot of another store is never
    /// taken for this one's.
    func loadStoreID() -> UInt64? {
        let id = try? env.withReadTransaction { txn in
            try txn.get(Self.storeIDKey, in: metaDB) { raw -> UInt64? in
                raw.count == 8 ? UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)) : nil
            }
        }
        return id ?? nil
    }

    static let storeIDKey = Array("id".utf8)

    /// Gives a store its identity if it has none (in the transaction that opens it).
    static func createStoreID(_ txn: LMDBTransaction, _ meta: LMDBDatabase) throws {
        _ = try withUnsafeBytes(of: UInt64.random(in: 1...UInt64.max).littleEndian) {
            try txn.put($0, forKey: storeIDKey, in: meta, .noOverwrite)
        }
    }

    // MARK: - Taking snapshots (writer thread)

    /// Whether the policy tracks every entry, so that a snapshot taken now lists every entry it has.
    var policyComplete: Bool { !cold.isPending }

    /// The policy's state now, for `save`; nil while the policy does not track every entry yet. O(1) under the
    /// lock: the first change to the policy after it copies the policy's slot array (about 56 bytes per tracked
    /// key), once.
    func takeSnapshot() -> PendingSnapshot? {
        guard policyComplete else { return nil }
        applyPendingHits()
        admissionsSinceSnapshot = 0
        lastSnapshot = .now
        if storeID == nil { storeID = loadStoreID() }
        guard let storeID else { return nil }
        let (copy, next) = lock.withLock { (policy, totals.nextSequence) }
        return PendingSnapshot(storeID: storeID, pageSize: layout.pageSize, nextSequence: next, policy: copy)
    }

    /// Whether a snapshot is due: after `snapshotAdmissions` admissions, or `snapshotInterval` after the last one
    /// when anything was admitted since.
    var snapshotDue: Bool {
        guard admissionsSinceSnapshot > 0, policyComplete else { return false }
        if admissionsSinceSnapshot >= options.snapshotAdmissions { return true }
        guard let interval = options.snapshotInterval else { return false }
        return ContinuousClock.now - lastSnapshot >= interval
    }

    /// Takes a snapshot if one is due and saves it off the writer thread. Returns whether it took one.
    func snapshotIfDue() -> Bool {
        guard snapshotDue, let snapshot = takeSnapshot() else { return false }
        snapshotQueue.async { [self] in save(snapshot) }
        return true
    }

    /// When the writer has timed work to do although nothing is queued: the next snapshot, or the next repair
    /// pass that damage found since the last one asked for.
    var idleDeadline: ContinuousClock.Instant? {
        var deadline: ContinuousClock.Instant?
        if admissionsSinceSnapshot > 0, policyComplete, let interval = options.snapshotInterval {
            deadline = lastSnapshot + interval
        }
        if repairNeeded == true, repair == nil, let end = lastRepairEnd {
            deadline = min(deadline ?? end + Self.repairInterval, end + Self.repairInterval)
        }
        return deadline
    }

    // MARK: - Restoring (writer thread)

    /// Reads the snapshot file, if any, and sets the restore up from it when it describes this store as it was
    /// at or before open; otherwise the store restores as it would without one.
    func examineSnapshot() {
        guard let data = FileManager.default.contents(atPath: snapshotPath) else { return }
        let decoded = data.withUnsafeBytes { Self.decode($0) }
        if storeID == nil { storeID = loadStoreID() }
        guard let snapshot = decoded, snapshot.storeID == storeID, snapshot.pageSize == layout.pageSize,
              snapshot.nextSequence >= 1, snapshot.nextSequence <= highAtOpen + 1
        else {
            lock.withLock { snapshotsIgnored += 1 }
            return
        }
        // Ghosts first: they are only keys, and entries restored later turn any of them resident.
        let ghosts = snapshot.state.ghosts
        for slice in stride(from: ghosts.count - 1, through: 0, by: -512) {
            lock.withLock {
                for i in stride(from: slice, to: max(-1, slice - 512), by: -1) { policy.restoreOldestGhost(ghosts[i]) }
            }
        }
        snapshotRestore = SnapshotRestore(residents: snapshot.state.residents, nextSequence: snapshot.nextSequence)
        // Entries from the snapshot's sequence on were written after it (the store crashed before the next one):
        // they are restored as without a snapshot, after it, behind everything.
        cold.low = min(cold.high, snapshot.nextSequence - 1)
        cold.snapshotLo = 0
        cold.snapshotHi = snapshot.state.residents.count
    }

    /// Restores up to `limit` of the snapshot's residents, newest first, each into its queue with its frequency,
    /// behind what the policy holds: those whose entry is still the one the snapshot saw.
    func restoreFromSnapshot(limit: Int) throws {
        guard let restore = snapshotRestore else { return }
        var found: [S3FIFO<DigestKey>.Entry] = []
        var examined = 0
        try env.withReadTransaction { txn in
            while cold.snapshotHi > cold.snapshotLo && examined < limit {
                cold.snapshotHi -= 1
                examined += 1
                let entry = restore.residents[cold.snapshotHi]
                if let h = entry.key.withDigest({ header(txn, $0) }), h.sequence < restore.nextSequence { found.append(entry) }
            }
        }
        var restored = 0, charged = 0
        for slice in stride(from: 0, to: found.count, by: 512) {
            lock.withLock {
                for e in found[slice..<min(found.count, slice + 512)] where policy.restoreOldest(e) {
                    restored += 1
                    charged += e.size
                }
            }
        }
        cold.count = max(0, cold.count - restored)
        cold.charged = max(0, cold.charged - charged)
        if cold.snapshotLo >= cold.snapshotHi { snapshotRestore = nil }
        lock.withLock {
            unrestored = cold.count
            restoredFromSnapshot += restored
        }
    }

    /// Deletes the oldest of the snapshot's residents not restored yet whose entry is still the one it saw.
    /// Returns false when none is left.
    func evictOldestFromSnapshot(_ txn: LMDBTransaction, _ t: inout Totals) throws -> Bool {
        guard let restore = snapshotRestore else { return false }
        while cold.snapshotLo < cold.snapshotHi {
            let entry = restore.residents[cold.snapshotLo]
            cold.snapshotLo += 1
            let key = entry.key.withDigest { Array($0) }
            if let h = header(txn, key), h.sequence < restore.nextSequence, !lock.withLock({ policy.contains(entry.key) }) {
                try dropRecord(txn, key, h, &t, tracked: false)
                return true
            }
        }
        return false
    }
}
