import CoreMetrics
import EdgeCore
import EdgeGossip
import Metrics
import NIOConcurrencyHelpers
import Prometheus
import Synchronization

/// The node's metrics, recorded through swift-metrics into this node's own Prometheus registry (so several
/// nodes in one process, as in tests, do not share counters).
final class NodeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let requestCounters = NIOLockedValueBox<[RequestLabel: CoreMetrics.Counter]>([:])
    let originDuration: CoreMetrics.Timer
    let transformDuration: CoreMetrics.Timer
    let cacheBytes: CoreMetrics.Gauge
    let cacheEntries: CoreMetrics.Gauge
    let fillsInFlight: CoreMetrics.Gauge
    let transformsRunning: CoreMetrics.Gauge
    private let revalidations: [String: CoreMetrics.Counter]
    private let originalLookups: [String: CoreMetrics.Counter]
    private let originalCounts = NIOLockedValueBox<[String: Int]>([:])
    /// Results of revalidating stale entries, for tests and /v1/stats.
    private let revalidationCounts = NIOLockedValueBox<[String: Int]>([:])
    /// Edge connections' events besides requests.
    let connections: ConnectionEvents

    struct RequestLabel: Hashable {
        var status: Int
        var cache: String
    }

    init() {
        var f = PrometheusMetricsFactory(registry: registry)
        let buckets: [Duration] = [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                   .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                   .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30)]
        f.defaultDurationHistogramBuckets = buckets
        factory = f
        originDuration = CoreMetrics.Timer(label: "imgedge_origin_fetch_seconds", dimensions: [], factory: f)
        transformDuration = CoreMetrics.Timer(label: "imgedge_transform_seconds", dimensions: [], factory: f)
        cacheBytes = CoreMetrics.Gauge(label: "imgedge_cache_bytes", dimensions: [], factory: f)
        cacheEntries = CoreMetrics.Gauge(label: "imgedge_cache_entries", dimensions: [], factory: f)
        fillsInFlight = CoreMetrics.Gauge(label: "imgedge_fills_in_flight", dimensions: [], factory: f)
        transformsRunning = CoreMetrics.Gauge(label: "imgedge_transforms_running", dimensions: [], factory: f)
        var r: [String: CoreMetrics.Counter] = [:]
        for result in Self.revalidationResults {
            r[result] = CoreMetrics.Counter(label: "imgedge_revalidations_total", dimensions: [("result", result)], factory: f)
        }
        revalidations = r
        var o: [String: CoreMetrics.Counter] = [:]
        for result in Self.originalResults {
            o[result] = CoreMetrics.Counter(label: "imgedge_originals_total", dimensions: [("result", result)], factory: f)
        }
        originalLookups = o
        okHits = Self.requestCounter(status: 200, cache: "HIT", factory: f)
        connections = ConnectionEvents(factory: f)
        gossipCounters = DynamicCounters(factory: f)
        peerCounters = DynamicCounters(factory: f)
        sharedCounters = DynamicCounters(factory: f)
        // `imgedge_build_info{version, build, configuration} 1`: what is running, as Prometheus exporters say it.
        CoreMetrics.Gauge(label: "imgedge_build_info", dimensions: [("version", BuildInfo.version), ("build", BuildInfo.build),
                                                                    ("configuration", BuildInfo.configuration)], factory: f).record(1)
    }

    /// not-modified: the origin answered 304; modified: it sent a new body; mismatch: its 304 named another
    /// representation (refetched); inherited: a variant took the freshness another variant's revalidation confirmed.
    static let revalidationResults = ["not-modified", "modified", "mismatch", "inherited"]

    func countRevalidation(result: String) {
        revalidations[result]?.increment()
        revalidationCounts.withLockedValue { $0[result, default: 0] += 1 }
    }

    /// How a fill got its original from the originals tier: hit (a fresh copy, no origin request), fetched (none
    /// kept: fetched whole), revalidated (a stale copy the origin confirmed with 304), refetched (a stale copy
    /// replaced by a new one), coalesced (waited for another fill's fetch of it), bypass (the tier is off for the
    /// source, or the origin answered other than 200).
    static let originalResults = ["hit", "fetched", "revalidated", "refetched", "coalesced", "bypass"]

    func countOriginal(result: String) {
        originalLookups[result]?.increment()
        originalCounts.withLockedValue { $0[result, default: 0] += 1 }
    }

    /// Originals tier lookups so far, by result.
    func originalTotals() -> [String: Int] { originalCounts.withLockedValue { $0 } }

    /// Revalidations so far, by result.
    func revalidationTotals() -> [String: Int] { revalidationCounts.withLockedValue { $0 } }

    private let hits = Atomic<Int>(0)
    private let misses = Atomic<Int>(0)
    /// The counter of 200 hits, the most common answer by far, made once rather than looked up per hit.
    private let okHits: CoreMetrics.Counter

    /// Hits and misses answered so far (for /v1/stats).
    func cacheCounts() -> (hits: Int, misses: Int) {
        (hits.load(ordering: .relaxed), misses.load(ordering: .relaxed))
    }

    /// Counts one answered edge request by status and cache result (HIT, MISS, ERROR…).
    func countRequest(status: Int, cache: String) {
        if cache == "HIT" {
            hits.add(1, ordering: .relaxed)
            if status == 200 { return okHits.increment() }
        } else if cache == "MISS" {
            misses.add(1, ordering: .relaxed)
        }
        counter(status: status, cache: cache).increment()
    }

    private func counter(status: Int, cache: String) -> CoreMetrics.Counter {
        let label = RequestLabel(status: status, cache: cache)
        return requestCounters.withLockedValue { counters in
            if let c = counters[label] { return c }
            let c = Self.requestCounter(status: status, cache: cache, factory: factory)
            counters[label] = c
            return c
        }
    }

    private static func requestCounter(status: Int, cache: String, factory: PrometheusMetricsFactory) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: "imgedge_requests_total", dimensions: [("status", String(status)), ("cache", cache)],
                            factory: factory)
    }

    // MARK: Gossip

    private let gossipCounters: DynamicCounters

    private func add(_ n: Int, _ label: String, _ dimensions: [(String, String)], key: String) {
        gossipCounters.add(n, label, dimensions, key: key)
    }

    static func gossipKind(_ m: GossipMessage) -> String {
        switch m {
        case .push: "push"
        case .ack: "ack"
        case .digest: "digest"
        case .statusQuery, .statusAnswer: "status"
        }
    }

    /// `imgedge_gossip_messages_total{direction, kind}` and `imgedge_gossip_bytes_total{direction}`.
    func countGossip(sent m: GossipMessage, bytes: Int) {
        add(1, "imgedge_gossip_messages_total", [("direction", "sent"), ("kind", Self.gossipKind(m))], key: "sent \(Self.gossipKind(m))")
        add(bytes, "imgedge_gossip_bytes_total", [("direction", "sent")], key: "sent bytes")
    }

    func countGossip(received m: GossipMessage) {
        add(1, "imgedge_gossip_messages_total", [("direction", "received"), ("kind", Self.gossipKind(m))],
            key: "received \(Self.gossipKind(m))")
    }

    /// `imgedge_gossip_refused_total{reason}`: forged, malformed, replayed, stale.
    func countGossipRefused(_ reason: String) {
        add(1, "imgedge_gossip_refused_total", [("reason", reason)], key: "refused \(reason)")
    }

    /// `imgedge_gossip_purges_applied_total`: purges learned from peers.
    func countGossipApplied(_ n: Int) {
        add(n, "imgedge_gossip_purges_applied_total", [], key: "applied")
    }

    /// Gossip counts so far ("sent push", "refused forged", "applied"…), for /v1/stats and tests.
    func gossipTotals() -> [String: Int] { gossipCounters.totals() }

    // MARK: Peer fill

    private let peerCounters: DynamicCounters
    private let sharedCounters: DynamicCounters

    /// `imgedge_peer_asks_total{result}`: this node's misses by how peer fill ended: entry (an owner sent the
    /// variant), failed (an owner's definite error), declined, unreachable (each owner ask that did not give it),
    /// own (this node owns the key), fallback (filled here after owners failed).
    func countPeerAsk(_ result: String) {
        peerCounters.add(1, "imgedge_peer_asks_total", [("result", result)], key: "asks \(result)")
    }

    /// `imgedge_peer_owner_total{member}`: misses by the key's owner (this node included), the owners' shares.
    func countPeerOwner(_ member: String) {
        peerCounters.add(1, "imgedge_peer_owner_total", [("member", member)], key: "owner \(member)")
    }

    /// `imgedge_peer_served_total{result}`: asks this node answered as owner: hit, filled, error, declined, refused
    /// (authentication, replay or a malformed ask).
    func countPeerServed(_ result: String) {
        peerCounters.add(1, "imgedge_peer_served_total", [("result", result)], key: "served \(result)")
    }

    /// `imgedge_peer_bytes_total{direction}`: answer frames received from owners and sent to askers.
    func countPeerBytes(received: Int = 0, sent: Int = 0) {
        if received > 0 { peerCounters.add(received, "imgedge_peer_bytes_total", [("direction", "received")], key: "bytes received") }
        if sent > 0 { peerCounters.add(sent, "imgedge_peer_bytes_total", [("direction", "sent")], key: "bytes sent") }
    }

    /// `imgedge_shared_total{op, result}`: the shared tier's reads (hit, miss, refused, error), writes (ok, error,
    /// dropped) and sweeps (done, deleted).
    func countShared(_ op: String, _ result: String, by n: Int = 1) {
        sharedCounters.add(n, "imgedge_shared_total", [("op", op), ("result", result)], key: "\(op) \(result)")
    }

    /// Shared tier counts so far ("read hit", "write ok", "sweep deleted"…), for /v1/stats.
    func sharedTotals() -> [String: Int] { sharedCounters.totals() }

    /// Peer fill counts so far ("asks entry", "owner 127.0.0.1:7946", "served hit"…), for /v1/stats and tests.
    func peerTotals() -> [String: Int] { peerCounters.totals() }

    /// The Prometheus text exposition, with gauges refreshed from `usage` first.
    func exposition(usage: CacheUsage, fills: Int, transforms: Int) -> [UInt8] {
        cacheBytes.record(usage.bytes)
        cacheEntries.record(usage.entries)
        fillsInFlight.record(fills)
        transformsRunning.record(transforms)
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }
}

/// Counters made on first use, by a key of their label and dimensions, with plain totals beside them (for
/// /v1/stats and tests).
final class DynamicCounters: Sendable {
    private let factory: PrometheusMetricsFactory
    private let counters = NIOLockedValueBox<[String: CoreMetrics.Counter]>([:])
    private let counts = NIOLockedValueBox<[String: Int]>([:])

    init(factory: PrometheusMetricsFactory) { self.factory = factory }

    /// Adds `n` to counter `label` with `dimensions`, made on first use, and to the plain count `key`.
    func add(_ n: Int, _ label: String, _ dimensions: [(String, String)], key: String) {
        let counter = counters.withLockedValue { c in
            if let existing = c[key] { return existing }
            let made = CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
            c[key] = made
            return made
        }
        counter.increment(by: n)
        counts.withLockedValue { $0[key, default: 0] += n }
    }

    func totals() -> [String: Int] { counts.withLockedValue { $0 } }
}
