import EdgeCore
import EdgeGossip
import EdgePrivacy
import EdgeStore
import Foundation
import NIOConcurrencyHelpers
import Synchronization

/// Where purges go beyond this node (the gossip service, when the node has peers).
protocol PurgePeers: Sendable {
    /// Starts spreading a purge made here (already applied and recorded here).
    func spread(_ purge: GossipPurge)
    /// Starts spreading a source switch made here (already in effect and recorded here).
    func spread(_ change: SourceSwitch)
    /// Which members have applied purge `id`, by address (nil: did not answer in time).
    func status(of id: String) async -> [(member: String, applied: Bool?)]
}

/// Purges on this node: the tombstone index every lookup consults, the hybrid logical clock that stamps fills and
/// purges, and the log that keeps tombstones across restarts. A purge takes effect in memory before it is answered
/// (and before it is written), so from the answer on nothing it covers is served; a fill whose origin fetch started
/// before it is dead too, whenever it lands. Purges made here are numbered in this node's stream (see
/// `GossipPurge`), and spread to peers once on disk, so a number is never given out twice even across a crash.
final class PurgeService: Sendable {
    private let index = NIOLockedValueBox(TombstoneIndex())
    private let hlc = NIOLockedValueBox(HybridClock())
    private let log: TombstoneLog?
    private let writer = BoundedPool(threads: 1, maxQueued: 4096)
    let nodeID: String
    private let clock: @Sendable () -> Double
    /// This node's stream and the number its next purge gets.
    private let numbering: NIOLockedValueBox<(stream: String, next: UInt64)>
    /// Every purge held at start (from the log), for the gossip ledger.
    let known: [GossipPurge]
    let peers = NIOLockedValueBox<(any PurgePeers)?>(nil)
    /// Every purge applied here, by id, and when it took effect (wall clock, microseconds; 0 for those read back
    /// at start), for `GET /v1/purge/{id}`.
    private let appliedTimes = NIOLockedValueBox<[String: UInt64]>([:])

    /// The configured sources (a purge of everything names each).
    private let sources: [String]
    /// Customers' source switches (latest per source), and how many sources they disable (read on every request
    /// without a lock: almost always 0).
    private let switches: NIOLockedValueBox<SourceSwitches>
    private let disabledCount = Atomic<Int>(0)
    /// Assistance grants revoked (by grant id), from this node or its peers.
    private let revoked = NIOLockedValueBox<Set<String>>([])

    init(nodeID: String, sources: [String] = [], log: TombstoneLog?, tombstones: [Tombstone],
         clock: @escaping @Sendable () -> Double) {
        self.nodeID = nodeID
        self.sources = sources
        let switched = SourceSwitches(log?.switches ?? [])
        switches = NIOLockedValueBox(switched)
        disabledCount.store(switched.disabled.count, ordering: .relaxed)
        self.log = log
        self.clock = clock
        // Read back at start: applied "at 0", so the first sweep after start expires them once it has run.
        index.withLockedValue { i in for t in tombstones { i.insert(t) } }
        // The recent index keeps each purge by its own time, until it is older than the horizon.
        recentIndex.withLockedValue { i in for t in tombstones { i.insert(t, applied: t.time) } }
        revoked.withLockedValue { $0.formUnion(Self.revocations(tombstones)) }
        let latest = tombstones.map(\.time).max() ?? 0
        hlc.withLockedValue { $0.receive(latest) }
        let known = GossipPurge.regroup(tombstones)
        self.known = known
        appliedTimes.withLockedValue { t in for p in known { t[p.id] = 0 } }
        // The stream continues where the log left it: the latest epoch of this node's own streams.
        let prefix = nodeID + "-"
        let own = known.filter { $0.stream.hasPrefix(prefix) && UInt64($0.stream.dropFirst(prefix.count)) != nil }
        let epoch = own.compactMap { UInt64($0.stream.dropFirst(prefix.count)) }.max()
        if let epoch {
            let stream = GossipPurge.stream(nodeID: nodeID, epoch: epoch)
            let highest = own.filter { $0.stream == stream }.map(\.seq).max() ?? 0
            numbering = NIOLockedValueBox((stream, highest + 1))
        } else {
            let now = hlc.withLockedValue { $0.tick(physical: clock()) }
            numbering = NIOLockedValueBox((GossipPurge.stream(nodeID: nodeID, epoch: now), 1))
        }
    }

    func shutdown() async { await writer.shutdown() }

    /// A reading of the node's hybrid logical clock (microseconds), for a fill's fetch start or a purge.
    func tick() -> UInt64 {
        let now = clock()
        return hlc.withLockedValue { $0.tick(physical: now) }
    }

    /// Fills under way, by the hybrid-clock time each began (a count per time).
    private let fills = NIOLockedValueBox<[UInt64: Int]>([:])

