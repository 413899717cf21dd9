import Crypto
import EdgeCore
import EdgeGossip
import EdgeImaging
import EdgeOrigin
import EdgeStore
import Foundation
public import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

/// A running node: the edge front and the admin listener over one cache, origin and image pipeline.
public final class EdgeNodeServer: Sendable {
    /// Ports actually bound (useful with port 0 in tests); nil for a listener that is off.
    public let httpPort: Int?
    public let httpsPort: Int?
    public let adminPort: Int
    /// The gossip UDP port (nil: no gossip).
    public let gossipPort: Int?
    /// The peer fill listener's port (nil: `cluster.port` not set).
    public let peerPort: Int?

    private let group: MultiThreadedEventLoopGroup
    /// The admin listener's own thread: purges, health checks and metrics are answered however busy the edge is.
    private let adminGroup: MultiThreadedEventLoopGroup
    private let channels: [any Channel]
    let service: EdgeService
    private let gossip: GossipService?
    private let sweeper: PurgeSweeper
    private let audit: AuditLog
    let store: LMDBCacheStore
    private let inFlight: InFlightCounter
    private let logger: Logger
    private let stopped = NIOLockedValueBox(false)
    /// The HTTPS listener's certificates (nil: no HTTPS).
    private let certificates: CertificateStore?
    /// HTTP/2 connections, drained at shutdown.
    private let registry: ConnectionRegistry

