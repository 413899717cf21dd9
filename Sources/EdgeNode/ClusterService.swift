import AsyncHTTPClient
import EdgeCore
import EdgeGossip
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// What an edge request is, as an owner needs it to make the same variant: its Host, target, Accept and client
/// hints (everything its resolution depends on, `ResolvedMemo.Key`).
struct PeerRequest: Sendable, Hashable {
    var host: String
    var target: String
    var accept: String
    /// Width, DPR, Save-Data ("" when absent).
    var hints: [String]

    init(host: String, target: String, accept: String, hints: [String]) {
        self.host = host
        self.target = target
        self.accept = accept
        self.hints = hints
    }

    init(_ r: EdgeRequest) {
        host = r.host.map(String.init) ?? ""
        target = r.uri
        accept = r.accept.map(String.init) ?? ""
        hints = [r.hints.width.map(NumberText.format) ?? "", r.hints.dpr.map(NumberText.format) ?? "",
                 r.hints.saveData ? "on" : ""]
    }

    /// The edge request it stands for (a GET: an owner makes the whole variant).
    var edgeRequest: EdgeRequest {
        func text(_ s: String) -> Substring? { s.isEmpty ? nil : Substring(s) }
        return EdgeRequest(method: .get, uri: target, host: text(host), accept: text(accept), ifNoneMatch: nil,
                           hints: ClientHints(width: text(hints[0]), dpr: text(hints[1]), saveData: text(hints[2])))
    }
}

/// Peer fill, the asking side: which member owns a key (rendezvous hashing over the members gossip knows alive
/// and that offer peer fill, this node among them), and asking the owner — then the next by rank — over HTTP on
/// its peer port, as `PeerFill.StateMachine` decides. An owner that does not send its response head within
/// `cluster.peerTimeout` is marked down here (`PeerFill.Health`) and not waited on again until gossip hears from it.
final class ClusterService: Sendable {
    let me: ClusterMember
    let settings: ClusterSettings
    let wire: PeerProtocol
    private let client: HTTPClient
    private let gossip: GossipService
    private let purges: PurgeService
    private let health: NIOLockedValueBox<PeerFill.Health>
    /// Members as last seen (their seeds are hashes: made once per member, not per miss).
    private let known = NIOLockedValueBox<[String: ClusterMember]>([:])
    /// The owner side's replay guard for asks received.
    let replay = NIOLockedValueBox(PeerReplayGuard())
    let metrics: NodeMetrics
    let logger: Logger
    /// The largest answer frame accepted: an entry of the largest body this node would make, with its header.
    let maxFrame: Int

