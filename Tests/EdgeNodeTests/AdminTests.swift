import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

@Suite struct AdminTests {
    /// Should answer liveness and readiness without authentication.
    @Test func healthAndReadiness() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        let health = try await TestHTTPClient.get(port: node.adminPort, "/healthz")
        #expect(health.status == 200)
        let ready = try await TestHTTPClient.get(port: node.adminPort, "/readyz")
        #expect(ready.status == 200)
        #expect(try await TestHTTPClient.get(port: node.adminPort, "/nope").status == 404)
    }

    /// Should expose request counts by status and cache result, cache size and durations in Prometheus format.
    @Test func metrics() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        _ = try await node.get("/photo.jpg?w=50")
        _ = try await node.get("/photo.jpg?w=50")
        _ = try await node.get("/photo.jpg?w=zz")
        let m = try await TestHTTPClient.get(port: node.adminPort, "/metrics").text
        #expect(m.contains(#"imgedge_requests_total{status="200",cache="MISS"} 1"#))
        #expect(m.contains(#"imgedge_requests_total{status="200",cache="HIT"} 1"#))
        #expect(m.contains(#"imgedge_requests_total{status="400",cache="ERROR"} 1"#))
        #expect(m.contains("imgedge_cache_entries 1"))
        #expect(m.contains("imgedge_cache_bytes "))
        #expect(m.contains("imgedge_origin_fetch_seconds_count 1"))
        #expect(m.contains("imgedge_transform_seconds_count 1"))
    }

    /// Should report entries, bytes, hits and misses as JSON.
    @Test func stats() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        _ = try await node.get("/photo.jpg?w=50")
        _ = try await node.get("/photo.jpg?w=50")
        let r = try await TestHTTPClient.get(port: node.adminPort, "/v1/stats")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        #expect(json["entries"] as? Int == 1)
        #expect(json["hits"] as? Int == 1)
        #expect(json["misses"] as? Int == 1)
        #expect((json["bytes"] as? Int ?? 0) > 0)
    }
}
