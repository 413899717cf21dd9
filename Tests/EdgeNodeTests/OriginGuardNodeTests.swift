import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

/// The SSRF guard through a real node: what a client sees, and that nothing reaches an origin it may not.
@Suite struct OriginGuardNodeTests {
    /// Should answer 403 "origin address not allowed" for a web source on loopback without allowPrivateNetwork,
    /// with no URL in the body and no request reaching the origin.
    @Test func loopbackWebSourceRefused() async throws {
        let node = try await TestNode.start { $0.sources[0].networkPolicy = .publicOnly }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let r = try await node.get("/photo.jpg?w=100")
        #expect(r.status == 403)
        #expect(r.text.contains("origin address not allowed"))
        #expect(!r.text.contains("127.0.0.1") && !r.text.contains("photo.jpg"))
        #expect(node.origin.connectionCount == 0)
        #expect(node.origin.totalRequests == 0)
        await node.stopAll()
    }

    /// A node whose web source reaches its origin's address (127.0.0.1) and no other private one.
    static func firstOriginOnly(allowedHosts: [String] = []) async throws -> TestNode {
        let only = NetworkAddressPolicy(privateNetworks: .only([try IPNetwork("127.0.0.1/32")]))
        return try await TestNode.start {
            $0.sources[0].networkPolicy = only
            $0.sources[0].allowedHosts = allowedHosts.compactMap { HostPattern($0) }
        }
    }

    /// Should follow an origin's redirect to an allowed host and serve (and cache) the image it leads to.
    @Test func redirectFollowed() async throws {
        let other = try await TestOrigin.start(host: "127.0.0.2")
        let node = try await TestNode.start {
            $0.sources[0].allowedHosts = [HostPattern("127.0.0.2")!]
        }
        node.origin.route("/photo.jpg", status: 302, headers: [("Location", other.baseURL + "/moved.jpg")])
        other.route("/moved.jpg", body: photo, headers: jpegHeaders)
        let r = try await node.get("/photo.jpg?w=100")
        #expect(r.status == 200)
        #expect(r.header("content-type") == "image/jpeg")
        #expect(try await node.get("/photo.jpg?w=100").header("x-cache") == "HIT")
        #expect(other.count("/moved.jpg") == 1)
        await node.stopAll()
        try await other.shutdown()
    }

    /// Should refuse (403) a redirect to an address the source may not reach, even on a host it allows, and one to
    /// a host it does not allow, with nothing reaching the target; and answer 502 past three redirects.
    @Test func redirectsRefused() async throws {
        let other = try await TestOrigin.start(host: "127.0.0.2")
        other.route("/moved.jpg", body: photo, headers: jpegHeaders)
        let node = try await Self.firstOriginOnly(allowedHosts: ["127.0.0.2"])
        node.origin.route("/to-address.jpg", status: 302, headers: [("Location", other.baseURL + "/moved.jpg")])
        node.origin.route("/to-host.jpg", status: 301, headers: [("Location", "http://localhost:\(node.origin.port)/photo.jpg")])
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        for i in 1...4 { node.origin.route("/loop\(i).jpg", status: 307, headers: [("Location", "/loop\(i + 1).jpg")]) }
        node.origin.route("/loop5.jpg", body: photo, headers: jpegHeaders)

        let address = try await node.get("/to-address.jpg?w=100")
        #expect(address.status == 403)
        #expect(address.text.contains("origin address not allowed") && !address.text.contains("127.0.0.2"))
        let host = try await node.get("/to-host.jpg?w=100")
        #expect(host.status == 403)
        #expect(host.text.contains("origin host not allowed") && !host.text.contains("localhost"))
        let loop = try await node.get("/loop1.jpg?w=100")
        #expect(loop.status == 502)
        #expect(loop.text.contains("too many redirects"))
        #expect(other.connectionCount == 0)
        #expect(node.origin.count("/photo.jpg") == 0 && node.origin.count("/loop5.jpg") == 0)
        // Three redirects are followed.
        #expect(try await node.get("/loop2.jpg?w=100").status == 200)
        await node.stopAll()
        try await other.shutdown()
    }

    /// Should fetch nothing for a Host no source serves, or for a web-source path that names another URL.
    @Test func nothingUnconfiguredFetched() async throws {
        let other = try await TestOrigin.start(host: "127.0.0.2")
        other.route("/a.jpg", body: photo, headers: jpegHeaders)
        let node = try await TestNode.start { $0.defaultSource = nil }
        let unknown = try await node.get("/a.jpg?w=100", host: "unknown.test")
        #expect(unknown.status == 404)
        let encoded = "http://\(other.host):\(other.port)/a.jpg".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let proxied = try await node.get("/" + encoded + "?w=100")
        #expect(proxied.status == 404)
        let doubled = try await node.get("//\(other.host):\(other.port)/a.jpg?w=100")
        #expect(doubled.status == 404)
        #expect(other.connectionCount == 0)
        #expect(node.origin.totalRequests == 1)
        await node.stopAll()
        try await other.shutdown()
    }
}
