import EdgeCore
import EdgeGossip
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The gossip transport: one UDP socket, the state machine behind a lock, and a timer. Datagrams are opened
/// (HMAC checked) before anything in them is believed; the machine's actions are carried out here — sends,
/// purges applied through `PurgeService`, status answers handed to whoever asked.
final class GossipService: PurgePeers, Sendable {
    let address: String
    private let machine: NIOLockedValueBox<Gossip.StateMachine>
    private let codec: GossipCodec
    private let channel: any Channel
    private let timer: NIOLockedValueBox<RepeatedTask?> = NIOLockedValueBox(nil)
    private let purges: PurgeService
    private let logger: Logger
    private let metrics: NodeMetrics
    private let epoch: UInt64
    private let sequence = NIOLockedValueBox<UInt64>(0)
    private let settings: GossipSettings
    /// This node's part in peer fill, sent with every datagram (withdrawn when the node begins to stop).
    private let card: NIOLockedValueBox<PeerCard?>
    private let random = NIOLockedValueBox(SplitMix64(seed: UInt64.random(in: 1...UInt64.max)))
    /// Injected faults (testing): outgoing loss and blocked peers.
    private let faults: NIOLockedValueBox<(lossRate: Double, blocked: Set<String>)>
    /// Resolved peer addresses (numeric ones at once; names once, off the event loop).
    private let resolved = NIOLockedValueBox<[String: SocketAddress]>([:])
    private let resolving = NIOLockedValueBox<Set<String>>([])
    /// Status queries waiting for answers: query id → answers so far.
    private let queries = NIOLockedValueBox<[UInt64: [String: Bool]]>([:])

    /// How often the machine's timers run.
    static let tickEvery = TimeAmount.milliseconds(5)

