public import EdgeCore

/// Purge dissemination between nodes: no I/O, no clock of its own. The transport feeds it received envelopes and
/// timer ticks (with the time) and carries out the actions it returns.
public enum Gossip {}

extension Gossip {
    /// Timings and sizes. Times in microseconds.
    public struct Config: Sendable {
        /// Children per node in the broadcast tree.
        public var fanout = 8
        /// Up to this many members, a node pushes to each one itself (one hop, no relays).
        public var directLimit = 32
        /// A push not acknowledged within the member's retransmission timeout is sent again — the timeout is
        /// estimated from acknowledged pushes as TCP does (RFC 6298: smoothed round trip + 4 × its variation),
        /// within these bounds, and starts at `retransmitAfter` for a member not yet measured…
        public var retransmitAfter: UInt64 = 20_000
        public var minRetransmit: UInt64 = 5_000
        public var maxRetransmit: UInt64 = 1_000_000
        /// …this many times in all, before its member is suspected and the next member of its share relays instead.
        public var maxTries = 16
        /// Anti-entropy: one version-vector exchange with a random member this often.
        public var digestEvery: UInt64 = 500_000
        /// A member that does not answer a digest within this is suspected…
        public var probeTimeout: UInt64 = 1_000_000
        /// …and declared dead after this long a suspect (it is alive again as soon as it is heard from).
        public var deadAfter: UInt64 = 5_000_000
        /// One digest in this many goes to a dead member, so a member that comes back is found.
        public var deadProbeEvery = 8
        /// Version-vector entries per digest (larger vectors go in slices, round by round).
        public var vectorLimit = 64
        /// Bytes of purges per message (a backlog goes in several).
        public var batchBytes = 1_200
        /// Members named in a digest, for membership to spread.
        public var membersPerDigest = 8
        /// Purges are kept this long for peers to catch up (then trimmed; see `Digest.floor`).
        public var retention: UInt64 = 86_400_000_000

        public init() {}
    }

    /// What a member is believed to be.
    public enum Status: String, Sendable, Hashable {
        /// Heard from, or not yet found silent.
        case alive
        /// Failed to answer (a digest, or every try of a push); still sent to, but relays are handed on.
        case suspect
        /// Suspect for `deadAfter`: left out of pushes and probed only now and then.
        case dead
    }

    /// A peer as this node sees it.
    public struct Member: Sendable, Hashable {
        public var address: String
        public var status: Status
        /// When the status last changed.
        public var since: UInt64
        /// When a message from it was last accepted (nil: never).
        public var lastHeard: UInt64?
        /// Its part in peer fill, as its last accepted message said (nil: none, or not heard from yet).
        public var card: PeerCard?
    }

    /// What the transport must do.
    public enum Action: Sendable, Hashable {
        /// Send a message to a member's address.
        case send(GossipMessage, to: String)
        /// Apply purges received from peers (tombstones in memory, then the log); each is new here.
        case apply([GossipPurge])
        /// A member answered `statusQuery(id)`.
        case statusAnswered(id: UInt64, from: String, applied: Bool)
        /// A member changed status (for the log and metrics).
        case memberChanged(String, Status)
        /// An authentic envelope was refused: `replayed` or `stale` (for the metrics).
        case refused(String)
        /// Source switches new to this node: refuse (or serve again) those sources.
        case switchSources([SourceSwitch])
        /// This node missed purges its peers have since forgotten: everything it cached before `before`
        /// (microseconds) must be treated as purged.
        case invalidate(before: UInt64)
    }

    /// Counters since start.
    public struct Stats: Sendable, Hashable {
        public var accepted = 0
        public var replayed = 0
        public var stale = 0
        public var retransmits = 0
        public var purgesReceived = 0
        public var duplicatePurges = 0
        public var handoffs = 0
    }