    /// Notes a fill beginning now and returns its start; `endFill` it when its result is stored or given up.
    /// Tombstones applied since the oldest fill under way began are kept through sweeps: they may cover what it
    /// makes, which is checked when it is written, after any sweep that ran meanwhile.
    func beginFill() -> UInt64 {
        fills.withLockedValue { f in
            let start = tick()
            f[start, default: 0] += 1
            return start
        }
    }

    func endFill(_ start: UInt64) {
        fills.withLockedValue { f in
            if let n = f[start], n > 1 { f[start] = n - 1 } else { f[start] = nil }
        }
    }

    /// When the oldest fill under way began (`.max`: none).
    private var oldestFill: UInt64 { fills.withLockedValue { $0.keys.min() } ?? .max }

    /// Moves the clock past a time seen on a peer (every gossip message carries one).
    func receive(clock remote: UInt64) {
        hlc.withLockedValue { $0.receive(remote) }
    }

    /// Whether the memory tier's `item` is dead. The tombstones are searched only when some were added since the
    /// item last passed them (as Varnish tests an object against the bans newer than it, not every ban on every
    /// hit); tombstones that expire never make a live item dead, so a pass holds until the next insertion.
    func covers(_ item: HotCache.Item) -> Bool {
        let seen = insertions.load(ordering: .acquiring)
        if item.passedPurges.load(ordering: .relaxed) == seen { return false }
        if covers(item.header) { return true }
        item.passedPurges.store(seen, ordering: .relaxed)
        return false
    }

    /// How many times tombstones were added (after they were in the index).
    private let insertions = Atomic<Int>(0)

    /// Whether a stored entry is dead: some tombstone matches it and its fetch started at or before that purge.
    func covers(_ h: CacheEntry.Header) -> Bool {
        let fetched = HybridClock.micros(h.fetchedAt)
        return index.withLockedValue { i in
            i.covers(source: h.source, path: h.path, tags: h.surrogateKeys, fetchedAt: fetched)
        }
    }


    /// Applies a purge of `selectors` now, writes it to the log, then hands it to the peers. Returns it.
    func purge(_ selectors: [PurgeSelector]) async throws -> GossipPurge {
        let time = tick()
        let purge = numbering.withLockedValue { n in
            defer { n.next += 1 }
            return GossipPurge(stream: n.stream, seq: n.next, time: time, selectors: selectors)
        }
        let tombstones = purge.tombstones
        insert(tombstones)
        noteApplied([purge])
        try await record(tombstones)
        peers.withLockedValue { $0 }?.spread(purge)
        return purge
    }

    /// Applies purges received from peers (each new here): in memory at once, on disk in the background (one lost
    /// to a crash before it is written is pulled again from a peer by anti-entropy).
    func apply(_ purges: [GossipPurge]) {
        let tombstones = purges.flatMap(\.tombstones)
        insert(tombstones)
        noteApplied(purges)
        receive(clock: purges.map(\.time).max() ?? 0)
        enqueue(tombstones) { _ in }
    }

    static func revocations(_ tombstones: [Tombstone]) -> [String] {
        tombstones.compactMap { if case .grantRevoked(let id) = $0.selector { id } else { nil } }
    }

    /// Whether the assistance grant `id` was revoked (here or on a peer).
    func isRevoked(grant id: String) -> Bool { revoked.withLockedValue { $0.contains(id) } }

    /// Revokes an assistance grant everywhere: recorded and spread like a purge (it covers no entry).
    func revoke(grant id: String) async throws {
        _ = try await purge([.grantRevoked(id)])
    }

    /// Whether a customer disabled `source` (through this node or another).
    func isDisabled(_ source: String) -> Bool {
        disabledCount.load(ordering: .relaxed) > 0 && switches.withLockedValue { !$0.isEnabled(source) }
    }

    /// Every source switch known, latest per source.
    var sourceSwitches: [SourceSwitch] { switches.withLockedValue { $0.all } }

    /// A customer disables or enables `source` here: in effect at once (refused from now on), written to the log,
    /// then spread to peers; disabling also purges the source's cached variants (everywhere, as a purge).
    func switchSource(_ source: String, enabled: Bool) async throws -> SourceSwitch {
        let change = SourceSwitch(source: source, enabled: enabled, time: tick())
        _ = merge([change])
        if let log {
            try await writer.run { () throws(EdgeError) in
                do { try log.append(switches: [change]) } catch { throw .internalError(detail: "tombstone log: \(error)") }
            }
        }
        if !enabled { _ = try await purge([.source(source)]) }
        peers.withLockedValue { $0 }?.spread(change)
        return change
    }

