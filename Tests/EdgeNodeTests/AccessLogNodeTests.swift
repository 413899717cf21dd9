import EdgeCore
import EdgeNode
import EdgePrivacy
import EdgeTestSupport
import Foundation
import Testing

/// The access log of a real node: what is written (truncated clients, no signatures, no credentials) and rotation.
@Suite struct AccessLogNodeTests {
    /// Should log every answered request as a JSON line without the client's full address, the signature, `expires`,
    /// cookies or Authorization, and rotate to `<path>.1` past the size bound.
    @Test func writesSanitizedLinesAndRotates() async throws {
        let logs = try TemporaryDirectory(prefix: "imgedge-access")
        let path = logs.path + "/access.log"
        let node = try await TestNode.start { c in
            c.accessLogPath = path
            c.accessLogMaxBytes = 4096
            c.sources[0].secureToken = "access-log-token"
        }
        defer { Task { await node.stopAll() } }
        node.origin.route("/a.jpg", body: photo, headers: jpegHeaders)
        let signed = try URLSigner.sign("http://web.test/a.jpg?w=20&expires=4102444800", token: "access-log-token")
        let target = String(signed.dropFirst("http://web.test".count))
        let r = try await node.get(target, headers: [("Cookie", "session=secret-cookie"), ("Authorization", "Bearer secret-bearer")])
        #expect(r.status == 200)
        #expect(try await node.get("/missing.jpg?w=1").status == 404)
        var text = ""
        for _ in 0..<200 {
            text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if text.split(separator: "\n").count >= 2 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["client"] as? String == "127.0.0.0")
        #expect(first["target"] as? String == "/a.jpg?w=20")
        #expect(first["status"] as? Int == 200 && first["cache"] as? String == "MISS" && first["host"] as? String == "web.test")
        #expect((first["bytes"] as? Int ?? 0) > 0)
        for secret in ["127.0.0.1", "s=", "expires", "secret-cookie", "secret-bearer", "Cookie", "Authorization"] {
            #expect(!text.contains(secret), "\(secret)")
        }
        // Enough requests to pass 4 KiB: the file is renamed to .1 and a new one begun.
        for i in 0..<40 { _ = try await node.get("/missing-\(i).jpg?w=\(i + 1)") }
        var rotated = false
        for _ in 0..<200 {
            rotated = FileManager.default.fileExists(atPath: path + ".1")
            if rotated { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(rotated)
        let old = try FileManager.default.attributesOfItem(atPath: path + ".1")[.size] as? Int ?? 0
        #expect(old >= 4096 && old < 8192)
    }
}
