import EdgeCore
import EdgeStore
import Logging
import NIOConcurrencyHelpers

/// Deletes, in the background, the stored entries that tombstones cover, and then expires those tombstones: a
/// sweep walks the whole store in key order, a batch per read transaction on its own thread, and removes what
/// is dead (a lookup would drop it when found anyway; the sweep frees the space and keeps the tombstone index
/// small). Tombstones applied before the sweep began can match nothing once it is over — every entry they cover
/// is gone — so they expire then, except those a fill still under way may need: a fill is checked against the
/// tombstones after its write lands, so the ones applied since it began are kept until it has ended.
final class PurgeSweeper: Sendable {
    private let purges: PurgeService
    /// The variants' store and the originals tier: both are swept.
    private let stores: [LMDBCacheStore]
    private let hot: HotCache
    private let logger: Logger
    private let pool = BoundedPool(threads: 1, maxQueued: 1)
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)
    private let totals = NIOLockedValueBox(Totals())

    /// Entries read per transaction, and the bytes of each read (the entry header is at the front).
    static let batch = 512
    static let prefixBytes = 16 * 1024

    struct Totals: Sendable {
        var sweeps = 0
        var deleted = 0
        var expired = 0
    }

    /// How long purges are kept for entries made elsewhere (`gossip.retention`).
    private let horizon: Double

    init(purges: PurgeService, stores: [LMDBCacheStore], hot: HotCache, logger: Logger, horizon: Double = 86_400) {
        self.purges = purges
        self.horizon = horizon
        self.stores = stores
        self.hot = hot
        self.logger = logger
    }

    /// Sweeps whenever tombstones were added since the last sweep began, checking every `interval`.
    func start(interval: Duration = .seconds(2)) {
        let t = Task { [self] in
            while !Task.isCancelled {
                if purges.sweepDue.withLockedValue({ due in defer { due = false }; return due }) {
                    await sweep()
                }
                purges.expireRecent(horizon: horizon)
                let expired = purges.expireAfterFills()
                if expired > 0 { totals.withLockedValue { $0.expired += expired } }
                try? await Task.sleep(for: interval)
            }
        }
        task.withLockedValue { $0 = t }
    }

    func shutdown() async {
        let t = task.withLockedValue { $0 }
        t?.cancel()
        await t?.value
        await pool.shutdown()
    }

    var statistics: Totals { totals.withLockedValue { $0 } }

    /// One sweep of every store. Returns the entries deleted and the tombstones expired.
    @discardableResult
    func sweep() async -> (deleted: Int, expired: Int) {
        let start = purges.tick()
        var deleted = 0
        for store in stores {
            guard await sweep(store, deleted: &deleted) else { return (deleted, 0) }
        }
        guard !Task.isCancelled else { return (deleted, 0) }
        let expired = purges.finishSweep(startedAt: start) { covered in hot.removeAll { covered($0.header) } }
        totals.withLockedValue { t in
            t.sweeps += 1
            t.deleted += deleted
            t.expired += expired
        }
        if deleted > 0 || expired > 0 {
            logger.info("purge sweep", metadata: ["edge.deleted": "\(deleted)", "edge.expired": "\(expired)"])
        }
        return (deleted, expired)
    }

    /// Deletes what tombstones cover in one store, counting into `deleted`; false when the sweep must end without
    /// expiring anything (the node is stopping, or a delete failed).
    private func sweep(_ store: LMDBCacheStore, deleted: inout Int) async -> Bool {
        var cursor: [UInt8]?
        repeat {
            let after = cursor
            guard let (dead, next) = try? await pool.run({ [store, purges] () throws(EdgeError) in
                var dead: [(key: CacheKey, version: UInt64)] = []
                let next = store.scan(after: after, limit: Self.batch, prefix: Self.prefixBytes) { key, version, bytes in
                    if let h = CacheEntry.decodeHeader(bytes), purges.covers(h) { dead.append((key, version)) }
                }
                return (dead, next)
            }) else {
                // The pool is shut down (the node is stopping): the sweep ends without expiring anything.
                return false
            }
            for (key, version) in dead {
                hot.remove(key)
                do {
                    // Only the version the batch read: a fill may have written a new entry under the key since (its
                    // fetch after the purge), and that one stays.
                    try await store.remove(key, version: version)
                    deleted += 1
                } catch {
                    logger.error("sweep could not delete", metadata: ["edge.cache_key": "\(key)", "edge.error": "\(error)"])
                    return false
                }
            }
            cursor = next
        } while cursor != nil && !Task.isCancelled
        return true
    }
}
