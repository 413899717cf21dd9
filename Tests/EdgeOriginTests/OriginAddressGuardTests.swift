import EdgeCore
import EdgeOrigin
import EdgeTestSupport
import Testing

/// The SSRF guard against real sockets: the test origins listen on loopback, which no source reaches unless it
/// opens it with `allowPrivateNetwork`.
@Suite struct OriginAddressGuardTests {
    static func get(_ fetcher: CurlOriginFetcher, _ url: String, _ addresses: NetworkAddressPolicy) async -> EdgeError? {
        await fetchError { () throws(EdgeError) in try fetcher.get(url: url, maxBytes: 10_000, addresses: addresses, hosts: .any) }
    }

    /// Should refuse loopback however the URL spells it (names, IPv4-mapped, 0.0.0.0, short and numeric IPv4
    /// forms) with 403 before anything reaches the origin, and never name the URL in the public message.
    @Test func refusesLoopbackSpellings() async throws {
        let origin = try await TestOrigin.start()
        origin.route("/a.jpg", body: pattern(10))
        let port = origin.port
        let fetcher = CurlOriginFetcher(connectTimeout: .seconds(2), totalTimeout: .seconds(5))
        for host in ["127.0.0.1", "localhost", "LocalHost", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "0.0.0.0", "127.1",
                     "2130706433", "0x7f000001", "0177.0.0.1", "[::1]", "[::]"] {
            let error = await Self.get(fetcher, "http://\(host):\(port)/a.jpg", .publicOnly)
            #expect(error?.status == 403, "\(host)")
            #expect(error?.publicMessage == "origin address not allowed", "\(host)")
            #expect(error?.detail?.contains(" is ") == true, "\(host): \(error?.detail ?? "")")
        }
        #expect(origin.connectionCount == 0)
        #expect(origin.totalRequests == 0)
        try await origin.shutdown()
    }

    /// Should say in the log detail which address was refused and why.
    @Test func refusalDetail() async throws {
        let fetcher = CurlOriginFetcher(connectTimeout: .seconds(2), totalTimeout: .seconds(5))
        let loop = await Self.get(fetcher, "http://127.0.0.1:1/a.jpg", .publicOnly)
        #expect(loop?.detail == "127.0.0.1 is loopback")
        let mapped = await Self.get(fetcher, "http://[::ffff:7f00:1]:1/a.jpg", .publicOnly)
        #expect(mapped?.detail == "::ffff:127.0.0.1 is loopback (IPv4-mapped 127.0.0.1)")
        // An allowed address that refuses the connection is an origin failure, not a refusal.
        let closed = await Self.get(fetcher, "http://127.0.0.1:1/a.jpg", .anyUnicast)
        #expect(closed?.status == 502)
    }

    /// Should fetch from loopback once a source allows private networks, all of them or a listed block.
    @Test func allowedWhenOpened() async throws {
        let origin = try await TestOrigin.start()
        origin.route("/a.jpg", body: pattern(10))
        let fetcher = CurlOriginFetcher()
        let all = try await offload { () throws(EdgeError) in
            try fetcher.get(url: origin.baseURL + "/a.jpg", maxBytes: 100, addresses: .anyUnicast, hosts: .any)
        }
        #expect(all.body == pattern(10))
        let listed = NetworkAddressPolicy(privateNetworks: .only([try IPNetwork("127.0.0.1/32")]))
        let one = try await offload { () throws(EdgeError) in
            try fetcher.get(url: origin.baseURL + "/a.jpg", maxBytes: 100, addresses: listed, hosts: .any)
        }
        #expect(one.body == pattern(10))
        #expect(origin.count("/a.jpg") == 2)
        try await origin.shutdown()
    }

    /// Should refuse a loopback address outside the listed block (127.0.0.2, ::1) with nothing reaching it.
    @Test func listedBlockOnly() async throws {
        let other = try await TestOrigin.start(host: "127.0.0.2")
        let v6 = try await TestOrigin.start(host: "::1")
        for o in [other, v6] { o.route("/a.jpg", body: pattern(10)) }
        let listed = NetworkAddressPolicy(privateNetworks: .only([try IPNetwork("127.0.0.1/32")]))
        let fetcher = CurlOriginFetcher()
        for o in [other, v6] {
            let error = await Self.get(fetcher, o.baseURL + "/a.jpg", listed)
            #expect(error?.status == 403, "\(o.baseURL)")
            #expect(o.connectionCount == 0)
        }
        // The same origins are reachable with every private network allowed.
        for o in [other, v6] {
            let r = try await offload { () throws(EdgeError) in
                try fetcher.get(url: o.baseURL + "/a.jpg", maxBytes: 100, addresses: .anyUnicast, hosts: .any)
            }
            #expect(r.body == pattern(10))
            try await o.shutdown()
        }
    }

    /// Should not let a connection kept alive for a source that allows loopback serve one that does not.
    @Test func keptConnectionsStayWithTheirPolicy() async throws {
        let origin = try await TestOrigin.start()
        origin.route("/a.jpg", body: pattern(10))
        let fetcher = CurlOriginFetcher()
        _ = try await offload { () throws(EdgeError) in
            try fetcher.get(url: origin.baseURL + "/a.jpg", maxBytes: 100, addresses: .anyUnicast, hosts: .any)
        }
        for _ in 0..<3 {
            let error = await Self.get(fetcher, origin.baseURL + "/a.jpg", .publicOnly)
            #expect(error?.status == 403)
        }
        #expect(origin.count("/a.jpg") == 1)
        #expect(origin.connectionCount == 1)
        // The allowed source still reuses its connection.
        _ = try await offload { () throws(EdgeError) in
            try fetcher.get(url: origin.baseURL + "/a.jpg", maxBytes: 100, addresses: .anyUnicast, hosts: .any)
        }
        #expect(origin.count("/a.jpg") == 2)
        #expect(origin.connectionCount == 1)
        try await origin.shutdown()
    }
}