    /// A push waiting for its acknowledgement.
    struct PendingPush: Sendable {
        var target: String
        var relay: KeyRange?
        var purges: [GossipPurge]
        var switches: [SourceSwitch]
        var sentAt: UInt64
        var tries: Int
        /// Other members of the share, to relay instead if `target` never answers.
        var alternates: [String]
    }

    /// The gossip of one node. States of a member: see `Status`. A purge is applied once (by id); a push is
    /// relayed once per (sender, push id), however often it is retransmitted.
    public struct StateMachine: Sendable {
        /// This node's gossip address, as peers list it.
        public let me: String
        public let config: Config
        public private(set) var ledger = PurgeLedger()
        public private(set) var switches = SourceSwitches()
        public private(set) var members: [String: Member] = [:]
        public private(set) var stats = Stats()
        /// True once one digest exchange covered the whole version vector: the node has caught up with a peer.
        public private(set) var synced = false

        private var replay: ReplayGuard
        private var pending: [UInt64: PendingPush] = [:]
        private var nextPushID: UInt64 = 1
        private var nextQueryID: UInt64 = 1
        private var relayed = RecentSet(capacity: 4096)
        private var digestCursor = ""
        private var nextDigestAt: UInt64 = 0
        private var digestsSent = 0
        private var nextTrimAt: UInt64 = 0
        private var probes: [String: UInt64] = [:]
        /// Round-trip estimates per member (microseconds): smoothed time and variation.
        private var rtt: [String: (srtt: Double, rttvar: Double)] = [:]
        /// Members now suspect, and since when (so finding the ones to declare dead costs no scan of all members).
        private var suspected: [String: UInt64] = [:]
        /// Every member's address, sorted (kept as members are added: choices and shares need no sort each time).
        private var addresses: [String] = []
        private var rng: SplitMix64

        /// - Parameters:
        ///   - me: this node's address; `seeds`: the configured peers (others are learned).
        ///   - known: purges held from before (the tombstone log).
        ///   - seed: for the random choices (targets of anti-entropy, members named in digests).
        public init(me: String, seeds: [String], known: [GossipPurge], switches: [SourceSwitch] = [], config: Config = Config(),
                    seed: UInt64, now: UInt64) {
            self.me = me
            _ = self.switches.merge(switches)
            self.config = config
            rng = SplitMix64(seed: seed)
            replay = ReplayGuard()
            for p in known { ledger.insert(p) }
            for s in seeds where s != me { add(s, lastHeard: nil, now: now) }
            // The first exchange comes soon, at a time of its own: nodes started together do not digest in step.
            nextDigestAt = now + rng.next() % max(1, config.digestEvery / 4)
        }

        // MARK: Inputs

        /// A purge made on this node (numbered in its stream, applied and recorded here): starts its broadcast.
        public mutating func originate(_ purge: GossipPurge, now: UInt64) -> [Action] {
            ledger.insert(purge)
            return disseminate([purge], [], over: KeyRange.all, now: now)
        }

        /// A source switched on this node (already in effect here): starts its broadcast.
        public mutating func originate(_ change: SourceSwitch, now: UInt64) -> [Action] {
            _ = switches.merge([change])
            return disseminate([], [change], over: KeyRange.all, now: now)
        }

