import EdgeCore
import EdgeGossip
import EdgeNode
import EdgePrivacy
import EdgeTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Purge gossip between real nodes over UDP on loopback: a purge on one node stops every node from serving what
/// it covers, the fill race is closed across nodes, and forged or replayed datagrams change nothing.
@Suite struct GossipNodeTests {
    static let secret = "cluster-secret-for-tests-0001"

    /// Three nodes on one origin: the first alone, the others seeded with it (the first learns them).
    static func cluster(_ count: Int = 3, configure: @escaping (Int, inout NodeConfig) -> Void = { _, _ in }) async throws -> [TestNode] {
        let origin = try await TestOrigin.start()
        var nodes: [TestNode] = []
        for i in 0..<count {
            let seeds = nodes.first.map { ["127.0.0.1:\($0.server.gossipPort!)"] } ?? []
            nodes.append(try await TestNode.start(origin: origin) { c in
                c.nodeID = "node\(i)"
                c.sources[0].customer = "acme"
                c.adminKeys = [AdminKey(id: "ops", secret: PurgeNodeTests.operatorSecret, scope: .operator)!,
                               AdminKey(id: "acme", secret: PurgeNodeTests.acmeSecret, scope: .customer("acme"))!,
                               AdminKey(id: "other", secret: "other-customer-secret-1", scope: .customer("other"))!]
                c.gossip.port = 0
                c.gossip.secret = secret
                c.gossip.peers = seeds
                c.gossip.syncTimeout = 2
                configure(i, &c)
            })
        }
        return nodes
    }

    static func stopAll(_ nodes: [TestNode]) async {
        for n in nodes { await n.stop() }
        try? await nodes.first?.origin.shutdown()
    }

    /// Waits (bounded) until `GET /v1/purge/{id}` on `node` reports every node applied; returns its last body.
    static func waitComplete(_ node: TestNode, _ id: String) async throws -> String {
        var body = ""
        for _ in 0..<400 {
            let r = try await node.admin("/v1/purge/\(id)", secret: PurgeNodeTests.operatorSecret)
            body = String(decoding: r.body, as: UTF8.self)
            if r.status == 200 && body.contains(#""complete":true"#) { return body }
            try await Task.sleep(for: .milliseconds(10))
        }
        return body
    }

    static func purgeID(_ r: TestHTTPResponse) throws -> String {
        let json = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]
        return try #require(json?["id"] as? String)
    }