    init(me: ClusterMember, settings: ClusterSettings, secret: String, gossip: GossipService, purges: PurgeService,
         group: any EventLoopGroup, fillTimeout: Double, maxFrame: Int, metrics: NodeMetrics, logger: Logger) {
        self.me = me
        self.settings = settings
        wire = PeerProtocol(secret: secret)
        self.gossip = gossip
        self.purges = purges
        self.metrics = metrics
        self.logger = logger
        self.maxFrame = maxFrame
        health = NIOLockedValueBox(PeerFill.Health(retryAfter: UInt64(settings.retryAfter * 1_000_000)))
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .nanoseconds(Int64(settings.peerTimeout * 1e9)),
                                      read: .nanoseconds(Int64((fillTimeout + 1) * 1e9)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    /// The members a key may be owned by now: those gossip believes alive that offer peer fill, and this node.
    func members() -> (members: [ClusterMember], lastHeard: [String: UInt64]) {
        let view = gossip.view.members
        var heard: [String: UInt64] = [:]
        var out = [me]
        known.withLockedValue { known in
            for m in view where m.status == .alive {
                guard let card = m.card, let host = Self.host(of: m.address) else { continue }
                heard[m.address] = m.lastHeard
                let endpoint = "\(host):\(card.port)"
                if let k = known[m.address], k.endpoint == endpoint, k.weight == card.weight {
                    out.append(k)
                } else {
                    let made = ClusterMember(id: m.address, endpoint: endpoint, weight: card.weight)
                    known[m.address] = made
                    out.append(made)
                }
            }
        }
        return (out, heard)
    }

    /// The host part of `host:port` (brackets kept for IPv6).
    static func host(of address: String) -> String? {
        guard let colon = address.lastIndex(of: ":") else { return nil }
        return String(address[..<colon])
    }

    /// How asking the owners ended.
    enum Result: Sendable {
        /// An owner sent the variant: the encoded entry, whether it may be stored, the Cache-Control to send when
        /// not, and who sent it.
        case entry([UInt8], storable: Bool, uncacheable: String?, owner: String, duration: Duration)
        /// An owner answered with a definite error of the request.
        case failed(EdgeError)
        /// Fill here: this node owns the key, or no owner answered with it.
        case local
    }

    /// The key members are ranked by for a variant: its original's (`CacheKey.original`). Every variant of one
    /// image has the same owner, so the cluster fetches each original once (into that owner's originals tier) and a
    /// srcset's widths share one decode there; images, not variants, are spread over the members.
    static func shard(source: String, path: String) -> [UInt8] {
        CacheKey.original(source: source, path: path).bytes
    }

    /// Asks the owners of `shard` for the variant `key`, best first, as the state machine says.
    func fill(_ request: PeerRequest, key: CacheKey, shard: [UInt8]) async -> Result {
        let (members, heard) = members()
        let ranking = Rendezvous.rank(shard, members)
        let now = GossipService.micros()
        let skip = health.withLockedValue { h in
            Set(ranking.filter { $0.id != me.id && h.isDown($0.id, lastHeard: heard[$0.id], now: now) }.map(\.id))
        }
        if let owner = ranking.first { metrics.countPeerOwner(owner.id) }
        var machine = PeerFill.StateMachine(ranking: ranking, me: me.id, skip: skip)
        var action = machine.start()
        var answer: Result = .local
        while true {
            switch action {
            case .fillLocally(let reason):
                metrics.countPeerAsk(reason == .owner ? "own" : "fallback")
                return .local
            case .use, .fail:
                return answer
            case .ask(let member):
                let (outcome, result) = await ask(member, request, key: key)
                metrics.countPeerAsk(Self.label(outcome))
                answer = result
                action = machine.asked(outcome)
            }
        }
    }

    static func label(_ o: PeerFill.Outcome) -> String {
        switch o {
        case .entry: "entry"
        case .failed: "failed"
        case .declined: "declined"
        case .unreachable: "unreachable"
        }
    }

    /// One ask of one member.
    private func ask(_ member: ClusterMember, _ request: PeerRequest, key: CacheKey) async -> (PeerFill.Outcome, Result) {
        let started = ContinuousClock.now
        let ask = PeerProtocol.Ask(sender: me.id, time: GossipService.micros(), nonce: UInt64.random(in: 1...UInt64.max),
                                   key: key.description, clock: purges.tick(), host: request.host,
                                   target: request.target, accept: request.accept, hints: request.hints)
        var http = HTTPClientRequest(url: "http://\(member.endpoint)/v1/fill")
        http.method = .GET
        http.headers = PeerHeaders.fields(ask, mac: wire.mac(ask))
        let frame: [UInt8]
        do {
            let response = try await client.execute(http, deadline: .now() + .nanoseconds(Int64(settings.peerTimeout * 1e9)))
            guard response.status == .ok else {
                // A refusal (the secrets differ, or the clocks) or an overloaded listener: another member may do.
                logger.warning("peer refused an ask", metadata: ["edge.peer": "\(member.id)", "edge.status": "\(response.status.code)"])
                return (.declined, .local)
            }
            var body = try await response.body.collect(upTo: maxFrame)
            frame = body.readBytes(length: body.readableBytes) ?? []
        } catch {
            health.withLockedValue { $0.failed(member.id, now: GossipService.micros()) }
            logger.warning("peer did not answer", metadata: ["edge.peer": "\(member.id)", "edge.error": "\(error)"])
            return (.unreachable, .local)
        }
        health.withLockedValue { $0.answered(member.id) }
        metrics.countPeerBytes(received: frame.count)
        let opened: (answer: PeerProtocol.Answer, clock: UInt64)
        do {
            opened = try wire.open(frame, nonce: ask.nonce)
        } catch {
            logger.warning("peer answer refused", metadata: ["edge.peer": "\(member.id)", "edge.reason": "\(error)"])
            return (.declined, .local)
        }
        purges.receive(clock: opened.clock)
        switch opened.answer {
        case .entry(let entry, let storable, let uncacheable):
            return (.entry, .entry(entry, storable: storable, uncacheable: uncacheable, owner: member.id,
                                   duration: ContinuousClock.now - started))
        case .error(let status, let message, let declined):
            if declined { return (.declined, .local) }
            return (.failed(status: status), .failed(EdgeError.fromPeer(status: status, message: message)))
        }
    }

    /// Stats: members with their share weights and state here.
    func describe() -> [[String: Any]] {
        let (members, _) = members()
        let down = Set(health.withLockedValue { $0.failed })
        let total = members.reduce(0) { $0 + $1.weight }
        return members.sorted { $0.id < $1.id }.map { m in
            ["id": m.id, "endpoint": m.endpoint, "weight": m.weight, "self": m.id == me.id,
             "share": total > 0 ? m.weight / total : 0, "down": down.contains(m.id)]
        }
    }
}

/// The header fields of an ask.
enum PeerHeaders {
    static let sender = "imgedge-peer-sender", time = "imgedge-peer-time", nonce = "imgedge-peer-nonce",
               key = "imgedge-peer-key", clock = "imgedge-peer-clock", host = "imgedge-peer-host",
               target = "imgedge-peer-target", accept = "imgedge-peer-accept", width = "imgedge-peer-width",
               dpr = "imgedge-peer-dpr", saveData = "imgedge-peer-save-data", mac = "imgedge-peer-mac"

    static func fields(_ a: PeerProtocol.Ask, mac m: String) -> HTTPHeaders {
        HTTPHeaders([(sender, a.sender), (time, String(a.time)), (nonce, String(a.nonce)), (key, a.key),
                     (clock, String(a.clock)), (host, a.host), (target, a.target), (accept, a.accept),
                     (width, a.hints[0]), (dpr, a.hints[1]), (saveData, a.hints[2]), (mac, m)])
    }

    /// The ask and its MAC from received fields (each exactly once); nil when any is missing or malformed.
    static func ask(_ headers: HTTPHeaders) -> (ask: PeerProtocol.Ask, mac: String)? {
        func one(_ name: String) -> String? {
            let values = headers[name]
            return values.count == 1 ? values[0] : nil
        }
        guard let s = one(sender), let t = one(time).flatMap(UInt64.init), let n = one(nonce).flatMap(UInt64.init),
              let k = one(key), k.utf8.count == 64, let c = one(clock).flatMap(UInt64.init), let h = one(host),
              let tg = one(target), tg.hasPrefix("/"), let a = one(accept), let w = one(width), let d = one(dpr),
              let sd = one(saveData), let m = one(mac) else { return nil }
        return (PeerProtocol.Ask(sender: s, time: t, nonce: n, key: k, clock: c, host: h, target: tg, accept: a,
                                 hints: [w, d, sd]), m)
    }
}