        /// An authenticated envelope.
        public mutating func receive(_ e: GossipEnvelope, now: UInt64) -> [Action] {
            switch replay.check(e, now: now) {
            case .replayed: stats.replayed += 1; return [.refused("replayed")]
            case .stale: stats.stale += 1; return [.refused("stale")]
            case .accept: stats.accepted += 1
            }
            guard e.sender != me else { return [] }
            var actions = heard(e.sender, now: now)
            members[e.sender]?.card = e.card
            let from = e.sender
            switch e.message {
            case .push(let id, let relay, let purges, let changes):
                actions += take(purges) + takeSwitches(changes)
                actions.append(.send(.ack(id: id), to: from))
                if let relay, relayed.insert("\(from)#\(e.epoch)#\(id)") {
                    actions += disseminate(purges, changes, over: relay, now: now)
                }
            case .ack(let id):
                // Only first tries measure the round trip (an ack after a retransmission is ambiguous).
                if let p = pending.removeValue(forKey: id), p.tries == 1, p.target == from, now >= p.sentAt {
                    measured(from, Double(now - p.sentAt))
                }
            case .digest(let d):
                learn(d.members, now: now)
                actions += takeSwitches(d.switches)
                // Streams the sender forgot beyond what this node holds: those purges are lost to it.
                let gaps = d.vector.filter { $0.base > ledger.watermark($0.stream) }
                    .filter { ledger.forgotten(stream: $0.stream, upTo: $0.base) }
                if !gaps.isEmpty, d.floor > 0 { actions.append(.invalidate(before: d.floor)) }
                if d.isReply {
                    probes[from] = nil
                    let fresh = take(d.purges)
                    actions += fresh
                    let theirs = ledger.missing(from: d.vector, in: d.range, limit: Int.max)
                    actions += batches(theirs).map { send(push: $0, [], relay: nil, to: from, alternates: [], now: now) }
                    if !fresh.isEmpty {
                        // The reply was a batch of a backlog: ask again at once for the rest.
                        actions.append(.send(.digest(digest(range: d.range)), to: from))
                        probes[from] = now
                    } else if d.range.hi == nil {
                        synced = true
                    }
                } else {
                    let missing = ledger.missing(from: d.vector, in: d.range, limit: Int.max)
                    var reply = digest(range: d.range)
                    reply.isReply = true
                    reply.purges = batches(missing).first ?? []
                    actions.append(.send(.digest(reply), to: from))
                }
            case .statusQuery(let id, let purge):
                actions.append(.send(.statusAnswer(id: id, purge: purge, applied: holds(purge)), to: from))
            case .statusAnswer(let id, _, let applied):
                actions.append(.statusAnswered(id: id, from: from, applied: applied))
            }
            return actions
        }

        /// Timers: retransmissions and hand-offs, suspicion, anti-entropy. Call it every few milliseconds.
        public mutating func tick(now: UInt64) -> [Action] {
            var actions: [Action] = []
            for id in pending.keys.sorted() {
                guard var p = pending[id], now >= p.sentAt + timeout(p.target) else { continue }
                if p.tries < config.maxTries {
                    p.tries += 1
                    p.sentAt = now
                    pending[id] = p
                    stats.retransmits += 1
                    actions.append(.send(.push(id: id, relay: p.relay, purges: p.purges, switches: p.switches), to: p.target))
                    continue
                }
                pending[id] = nil
                actions += suspect(p.target, now: now)
                // The share goes to the next member of it that is not dead (anti-entropy covers the rest).
                var rest = p.alternates.drop { members[$0]?.status == .dead }
                if let next = rest.popFirst() {
                    stats.handoffs += 1
                    actions.append(send(push: p.purges, p.switches, relay: p.relay, to: next, alternates: Array(rest), now: now))
                }
            }
            for (address, sent) in probes where now >= sent + config.probeTimeout {
                probes[address] = nil
                actions += suspect(address, now: now)
            }
            for (address, since) in suspected where now >= since + config.deadAfter {
                setStatus(address, .dead, now: now)
                actions.append(.memberChanged(address, .dead))
            }
            if now >= nextTrimAt {
                nextTrimAt = now + 60_000_000
                if now > config.retention { ledger.trim(before: now - config.retention) }
            }
            if now >= nextDigestAt {
                nextDigestAt = now + config.digestEvery
                if let target = digestTarget() {
                    let (_, covered) = ledger.vector(in: KeyRange(lo: digestCursor), limit: config.vectorLimit)
                    digestCursor = covered.hi ?? ""
                    if probes[target] == nil { probes[target] = now }
                    actions.append(.send(.digest(digest(range: covered)), to: target))
                }
            }
            return actions
        }

