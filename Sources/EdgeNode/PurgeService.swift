import EdgeCore
import EdgePrivacy
import EdgeStore
import Foundation
import NIOConcurrencyHelpers

/// Purges on this node: the tombstone index every lookup consults, the hybrid logical clock that stamps fills and
/// purges, and the log that keeps tombstones across restarts. A purge takes effect in memory before it is answered
/// (and before it is written), so from the answer on nothing it covers is served; a fill whose origin fetch started
/// before it is dead too, whenever it lands.
final class PurgeService: Sendable {
    private let index = NIOLockedValueBox(TombstoneIndex())
    private let hlc = NIOLockedValueBox(HybridClock())
    private let log: TombstoneLog?
    private let writer = BoundedPool(threads: 1, maxQueued: 4096)
    let nodeID: String
    private let clock: @Sendable () -> Double

    init(nodeID: String, log: TombstoneLog?, tombstones: [Tombstone], clock: @escaping @Sendable () -> Double) {
        self.nodeID = nodeID
        self.log = log
        self.clock = clock
        index.withLockedValue { i in for t in tombstones { i.insert(t) } }
        let latest = tombstones.map(\.time).max() ?? 0
        hlc.withLockedValue { $0.receive(latest) }
    }

    func shutdown() async { await writer.shutdown() }

    /// A reading of the node's hybrid logical clock (microseconds), for a fill's fetch start or a purge.
    func tick() -> UInt64 {
        let now = clock()
        return hlc.withLockedValue { $0.tick(physical: now) }
    }

    /// Whether a stored entry is dead: some tombstone matches it and its fetch started at or before that purge.
    func covers(_ h: CacheEntry.Header) -> Bool {
        let fetched = HybridClock.micros(h.fetchedAt)
        return index.withLockedValue { i in
            i.covers(source: h.source, path: h.path, tags: h.surrogateKeys, fetchedAt: fetched)
        }
    }

    var tombstoneCount: Int { index.withLockedValue { $0.count } }

    /// Applies a purge of `selectors` now, then writes it to the log. Returns its id.
    func purge(_ selectors: [PurgeSelector]) async throws -> String {
        let time = tick()
        let id = "\(nodeID)-\(time)"
        let tombstones = selectors.enumerated().map { i, s in
            Tombstone(id: selectors.count == 1 ? id : "\(id).\(i)", selector: s, time: time)
        }
        index.withLockedValue { idx in for t in tombstones { idx.insert(t) } }
        if let log {
            try await writer.run { () throws(EdgeError) in
                do { try log.append(tombstones) } catch { throw .internalError(detail: "tombstone log: \(error)") }
            }
        }
        return id
    }

    /// Whether the purge `id` (or every part of a multi-selector purge) is applied here.
    func applied(_ id: String) -> Bool {
        index.withLockedValue { $0.contains(id: id) || $0.contains(id: id + ".0") }
    }
}
