public import EdgeCore
public import EdgePrivacy

/// A node's configuration: what `conf/imgedge.yaml` says, with environment overrides applied and relative
/// paths resolved against the file's folder. Every key is documented in conf/README.md.
public struct NodeConfig: Sendable {
    /// `node.id`: this node's name (default: the host name).
    public var nodeID: String
    /// `node.defaultSource`: the source for requests whose Host matches none.
    public var defaultSource: String?
    /// `http.host`, `http.port`: the edge front in clear (HTTP/1.1); `http.enabled: false` turns it off.
    public var httpHost = "127.0.0.1"
    public var httpPort = 8080
    public var httpEnabled = true
    /// `http.redirectToHTTPS`: the clear listener answers every request with a 301 to the same URL over HTTPS.
    public var redirectToHTTPS = false
    /// `https.*`: the edge front over TLS.
    public var https = HTTPSSettings()
    /// `admin.host`, `admin.port`: health, readiness, metrics, stats.
    public var adminHost = "127.0.0.1"
    public var adminPort = 8081
    /// `admin.keys`: who may purge (and later: disable sources, grant assistance), with what scope.
    public var adminKeys: [AdminKey] = []
    /// `cache.path`: folder of the LMDB cache.
    public var cachePath: String
    /// `cache.maxBytes`: bound on stored values.
    public var cacheMaxBytes = 1 << 30
    /// `cache.originalsBytes`: bound on the originals tier, the fetched originals kept (with their origin's
    /// freshness) to make further variants from without asking the origin again; 0 turns it off.
    public var originalsBytes = 256 << 20
    /// `cache.memoryBytes`: in-memory tier of recently used variants in front of LMDB (0 = off).
    public var cacheMemoryBytes = 64 << 20
    /// `cache.defaultTTL`: freshness (seconds) when the origin states none.
    public var defaultTTL: Double = 86_400
    /// `cache.negativeTTL`: freshness (seconds) of a 404, 410 or other heuristically cacheable error the origin
    /// states none for; 0 stores errors only with explicit freshness.
    public var negativeTTL: Double = 60
    /// `limits.maxSourceBytes`: largest origin object fetched.
    public var maxSourceBytes = 64 << 20
    /// `limits.maxSourcePixels`: largest decoded source.
    public var maxSourcePixels = 100_000_000
    /// `limits.decodeMemory`: memory the transforms running at once may need together (each estimated from its
    /// source's header); more wait, and one that alone needs more is 413.
    public var decodeMemory = 160 << 20
    /// `limits.decodeCopies`: memory for decoded copies of originals shared by the variants made close together
    /// (a srcset), each kept 5 s; 0 turns sharing off.
    public var decodeCopies = 64 << 20
    /// `limits.maxConcurrentTransforms`: transforms running at once (more wait briefly, then 503).
    public var maxConcurrentTransforms: Int
    /// `limits.maxQueuedTransforms`: transforms waiting for a slot before new ones get 503.
    public var maxQueuedTransforms: Int
    /// `limits.maxConcurrentFetches`: origin fetches running at once.
    public var maxConcurrentFetches = 32
    /// `limits.maxQueuedFetches`: origin fetches waiting before new ones get 503.
    public var maxQueuedFetches = 256
    /// `http.maxConnections` (also `limits.maxConnections`): open edge connections, both listeners together; more
    /// are answered 503 (clear) or closed (TLS) at once. nil: from the open-file limit, less what the node needs
    /// besides (`EdgeNodeServer.defaultMaxConnections`).
    public var maxConnections: Int?
    /// `http.headerTimeout`: from a request's first byte to its last (head, and a body the node skips).
    public var headerTimeout: Double = 10
    /// `limits.fillTimeout`: how long a request waits for a fill (its own or another's) before a 504; the fill
    /// itself goes on and its result is cached.
    public var fillTimeout: Double = 60
    /// Seconds after which a keep-alive connection with no request in progress is closed (fixed at 60 in
    /// configuration files; tests shorten it).
    public var idleTimeout: Double = 60
    /// `http.sendTimeout`: how long an HTTP/2 client may keep an answer waiting (its flow-control window shut)
    /// before its connection ends with GOAWAY (ENHANCE_YOUR_CALM).
    public var sendTimeout: Double = 60
    /// `origin.connectTimeout`, `origin.timeout`: seconds for web origins.
    public var originConnectTimeout: Double = 5
    public var originTimeout: Double = 30
    /// `sources`.
    public var sources: [SourceConfig]
    /// `customers`: who the sources belong to (`SourceConfig.customer`, `customer:<id>` keys name them).
    public var customers: [CustomerConfig] = []
    /// `cache.sweepInterval`: how often the purge sweeper checks for new tombstones (a sweep walks the whole store,
    /// deletes what they cover, then expires them).
    public var sweepInterval: Double = 10
    /// `log.access`: path of the JSON-lines access log (nil: none); `log.accessMaxBytes`: rotate past this size,
    /// keeping one old file.
    public var accessLogPath: String?
    public var accessLogMaxBytes = 100 << 20
    /// `gossip.*`: the purge gossip between nodes (nil secret: a single node, no gossip socket).
    public var gossip = GossipSettings()
    public var cluster = ClusterSettings()
    /// `cache.shared` (nil: no shared tier).
    public var shared: SharedTierSettings?

