import EdgeTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Slow and idle clients against the real binary (a process of its own, with its own descriptors): a slowloris
/// crowd is answered 408 and cut off after `http.headerTimeout`, ten thousand idle connections stay open, and
/// meanwhile hits are served.
@Suite struct ConnectionHygieneTests {
    static let holder = Corpus.packageRoot.appendingPathComponent("Tests/Fixtures/load/hold_connections.py").path

    /// Starts `imgedge serve` on `yaml` (with `{dir}` replaced by the folder); the bound edge and admin ports.
    static func serve(_ dir: TemporaryDirectory, yaml: String) async throws -> (SpawnedProcess, edge: Int, admin: Int) {
        try dir.write("node.yaml", bytes: Array(yaml.utf8))
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary), "build the executable first")
        let p = try SpawnedProcess(CommandLineTests.binary, ["serve", "--config", dir.path + "/node.yaml", "--log-format", "json"],
                                   captureStdout: false)
        let reader = p.stderr!
        let found = try await CommandLineTests.servingPorts(reader)
        let ports = found.flatMap { p in p["http"].flatMap { http in p["admin"].map { (http, $0) } } }
        guard let ports else {
            p.terminate()
            _ = await p.exit()
            throw CancellationError()
        }
        // Keep the log pipe drained, so that the node never blocks writing to it.
        _ = OffPool.start { _ = reader.readDataToEndOfFile() }
        return (p, ports.0, ports.1)
    }

    /// Should answer a slowloris crowd (300 connections sending a head a byte at a time) with 408 once each has
    /// taken `http.headerTimeout`, keep 10,000 idle connections open, and serve hits all the while.
    @Test func slowAndIdleClientsDoNotStopHits() async throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let idle = min(10_000, Int(limit.rlim_max) - 3_000)
        try #require(idle >= 1_000, "this machine's open-file limit (\(limit.rlim_max)) is too low for the test")
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("images/a.jpg", bytes: try Corpus.bytes("basics/jpeg_baseline_testorig.jpg"))
        let (node, edge, admin) = try await Self.serve(dir, yaml: """
        node: {defaultSource: files}
        http: {port: 0, headerTimeout: 1s}
        admin: {port: 0}
        cache: {path: cache}
        sources:
          - {name: files, kind: folder, root: images}
        """)
        defer { node.terminate() }
        _ = try await TestHTTPClient.get(port: edge, "/a.jpg?w=40")
        let crowd = try SpawnedProcess("/usr/bin/python3", [Self.holder, "--port", String(edge), "--idle", String(idle),
                                                           "--slow", "300", "--interval", "0.2", "--duration", "4"])
        let ready = try await crowd.firstLine()
        try #require(ready.contains("\"ready\""), "the crowd did not connect: \(ready)")
        // Hits, one after another, while the crowd holds its connections.
        var served = 0
        for i in 0..<40 {
            let r = try await TestHTTPClient.get(port: edge, "/a.jpg?w=40")
            if r.status == 200 && r.header("x-cache") == "HIT" { served += 1 } else { Issue.record("hit \(i): \(r.status)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(served == 40)
        let rest = try await OffPool.run { String(decoding: crowd.stdout!.readDataToEndOfFile(), as: UTF8.self) }
        let errors = try await OffPool.run { String(decoding: crowd.stderr!.readDataToEndOfFile(), as: UTF8.self) }
        _ = await crowd.exit()
        try #require(rest.contains("idle_opened"), "the crowd said: \(rest) \(errors.suffix(2000))")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data((rest.split(separator: "\n").last ?? "").utf8)) as? [String: Any])
        #expect(summary["idle_opened"] as? Int == idle && summary["idle_open_at_end"] as? Int == idle, "\(summary)")
        #expect(summary["slow_408"] as? Int == 300 && summary["slow_closed"] as? Int == 300, "\(summary)")
        let stats = try await TestHTTPClient.get(port: admin, "/v1/stats")
        let connections = try #require((try JSONSerialization.jsonObject(with: Data(stats.body)) as? [String: Any])?["connections"] as? [String: Any])
        #expect((connections["events"] as? [String: Int])?["header_timeout"] == 300, "\(connections)")
        #expect((connections["max"] as? Int ?? 0) > idle, "the default bound leaves room for the idle crowd: \(connections)")
        node.terminate()
        #expect(await node.exit() == 0)
    }

    /// Should answer connections past `http.maxConnections` with a 503 and close them, and serve again once
    /// connections go.
    @Test func connectionsPastTheBoundAreRefused() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("images/a.jpg", bytes: try Corpus.bytes("basics/jpeg_baseline_testorig.jpg"))
        let (node, edge, admin) = try await Self.serve(dir, yaml: """
        node: {defaultSource: files}
        http: {port: 0, maxConnections: 3}
        admin: {port: 0}
        cache: {path: cache}
        sources:
          - {name: files, kind: folder, root: images}
        """)
        defer { node.terminate() }
        let held = try await (0..<3).asyncMap { _ in try await TestHTTPClient.connect(port: edge) }
        _ = try await held[0].send("/a.jpg?w=40")
        // The refusal comes as soon as the connection is accepted, before any request (whose write could then
        // meet a closed connection): read it without sending.
        let refused = try await OffPool.run { BlockingHTTP.exchange(port: edge, "", timeout: 5) ?? "" }
        #expect(refused.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n") && refused.contains("retry-after: 1"), "\(refused)")
        for c in held { await c.close() }
        // The node counts a connection out when it sees the close; until then a new one is still refused (and,
        // having sent its request, may see the connection reset rather than the 503).
        var status = 0
        var last = ""
        for _ in 0..<200 where status != 200 {
            try await Task.sleep(for: .milliseconds(50))
            do { status = try await TestHTTPClient.get(port: edge, "/a.jpg?w=40").status } catch { last = "\(error)" }
        }
        let stats = try await TestHTTPClient.get(port: admin, "/v1/stats").text
        #expect(status == 200, "last error: \(last); \(stats.suffix(300))")
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await transform(e)) }
        return out
    }
}
