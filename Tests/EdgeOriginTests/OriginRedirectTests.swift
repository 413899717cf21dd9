import EdgeCore
import EdgeOrigin
import EdgeTestSupport
import Testing

/// Redirects followed by the fetcher, each one checked like the first request, over real loopback HTTP.
@Suite struct OriginRedirectTests {
    /// Hosts a web source on `origin` may name: its base URL's host and `extra`.
    static func hosts(_ origin: TestOrigin, _ extra: [String] = []) -> OriginHosts {
        .only(([origin.host] + extra).compactMap { HostPattern($0) })
    }

    static func get(_ url: String, addresses: NetworkAddressPolicy = .anyUnicast, hosts: OriginHosts = .any,
                    conditional: [(name: String, value: String)] = [], maxBytes: Int = 10_000,
                    fetcher: CurlOriginFetcher = CurlOriginFetcher()) async -> Result<OriginResponse, EdgeError> {
        do {
            return .success(try await offload { () throws(EdgeError) in
                try fetcher.get(url: url, maxBytes: maxBytes, conditional: conditional, addresses: addresses, hosts: hosts)
            })
        } catch {
            return .failure(error)
        }
    }

    /// Should follow each redirect status to a relative Location on the same host.
    @Test(arguments: [301, 302, 303, 307, 308])
    func followsRedirectStatuses(status: Int) async throws {
        let origin = try await TestOrigin.start()
        origin.route("/a.jpg", status: status, headers: [("Location", "b.jpg")])
        origin.route("/b.jpg", body: pattern(10), headers: [("Content-Type", "image/jpeg")])
        let r = try await Self.get(origin.baseURL + "/a.jpg", hosts: Self.hosts(origin)).get()
        #expect(r.body == pattern(10))
        #expect(r.header("content-type") == "image/jpeg")
        #expect(origin.count("/a.jpg") == 1 && origin.count("/b.jpg") == 1)
        try await origin.shutdown()
    }

    /// Should follow three redirects (absolute, relative, scheme-relative Locations) and answer 502 "too many
    /// redirects" for a fourth, without requesting its target.
    @Test func threeRedirectsAtMost() async throws {
        let origin = try await TestOrigin.start()
        origin.route("/r1", status: 302, headers: [("Location", origin.baseURL + "/r2")])
        origin.route("/r2", status: 301, headers: [("Location", "/r3")])
        origin.route("/r3", status: 307, headers: [("Location", "//\(origin.host):\(origin.port)/final")])
        origin.route("/final", body: pattern(20))
        let r = try await Self.get(origin.baseURL + "/r1", hosts: Self.hosts(origin)).get()
        #expect(r.body == pattern(20))
        origin.route("/r0", status: 308, headers: [("Location", "/r1")])
        let error = await fetchError { () throws(EdgeError) in
            try CurlOriginFetcher().get(url: origin.baseURL + "/r0", maxBytes: 1000, addresses: .anyUnicast, hosts: .any)
        }
        #expect(error?.status == 502)
        #expect(error?.publicMessage == "too many redirects")
        #expect(origin.count("/final") == 1)
        #expect(origin.count("/r3") == 2)
        try await origin.shutdown()
    }

    /// Should refuse (403) a redirect to a host the source does not allow, with nothing sent to it, and follow
    /// one to a host in its allowedHosts.
    @Test func redirectHostsChecked() async throws {
        let origin = try await TestOrigin.start()
        let other = try await TestOrigin.start(host: "127.0.0.2")
        other.route("/b.jpg", body: pattern(30))
        origin.route("/away.jpg", status: 302, headers: [("Location", other.baseURL + "/b.jpg")])
        origin.route("/named.jpg", status: 302, headers: [("Location", "http://localhost:\(origin.port)/c.jpg")])
        origin.route("/c.jpg", body: pattern(40))
        let refused = await Self.get(origin.baseURL + "/away.jpg", hosts: Self.hosts(origin))
        #expect(refused.error?.status == 403)
        #expect(refused.error?.publicMessage == "origin host not allowed")
        #expect(other.connectionCount == 0)
        let byName = await Self.get(origin.baseURL + "/named.jpg", hosts: Self.hosts(origin))
        #expect(byName.error?.status == 403)
        #expect(origin.count("/c.jpg") == 0)
        // Allowed by name, by address, and by a wildcard that does not cover the bare domain.
        let followed = try await Self.get(origin.baseURL + "/away.jpg", hosts: Self.hosts(origin, ["127.0.0.2"])).get()
        #expect(followed.body == pattern(30))
        let named = try await Self.get(origin.baseURL + "/named.jpg", hosts: Self.hosts(origin, ["LOCALHOST"])).get()
        #expect(named.body == pattern(40))
        let wildcard = await Self.get(origin.baseURL + "/named.jpg", hosts: Self.hosts(origin, ["*.localhost"]))
        #expect(wildcard.error?.status == 403)
        try await other.shutdown()
        try await origin.shutdown()
    }