        /// Asks every member, dead ones too (a purge is complete only when all have it), whether it applied
        /// `purgeID`; answers come back as `statusAnswered(id)`.
        public mutating func queryStatus(_ purgeID: String) -> (id: UInt64, asked: [String], actions: [Action]) {
            let id = nextQueryID
            nextQueryID += 1
            let asked = addresses
            return (id, asked, asked.map { .send(.statusQuery(id: id, purge: purgeID), to: $0) })
        }

        /// Whether this node holds the purge `id`.
        public func holds(_ id: String) -> Bool {
            GossipPurge.parse(id: Substring(id)).map { ledger.contains(stream: $0.stream, seq: $0.seq) } ?? false
        }

        // MARK: Internals

        /// Switches new here from `changes`, as a `switchSources` action (none when nothing changed).
        private mutating func takeSwitches(_ changes: [SourceSwitch]) -> [Action] {
            guard !changes.isEmpty else { return [] }
            let changed = switches.merge(changes)
            return changed.isEmpty ? [] : [.switchSources(changed)]
        }

        /// New purges from `purges`, as an `apply` action (none when every one was known).
        private mutating func take(_ purges: [GossipPurge]) -> [Action] {
            let fresh = purges.filter { ledger.insert($0) }
            stats.purgesReceived += fresh.count
            stats.duplicatePurges += purges.count - fresh.count
            return fresh.isEmpty ? [] : [.apply(fresh)]
        }

        /// Pushes purges to the members in `range` other than this node, through a broadcast tree: the members are
        /// split into `fanout` contiguous shares (one each when few), and the first member of each share is sent the
        /// purges and the share's key range to relay to in turn.
        private mutating func disseminate(_ purges: [GossipPurge], _ changes: [SourceSwitch], over range: KeyRange,
                                          now: UInt64) -> [Action] {
            let targets = addresses([.alive, .suspect]).filter { range.contains($0) }
            guard !targets.isEmpty else { return [] }
            let shares = targets.count <= config.directLimit ? targets.count : config.fanout
            let size = (targets.count + shares - 1) / shares
            var actions: [Action] = []
            var start = 0
            while start < targets.count {
                let end = min(start + size, targets.count)
                let lo = start == 0 ? range.lo : targets[start]
                let hi = end < targets.count ? targets[end] : range.hi
                let share = KeyRange(lo: max(lo, range.lo), hi: hi)
                let relay: KeyRange? = end - start > 1 ? share : nil
                actions.append(send(push: purges, changes, relay: relay, to: targets[start],
                                    alternates: Array(targets[(start + 1)..<end]), now: now))
                start = end
            }
            return actions
        }

        private mutating func send(push purges: [GossipPurge], _ changes: [SourceSwitch], relay: KeyRange?, to target: String,
                                   alternates: [String], now: UInt64) -> Action {
            let id = nextPushID
            nextPushID += 1
            pending[id] = PendingPush(target: target, relay: relay, purges: purges, switches: changes, sentAt: now, tries: 1,
                                      alternates: alternates)
            return .send(.push(id: id, relay: relay, purges: purges, switches: changes), to: target)
        }

        /// Purges cut into messages of about `batchBytes` (one purge alone may exceed it).
        private func batches(_ purges: [GossipPurge]) -> [[GossipPurge]] {
            var out: [[GossipPurge]] = []
            var current: [GossipPurge] = []
            var bytes = 0
            for p in purges {
                let size = p.stream.utf8.count + 24 + p.selectors.reduce(0) { $0 + Self.size($1) }
                if !current.isEmpty && bytes + size > config.batchBytes {
                    out.append(current)
                    current = []
                    bytes = 0
                }
                current.append(p)
                bytes += size
            }
            if !current.isEmpty { out.append(current) }
            return out
        }

        private static func size(_ s: PurgeSelector) -> Int {
            switch s {
            case .image(let a, let b), .prefix(let a, let b), .sourceTag(let a, let b): a.utf8.count + b.utf8.count + 3
            case .tag(let a), .source(let a), .grantRevoked(let a): a.utf8.count + 2
            }
        }

