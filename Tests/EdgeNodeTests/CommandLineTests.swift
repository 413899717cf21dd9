import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

/// The built `imgedge` executable, run as a user would.
@Suite struct CommandLineTests {
    static let binary = Corpus.packageRoot.appendingPathComponent(".build/debug/imgedge").path

    /// The ports `imgedge serve` bound, from its JSON "serving" record on `reader` (its standard error), by
    /// listener: "http", "https", "admin" (its `edge.*` fields). Read on a thread of its own (see ChildProcess);
    /// nil if the process ends or 20 s pass first.
    static func servingPorts(_ reader: FileHandle) async throws -> [String: Int]? {
        try await OffPool.run {
            var buffer = Data()
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                let chunk = reader.availableData
                if chunk.isEmpty { return nil }
                buffer += chunk
                for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") {
                    guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                          obj["message"] as? String == "serving" else { continue }
                    var ports: [String: Int] = [:]
                    for (key, value) in obj where key.hasPrefix("edge.") {
                        if let address = value as? String, let port = address.split(separator: ":").last.flatMap({ Int($0) }) {
                            ports[String(key.dropFirst("edge.".count))] = port
                        }
                    }
                    return ports
                }
            }
            return nil
        }
    }

    /// Runs the executable with `args`, waiting for it off the concurrency pool (see `ChildProcess`).
    static func run(_ args: [String]) async throws -> ChildProcess.Result {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the executable first (tools/test does)")
        return try await ChildProcess.run(binary, args)
    }

    /// Should exit 2 and list every problem of a bad configuration, one a line, each naming its key.
    /// Should say its version, its linker build ID (as readelf shows it: 40 hex digits in the binary's ELF notes)
    /// and its build configuration, and export the same as `imgedge_build_info` on /metrics.
    @Test func versionAndBuild() async throws {
        let r = try await Self.run(["--version"])
        #expect(r.status == 0)
        let build = try #require(BuildInfo.buildID(path: Self.binary))
        #expect(build.count == 40 && build.allSatisfy { $0.isHexDigit })
        #expect(r.stdout == "imgedge \(BuildInfo.version) (build \(build.prefix(12)), debug)\n", "\(r.stdout)")
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        let metrics = String(decoding: try await TestHTTPClient.get(port: node.adminPort, "/metrics").body, as: UTF8.self)
        #expect(metrics.contains(#"imgedge_build_info{"#) && metrics.contains(#"version="\#(BuildInfo.version)""#))
    }

    /// Should be a unit systemd accepts (`systemd-analyze verify`, with the built binary in place of the installed
    /// one), where systemd is installed.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"),
                   "systemd-analyze is not installed here"))
    func serviceUnitVerifies() async throws {
        let unit = try String(contentsOf: Corpus.packageRoot.appendingPathComponent("conf/imgedge.service"), encoding: .utf8)
        #expect(unit.contains("ProtectSystem=strict") && unit.contains("NoNewPrivileges=yes") && unit.contains("ExecReload="))
        let dir = try TemporaryDirectory(prefix: "imgedge-unit")
        let path = dir.path + "/imgedge.service"
        try unit.replacingOccurrences(of: "/usr/local/bin/imgedge", with: Self.binary).write(toFile: path, atomically: true, encoding: .utf8)
        let r = try await ChildProcess.run("/usr/bin/systemd-analyze", ["verify", path])
        #expect(r.status == 0 && r.stdout.isEmpty && r.stderr.isEmpty, "\(r.stdout)\(r.stderr)")
    }

    @Test func checkConfigReportsAll() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("bad.yaml", bytes: Array("http: {port: -1}\ncache: {maxBytes: huge}\nbogus: true\n".utf8))
        let r = try await Self.run(["check-config", "--config", dir.path + "/bad.yaml"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("http.port"))
        #expect(r.stderr.contains("cache.maxBytes"))
        #expect(r.stderr.contains("bogus: unknown key"))
        let ok = try await Self.run(["check-config", "--config", Corpus.packageRoot.appendingPathComponent("conf/imgedge.yaml").path])
        #expect(ok.status == 0)
    }

    /// Should exit 2 with a one-line reason on a usage error (an unknown option), as the contract says.
    @Test func usageErrorExitsTwo() async throws {
        let r = try await Self.run(["serve", "--bogus"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--bogus"))
    }

    /// Should serve, log JSON lines with --log-format json, and exit 0 on SIGTERM.
    @Test func serveAndTerminate() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("images/a.jpg", bytes: try Corpus.bytes("basics/jpeg_baseline_testorig.jpg"))
        try dir.write("node.yaml", bytes: Array("""
        node: {defaultSource: files}
        http: {port: 0}
        admin: {port: 0}
        cache: {path: cache}
        sources:
          - {name: files, kind: folder, root: images}
        """.utf8))
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build the executable first (tools/test does)")
        // Debug records say why a connection was closed, should a request fail (see the catch below).
        let p = try SpawnedProcess(Self.binary, ["serve", "--config", dir.path + "/node.yaml", "--log-format", "json",
                                                 "--log-level", "debug"], captureStdout: false)
        // The first line is the JSON "serving" record with the bound ports (read on a thread of its own: see ChildProcess).
        let reader = p.stderr!
        let port = try await Self.servingPorts(reader)?["http"]
        let bound = try #require(port)
        do {
            let r = try await TestHTTPClient.get(port: bound, "/a.jpg?w=50")
            #expect(r.status == 200)
        } catch {
            // Show what the server said (it may have died) rather than only the client's side.
            p.terminate()
            let rest = try await OffPool.run { String(decoding: reader.readDataToEndOfFile(), as: UTF8.self) }
            Issue.record("request failed: \(error); server running: \(p.isRunning); server log: \(rest.suffix(4000))")
            return
        }
        p.terminate()  // SIGTERM
        #expect(await p.exit() == 0)
    }

    /// Should serve HTTPS from the certificates in its configuration and read them again on SIGHUP without
    /// stopping; exit 0 on SIGTERM after that.
    @Test func httpsReloadsOnSIGHUP() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let certs = try TestCertificates()
        let issued = try certs.issue("images", hosts: ["images.test"])
        try dir.write("images/a.jpg", bytes: try Corpus.bytes("basics/jpeg_baseline_testorig.jpg"))
        try dir.write("node.yaml", bytes: Array("""
        node: {defaultSource: files}
        http: {port: 0}
        https: {port: 0, certificates: [{cert: \(issued.cert), key: \(issued.key)}]}
        admin: {port: 0}
        cache: {path: cache}
        sources:
          - {name: files, kind: folder, root: images}
        """.utf8))
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build the executable first (tools/test does)")
        let p = try SpawnedProcess(Self.binary, ["serve", "--config", dir.path + "/node.yaml", "--log-format", "json"],
                                   captureStdout: false)
        let reader = p.stderr!
        let port = try await Self.servingPorts(reader)?["https"]
        let bound = try #require(port)
        func san() async throws -> [String] {
            let r = try await ChildProcess.run("/usr/bin/python3", [HTTPSNodeTests.probeScript, "--port", String(bound),
                                                                   "--cafile", certs.caPath, "--servername", "images.test",
                                                                   "--path", "/a.jpg?w=20"])
            let obj = try JSONSerialization.jsonObject(with: Data((r.stdout.split(separator: "\n").last ?? "").utf8)) as? [String: Any]
            #expect((obj?["first"] as? [String: Any])?["status"] as? Int == 200, "\(r.stdout) \(r.stderr)")
            return obj?["san"] as? [String] ?? []
        }
        #expect(try await san() == ["images.test"])
        try certs.issue("images", hosts: ["images.test", "after-sighup.images.test"])
        kill(p.pid, SIGHUP)
        var after: [String] = []
        for _ in 0..<40 where after.count < 2 {
            try await Task.sleep(for: .milliseconds(100))
            after = try await san()
        }
        #expect(after == ["images.test", "after-sighup.images.test"])
        p.terminate()
        #expect(await p.exit() == 0)
    }
}