    static func start(settings: GossipSettings, secret: String, card: PeerCard? = nil, purges: PurgeService,
                      group: any EventLoopGroup, logger: Logger, metrics: NodeMetrics) async throws -> GossipService {
        let box = NIOLockedValueBox<GossipService?>(nil)
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.maxMessagesPerRead, value: 16)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Inbound(box: box))
                }
            }
            .bind(host: settings.host, port: settings.port).get()
        var settings = settings
        if settings.port == 0, let bound = channel.localAddress?.port { settings.port = bound }
        let service = GossipService(settings: settings, secret: secret, card: card, purges: purges, channel: channel,
                                    logger: logger, metrics: metrics)
        box.withLockedValue { $0 = service }
        purges.peers.withLockedValue { $0 = service }
        let task = channel.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: tickEvery) { _ in service.tick() }
        service.timer.withLockedValue { $0 = task }
        logger.info("gossip listening", metadata: ["edge.gossip": "\(service.address)", "edge.peers": "\(settings.peers.count)"])
        return service
    }

    private init(settings: GossipSettings, secret: String, card: PeerCard?, purges: PurgeService, channel: any Channel,
                 logger: Logger, metrics: NodeMetrics) {
        self.settings = settings
        self.card = NIOLockedValueBox(card)
        faults = NIOLockedValueBox((settings.lossRate, Set(settings.blockedPeers)))
        address = settings.address
        codec = GossipCodec(secret: secret)
        self.channel = channel
        self.purges = purges
        self.logger = logger
        self.metrics = metrics
        let now = Self.micros()
        epoch = now
        var config = Gossip.Config()
        config.retention = UInt64(settings.retention * 1_000_000)
        machine = NIOLockedValueBox(Gossip.StateMachine(me: settings.address, seeds: settings.peers, known: purges.known,
                                                        switches: purges.sourceSwitches, config: config, seed: UInt64.random(in: 1...UInt64.max), now: now))
    }

    static func micros() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1_000_000) }

    /// Stops offering peer fill: members leave this node out of their rankings from its next datagram on, before
    /// its peer listener closes.
    func withdrawCard() {
        card.withLockedValue { $0 = nil }
    }

    func shutdown() async {
        timer.withLockedValue { $0?.cancel() }
        purges.peers.withLockedValue { $0 = nil }
        try? await channel.close()
    }

    /// Waits until one exchange with a peer covered the whole version vector, or `timeout` seconds pass.
    /// Returns whether it caught up.
    func waitUntilSynced(timeout: Double) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while ContinuousClock.now < deadline {
            if machine.withLockedValue({ $0.synced }) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return machine.withLockedValue { $0.synced }
    }

    /// Testing: drop this fraction of outgoing datagrams, and cut this node off from `blocked` peers.
    func setFaults(lossRate: Double, blocked: Set<String>) {
        faults.withLockedValue { $0 = (lossRate, blocked) }
        logger.warning("gossip faults injected", metadata: ["edge.loss": "\(lossRate)", "edge.blocked": "\(blocked.sorted())"])
    }

    // MARK: PurgePeers

    func spread(_ purge: GossipPurge) {
        let actions = machine.withLockedValue { $0.originate(purge, now: Self.micros()) }
        run(actions)
    }

    func spread(_ change: SourceSwitch) {
        let actions = machine.withLockedValue { $0.originate(change, now: Self.micros()) }
        run(actions)
    }

    func status(of id: String) async -> [(member: String, applied: Bool?)] {
        let (query, asked, actions) = machine.withLockedValue { $0.queryStatus(id) }
        guard !asked.isEmpty else { return [] }
        queries.withLockedValue { $0[query] = [:] }
        run(actions)
        let deadline = ContinuousClock.now + .milliseconds(500)
        while ContinuousClock.now < deadline, (queries.withLockedValue { $0[query]?.count ?? 0 }) < asked.count {
            try? await Task.sleep(for: .milliseconds(5))
        }
        let answers = queries.withLockedValue { $0.removeValue(forKey: query) } ?? [:]
        return asked.map { (member: $0, applied: answers[$0]) }
    }

    /// Members by status, and the machine's counters (for stats and metrics).
    var view: (members: [Gossip.Member], stats: Gossip.Stats) {
        machine.withLockedValue { (Array($0.members.values), $0.stats) }
    }

    // MARK: - Transport

    private func tick() {
        run(machine.withLockedValue { $0.tick(now: Self.micros()) })
    }

    fileprivate func received(_ bytes: [UInt8], from source: SocketAddress) {
        let envelope: GossipEnvelope
        do {
            envelope = try codec.open(bytes)
        } catch {
            metrics.countGossipRefused(error == .forged ? "forged" : "malformed")
            logger.debug("gossip datagram refused", metadata: ["edge.reason": "\(error)", "edge.from": "\(source)"])
            return
        }
        if faults.withLockedValue({ $0.blocked.contains(envelope.sender) }) { return }
        metrics.countGossip(received: envelope.message)
        purges.receive(clock: envelope.clock)
        run(machine.withLockedValue { $0.receive(envelope, now: Self.micros()) })
    }

    private func run(_ actions: [Gossip.Action]) {
        for action in actions {
            switch action {
            case .send(let message, let to):
                send(message, to: to)
            case .apply(let list):
                purges.apply(list)
                metrics.countGossipApplied(list.count)
                logger.debug("purges from peers", metadata: ["edge.purges": "\(list.map(\.id))"])
            case .statusAnswered(let id, let from, let applied):
                queries.withLockedValue { q in if q[id] != nil { q[id]![from] = applied } }
            case .memberChanged(let member, let status):
                logger.info("gossip member", metadata: ["edge.member": "\(member)", "edge.status": "\(status.rawValue)"])
            case .switchSources(let changes):
                purges.apply(switches: changes)
                logger.info("source switches from peers", metadata: ["edge.switches": "\(changes.map { "\($0.source)=\($0.enabled ? "on" : "off")" })"])
            case .refused(let reason):
                metrics.countGossipRefused(reason)
            case .invalidate(let before):
                purges.invalidateAll(before: before)
                logger.warning("missed purges peers have forgotten: everything cached before the floor is purged",
                               metadata: ["edge.floor": "\(before)"])
            }
        }
    }

    private func send(_ message: GossipMessage, to member: String) {
        let (lossRate, blocked) = faults.withLockedValue { ($0.lossRate, $0.blocked.contains(member)) }
        guard !blocked else { return }
        if lossRate > 0, random.withLockedValue({ $0.unit() }) < lossRate { return }
        guard let target = socketAddress(member) else { return }
        let seq = sequence.withLockedValue { s in s += 1; return s }
        let envelope = GossipEnvelope(sender: address, epoch: epoch, seq: seq, sentAt: Self.micros(), clock: purges.tick(),
                                      card: card.withLockedValue { $0 }, message: message)
        let bytes = codec.seal(envelope)
        metrics.countGossip(sent: message, bytes: bytes.count)
        let buffer = channel.allocator.buffer(bytes: bytes)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: buffer), promise: nil)
    }

    /// The socket address of `host:port`: numeric hosts at once; names resolved once in the background (datagrams
    /// to a name not yet resolved are dropped, and the machine's retransmissions or anti-entropy make up for them).
    private func socketAddress(_ member: String) -> SocketAddress? {
        if let known = resolved.withLockedValue({ $0[member] }) { return known }
        guard let colon = member.lastIndex(of: ":"), let port = Int(member[member.index(after: colon)...]) else { return nil }
        var host = String(member[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if let numeric = try? SocketAddress(ipAddress: host, port: port) {
            resolved.withLockedValue { $0[member] = numeric }
            return numeric
        }
        guard resolving.withLockedValue({ $0.insert(member).inserted }) else { return nil }
        Task.detached { [resolved, resolving, logger] in
            do {
                let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
                resolved.withLockedValue { $0[member] = address }
            } catch {
                logger.warning("gossip peer not resolved", metadata: ["edge.member": "\(member)", "edge.error": "\(error)"])
            }
            _ = resolving.withLockedValue { $0.remove(member) }
        }
        return nil
    }

    /// Reads datagrams and hands them to the service.
    private final class Inbound: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        private let box: NIOLockedValueBox<GossipService?>

        init(box: NIOLockedValueBox<GossipService?>) { self.box = box }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard let service = box.withLockedValue({ $0 }) else { return }
            service.received(Array(buffer: envelope.data), from: envelope.remoteAddress)
        }
    }
}