        private mutating func digest(range: KeyRange) -> Digest {
            let (entries, _) = ledger.vector(in: range, limit: Int.max)
            var alive = addresses([.alive])
            var sample: [String] = []
            while sample.count < config.membersPerDigest, !alive.isEmpty {
                sample.append(alive.remove(at: Int(rng.next() % UInt64(alive.count))))
            }
            var d = Digest(isReply: false, range: range, vector: entries, members: sample, floor: ledger.floor)
            d.switches = switches.all
            return d
        }

        private mutating func digestTarget() -> String? {
            digestsSent += 1
            let dead = addresses([.dead])
            if !dead.isEmpty && digestsSent % config.deadProbeEvery == 0 {
                return dead[Int(rng.next() % UInt64(dead.count))]
            }
            let live = addresses([.alive, .suspect])
            guard !live.isEmpty else { return dead.isEmpty ? nil : dead[Int(rng.next() % UInt64(dead.count))] }
            return live[Int(rng.next() % UInt64(live.count))]
        }

        private mutating func heard(_ address: String, now: UInt64) -> [Action] {
            guard let old = members[address] else {
                add(address, lastHeard: now, now: now)
                return [.memberChanged(address, .alive)]
            }
            members[address]?.lastHeard = now
            guard old.status != .alive else { return [] }
            setStatus(address, .alive, now: now)
            return [.memberChanged(address, .alive)]
        }

        /// The retransmission timeout for `member`.
        func timeout(_ member: String) -> UInt64 {
            guard let e = rtt[member] else { return config.retransmitAfter }
            return min(config.maxRetransmit, max(config.minRetransmit, UInt64(e.srtt + 4 * e.rttvar)))
        }

        private mutating func measured(_ member: String, _ sample: Double) {
            if let e = rtt[member] {
                let rttvar = 0.75 * e.rttvar + 0.25 * abs(e.srtt - sample)
                rtt[member] = (0.875 * e.srtt + 0.125 * sample, rttvar)
            } else {
                rtt[member] = (sample, sample / 2)
            }
        }

        private mutating func add(_ address: String, lastHeard: UInt64?, now: UInt64) {
            guard members[address] == nil else { return }
            members[address] = Member(address: address, status: .alive, since: now, lastHeard: lastHeard)
            addresses.insert(address, at: addresses.partitioningIndex { $0 >= address })
        }

        /// Members' addresses in order, those with a status in `statuses`.
        private func addresses(_ statuses: Set<Status>) -> [String] {
            addresses.filter { members[$0].map { statuses.contains($0.status) } ?? false }
        }

        private mutating func setStatus(_ address: String, _ status: Status, now: UInt64) {
            guard let old = members[address]?.status, old != status else { return }
            if old == .suspect { suspected[address] = nil }
            if status == .suspect { suspected[address] = now }
            members[address]?.status = status
            members[address]?.since = now
        }

        private mutating func learn(_ addresses: [String], now: UInt64) {
            for a in addresses where a != me && members[a] == nil { add(a, lastHeard: nil, now: now) }
        }

        private mutating func suspect(_ address: String, now: UInt64) -> [Action] {
            guard let m = members[address], m.status == .alive else { return [] }
            setStatus(address, .suspect, now: now)
            return [.memberChanged(address, .suspect)]
        }
    }
}

/// Keys seen recently, at most `capacity` (the oldest forgotten first).
struct RecentSet: Sendable {
    private var keys: Set<String> = []
    private var order: [String] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// False when `key` was seen.
    mutating func insert(_ key: String) -> Bool {
        guard keys.insert(key).inserted else { return false }
        if order.count < capacity {
            order.append(key)
        } else {
            keys.remove(order[head])
            order[head] = key
            head = (head + 1) % capacity
        }
        return true
    }
}