    /// Source switches received from peers: in effect at once, written in the background (a switch lost to a crash
    /// comes back with the next digest, which carries them all).
    func apply(switches changes: [SourceSwitch]) {
        let changed = merge(changes)
        guard !changed.isEmpty, let log else { return }
        _ = writer.submit { active in if active { try? log.append(switches: changed) } }
    }

    private func merge(_ changes: [SourceSwitch]) -> [SourceSwitch] {
        switches.withLockedValue { s in
            let changed = s.merge(changes)
            disabledCount.store(s.disabled.count, ordering: .relaxed)
            return changed
        }
    }

    /// Purges everything every source cached before `time` (microseconds), on this node only: what a node does when
    /// it learns it missed purges its peers have since forgotten.
    func invalidateAll(before time: UInt64) {
        insert(sources.map { Tombstone(id: "floor-\(time)-\($0)", selector: .source($0), time: time) })
    }

    /// Adds tombstones stamped with when they were applied here, and notes that a sweep is due.
    private func insert(_ tombstones: [Tombstone]) {
        let applied = tick()
        index.withLockedValue { idx in for t in tombstones { idx.insert(t, applied: applied) } }
        recentIndex.withLockedValue { idx in for t in tombstones { idx.insert(t, applied: t.time) } }
        insertions.add(1, ordering: .releasing)
        let ids = Self.revocations(tombstones)
        if !ids.isEmpty { revoked.withLockedValue { $0.formUnion(ids) } }
        sweepDue.withLockedValue { $0 = true }
    }

    /// Set when tombstones were added since the last sweep began (the sweeper clears it when it starts one).
    let sweepDue = NIOLockedValueBox(true)

    /// Runs `store` (putting an item into the memory tier) only if no tombstone covers `header`, under the index's
    /// lock, so a sweep cannot expire the tombstone between the check and the put. Returns whether it ran.
    func ifLive(_ header: CacheEntry.Header, _ store: () -> Void) -> Bool {
        let fetched = HybridClock.micros(header.fetchedAt)
        return index.withLockedValue { i in
            guard !i.covers(source: header.source, path: header.path, tags: header.surrogateKeys, fetchedAt: fetched) else {
                return false
            }
            store()
            return true
        }
    }

    /// The end of a sweep that began at `start`: under the index's lock, `sweepMemory` removes what the
    /// tombstones cover from the memory tier (given a test for it), then every tombstone applied before `start`
    /// and before the oldest fill still under way began is expired (a later one may cover what that fill
    /// makes). Returns how many were.
    func finishSweep(startedAt start: UInt64, sweepMemory: ((CacheEntry.Header) -> Bool) -> Void) -> Int {
        index.withLockedValue { i in
            sweepMemory { h in
                i.covers(source: h.source, path: h.path, tags: h.surrogateKeys, fetchedAt: HybridClock.micros(h.fetchedAt))
            }
            let oldest = oldestFill
            if oldest < start { expiryAfterFills.withLockedValue { $0 = max($0 ?? 0, start) } }
            return i.expire(appliedBefore: min(start, oldest))
        }
    }

    /// A sweep's start, when tombstones applied before it were kept for fills under way; they expire once those
    /// fills have ended (the sweep deleted what they covered then; the fills check themselves when written).
    private let expiryAfterFills = NIOLockedValueBox<UInt64?>(nil)

    /// Expires the tombstones a sweep kept for fills that have ended since; returns how many.
    func expireAfterFills() -> Int {
        index.withLockedValue { i in
            expiryAfterFills.withLockedValue { pending in
                guard let cutoff = pending else { return 0 }
                let oldest = oldestFill
                if oldest >= cutoff { pending = nil }
                return i.expire(appliedBefore: min(cutoff, oldest))
            }
        }
    }

    // MARK: Purges of the horizon, for entries made elsewhere

    /// Every purge of the last `gossip.retention`, by its own time, whatever sweeps did. A node's sweeps expire its
    /// own tombstones once its store and its fills are past them, which says nothing of entries made elsewhere: an
    /// owner's answer to a peer fill (the owner may not have heard of a purge yet) and objects in the shared tier
    /// (other nodes write there too). Those are checked against this index (`coveredRecently`, `sharedAccepts`).
    private let recentIndex = NIOLockedValueBox(TombstoneIndex())

    /// Whether a purge of the horizon covers `h` (an entry made on another node).
    func coveredRecently(_ h: CacheEntry.Header) -> Bool {
        coveredRecently(source: h.source, path: h.path, tags: h.surrogateKeys, fetchedAt: h.fetchedAt)
    }

    private func coveredRecently(source: String, path: String, tags: [String], fetchedAt: Double) -> Bool {
        let fetched = HybridClock.micros(fetchedAt)
        return recentIndex.withLockedValue { i in i.covers(source: source, path: path, tags: tags, fetchedAt: fetched) }
    }

