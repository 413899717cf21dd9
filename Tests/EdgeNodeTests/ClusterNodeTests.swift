import EdgeCore
import EdgeGossip
import EdgeNode
import EdgePrivacy
import EdgeTestSupport
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Peer fill between real nodes on loopback (gossip over UDP, asks over HTTP on each node's peer port): each
/// variant is fetched and transformed once for the whole cluster, a dead owner is skipped, a purge holds across
/// the hop, and asks from outside the cluster are refused.
@Suite struct ClusterNodeTests {
    static let secret = GossipNodeTests.secret

    /// `count` nodes with peer fill on one origin, once each knows every other's peer port.
    static func cluster(_ count: Int, configure: @escaping (Int, inout NodeConfig) -> Void = { _, _ in }) async throws -> [TestNode] {
        let nodes = try await GossipNodeTests.cluster(count) { i, c in
            c.gossip.faultInjection = true
            c.cluster.port = 0
            // The suite runs tests side by side on two cores: an owner may take longer than 200 ms to answer.
            c.cluster.peerTimeout = 5
            configure(i, &c)
        }
        for n in nodes {
            let stats = try await n.stats { s in ((s["cluster"] as? [String: Any])?["members"] as? [Any])?.count == count }
            try #require(((stats["cluster"] as? [String: Any])?["members"] as? [Any])?.count == count)
        }
        return nodes
    }

    static func address(_ n: TestNode) -> String { "127.0.0.1:\(n.server.gossipPort!)" }

    static func route(_ origin: TestOrigin, _ path: String, body: [UInt8] = photo) {
        origin.route(path, body: body, headers: jpegHeaders + [("Cache-Control", "max-age=3600")])
    }

    static func counts(_ n: TestNode, _ group: String) async throws -> [String: Int] {
        ((try await n.stats()["cluster"] as? [String: Any])?[group] as? [String: Int]) ?? [:]
    }

    /// A path none of `avoid` has seen whose `?w=20` variant `owner` owns, as `asker` ranks the members.
    static func path(ownedBy owner: TestNode, asker: TestNode, prefix: String) throws -> String {
        for i in 0..<200 {
            let p = "/\(prefix)\(i).jpg"
            if asker.server.owner(host: "web.test", target: p + "?w=20") == address(owner) { return p }
        }
        throw CancellationError()
    }

    /// Should fetch and transform each variant once for the whole cluster, whichever nodes are asked for it and in
    /// whatever order, serve the same bytes everywhere, and keep copies where it was asked (hits after).
    @Test func eachVariantIsFilledOnceForTheCluster() async throws {
        let nodes = try await Self.cluster(3)
        defer { Task { for n in nodes { await n.stop() }; try? await nodes[0].origin.shutdown() } }
        let origin = nodes[0].origin
        let paths = (0..<9).map { "/once\($0).jpg" }
        for p in paths { Self.route(origin, p) }
        for (i, p) in paths.enumerated() {
            var bodies: [[UInt8]] = []
            for k in 0..<3 {
                let r = try await nodes[(i + k) % 3].get(p + "?w=20")
                #expect(r.status == 200)
                bodies.append(r.body)
            }
            #expect(Set(bodies).count == 1, "every node serves the owner's bytes")
            #expect(origin.count(p) == 1, "\(p): fetched \(origin.count(p)) times")
            for n in nodes { #expect(try await n.get(p + "?w=20").header("x-cache") == "HIT") }
        }
        // Every width of one image, each asked of another node: one owner makes them all, from one fetch.
        Self.route(origin, "/widths.jpg")
        for (k, w) in [20, 30, 40, 50, 60, 70].enumerated() {
            #expect(try await nodes[k % 3].get("/widths.jpg?w=\(w)").status == 200)
        }
        #expect(origin.count("/widths.jpg") == 1)
        // Concurrent misses on every node for one new variant: one fetch.
        Self.route(origin, "/together.jpg")
        try await withThrowingTaskGroup(of: Int.self) { group in
            for n in nodes { for _ in 0..<4 { group.addTask { try await n.get("/together.jpg?w=30").status } } }
            for try await status in group { #expect(status == 200) }
        }
        #expect(origin.count("/together.jpg") == 1)
        // Every ask was answered with the variant, and every answer was counted by its owner.
        var asks: [String: Int] = [:], served: [String: Int] = [:]
        for n in nodes {
            asks.merge(try await Self.counts(n, "asks"), uniquingKeysWith: +)
            served.merge(try await Self.counts(n, "served"), uniquingKeysWith: +)
        }
        #expect(asks["entry"] ?? 0 >= 12, "\(asks)")
        #expect(asks["fallback"] == nil && asks["unreachable"] == nil && asks["declined"] == nil, "\(asks)")
        #expect(asks["entry"] == (served["hit"] ?? 0) + (served["filled"] ?? 0), "\(asks) \(served)")
    }

    /// A member of the cluster that is not an imgedge node: on a UDP socket of its own it answers the node's
    /// digests and acknowledges its pushes as a member does (so it stays alive in the node's view however slowly
    /// the machine runs), and greets the node every 20 ms; it offers peer fill on `peer`'s port, where the test
    /// answers asks for `/v1/fill` as it likes.
    final class FakeMember: Sendable {
        let address: String
        let peer: TestOrigin
        private let channel: any Channel
        private let group: MultiThreadedEventLoopGroup
        private let task: Task<Void, Never>

        init(node: TestNode) async throws {
            let peer = try await TestOrigin.start()
            self.peer = peer
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            self.group = group
            let card = PeerCard(port: UInt16(peer.port), weight: 1)
            let target = try SocketAddress(ipAddress: "127.0.0.1", port: node.server.gossipPort!)
            let seq = Atomic<UInt64>(0)
            let box = NIOLockedValueBox<String>("")
            let codec = GossipCodec(secret: ClusterNodeTests.secret)
            @Sendable func envelope(_ message: GossipMessage) -> [UInt8] {
                codec.seal(GossipEnvelope(sender: box.withLockedValue { $0 }, epoch: 1, seq: seq.add(1, ordering: .relaxed).newValue,
                                          sentAt: UInt64(Date().timeIntervalSince1970 * 1e6), clock: 0, card: card,
                                          message: message))
            }
            let channel = try await DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(Responder(codec: codec, target: target, envelope: envelope))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            self.channel = channel
            address = "127.0.0.1:\(channel.localAddress!.port!)"
            box.withLockedValue { [address] in $0 = address }
            task = Task {
                while !Task.isCancelled {
                    let bytes = envelope(.ack(id: 0))
                    try? await channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: bytes)))
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
        }

        /// Answers digest requests with an empty reply and pushes with their acknowledgement.
        final class Responder: ChannelInboundHandler, Sendable {
            typealias InboundIn = AddressedEnvelope<ByteBuffer>
            typealias OutboundOut = AddressedEnvelope<ByteBuffer>
            let codec: GossipCodec
            let target: SocketAddress
            let envelope: @Sendable (GossipMessage) -> [UInt8]

            init(codec: GossipCodec, target: SocketAddress, envelope: @escaping @Sendable (GossipMessage) -> [UInt8]) {
                self.codec = codec
                self.target = target
                self.envelope = envelope
            }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                guard let received = try? codec.open(Array(buffer: unwrapInboundIn(data).data)) else { return }
                let reply: GossipMessage
                switch received.message {
                case .digest(let d) where !d.isReply:
                    reply = .digest(Digest(isReply: true, range: d.range, vector: [], members: []))
                case .push(let id, _, _, _):
                    reply = .ack(id: id)
                default:
                    return
                }
                context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: target,
                                                                        data: ByteBuffer(bytes: envelope(reply)))),
                                      promise: nil)
            }
        }

        func stop() async {
            task.cancel()
            try? await channel.close()
            try? await group.shutdownGracefully()
            try? await peer.shutdown()
        }
    }

    /// One node and a fake member it knows alive, once it does.
    static func nodeWithFake(configure: @escaping (inout NodeConfig) -> Void = { _ in }) async throws -> (TestNode, FakeMember) {
        let nodes = try await Self.cluster(1) { _, c in configure(&c) }
        let fake = try await FakeMember(node: nodes[0])
        let stats = try await nodes[0].stats { s in ((s["cluster"] as? [String: Any])?["members"] as? [Any])?.count == 2 }
        try #require(((stats["cluster"] as? [String: Any])?["members"] as? [Any])?.count == 2)
        return (nodes[0], fake)
    }

    /// A path whose `?w=20` variant `node` ranks the fake member first for.
    static func path(ownedBy fake: FakeMember, on node: TestNode, prefix: String) throws -> String {
        for i in 0..<200 {
            let p = "/\(prefix)\(i).jpg"
            if node.server.owner(host: "web.test", target: p + "?w=20") == fake.address { return p }
        }
        throw CancellationError()
    }

    /// Should skip an owner that sends no response head within `cluster.peerTimeout`, fill from the origin
    /// instead, and not wait on that owner again (it is still alive by gossip, but was found unreachable).
    @Test func unresponsiveOwnerIsSkippedOnce() async throws {
        let (node, fake) = try await Self.nodeWithFake { c in
            c.cluster.peerTimeout = 0.2
            c.cluster.retryAfter = 600
        }
        defer { Task { await fake.stop(); await node.stopAll() } }
        fake.peer.hold("/v1/fill")
        let first = try Self.path(ownedBy: fake, on: node, prefix: "dead-a")
        let second = try Self.path(ownedBy: fake, on: node, prefix: "dead-b")
        Self.route(node.origin, first)
        Self.route(node.origin, second)
        #expect(try await node.get(first + "?w=20").status == 200)
        #expect(try await node.get(second + "?w=20").status == 200)
        #expect(fake.peer.count("/v1/fill") == 1, "the owner was asked once")
        let asks = try await Self.counts(node, "asks")
        #expect(asks["unreachable"] == 1 && asks["fallback"] == 1 && asks["own"] == 1, "\(asks)")
        #expect(node.origin.count(first) == 1 && node.origin.count(second) == 1)
        fake.peer.release()
    }

    /// Should use an owner's copy, and refuse one that a purge applied here covers (its fetch began before the
    /// purge on the hybrid clock) even when the owner has not heard of the purge: the variant is made again here.
    @Test func purgeHoldsAcrossTheHop() async throws {
        let (node, fake) = try await Self.nodeWithFake { c in c.sweepInterval = 0.05 }
        defer { Task { await fake.stop(); await node.stopAll() } }
        let fetchedAt = Date().timeIntervalSince1970 - 5
        let ownersBytes: [UInt8] = Array("the owner's copy".utf8)
        fake.peer.route("/v1/fill") { request in
            let target = request.header("imgedge-peer-target") ?? ""
            let path = String(target.split(separator: "?")[0])
            let entry = CacheEntry(contentType: "image/jpeg", etag: "\"owner\"", fetchedAt: fetchedAt,
                                   freshness: EntryFreshness(responseTime: fetchedAt, initialAge: 0, lifetime: 3600),
                                   source: "web", path: path, variesOnAccept: false, body: ownersBytes)
            let nonce = UInt64(request.header("imgedge-peer-nonce") ?? "") ?? 0
            let frame = PeerProtocol(secret: ClusterNodeTests.secret).seal(.entry(entry.encoded(), storable: true, uncacheable: nil),
                                                                            clock: 0, nonce: nonce)
            return TestOrigin.Route(headers: [("Content-Type", "application/vnd.imgedge-peer")], body: frame)
        }
        // Not purged: the owner's copy is served (and kept), the origin never asked.
        let kept = try Self.path(ownedBy: fake, on: node, prefix: "hop-kept")
        Self.route(node.origin, kept)
        let served = try await node.get(kept + "?w=20")
        #expect(served.status == 200 && served.body == ownersBytes)
        #expect(served.header("server-timing")?.contains("peer;") == true)
        #expect(try await node.get(kept + "?w=20").header("x-cache") == "HIT")
        #expect(node.origin.count(kept) == 0)
        // Purged here after the owner's fetch: its copy is refused and the variant made here from the origin.
        let purged = try Self.path(ownedBy: fake, on: node, prefix: "hop-purged")
        Self.route(node.origin, purged)
        #expect(try await PurgeNodeTests.purge(node, #"{"url": "http://web.test\#(purged)"}"#).status == 202)
        // …and its tombstone expired by a sweep here (nothing stored here was covered), as may happen before a
        // partitioned owner hears of the purge.
        let swept = try await node.stats { s in (s["tombstonesExpired"] as? Int ?? 0) >= 1 }
        #expect(swept["tombstonesExpired"] as? Int ?? 0 >= 1)
        let again = try await node.get(purged + "?w=20")
        #expect(again.status == 200 && again.body != ownersBytes && again.header("x-cache") == "MISS")
        #expect(try await Self.counts(node, "asks")["purged"] == 1)
        #expect(node.origin.count(purged) == 1)
        #expect(fake.peer.count("/v1/fill") == 2)
    }

    /// Should refuse asks not sealed with the cluster's secret, and the replay of one that was.
    @Test func asksFromOutsideAreRefused() async throws {
        let nodes = try await Self.cluster(1)
        defer { Task { for n in nodes { await n.stop() }; try? await nodes[0].origin.shutdown() } }
        let port = try #require(nodes[0].server.peerPort)
        func headers(_ secret: String, nonce: UInt64) -> [(String, String)] {
            let ask = PeerProtocol.Ask(sender: "127.0.0.1:1", time: UInt64(Date().timeIntervalSince1970 * 1e6), nonce: nonce,
                                       key: String(repeating: "0", count: 64), clock: 1, host: "web.test",
                                       target: "/x.jpg?w=20", accept: "", hints: ["", "", ""])
            let mac = PeerProtocol(secret: secret).mac(ask)
            return [("imgedge-peer-sender", ask.sender), ("imgedge-peer-time", String(ask.time)),
                    ("imgedge-peer-nonce", String(nonce)), ("imgedge-peer-key", ask.key), ("imgedge-peer-clock", "1"),
                    ("imgedge-peer-host", ask.host), ("imgedge-peer-target", ask.target), ("imgedge-peer-accept", ""),
                    ("imgedge-peer-width", ""), ("imgedge-peer-dpr", ""), ("imgedge-peer-save-data", ""),
                    ("imgedge-peer-mac", mac)]
        }
        #expect(try await TestHTTPClient.get(port: port, "/v1/fill").status == 403)
        #expect(try await TestHTTPClient.get(port: port, "/v1/fill", headers: headers("not-the-cluster-secret", nonce: 7)).status == 403)
        let genuine = headers(Self.secret, nonce: 8)
        let answered = try await TestHTTPClient.get(port: port, "/v1/fill", headers: genuine)
        #expect(answered.status == 200)
        // The ask named another key than this node makes of the request: declined, the asker fills for itself.
        let frame = try PeerProtocol(secret: Self.secret).open(answered.body, nonce: 8)
        #expect(frame.answer == .error(status: 409, message: "this node resolves the request otherwise", declined: true))
        #expect(try await TestHTTPClient.get(port: port, "/v1/fill", headers: genuine).status == 403)
        #expect(try await Self.counts(nodes[0], "served")["refused"] == 3)
    }

    /// Should serve an owner's answer without keeping it with `cluster.storeCopies: false`.
    @Test func copiesCanBeLeftToTheOwner() async throws {
        let nodes = try await Self.cluster(2) { _, c in c.cluster.storeCopies = false }
        defer { Task { for n in nodes { await n.stop() }; try? await nodes[0].origin.shutdown() } }
        let p = try Self.path(ownedBy: nodes[1], asker: nodes[0], prefix: "nocopy")
        Self.route(nodes[0].origin, p)
        for _ in 0..<2 {
            let r = try await nodes[0].get(p + "?w=20")
            #expect(r.status == 200)
            #expect(r.header("x-cache") == "MISS")
            #expect(r.header("cache-control")?.hasPrefix("public") == true)
        }
        #expect(try await Self.counts(nodes[0], "asks")["entry"] == 2)
        #expect(try await Self.counts(nodes[1], "served")["hit"] == 1)
        #expect(nodes[0].origin.count(p) == 1)
    }
}
