import EdgeCore
@testable import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

/// The edge front over TLS, tried with a real client (Python's ssl module on OpenSSL, Tests/Fixtures/tls/probe.py)
/// against certificates the test makes: certificates chosen by SNI, TLS versions and ciphers, session resumption,
/// reloads that keep open connections, HSTS, the redirect from HTTP, and the handshake deadline.
@Suite struct HTTPSNodeTests {
    static let probeScript = Corpus.packageRoot.appendingPathComponent("Tests/Fixtures/tls/probe.py").path

    /// A node with HTTPS on (and its clear listener), an ECDSA certificate for `images.test` (the default) and an
    /// RSA one for `*.cdn.test`, and `/a.jpg` routed at the origin.
    static func start(_ certs: TestCertificates, configure: (inout NodeConfig) -> Void = { _ in }) async throws -> TestNode {
        let images = try certs.issue("images", hosts: ["images.test"])
        let cdn = try certs.issue("cdn", hosts: ["*.cdn.test"], key: .rsa)
        let node = try await TestNode.start { c in
            c.https.port = 0
            c.https.certificates = [HTTPSSettings.Certificate(cert: images.cert, key: images.key, hosts: ["images.test"]),
                                    HTTPSSettings.Certificate(cert: cdn.cert, key: cdn.key, hosts: ["*.cdn.test"])]
            configure(&c)
        }
        node.origin.route("/a.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=3600")])
        return node
    }

    /// Runs the probe; its last JSON line.
    static func probe(_ node: TestNode, _ certs: TestCertificates, _ args: [String]) async throws -> [String: Any] {
        let port = try #require(node.httpsPort)
        let r = try await ChildProcess.run("/usr/bin/python3", [probeScript, "--port", String(port), "--cafile", certs.caPath] + args)
        let line = try #require(r.stdout.split(separator: "\n").last, "probe said nothing: \(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    static func first(_ result: [String: Any]) -> [String: Any] { result["first"] as? [String: Any] ?? [:] }
    static func header(_ answer: [String: Any], _ name: String) -> String? { (answer["headers"] as? [String: String])?[name] }

    /// Should serve the same hits over TLS as in clear, with the certificate the client's SNI name selects: exact
    /// name, a wildcard of one label, and the first certificate for any other name or none.
    @Test func certificateBySNI() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs)
        defer { Task { await node.stopAll() } }
        let clear = try await node.get("/a.jpg?w=40")
        #expect(clear.status == 200)
        let hit = try await Self.probe(node, certs, ["--servername", "images.test", "--path", "/a.jpg?w=40"])
        #expect(hit["ok"] as? Bool == true, "\(hit)")
        #expect(hit["cn"] as? String == "images.test")
        #expect(Self.first(hit)["status"] as? Int == 200 && Self.header(Self.first(hit), "x-cache") == "HIT")
        #expect(Self.first(hit)["sha256"] as? String == sha256Hex(clear.body))
        let cdn = try await Self.probe(node, certs, ["--servername", "img.cdn.test", "--path", "/a.jpg?w=40"])
        #expect(cdn["ok"] as? Bool == true && cdn["cn"] as? String == "*.cdn.test", "\(cdn)")
        // Deeper than one label, unknown names and no name at all: the default certificate (the client then
        // rejects it for a name it does not cover, as a browser would).
        for name in ["a.b.cdn.test", "other.test"] {
            let r = try await Self.probe(node, certs, ["--servername", name])
            #expect(r["ok"] as? Bool == false && (r["error"] as? String ?? "").contains("CERTIFICATE_VERIFY_FAILED"), "\(r)")
        }
        let none = try await Self.probe(node, certs, ["--path", "/a.jpg?w=40"])
        #expect(none["cn"] as? String == "images.test" && Self.first(none)["status"] as? Int == 200, "\(none)")
    }

    /// Should speak TLS 1.3, and TLS 1.2 only with Mozilla's intermediate ciphers (ECDHE, AEAD); refuse TLS 1.0,
    /// 1.1 and RSA key exchange.
    @Test func versionsAndCiphers() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs)
        defer { Task { await node.stopAll() } }
        let v13 = try await Self.probe(node, certs, ["--servername", "images.test", "--tls", "1.3"])
        #expect(v13["version"] as? String == "TLSv1.3", "\(v13)")
        let v12 = try await Self.probe(node, certs, ["--servername", "images.test", "--tls", "1.2"])
        // The client's preference decides among the server's suites (Mozilla: `ssl_prefer_server_ciphers off`).
        #expect(v12["version"] as? String == "TLSv1.2", "\(v12)")
        #expect(CertificateStore.intermediateCiphers.split(separator: ":").contains { $0 == v12["cipher"] as? String ?? "" }, "\(v12)")
        let rsa = try await Self.probe(node, certs, ["--servername", "x.cdn.test", "--tls", "1.2",
                                                     "--ciphers", "ECDHE-RSA-CHACHA20-POLY1305"])
        #expect(rsa["cipher"] as? String == "ECDHE-RSA-CHACHA20-POLY1305", "\(rsa)")
        let staticRSA = try await Self.probe(node, certs, ["--servername", "x.cdn.test", "--tls", "1.2",
                                                           "--ciphers", "AES128-GCM-SHA256"])
        #expect(staticRSA["ok"] as? Bool == false, "RSA key exchange is not in the intermediate list: \(staticRSA)")
        let cbc = try await Self.probe(node, certs, ["--servername", "images.test", "--tls", "1.2",
                                                     "--ciphers", "ECDHE-ECDSA-AES128-SHA"])
        #expect(cbc["ok"] as? Bool == false, "CBC suites are not in the intermediate list: \(cbc)")
        for old in ["1.0", "1.1"] {
            let r = try await Self.probe(node, certs, ["--servername", "images.test", "--tls", old])
            #expect(r["ok"] as? Bool == false, "TLS \(old): \(r)")
        }
    }

    /// Should resume TLS sessions (tickets), over TLS 1.2 and 1.3.
    @Test func sessionsResume() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs)
        defer { Task { await node.stopAll() } }
        for version in ["1.2", "1.3"] {
            let r = try await Self.probe(node, certs, ["--servername", "images.test", "--tls", version, "--resume"])
            let again = try #require(r["resumed"] as? [String: Any], "\(r)")
            #expect(again["reused"] as? Bool == true, "TLS \(version): \(r)")
            #expect(Self.first(again)["status"] as? Int == 404, "the resumed session serves (no such image here)")
        }
    }

    /// Should hand new handshakes the certificate a reload read while an open connection goes on with its own; a
    /// file that no longer loads leaves the certificate in use as it was.
    @Test func reloadKeepsOpenConnections() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs)
        defer { Task { await node.stopAll() } }
        let port = try #require(node.httpsPort)
        let open = try SpawnedProcess("/usr/bin/python3", [Self.probeScript, "--port", String(port), "--cafile", certs.caPath,
                                                           "--servername", "images.test", "--path", "/a.jpg?w=40",
                                                           "--wait-stdin"], pipeStdin: true)
        let firstLine = try await open.firstLine()
        #expect(firstLine.contains("\"event\": \"first\""), "\(firstLine)")
        // The same files, a new certificate that also names reloaded.images.test.
        try certs.issue("images", hosts: ["images.test", "reloaded.images.test"])
        #expect(node.server.reloadCertificates() == 0)
        open.stdin!.write(Data("go\n".utf8))
        let rest = try await OffPool.run { String(decoding: open.stdout!.readDataToEndOfFile(), as: UTF8.self) }
        _ = await open.exit()
        let held = try #require(try JSONSerialization.jsonObject(with: Data(rest.split(separator: "\n").last.map(String.init)?.utf8 ?? "".utf8)) as? [String: Any])
        #expect((held["san"] as? [String]) == ["images.test"], "the open connection keeps the certificate it began with")
        #expect((held["second"] as? [String: Any])?["status"] as? Int == 200, "\(held)")
        let fresh = try await Self.probe(node, certs, ["--servername", "images.test"])
        #expect((fresh["san"] as? [String]) == ["images.test", "reloaded.images.test"], "\(fresh)")
        // A broken file: not loaded, the certificate stays.
        try "not a certificate".write(toFile: certs.dir.path + "/images.pem", atomically: true, encoding: .utf8)
        #expect(node.server.reloadCertificates() == 1)
        let after = try await Self.probe(node, certs, ["--servername", "images.test"])
        #expect(after["ok"] as? Bool == true && (after["san"] as? [String]) == ["images.test", "reloaded.images.test"], "\(after)")
        // A key that is not the certificate's: not loaded either.
        let other = try certs.issue("other", hosts: ["images.test"])
        try FileManager.default.removeItem(atPath: certs.dir.path + "/images.pem")
        try FileManager.default.copyItem(atPath: other.cert, toPath: certs.dir.path + "/images.pem")
        #expect(node.server.reloadCertificates() == 1)
    }

    /// Should read changed certificate files again on its interval, without a signal.
    @Test func reloadsOnInterval() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs) { $0.https.reloadInterval = 1 }
        defer { Task { await node.stopAll() } }
        try certs.issue("images", hosts: ["images.test", "later.images.test"])
        var san: [String] = []
        for _ in 0..<40 where san.count < 2 {
            try await Task.sleep(for: .milliseconds(250))
            san = try await Self.probe(node, certs, ["--servername", "images.test"])["san"] as? [String] ?? []
        }
        #expect(san == ["images.test", "later.images.test"])
    }

    /// Should send `Strict-Transport-Security` when configured, and redirect the clear listener to HTTPS.
    @Test func hstsAndRedirect() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs) { c in
            c.https.hsts = "max-age=63072000; includeSubDomains"
            c.redirectToHTTPS = true
        }
        defer { Task { await node.stopAll() } }
        let secure = try await Self.probe(node, certs, ["--servername", "images.test", "--path", "/a.jpg?w=40"])
        #expect(Self.header(Self.first(secure), "strict-transport-security") == "max-age=63072000; includeSubDomains")
        let redirected = try await node.get("/a.jpg?w=40", host: "images.test:8080")
        #expect(redirected.status == 301)
        #expect(redirected.header("location") == "https://images.test:\(node.httpsPort!)/a.jpg?w=40")
        #expect(node.origin.count("/a.jpg") == 1, "only the HTTPS request reached the origin")
        let noHost = try await RawTCPExchange.exchange(port: node.port, "GET /a.jpg HTTP/1.0\r\n\r\n")
        #expect(noHost.hasPrefix("HTTP/1.1 400"))
    }

    /// Should close a connection that does not complete its handshake in time, and serve a large variant (kept
    /// as a file, which TLS cannot sendfile) whole.
    @Test func stalledHandshakeAndLargeBody() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs) { $0.https.handshakeTimeout = 0.3 }
        defer { Task { await node.stopAll() } }
        let port = try #require(node.httpsPort)
        let closedAfter = try await OffPool.run { () -> Double? in
            let start = Date()
            // Connects, sends half a ClientHello, waits for the server to hang up (at most 10 s).
            let answer = BlockingHTTP.exchange(port: port, "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}", timeout: 10)
            return answer == nil ? Date().timeIntervalSince(start) : nil
        }
        let seconds = try #require(closedAfter, "the server sent something to a stalled handshake")
        #expect(seconds < 5, "closed after \(seconds) s")
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let clear = try await node.get(LargeHitTests.target)
        try #require(clear.body.count >= BodyFile.minimumBytes)
        _ = try await node.get(LargeHitTests.target)
        let large = try await Self.probe(node, certs, ["--servername", "images.test", "--path", LargeHitTests.target])
        #expect(Self.first(large)["body_len"] as? Int == clear.body.count, "\(large)")
        #expect(Self.first(large)["sha256"] as? String == sha256Hex(clear.body))
    }
}
