/// Peer fill: a node that misses asks the variant's owner in the cluster (rendezvous hashing over the members
/// gossip knows alive) instead of the origin; the owner answers from its cache or fills it, so the cluster fetches
/// and transforms each variant once. Pure decisions: the adapter asks, times out and stores as told.
public enum PeerFill {}

extension PeerFill {
    /// How one ask of a peer ended.
    public enum Outcome: Sendable, Hashable {
        /// The owner sent the variant (from its cache, or a fill of its own).
        case entry
        /// The owner answered with a definite error of the request itself (the same here: no retry elsewhere).
        case failed(status: Int)
        /// The owner could not serve it but another may: overloaded, or its view of the request differs (another
        /// configuration), or it refused the ask.
        case declined
        /// No answer within `cluster.peerTimeout` (to the response head), or the connection failed.
        case unreachable
    }

    /// What to do next.
    public enum Action: Sendable, Hashable {
        /// Ask this member (its peer listener).
        case ask(ClusterMember)
        /// Use the entry the member sent.
        case use
        /// Answer with this error.
        case fail(status: Int)
        /// Fill here, from the origin: this node owns the key, or no owner could answer.
        case fillLocally(Reason)
    }

    public enum Reason: String, Sendable, Hashable {
        /// This node ranks first (or every member ranked above it was skipped as known down).
        case owner
        /// Owners were asked and none answered with the variant.
        case fallback
    }

    /// One miss's walk down its key's ranking. At most `maxAsks` peers are asked; members this node found down
    /// (`Health`) are skipped without waiting on them; the walk stops at this node itself, which fills.
    public struct StateMachine: Sendable {
        public let ranking: [ClusterMember]
        public let me: String
        public let maxAsks: Int
        private var next = 0
        private var asked = 0
        private let skip: Set<String>
        /// The member being asked now.
        public private(set) var asking: ClusterMember?

        /// - Parameters:
        ///   - ranking: the members (this node among them) best first for the key (`Rendezvous.rank`).
        ///   - skip: members known down here (`Health.down`).
        public init(ranking: [ClusterMember], me: String, skip: Set<String> = [], maxAsks: Int = 2) {
            self.ranking = ranking
            self.me = me
            self.skip = skip
            self.maxAsks = maxAsks
        }

        public mutating func start() -> Action { advance(asked == 0 ? .owner : .fallback) }

        /// The ask of `asking` ended.
        public mutating func asked(_ outcome: Outcome) -> Action {
            switch outcome {
            case .entry: return .use
            case .failed(let status): return .fail(status: status)
            case .declined, .unreachable: return advance(.fallback)
            }
        }

        private mutating func advance(_ reason: Reason) -> Action {
            asking = nil
            while next < ranking.count {
                let m = ranking[next]
                next += 1
                if m.id == me { return .fillLocally(asked == 0 ? .owner : reason) }
                if skip.contains(m.id) { continue }
                guard asked < maxAsks else { break }
                asked += 1
                asking = m
                return .ask(m)
            }
            return .fillLocally(asked == 0 ? .owner : .fallback)
        }
    }

    /// Members an ask found unreachable, so that no later miss waits on them again: one stays down until gossip
    /// hears from it after `retryAfter` has passed since the failure (membership then says it is back). Times in
    /// microseconds.
    public struct Health: Sendable {
        public let retryAfter: UInt64
        private var failedAt: [String: UInt64] = [:]

        public init(retryAfter: UInt64 = 1_000_000) { self.retryAfter = retryAfter }

        public mutating func failed(_ id: String, now: UInt64) { failedAt[id] = now }

        public mutating func answered(_ id: String) { failedAt[id] = nil }

        /// Whether `id` is to be skipped: failed, and not heard from since `retryAfter` after that.
        public mutating func isDown(_ id: String, lastHeard: UInt64?, now: UInt64) -> Bool {
            guard let at = failedAt[id] else { return false }
            if let heard = lastHeard, heard > at, now >= at + retryAfter {
                failedAt[id] = nil
                return false
            }
            return true
        }

        /// Members failed now (for stats).
        public var failed: [String] { failedAt.keys.sorted() }
    }
}
