public import EdgeCore
public import EdgeGossip

/// Many gossip state machines on a simulated network: seeded, so every run is the same; datagrams are delayed,
/// lost with a given probability, or cut by partitions; nodes can be stopped and started. Time is simulated
/// (microseconds), so a thousand nodes run in seconds. Used by the tests and by `tools/bench/gossip`.
public struct GossipSimulation: Sendable {
    struct InFlight: Sendable {
        var at: UInt64
        var order: UInt64
        var from: Int
        var to: Int
        var envelope: GossipEnvelope

        func before(_ o: InFlight) -> Bool { (at, order) < (o.at, o.order) }
    }

    public private(set) var nodes: [Gossip.StateMachine]
    public let addresses: [String]
    public private(set) var now: UInt64 = 1_000_000
    /// Datagrams sent, and those that carried purges (the payload messages), per kind of message.
    public private(set) var sent = 0
    public private(set) var payloadSent = 0
    public private(set) var bytesSent = 0
    public private(set) var lost = 0
    /// When each node applied each purge (by purge id; the maker applies it when it makes it).
    public private(set) var appliedAt: [String: [Int: UInt64]] = [:]
    /// In how many datagram hops from its maker each node first got each purge.
    public private(set) var hops: [String: [Int: Int]] = [:]
    /// Nodes told they missed forgotten purges, and the floor they were given.
    public private(set) var invalidations: [Int: UInt64] = [:]
    /// Answers to status queries: query id → (member, applied).
    public private(set) var statusAnswers: [UInt64: [(String, Bool)]] = [:]

    public var loss: Double
    public var latency: UInt64
    public var tickEvery: UInt64
    private var down: Set<Int> = []
    /// Pairs of nodes that cannot reach each other (both directions), as "a b" with a < b.
    private var cut: Set<String> = []
    private var queue = MinHeap<InFlight> { $0.before($1) }
    private var order: UInt64 = 0
    private var messageSeq: [UInt64]
    /// Purges made on each node so far (their numbers in its stream).
    private var made: [UInt64]
    private var epochs: [UInt64]
    private var rng: SplitMix64
    private let index: [String: Int]
    private let codec = GossipCodec(secret: "simulation")

    /// - Parameters:
    ///   - seeds: how many peers each node is configured with (nil: all of them); the rest it learns.
    public init(count: Int, config: Gossip.Config = Gossip.Config(), seeds: Int? = nil, latency: UInt64 = 100,
                loss: Double = 0, tickEvery: UInt64 = 5_000, seed: UInt64 = 1) {
        let addresses = (0..<count).map { "10.0.\($0 / 250).\($0 % 250 + 1):7946" }
        self.addresses = addresses
        index = Dictionary(uniqueKeysWithValues: addresses.enumerated().map { ($1, $0) })
        rng = SplitMix64(seed: seed)
        self.loss = loss
        self.latency = latency
        self.tickEvery = tickEvery
        messageSeq = Array(repeating: 0, count: count)
        made = Array(repeating: 0, count: count)
        epochs = Array(repeating: 1, count: count)
        var nodes: [Gossip.StateMachine] = []
        for (i, me) in addresses.enumerated() {
            let peers: [String]
            if let seeds {
                peers = (1...max(1, min(seeds, count - 1))).map { addresses[(i + $0) % count] }
            } else {
                peers = addresses
            }
            nodes.append(Gossip.StateMachine(me: me, seeds: peers, known: [], config: config, seed: seed &+ UInt64(i) &* 7919,
                                             now: 1_000_000))
        }
        self.nodes = nodes
    }

    /// Makes a purge on node `i` now and starts its broadcast.
    @discardableResult
    public mutating func purge(on i: Int, _ selectors: [PurgeSelector]) -> GossipPurge {
        made[i] += 1
        let p = GossipPurge(stream: GossipPurge.stream(nodeID: "n\(i)", epoch: 1), seq: made[i], time: now, selectors: selectors)
        let actions = nodes[i].originate(p, now: now)
        appliedAt[p.id, default: [:]][i] = now
        hops[p.id, default: [:]][i] = 0
        run(actions, from: i)
        return p
    }

    /// A customer switches `source` on node `i` now.
    public mutating func switchSource(on i: Int, _ source: String, enabled: Bool) {
        let actions = nodes[i].originate(SourceSwitch(source: source, enabled: enabled, time: now), now: now)
        run(actions, from: i)
    }

    /// Asks node `i` for the status of `purgeID` across the cluster; answers gather in `statusAnswers`.
    public mutating func queryStatus(on i: Int, _ purgeID: String) -> UInt64 {
        let (id, _, actions) = nodes[i].queryStatus(purgeID)
        run(actions, from: i)
        return id
    }

