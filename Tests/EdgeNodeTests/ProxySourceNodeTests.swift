import EdgeCore
import EdgeNode
import EdgePrivacy
import EdgeTestSupport
import Foundation
import Testing

/// `proxy` sources (imgix web proxy) through a real node: signed URLs only, the URL checked before and while
/// it is fetched, cached and purged under the URL it names.
@Suite struct ProxySourceNodeTests {
    static let token = SecureURLTests.token

    /// A node with a proxy source on `proxy.test` beside the test node's web and folder sources.
    static func start(allowedHosts: [String] = [], addresses: NetworkAddressPolicy = .anyUnicast) async throws -> TestNode {
        try await TestNode.start { c in
            var proxy = SourceConfig(name: "proxy", kind: .proxy, hosts: ["proxy.test"])
            proxy.secureToken = token
            proxy.requireSignature = true
            proxy.networkPolicy = addresses
            proxy.allowedHosts = allowedHosts.compactMap { HostPattern($0) }
            c.sources.append(proxy)
            c.adminKeys = [AdminKey(id: "ops", secret: PurgeNodeTests.operatorSecret, scope: .operator)!]
        }
    }

    /// The request path for `url`: percent-encoded as imgix's libraries encode it.
    static func path(_ url: String) -> String {
        "/" + url.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    }

    /// A signed request target for `url`.
    static func signed(_ url: String, _ query: String = "w=100") -> String { SecureURLTests.sign(path(url), query) }

    /// Should fetch, transform and cache the image a signed URL names, the same entry for its plain spelling.
    @Test func signedURLFetched() async throws {
        let node = try await Self.start()
        node.origin.route("/a.jpg", body: photo, headers: jpegHeaders)
        let url = node.origin.baseURL + "/a.jpg"
        let r = try await node.get(Self.signed(url), host: "proxy.test")
        #expect(r.status == 200)
        #expect(r.header("content-type") == "image/jpeg")
        #expect(r.header("x-cache") == "MISS")
        #expect(try await node.get(Self.signed(url), host: "proxy.test").header("x-cache") == "HIT")
        let plain = SecureURLTests.sign("/" + url.uppercased().replacingOccurrences(of: "/A.JPG", with: "/a.jpg"), "w=100")
        #expect(try await node.get(plain, host: "proxy.test").header("x-cache") == "HIT")
        #expect(node.origin.count("/a.jpg") == 1)
        await node.stopAll()
    }

    /// Should refuse unsigned and wrongly signed URLs with 403, fetching nothing.
    @Test func unsignedRefused() async throws {
        let node = try await Self.start()
        node.origin.route("/a.jpg", body: photo, headers: jpegHeaders)
        let url = node.origin.baseURL + "/a.jpg"
        #expect(try await node.get(Self.path(url) + "?w=100", host: "proxy.test").status == 403)
        #expect(try await node.get(Self.path(url), host: "proxy.test").status == 403)
        let other = SecureURLTests.sign(Self.path(url), "w=100", token: "another-token-1234")
        #expect(try await node.get(other, host: "proxy.test").status == 403)
        #expect(node.origin.totalRequests == 0)
        await node.stopAll()
    }

    /// Should answer 400 for a signed path that names no http(s) URL, fetching nothing.
    @Test func badSchemes() async throws {
        let node = try await Self.start()
        for url in ["ftp://127.0.0.1:\(node.origin.port)/a.jpg", "file:///etc/passwd", "gopher://127.0.0.1/", "127.0.0.1/a.jpg",
                    "http://user:pw@127.0.0.1:\(node.origin.port)/a.jpg"] {
            let r = try await node.get(Self.signed(url), host: "proxy.test")
            #expect(r.status == 400, "\(url)")
            #expect(!r.text.contains("127.0.0.1") && !r.text.contains("passwd"), "\(url)")
        }
        #expect(node.origin.totalRequests == 0)
        await node.stopAll()
    }

    /// Should fetch only from allowedHosts when set, for the URL and its redirects, with nothing sent elsewhere.
    @Test func allowedHostsEnforced() async throws {
        let other = try await TestOrigin.start(host: "127.0.0.2")
        other.route("/b.jpg", body: photo, headers: jpegHeaders)
        let node = try await Self.start(allowedHosts: ["127.0.0.1"])
        node.origin.route("/a.jpg", body: photo, headers: jpegHeaders)
        node.origin.route("/away.jpg", status: 302, headers: [("Location", other.baseURL + "/b.jpg")])
        #expect(try await node.get(Self.signed(node.origin.baseURL + "/a.jpg"), host: "proxy.test").status == 200)
        let direct = try await node.get(Self.signed(other.baseURL + "/b.jpg"), host: "proxy.test")
        #expect(direct.status == 403)
        #expect(direct.text.contains("origin host not allowed"))
        let redirected = try await node.get(Self.signed(node.origin.baseURL + "/away.jpg"), host: "proxy.test")
        #expect(redirected.status == 403)
        #expect(other.connectionCount == 0)
        await node.stopAll()
        try await other.shutdown()
    }

    /// Should refuse loopback, however spelled, for a proxy source without allowPrivateNetwork.
    @Test func addressGuard() async throws {
        let node = try await Self.start(addresses: .publicOnly)
        node.origin.route("/a.jpg", body: photo, headers: jpegHeaders)
        let port = node.origin.port
        for url in ["http://127.0.0.1:\(port)/a.jpg", "http://localhost:\(port)/a.jpg", "http://[::ffff:127.0.0.1]:\(port)/a.jpg",
                    "http://0.0.0.0:\(port)/a.jpg", "http://2130706433:\(port)/a.jpg"] {
            let r = try await node.get(Self.signed(url), host: "proxy.test")
            #expect(r.status == 403, "\(url)")
            #expect(r.text.contains("origin address not allowed"), "\(url)")
        }
        #expect(node.origin.connectionCount == 0)
        await node.stopAll()
    }

    /// Should purge a proxied image by its edge URL, by source and URL, and by a URL prefix.
    @Test func purges() async throws {
        let node = try await Self.start()
        for name in ["a", "b", "c"] { node.origin.route("/img/\(name).jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=3600")]) }
        let urls = ["a", "b", "c"].map { node.origin.baseURL + "/img/\($0).jpg" }
        for u in urls { _ = try await node.get(Self.signed(u), host: "proxy.test") }
        func cache(_ u: String) async throws -> String? { try await node.get(Self.signed(u), host: "proxy.test").header("x-cache") }
        #expect(try await cache(urls[0]) == "HIT")
        let byEdgeURL = #"{"url": "http://proxy.test\#(Self.path(urls[0]))"}"#
        #expect(try await PurgeNodeTests.purge(node, byEdgeURL).status == 202)
        #expect(try await cache(urls[0]) == "MISS")
        #expect(try await cache(urls[1]) == "HIT")
        #expect(try await PurgeNodeTests.purge(node, #"{"source": "proxy", "path": "\#(urls[1])"}"#).status == 202)
        #expect(try await cache(urls[1]) == "MISS")
        let prefix = node.origin.baseURL + "/img/"
        #expect(try await PurgeNodeTests.purge(node, #"{"source": "proxy", "prefix": "\#(prefix)"}"#).status == 202)
        for u in urls { #expect(try await cache(u) == "MISS") }
        #expect(try await PurgeNodeTests.purge(node, #"{"source": "proxy", "path": "ftp://x/a.jpg"}"#).status == 400)
        await node.stopAll()
    }
}