    /// Should refuse (403) a redirect from an allowed origin to an address the source may not reach, even on an
    /// allowed host, with nothing reaching that address.
    @Test func redirectAddressesChecked() async throws {
        let origin = try await TestOrigin.start()
        let other = try await TestOrigin.start(host: "127.0.0.2")
        let v6 = try await TestOrigin.start(host: "::1")
        for o in [other, v6] { o.route("/b.jpg", body: pattern(30)) }
        origin.route("/to-2.jpg", status: 302, headers: [("Location", other.baseURL + "/b.jpg")])
        origin.route("/to-v6.jpg", status: 307, headers: [("Location", v6.baseURL + "/b.jpg")])
        let onlyFirst = NetworkAddressPolicy(privateNetworks: .only([try IPNetwork("127.0.0.1/32")]))
        for path in ["/to-2.jpg", "/to-v6.jpg"] {
            let r = await Self.get(origin.baseURL + path, addresses: onlyFirst, hosts: .any)
            #expect(r.error?.status == 403, "\(path)")
            #expect(r.error?.publicMessage == "origin address not allowed", "\(path)")
        }
        #expect(other.connectionCount == 0 && v6.connectionCount == 0)
        #expect(origin.count("/to-2.jpg") == 1 && origin.count("/to-v6.jpg") == 1)
        // Without any private network allowed, not even the first origin is reached.
        let none = await Self.get(origin.baseURL + "/to-2.jpg", addresses: .publicOnly, hosts: .any)
        #expect(none.error?.status == 403)
        #expect(origin.count("/to-2.jpg") == 1)
        for o in [other, v6, origin] { try await o.shutdown() }
    }

    /// Should refuse redirects to other schemes (ftp, file, gopher…) with 403, and a redirect without a usable
    /// Location with 502.
    @Test(arguments: ["ftp://127.0.0.1/x.jpg", "file:///etc/passwd", "gopher://127.0.0.1:70/x", "dict://127.0.0.1:11211/stat",
                      "FTP://127.0.0.1/x.jpg", "ldap://127.0.0.1/x"])
    func redirectSchemesChecked(location: String) async throws {
        let origin = try await TestOrigin.start()
        origin.route("/a.jpg", status: 302, headers: [("Location", location)])
        let r = await Self.get(origin.baseURL + "/a.jpg")
        #expect(r.error?.status == 403, "\(location)")
        #expect(r.error?.publicMessage == "origin scheme not allowed", "\(location)")
        #expect(origin.totalRequests == 1)
        origin.route("/nowhere.jpg", status: 301)
        #expect(await Self.get(origin.baseURL + "/nowhere.jpg").error?.status == 502)
        try await origin.shutdown()
    }

    /// Should send the conditional headers with redirected requests too, and return the final 304.
    @Test func conditionalAcrossRedirects() async throws {
        let origin = try await TestOrigin.start()
        origin.route("/a.jpg", status: 302, headers: [("Location", "/b.jpg")])
        origin.route("/b.jpg", TestOrigin.Route(headers: [("ETag", "\"v1\"")], body: pattern(10),
                                                notModifiedHeaders: [("Cache-Control", "max-age=60")]))
        let r = try await Self.get(origin.baseURL + "/a.jpg", conditional: [("If-None-Match", "\"v1\"")]).get()
        #expect(r.status == 304)
        #expect(r.body.isEmpty)
        #expect(r.header("cache-control") == "max-age=60")
        #expect(origin.requests.map { $0.header("if-none-match") } == ["\"v1\"", "\"v1\""])
        try await origin.shutdown()
    }

    /// Should bound the whole chain by the total timeout, not each request.
    @Test func timeoutSpansTheChain() async throws {
        let origin = try await TestOrigin.start()
        origin.route("/a.jpg", status: 302, headers: [("Location", "/b.jpg")], delay: .milliseconds(300))
        origin.route("/b.jpg", body: pattern(10), delay: .milliseconds(300))
        let fetcher = CurlOriginFetcher(connectTimeout: .seconds(2), totalTimeout: .milliseconds(450))
        let r = await Self.get(origin.baseURL + "/a.jpg", fetcher: fetcher)
        #expect(r.error?.status == 504)
        #expect(origin.count("/a.jpg") == 1)
        try await origin.shutdown()
    }

    /// Should count the bodies of redirect responses against the size cap, which spans the chain.
    @Test func sizeCapSpansTheChain() async throws {
        let origin = try await TestOrigin.start()
        origin.route("/a.jpg", status: 302, body: pattern(600), headers: [("Location", "/b.jpg")])
        origin.route("/b.jpg", body: pattern(600))
        origin.route("/small.jpg", body: pattern(400))
        origin.route("/c.jpg", status: 302, body: pattern(600), headers: [("Location", "/small.jpg")])
        #expect(await Self.get(origin.baseURL + "/a.jpg", maxBytes: 1000).error?.status == 413)
        #expect(try await Self.get(origin.baseURL + "/c.jpg", maxBytes: 1000).get().body == pattern(400))
        try await origin.shutdown()
    }
}

extension Result {
    /// The failure, or nil on success.
    var error: Failure? {
        if case .failure(let e) = self { e } else { nil }
    }
}