    /// Advances simulated time by `duration`, delivering datagrams and ticking every node.
    public mutating func advance(_ duration: UInt64) {
        let end = now + duration
        var nextTick = (now / tickEvery + 1) * tickEvery
        while true {
            let nextDelivery = queue.top?.at ?? UInt64.max
            let next = min(nextDelivery, nextTick)
            guard next <= end else { break }
            now = next
            if nextDelivery <= nextTick {
                deliver(queue.pop()!)
            } else {
                for i in nodes.indices where !down.contains(i) {
                    run(nodes[i].tick(now: now), from: i)
                }
                nextTick += tickEvery
            }
        }
        now = end
    }

    /// Advances until every running node applied `purgeID` (or `limit` passes); returns the time that took.
    public mutating func runUntilApplied(_ purgeID: String, limit: UInt64) -> UInt64? {
        let start = appliedAt[purgeID]?.values.min() ?? now
        var waited: UInt64 = 0
        while waited < limit {
            if coverage(purgeID) == nodes.count - down.count {
                return (appliedAt[purgeID]?.values.max() ?? now) - start
            }
            advance(1_000)
            waited += 1_000
        }
        return coverage(purgeID) == nodes.count - down.count ? (appliedAt[purgeID]?.values.max() ?? now) - start : nil
    }

    /// How many nodes applied `purgeID`.
    public func coverage(_ purgeID: String) -> Int { appliedAt[purgeID]?.count ?? 0 }

    /// Stops node `i` (it neither sends nor receives); `start` brings it back with its state (a restart keeps the
    /// tombstone log) and a new epoch.
    public mutating func stop(_ i: Int) { down.insert(i) }

    public mutating func start(_ i: Int) {
        down.remove(i)
        epochs[i] += 1
        messageSeq[i] = 0
    }

    /// Cuts (or heals) the network between two groups of nodes.
    public mutating func partition(_ a: [Int], _ b: [Int], cut isCut: Bool = true) {
        for x in a {
            for y in b where x != y {
                let key = "\(min(x, y)) \(max(x, y))"
                if isCut { cut.insert(key) } else { cut.remove(key) }
            }
        }
    }

    /// Seals a message from node `from` as the transport would (for replay and forgery tests).
    public mutating func envelope(from i: Int, _ message: GossipMessage) -> GossipEnvelope {
        messageSeq[i] += 1
        return GossipEnvelope(sender: addresses[i], epoch: epochs[i], seq: messageSeq[i], sentAt: now, clock: now,
                              message: message)
    }

    /// Hands an envelope to node `to` directly, as if it had arrived.
    public mutating func inject(_ e: GossipEnvelope, to i: Int) {
        run(nodes[i].receive(e, now: now), from: i)
    }

    // MARK: - Internals

    private mutating func run(_ actions: [Gossip.Action], from i: Int, via sender: Int? = nil) {
        for action in actions {
            switch action {
            case .send(let message, let address):
                guard let to = index[address] else { continue }
                sent += 1
                if message.carriesPurges { payloadSent += 1 }
                let e = envelope(from: i, message)
                bytesSent += codec.seal(e).count
                let blocked = down.contains(to) || cut.contains("\(min(i, to)) \(max(i, to))")
                if blocked || rng.unit() < loss {
                    lost += 1
                    continue
                }
                order += 1
                let jitter = latency > 0 ? rng.next() % (latency / 2 + 1) : 0
                queue.push(InFlight(at: now + latency + jitter, order: order, from: i, to: to, envelope: e))
            case .apply(let purges):
                for p in purges where appliedAt[p.id]?[i] == nil {
                    appliedAt[p.id, default: [:]][i] = now
                    hops[p.id, default: [:]][i] = (sender.flatMap { hops[p.id]?[$0] } ?? 0) + 1
                }
            case .statusAnswered(let id, let from, let applied):
                statusAnswers[id, default: []].append((from, applied))
            case .memberChanged, .refused:
                break
            case .invalidate(let before):
                invalidations[i] = before
            case .switchSources:
                break
            }
        }
    }

    private mutating func deliver(_ d: InFlight) {
        guard !down.contains(d.to), !cut.contains("\(min(d.from, d.to)) \(max(d.from, d.to))") else {
            lost += 1
            return
        }
        run(nodes[d.to].receive(d.envelope, now: now), from: d.to, via: d.from)
    }
}

/// A binary min-heap ordered by `before`.
struct MinHeap<Element: Sendable>: Sendable {
    private var items: [Element] = []
    private let before: @Sendable (Element, Element) -> Bool

    init(before: @escaping @Sendable (Element, Element) -> Bool) { self.before = before }

    var top: Element? { items.first }

    mutating func push(_ e: Element) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard before(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let out = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && before(items[l], items[m]) { m = l }
            if r < items.count && before(items[r], items[m]) { m = r }
            guard m != i else { break }
            items.swapAt(i, m)
            i = m
        }
        return out
    }
}