    /// Opens the cache, starts libvips and curl, binds both listeners. `clock` (seconds since 1970) decides
    /// freshness and `expires`; tests pass their own.
    public static func start(config: NodeConfig, logger: Logger,
                             clock: (@Sendable () -> Double)? = nil) async throws -> EdgeNodeServer {
        let store = try LMDBCacheStore(path: config.cachePath, maxBytes: config.cacheMaxBytes)
        let originals = try config.originalsBytes > 0
            ? LMDBCacheStore(path: config.cachePath + "/originals", maxBytes: config.originalsBytes) : nil
        let imaging = try VipsImageProcessor(concurrency: 1, copyBytes: config.decodeCopies)
        let curl = CurlOriginFetcher(connectTimeout: .milliseconds(Int64(config.originConnectTimeout * 1000)),
                                     totalTimeout: .milliseconds(Int64(config.originTimeout * 1000)))
        let now: @Sendable () -> Double = clock ?? WallClock.seconds
        let (log, tombstones) = try TombstoneLog.open(path: config.cachePath + "/tombstones.log")
        let purges = PurgeService(nodeID: config.nodeID, sources: config.sources.map(\.name), log: log, tombstones: tombstones, clock: now)
        let accessLog = try config.accessLogPath.map { try AccessLog(path: $0, maxBytes: config.accessLogMaxBytes, logger: logger) }
        let service = EdgeService(config: config, store: store, origin: SourceOriginFetcher(curl: curl),
                                  imaging: imaging, metrics: NodeMetrics(), logger: logger, purges: purges,
                                  accessLog: accessLog, originals: originals, clock: now)
        let sweeper = PurgeSweeper(purges: purges, stores: [store] + (originals.map { [$0] } ?? []), hot: service.hot,
                                   logger: logger, horizon: config.gossip.retention)
        let audit = try AuditLog(path: config.cachePath + "/audit.log")
        sweeper.start(interval: .milliseconds(Int64(config.sweepInterval * 1000)))
        BodyFile.raiseDescriptorLimit()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, System.coreCount))
        let adminGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // Idle keep-alive connections are closed after this long without a request.
        let idleTimeout = TimeAmount.nanoseconds(Int64(config.idleTimeout * 1e9))
        let headerTimeout = TimeAmount.nanoseconds(Int64(config.headerTimeout * 1e9))
        let inFlight = InFlightCounter()
        let connections = service.metrics.connections
        connections.limit(config.maxConnections ?? Self.defaultMaxConnections(config))
        let registry = ConnectionRegistry()
        var gossip: GossipService?
        var certificates: CertificateStore?
        var peerChannel: (any Channel)?
        do {
            if let secret = config.gossip.secret {
                // Peer fill: the peer listener is bound first, so that gossip tells the members its port.
                var card: PeerCard?
                if let port = config.cluster.port {
                    let channel = try await Self.bindPeer(group: group, host: config.gossip.host, port: port,
                                                          service: service, idle: config.fillTimeout + 30)
                    peerChannel = channel
                    card = PeerCard(port: UInt16(channel.localAddress?.port ?? port), weight: config.cluster.weight)
                }
                let g = try await GossipService.start(settings: config.gossip, secret: secret, card: card, purges: purges,
                                                      group: group, logger: logger, metrics: service.metrics)
                gossip = g
                if let card {
                    let me = ClusterMember(id: g.address, endpoint: "\(config.gossip.host):\(card.port)",
                                           weight: config.cluster.weight)
                    let cluster = ClusterService(me: me, settings: config.cluster, secret: secret, gossip: g, purges: purges,
                                                 group: group, fillTimeout: config.fillTimeout,
                                                 maxFrame: config.maxSourceBytes * 4 + (1 << 20), metrics: service.metrics,
                                                 logger: logger)
                    service.cluster.withLockedValue { $0 = cluster }
                    logger.info("peer fill listening", metadata: ["edge.peer": "\(me.endpoint)", "edge.weight": "\(me.weight)"])
                }
                // A node that was away must not serve what was purged meanwhile: catch up with a peer first.
                if !config.gossip.peers.isEmpty, await !g.waitUntilSynced(timeout: config.gossip.syncTimeout) {
                    logger.warning("serving before catching up with a peer", metadata: ["edge.gossip": "\(g.address)"])
                }
            }
            if let settings = config.shared {
                let tier = SharedTier(settings: settings, group: group, purges: purges, metrics: service.metrics,
                                      logger: logger, clock: now)
                service.shared.withLockedValue { $0 = tier }
                tier.start(interval: .milliseconds(Int64(config.sweepInterval * 1000)))
                logger.info("shared tier", metadata: ["edge.bucket": "\(settings.location.bucket)", "edge.prefix": "\(settings.location.prefix)"])
            }
            let encoder = ResponseHead(hsts: config.https.hsts)
            var edgeChannels: [any Channel] = []
            if config.https.isEnabled {
                let certs = try CertificateStore(settings: config.https, logger: logger)
                certificates = certs
                let tls = try certs.makeContext(alpn: ["h2", "http/1.1"])
                let settings = EdgeHTTPHandler.Settings(idleTimeout: idleTimeout, encoder: encoder, secure: true,
                                                        headerTimeout: headerTimeout)
                let h2 = HTTP2Setup(service: service, inFlight: inFlight, registry: registry,
                                    settings: HTTP2EdgeHandler.Settings(idleTimeout: idleTimeout,
                                                                        sendTimeout: .nanoseconds(Int64(config.sendTimeout * 1e9)),
                                                                        hsts: config.https.hsts),
                                    maxConcurrentStreams: config.https.maxConcurrentStreams, headerTimeout: headerTimeout)
                let handshake = TimeAmount.nanoseconds(Int64(config.https.handshakeTimeout * 1e9))
                edgeChannels.append(try await Self.bind(group: group, host: config.https.host, port: config.https.port,
                                                        connections: connections, refusal: nil) { channel in
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    try channel.pipeline.syncOperations.addHandler(HandshakeDeadline(timeout: handshake))
                    // ALPN: h2 when the client offers it, else HTTP/1.1 (also for clients that offer nothing).
                    try channel.pipeline.syncOperations.addHandler(ApplicationProtocolNegotiationHandler { result, channel in
                        channel.eventLoop.makeCompletedFuture {
                            if case .negotiated("h2") = result {
                                try h2.configure(channel)
                            } else {
                                try channel.pipeline.syncOperations.addHandler(
                                    EdgeHTTPHandler(service: service, inFlight: inFlight, settings: settings))
                            }
                        }
                    })
                })
                certs.start(interval: config.https.reloadInterval)
            }
            if config.httpEnabled {
                let settings = EdgeHTTPHandler.Settings(
                    idleTimeout: idleTimeout, encoder: encoder,
                    redirectToHTTPSPort: config.redirectToHTTPS ? edgeChannels.last?.localAddress?.port : nil,
                    headerTimeout: headerTimeout)
                edgeChannels.append(try await Self.bind(group: group, host: config.httpHost, port: config.httpPort,
                                                        connections: connections, refusal: Self.busyAnswer) { channel in
                    // One handler that decodes requests, answers them in order, times out idle connections and
                    // encodes its answers itself (see EdgeHTTPHandler): a hit passes through nothing else.
                    try channel.pipeline.syncOperations.addHandler(
                        EdgeHTTPHandler(service: service, inFlight: inFlight, settings: settings))
                })
            }
            let ready = NIOLockedValueBox(true)
            let view = AdminView(service: service, gossip: gossip, sweeper: sweeper, audit: audit, store: store,
                                 grantKey: try Self.grantKey(config), isReady: { ready.withLockedValue { $0 } })
            let admin = try await ServerBootstrap(group: adminGroup)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                        try channel.pipeline.syncOperations.addHandler(AdminHTTPHandler(node: view, loop: channel.eventLoop))
                    }
                }
                .bind(host: config.adminHost, port: config.adminPort).get()
            let secure = config.https.isEnabled ? edgeChannels.first : nil
            let plain = config.httpEnabled ? edgeChannels.last : nil
            let server = EdgeNodeServer(group: group, adminGroup: adminGroup,
                                        channels: edgeChannels + [admin] + (peerChannel.map { [$0] } ?? []),
                                        service: service, gossip: gossip, sweeper: sweeper, audit: audit, store: store,
                                        inFlight: inFlight, logger: logger, certificates: certificates, registry: registry,
                                        httpPort: plain.map { $0.localAddress?.port ?? config.httpPort },
                                        httpsPort: secure.map { $0.localAddress?.port ?? config.https.port },
                                        adminPort: admin.localAddress?.port ?? config.adminPort,
                                        peerPort: peerChannel?.localAddress?.port)
            logger.info("serving", metadata: ["edge.http": "\(server.httpPort.map { "\(config.httpHost):\($0)" } ?? "off")",
                                              "edge.https": "\(server.httpsPort.map { "\(config.https.host):\($0)" } ?? "off")",
                                              "edge.admin": "\(config.adminHost):\(server.adminPort)",
                                              "edge.cache": "\(config.cachePath)",
                                              "edge.sources": "\(config.sources.map(\.name).joined(separator: ","))"])
            return server
        } catch {
            certificates?.stop()
            await audit.shutdown()
            await sweeper.shutdown()
            try? await peerChannel?.close()
            await service.cluster.withLockedValue({ $0 })?.shutdown()
            await service.shared.withLockedValue({ $0 })?.shutdown()
            await gossip?.shutdown()
            try? await adminGroup.shutdownGracefully()
            try? await group.shutdownGracefully()
            await service.shutdown()
            store.close()
            originals?.close()
            throw error
        }
    }

    private init(group: MultiThreadedEventLoopGroup, adminGroup: MultiThreadedEventLoopGroup, channels: [any Channel],
                 service: EdgeService, gossip: GossipService?, sweeper: PurgeSweeper, audit: AuditLog,
                 store: LMDBCacheStore, inFlight: InFlightCounter, logger: Logger, certificates: CertificateStore?,
                 registry: ConnectionRegistry, httpPort: Int?, httpsPort: Int?, adminPort: Int, peerPort: Int? = nil) {
        self.peerPort = peerPort
        self.certificates = certificates
        self.registry = registry
        self.httpsPort = httpsPort
        self.group = group
        self.adminGroup = adminGroup
        self.channels = channels
        self.service = service
        self.gossip = gossip
        self.sweeper = sweeper
        self.audit = audit
        gossipPort = gossip.flatMap { g in g.address.split(separator: ":").last.flatMap { Int($0) } }
        self.store = store
        self.inFlight = inFlight
        self.logger = logger
        self.httpPort = httpPort
        self.adminPort = adminPort
    }

    /// The key assistance grants are signed with: derived from `gossip.secret` (so every node of the cluster
    /// checks the others' grants), else this node's own random key, kept in `<cache.path>/assistance.key` (0600).
    static func grantKey(_ config: NodeConfig) throws -> [UInt8] {
        if let secret = config.gossip.secret {
            return Array(SHA256.hash(data: Array(("imgedge-assistance-v1\u{0}" + secret).utf8)))
        }
        let path = config.cachePath + "/assistance.key"
        if let existing = FileManager.default.contents(atPath: path), existing.count == 32 { return Array(existing) }
        var random = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        guard FileManager.default.createFile(atPath: path, contents: Data(key), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return key
    }

    /// An edge listener: each accepted connection counted against `http.maxConnections`; past it, one that can
    /// be answered in clear gets `refusal` (a 503) and every one is closed at once. Its pipeline made by `pipeline`.
    private static func bind(group: MultiThreadedEventLoopGroup, host: String, port: Int, connections: ConnectionEvents,
                             refusal: [UInt8]?,
                             pipeline: @escaping @Sendable (any Channel) throws -> Void) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard connections.open() else {
                    connections.count("refused_max_connections")
                    guard let refusal else { return channel.close() }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RefusingHandler(answer: refusal))
                    }
                }
                channel.closeFuture.whenComplete { _ in connections.close() }
                return channel.eventLoop.makeCompletedFuture { try pipeline(channel) }
            }
            .bind(host: host, port: port).get()
    }

    /// The peer listener (`cluster.port`, on `gossip.host`): HTTP/1.1 for members' asks (`PeerHTTPHandler`); a
    /// connection idle past `idle` seconds (longer than any fill) is closed.
    private static func bindPeer(group: MultiThreadedEventLoopGroup, host: String, port: Int, service: EdgeService,
                                 idle: Double) async throws -> any Channel {
        let connections = PeerConnections()
        let cluster = service.cluster
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .nanoseconds(Int64(idle * 1e9))))
                    try channel.pipeline.syncOperations.addHandler(PeerHTTPHandler(service: service, cluster: cluster,
                                                                                   connections: connections))
                }
            }
            .bind(host: host, port: port).get()
    }

    /// How an HTTPS connection that chose h2 is set up: `http.headerTimeout` on what the client has begun
    /// sending (HTTP2FrameDeadline), NIO's HTTP/2 handler with the node's limits (its own
    /// defences against rapid reset, CONTINUATION, control-frame and empty-DATA floods, and oversized header
    /// blocks), then the edge's `HTTP2EdgeHandler`, which answers the streams and runs the connection's life.
    struct HTTP2Setup: Sendable {
        let service: EdgeService
        let inFlight: InFlightCounter
        let registry: ConnectionRegistry
        let settings: HTTP2EdgeHandler.Settings
        let maxConcurrentStreams: Int
        let headerTimeout: TimeAmount

        func configure(_ channel: any Channel) throws {
            try channel.pipeline.syncOperations.addHandler(TLSWriteCoalescer())
            try channel.pipeline.syncOperations.addHandler(HTTP2FrameDeadline(timeout: headerTimeout,
                                                                              events: service.metrics.connections))
            try channel.pipeline.syncOperations.addHandler(NIOHTTP2Handler.edge(maxConcurrentStreams: maxConcurrentStreams))
            let edge = HTTP2EdgeHandler(service: service, inFlight: inFlight, settings: self.settings)
            try channel.pipeline.syncOperations.addHandler(edge)
            let bound = NIOLoopBound(edge, eventLoop: channel.eventLoop)
            registry.add(channel) { channel.eventLoop.execute { bound.value.drain() } }
        }
    }

    /// The answer a connection over `http.maxConnections` gets before it is closed.
    static let busyAnswer: [UInt8] = {
        let body = EdgeError.overloaded.jsonBody
        return Array(("HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n"
            + "cache-control: no-store\r\ncontent-length: \(body.utf8.count)\r\nserver: imgedge\r\nconnection: close\r\n\r\n"
            + body).utf8)
    }()

    /// `http.maxConnections` when the configuration does not say: the open-file limit (raised to its hard limit
    /// at start), less what the node keeps open besides connections — 1,024 for the cache, logs, origin
    /// connections, pools and listeners, and up to three descriptors for each body the memory tier may keep as a
    /// file (one of its own, one per event loop that sends it) — and at least 64. Past the open-file limit,
    /// accepting would fail and connections would be cut at random; below it they are refused cleanly.
    static func defaultMaxConnections(_ config: NodeConfig) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        let files = config.cacheMemoryBytes / BodyFile.minimumBytes * (1 + System.coreCount)
        let open = limit.rlim_cur == rlim_t.max ? 1_000_000 : Int(min(limit.rlim_cur, 1_000_000))
        return max(64, open - 1024 - files)
    }

    /// The member that owns the variant a GET of `target` on `host` asks for, as this node ranks the members now
    /// (its gossip address; nil without peer fill or for a request that does not resolve).
    public func owner(host: String, target: String, accept: String? = nil) -> String? {
        guard let cluster = service.cluster.withLockedValue({ $0 }) else { return nil }
        let request = EdgeRequest(method: .get, uri: target, host: Substring(host), accept: accept.map { Substring($0) },
                                  ifNoneMatch: nil)
        guard let resolved = try? service.resolve(request) else { return nil }
        let shard = ClusterService.shard(source: resolved.source.name, path: resolved.path.description)
        return Rendezvous.owner(shard, cluster.members().members)?.id
    }

    /// Reads the HTTPS certificates again (SIGHUP): new handshakes get what loaded, open connections keep theirs.
    /// Returns how many certificates failed to load (each keeps the one it had).
    @discardableResult
    public func reloadCertificates() -> Int { certificates?.reload() ?? 0 }

    /// Stops accepting, lets in-flight requests finish (up to `drain`), then closes everything and flushes the cache.
    public func shutdown(drain: Duration = .seconds(30)) async {
        guard stopped.withLockedValue({ s in defer { s = true }; return !s }) else { return }
        certificates?.stop()
        gossip?.withdrawCard()
        for c in channels { try? await c.close() }
        // HTTP/2 connections are told (GOAWAY) and close once their streams in flight are answered.
        registry.drainAll()
        let deadline = ContinuousClock.now + drain
        while inFlight.value > 0 || registry.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        await service.cluster.withLockedValue({ $0 })?.shutdown()
        await service.shared.withLockedValue({ $0 })?.shutdown()
        await gossip?.shutdown()
        await sweeper.shutdown()
        await service.accessLog?.shutdown()
        await audit.shutdown()
        try? await adminGroup.shutdownGracefully()
        try? await group.shutdownGracefully()
        await service.shutdown()
        store.close()
        (service.originals as? LMDBCacheStore)?.close()
        logger.info("stopped")
    }
}

/// Answers a connection past `http.maxConnections` with its canned 503 as soon as it is active, then closes it.
final class RefusingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let answer: [UInt8]

    init(answer: [UInt8]) { self.answer = answer }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(ByteBuffer(bytes: answer))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// Seconds since 1970 from the system's real-time clock: what `Date()` reads, without its wrapping (the hit path
/// reads the time on every request).
enum WallClock {
    static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
