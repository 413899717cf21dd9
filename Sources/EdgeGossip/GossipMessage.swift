public import EdgeCore

/// What nodes say to each other. Every datagram carries one, sealed in a `GossipEnvelope`.
public enum GossipMessage: Sendable, Hashable {
    /// New purges (and source switches), to apply and then pass on to the members in `relay` (the receiver's
    /// share of the broadcast tree; nil: apply only). Answered with `ack(id)`; unanswered pushes are sent again.
    case push(id: UInt64, relay: KeyRange?, purges: [GossipPurge], switches: [SourceSwitch] = [])
    /// The push `id` arrived.
    case ack(id: UInt64)
    /// Anti-entropy: a slice of the sender's version vector (and, in a reply, the purges the other side lacks).
    case digest(Digest)
    /// Has this node applied purge `purge`? (`GET /v1/purge/{id}` asks every member.)
    case statusQuery(id: UInt64, purge: String)
    /// The answer to `statusQuery(id)`.
    case statusAnswer(id: UInt64, purge: String, applied: Bool)

    /// Whether the message carries purges (what the "payload messages per purge" of the benchmark counts).
    public var carriesPurges: Bool {
        switch self {
        case .push(_, _, let p, let s): !p.isEmpty || !s.isEmpty
        case .digest(let d): !d.purges.isEmpty
        default: false
        }
    }
}

/// A version-vector exchange. The sender lists its vector entries for the streams in `range`; the receiver of a
/// request answers with its own entries for the same range and the purges the sender lacks; a side that then
/// sees it holds purges the other lacks sends them in a push.
public struct Digest: Sendable, Hashable {
    public var isReply: Bool
    public var range: KeyRange
    public var vector: [VectorEntry]
    /// A few members the sender knows alive (membership spreads with anti-entropy).
    public var members: [String]
    public var purges: [GossipPurge]
    /// Every source switch the sender knows (few: one per source ever switched).
    public var switches: [SourceSwitch] = []
    /// The sender forgot every purge made before this time (microseconds; 0: none): a receiver that finds it
    /// missed some of those can no longer learn them, and must treat what it cached before then as purged.
    public var floor: UInt64

    public init(isReply: Bool, range: KeyRange, vector: [VectorEntry], members: [String], purges: [GossipPurge] = [],
                floor: UInt64 = 0) {
        self.isReply = isReply
        self.range = range
        self.vector = vector
        self.members = members
        self.purges = purges
        self.floor = floor
    }
}

/// A message with what its receiver needs to authenticate it and reject replays: who sent it (its gossip
/// address, as peers list it), the sender's run (`epoch`: when that process started), a number that grows with
/// every message of that run, and the sender's wall time.
public struct GossipEnvelope: Sendable, Hashable {
    public var sender: String
    public var epoch: UInt64
    public var seq: UInt64
    /// Microseconds since 1970 on the sender's wall clock.
    public var sentAt: UInt64
    /// The sender's hybrid logical clock (a receiver's clock moves past it).
    public var clock: UInt64
    /// What the sender offers for peer fill (nil: it takes no part).
    public var card: PeerCard?
    public var message: GossipMessage

    public init(sender: String, epoch: UInt64, seq: UInt64, sentAt: UInt64, clock: UInt64, card: PeerCard? = nil,
                message: GossipMessage) {
        self.sender = sender
        self.epoch = epoch
        self.seq = seq
        self.sentAt = sentAt
        self.clock = clock
        self.card = card
        self.message = message
    }
}

/// A member's part in peer fill, carried by every datagram it sends: the port of its peer listener (on the host
/// of its gossip address) and its share weight (`cluster.weight`, in thousandths).
public struct PeerCard: Sendable, Hashable {
    public var port: UInt16
    public var weightMilli: UInt32

    public init(port: UInt16, weight: Double) {
        self.port = port
        weightMilli = UInt32(max(0, min(1_000_000, (weight * 1000).rounded())))
    }

    public var weight: Double { Double(weightMilli) / 1000 }
}
