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
}