    /// Whether an entry read from the shared tier may be used: fetched within `horizon` seconds and covered by no
    /// purge made since (purges are applied here when they are made or received).
    func sharedAccepts(_ h: CacheEntry.Header, horizon: Double) -> Bool {
        !sharedDead(source: h.source, path: h.path, tags: h.surrogateKeys, fetchedAt: h.fetchedAt, horizon: horizon)
    }

    /// Whether a shared tier object of `source` / `path` tagged `tags`, fetched at `fetchedAt` (seconds on the
    /// hybrid clock), is to be deleted: older than the horizon, or covered by a purge.
    func sharedDead(source: String, path: String, tags: [String], fetchedAt: Double, horizon: Double) -> Bool {
        fetchedAt < clock() - horizon || coveredRecently(source: source, path: path, tags: tags, fetchedAt: fetchedAt)
    }

    /// Drops the purges older than `horizon` seconds from the recent index (the sweeper calls it on every pass).
    func expireRecent(horizon: Double) {
        let cutoff = UInt64(max(0, clock() - horizon) * 1_000_000)
        recentIndex.withLockedValue { _ = $0.expire(appliedBefore: cutoff) }
    }

    /// How many times tombstones were added: a shared tier sweep is due when this moved.
    var generation: Int { insertions.load(ordering: .acquiring) }

    /// Tombstones in effect and expired so far.
    var tombstoneCounts: (active: Int, expired: Int) { index.withLockedValue { ($0.count, $0.expired) } }

    private func noteApplied(_ purges: [GossipPurge]) {
        let now = UInt64(clock() * 1_000_000)
        appliedTimes.withLockedValue { t in for p in purges { t[p.id] = now } }
    }

    /// When purge `id` took effect here (microseconds since 1970), if it did since this node started.
    func appliedAt(_ id: String) -> UInt64? { appliedTimes.withLockedValue { $0[id] }.flatMap { $0 == 0 ? nil : $0 } }

    /// Writes tombstones to the log, flushed to disk before it returns. Group commit: purges that arrive while a
    /// flush is running wait for the next one, which writes them all with one fsync — in a purge storm the disk
    /// does one flush per batch, not one per purge. The flushes run on the writer thread alone, which resumes the
    /// waiters itself: no Swift task stands between a purge and its answer (see `EventLoopTaskExecutor`).
    private func record(_ tombstones: [Tombstone]) async throws {
        guard log != nil else { return }
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            enqueue(tombstones) { error in
                if let error { waiter.resume(throwing: error) } else { waiter.resume() }
            }
        }
    }

    /// Adds tombstones to the next flush; `done` is called from the writer thread once they are on disk (or with
    /// the error that kept them off it).
    private func enqueue(_ tombstones: [Tombstone], done: @escaping @Sendable ((any Error)?) -> Void) {
        guard let log else { return done(nil) }
        let lead = commits.withLockedValue { c -> Bool in
            c.pending += tombstones
            c.waiters.append(done)
            defer { c.flushing = true }
            return !c.flushing
        }
        guard lead else { return }
        let started = writer.submit { [commits] active in
            if active { Self.flush(commits, to: log) } else { Self.abandon(commits) }
        }
        if !started { Self.abandon(commits) }
    }

    /// The writer is gone (shutting down) or full: everyone waiting is told, and the next purge leads again.
    private static func abandon(_ commits: NIOLockedValueBox<Commits>) {
        let waiters = commits.withLockedValue { c in
            defer { c = Commits() }
            return c.waiters
        }
        for w in waiters { w(EdgeError.overloaded) }
    }

    private struct Commits {
        var pending: [Tombstone] = []
        var waiters: [@Sendable ((any Error)?) -> Void] = []
        var flushing = false
    }

    private let commits = NIOLockedValueBox(Commits())

    /// The writer thread's loop: writes what is pending, answers its waiters, until nothing is.
    private static func flush(_ commits: NIOLockedValueBox<Commits>, to log: TombstoneLog) {
        while true {
            let (batch, waiters) = commits.withLockedValue { c -> ([Tombstone], [@Sendable ((any Error)?) -> Void]) in
                if c.waiters.isEmpty { c.flushing = false }
                defer { c.pending = []; c.waiters = [] }
                return (c.pending, c.waiters)
            }
            guard !waiters.isEmpty else { return }
            var failure: (any Error)?
            do { try log.append(batch) } catch { failure = EdgeError.internalError(detail: "tombstone log: \(error)") }
            for w in waiters { w(failure) }
        }
    }

    /// Whether the purge `id` is applied here.
    func applied(_ id: String) -> Bool { appliedTimes.withLockedValue { $0[id] != nil } }
}