    public init(nodeID: String, cachePath: String, sources: [SourceConfig], defaultSource: String? = nil,
                cores: Int = 2) {
        self.nodeID = nodeID
        self.cachePath = cachePath
        self.sources = sources
        self.defaultSource = defaultSource
        self.maxConcurrentTransforms = max(1, cores)
        self.maxQueuedTransforms = max(1, cores) * 8
    }
}

/// `gossip.*`: how this node reaches its peers.
public struct GossipSettings: Sendable, Equatable {
    /// `gossip.host`, `gossip.port`: the UDP endpoint; `host:port` is also this node's address to its peers, so it
    /// must be one they can reach (not 0.0.0.0).
    public var host = "127.0.0.1"
    public var port = 7946
    /// `gossip.peers`: seed peers, `host:port` each; the rest of the cluster is learned from them.
    public var peers: [String] = []
    /// `gossip.secret`: the cluster's shared secret (HMAC-SHA256 over every datagram). Gossip runs when it is set.
    public var secret: String?
    /// `gossip.syncTimeout`: at start, how long to wait for one exchange with a peer before serving (so a node
    /// that was away does not serve what was purged meanwhile).
    public var syncTimeout: Double = 5
    /// `gossip.retention`: how long purges are kept for peers to catch up; a node that missed purges its peers
    /// have since forgotten treats everything it cached before then as purged.
    public var retention: Double = 86_400
    /// `gossip.lossRate`: testing only — drop this fraction of outgoing datagrams (0: none).
    public var lossRate: Double = 0
    /// `gossip.blockedPeers`: testing only — peers this node neither sends to nor hears (a partition).
    public var blockedPeers: [String] = []
    /// `gossip.faultInjection`: testing only — lets operator keys change loss and blocked peers at run time
    /// (`PUT /v1/gossip/faults`, used by tools/cluster and the gossip benchmark).
    public var faultInjection = false

    public init() {}

    /// This node's address as its peers know it.
    public var address: String { "\(host):\(port)" }
}

/// `cluster.*`: peer fill, the cluster as one cache (needs gossip: its members and its secret).
public struct ClusterSettings: Sendable, Equatable {
    /// `cluster.port`: the peer listener, on `gossip.host` (nil: this node takes no part in peer fill; 0: any).
    public var port: Int?
    /// `cluster.weight`: this node's share of the keys relative to the others (0: owns none, still asks).
    public var weight: Double = 1
    /// `cluster.peerTimeout`: an owner that sends no response head within this is skipped for the next.
    public var peerTimeout: Double = 0.2
    /// `cluster.storeCopies`: keep what an owner sent in this node's cache too (false: serve it only).
    public var storeCopies = true
    /// `cluster.retryAfter`: an owner found unreachable is skipped for at least this long, and until gossip hears
    /// from it again.
    public var retryAfter: Double = 1

    public init() {}

    public var isEnabled: Bool { port != nil }
}

/// `cache.shared`: the bucket variants are written through to and read from before the origin (`kind: s3`).
public struct SharedTierSettings: Sendable, Equatable {
    public var location: S3Location
    /// `cache.shared.timeout`: the bound on each request to the bucket.
    public var timeout: Double = 0.5
    /// How old an object may be and still be used (the purges of this long are kept to check it): `gossip.retention`.
    public var horizon: Double = 86_400
    /// The largest object read back.
    public var maxObjectBytes = 64 << 20

    public init(location: S3Location) { self.location = location }
}

/// A customer (`customers[]`): its id, which sources and keys refer to, and how to reach it. No payment data.
public struct CustomerConfig: Sendable, Equatable {
    public var id: String
    public var name: String?
    public var email: String?
    public var company: String?
    public var plan: String?

    public init(id: String, name: String? = nil, email: String? = nil, company: String? = nil, plan: String? = nil) {
        self.id = id
        self.name = name
        self.email = email
        self.company = company
        self.plan = plan
    }
}