    static func route(_ node: TestNode, _ path: String) {
        node.origin.route(path, body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=3600")])
    }

    /// Should stop every node from serving a purged image once the purge is reported applied everywhere.
    @Test func purgeReachesEveryNode() async throws {
        let nodes = try await Self.cluster()
        defer { Task { await Self.stopAll(nodes) } }
        Self.route(nodes[0], "/a.jpg")
        for n in nodes {
            _ = try await n.get("/a.jpg?w=20")
            #expect(try await n.get("/a.jpg?w=20").header("x-cache") == "HIT")
        }
        #expect(nodes[0].origin.count("/a.jpg") == 3)
        // Purged on the last node (which knows only the first as a seed): the first passes it on.
        let r = try await PurgeNodeTests.purge(nodes[2], #"{"url": "http://web.test/a.jpg"}"#)
        #expect(r.status == 202)
        let id = try Self.purgeID(r)
        let status = try await Self.waitComplete(nodes[2], id)
        #expect(status.contains(#""complete":true"#), "\(status)")
        for n in nodes { #expect(try await n.get("/a.jpg?w=20").header("x-cache") == "MISS") }
        #expect(nodes[0].origin.count("/a.jpg") == 6)
    }

    /// Should not store, on another node, a fill whose origin fetch started before a purge made elsewhere.
    @Test func fillRaceAcrossNodes() async throws {
        let nodes = try await Self.cluster(2)
        defer { Task { await Self.stopAll(nodes) } }
        let origin = nodes[0].origin
        Self.route(nodes[0], "/slow.jpg")
        origin.hold("/slow.jpg")
        async let inFlight = nodes[1].get("/slow.jpg?w=20")
        for _ in 0..<6000 where origin.count("/slow.jpg") == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try #require(origin.count("/slow.jpg") == 1)
        let r = try await PurgeNodeTests.purge(nodes[0], #"{"source": "web", "path": "/slow.jpg"}"#)
        let status = try await Self.waitComplete(nodes[0], try Self.purgeID(r))
        #expect(status.contains(#""complete":true"#))
        origin.release()
        #expect(try await inFlight.status == 200)
        // The fill that began before the purge was made again from a fetch after it, and that one is cached.
        #expect(origin.count("/slow.jpg") == 2)
        #expect(try await nodes[1].get("/slow.jpg?w=20").header("x-cache") == "HIT")
    }

    /// Should refuse a forged datagram, apply an authentic one once, and refuse its replay; no cache flush repeats.
    @Test func forgedAndReplayedDatagrams() async throws {
        let nodes = try await Self.cluster(2)
        defer { Task { await Self.stopAll(nodes) } }
        let target = nodes[1]
        Self.route(target, "/b.jpg")
        _ = try await target.get("/b.jpg?w=20")
        let purge = GossipPurge(stream: "intruder-1", seq: 1, time: UInt64(Date().timeIntervalSince1970 * 1e6),
                                selectors: [.image(source: "web", path: "/b.jpg")])
        func datagram(_ secret: String, seq: UInt64) -> [UInt8] {
            GossipCodec(secret: secret).seal(GossipEnvelope(
                sender: "127.0.0.1:9", epoch: 1, seq: seq, sentAt: UInt64(Date().timeIntervalSince1970 * 1e6), clock: 0,
                message: .push(id: 1, relay: nil, purges: [purge])))
        }
        try sendUDP(datagram("not-the-cluster-secret", seq: 1), port: target.server.gossipPort!)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await target.get("/b.jpg?w=20").header("x-cache") == "HIT")
        #expect(try await Self.gossipCount(target, "refused forged") == 1)

        let genuine = datagram(Self.secret, seq: 1)
        try sendUDP(genuine, port: target.server.gossipPort!)
        var cache = ""
        for _ in 0..<200 {
            cache = try await target.get("/b.jpg?w=20").header("x-cache") ?? ""
            if cache == "MISS" { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(cache == "MISS")
        #expect(try await target.get("/b.jpg?w=20").header("x-cache") == "HIT")
        try sendUDP(genuine, port: target.server.gossipPort!)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await Self.gossipCount(target, "refused replayed") == 1)
        #expect(try await target.get("/b.jpg?w=20").header("x-cache") == "HIT")
    }

    static func switchSource(_ node: TestNode, _ name: String, _ action: String, secret: String) async throws -> Int {
        try await node.admin("/v1/sources/\(name)/\(action)", method: .POST, secret: secret).status
    }

    /// Should refuse a source on every node once its customer disables it on one (its variants dropped), serve it
    /// again once enabled, keep the decision across a restart, and take the decision only from that customer.
    @Test func customerDisablesSource() async throws {
        let nodes = try await Self.cluster(2)
        defer { Task { await Self.stopAll(nodes) } }
        Self.route(nodes[0], "/c.jpg")
        for n in nodes { _ = try await n.get("/c.jpg?w=20") }
        #expect(try await Self.switchSource(nodes[0], "web", "disable", secret: PurgeNodeTests.operatorSecret) == 403)
        #expect(try await Self.switchSource(nodes[0], "web", "disable", secret: "other-customer-secret-1") == 403)
        #expect(try await Self.switchSource(nodes[0], "nope", "disable", secret: PurgeNodeTests.acmeSecret) == 404)
        #expect(try await Self.switchSource(nodes[0], "web", "disable", secret: "wrong-secret-0000000000") == 401)
        #expect(try await Self.switchSource(nodes[0], "web", "disable", secret: PurgeNodeTests.acmeSecret) == 200)
        #expect(try await nodes[0].get("/c.jpg?w=20").status == 403)
        var status = 0
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(1) {
            status = try await nodes[1].get("/c.jpg?w=20").status
            if status == 403 { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(status == 403)   // on the second node within a second
        let fetched = nodes[0].origin.count("/c.jpg")
        #expect(try await Self.switchSource(nodes[1], "web", "enable", secret: PurgeNodeTests.acmeSecret) == 200)
        for _ in 0..<200 where try await nodes[0].get("/c.jpg?w=20").status == 403 { try await Task.sleep(for: .milliseconds(5)) }
        // Served again, from the origin: the variants cached before were dropped when it was disabled.
        #expect(try await nodes[1].get("/c.jpg?w=20").header("x-cache") == "MISS")
        #expect(nodes[0].origin.count("/c.jpg") > fetched)
        let list = try await nodes[0].admin("/v1/sources", secret: PurgeNodeTests.acmeSecret)
        #expect(String(decoding: list.body, as: UTF8.self).contains(#""source":"web","enabled":true"#))
    }

    /// Should honour on every node a grant made on one, and refuse it everywhere soon after it is revoked.
    @Test func grantsAndRevocationsAcrossNodes() async throws {
        let nodes = try await Self.cluster(2)
        defer { Task { await Self.stopAll(nodes) } }
        func post(_ node: TestNode, _ target: String, _ secret: String, grant: String? = nil, body: String? = nil) async throws -> TestHTTPResponse {
            try await node.admin(target, method: .POST, secret: secret, grant: grant, body: body)
        }
        let made = try await post(nodes[0], "/v1/assistance", PurgeNodeTests.acmeSecret, body: #"{"scope": ["purge"], "duration": 600}"#)
        let token = try #require((try JSONSerialization.jsonObject(with: Data(made.body)) as? [String: Any])?["grant"] as? String)
        #expect(try await post(nodes[1], "/v1/purge", PurgeNodeTests.operatorSecret, grant: token,
                               body: #"{"source": "web"}"#).status == 202)
        #expect(try await post(nodes[0], "/v1/assistance/revoke", PurgeNodeTests.acmeSecret,
                               body: #"{"grant": "\#(token)"}"#).status == 200)
        var status = 0
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(1) {
            status = try await post(nodes[1], "/v1/purge", PurgeNodeTests.operatorSecret, grant: token, body: #"{"source": "web"}"#).status
            if status == 403 { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(status == 403)
    }

    /// Should still refuse a disabled source after the node restarts.
    @Test func disabledSourceSurvivesRestart() async throws {
        let node = try await PurgeNodeTests.start()
        defer { Task { try? await node.origin.shutdown() } }
        Self.route(node, "/d.jpg")
        #expect(try await Self.switchSource(node, "web", "disable", secret: PurgeNodeTests.acmeSecret) == 200)
        await node.stop()
        let again = try await PurgeNodeTests.start(cacheDir: node.cacheDir, origin: node.origin)
        defer { Task { await again.stop() } }
        #expect(try await again.get("/d.jpg?w=20").status == 403)
        #expect(node.origin.count("/d.jpg") == 0)
    }

    static func gossipCount(_ node: TestNode, _ key: String) async throws -> Int {
        let counts = (try await node.stats()["gossip"] as? [String: Any])?["counts"] as? [String: Any]
        return counts?[key] as? Int ?? 0
    }
}

/// Sends one UDP datagram to 127.0.0.1:`port`.
func sendUDP(_ bytes: [UInt8], port: Int) throws {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let sent = withUnsafePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
    guard sent == bytes.count else { throw POSIXError(.EIO) }
}
