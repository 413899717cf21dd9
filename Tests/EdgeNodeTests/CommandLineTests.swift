import EdgeTestSupport
import Foundation
import Testing

/// The built `imgedge` executable, run as a user would.
@Suite struct CommandLineTests {
    static let binary = Corpus.packageRoot.appendingPathComponent(".build/debug/imgedge").path

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ args: [String]) throws -> Run {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the executable first (tools/test does)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// Should exit 2 and list every problem of a bad configuration, one a line, each naming its key.
    @Test func checkConfigReportsAll() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("bad.yaml", bytes: Array("http: {port: -1}\ncache: {maxBytes: huge}\nbogus: true\n".utf8))
        let r = try Self.run(["check-config", "--config", dir.path + "/bad.yaml"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("http.port"))
        #expect(r.stderr.contains("cache.maxBytes"))
        #expect(r.stderr.contains("bogus: unknown key"))
        let ok = try Self.run(["check-config", "--config", Corpus.packageRoot.appendingPathComponent("conf/imgedge.yaml").path])
        #expect(ok.status == 0)
    }

    /// Should exit 2 with a one-line reason on a usage error (an unknown option), as the contract says.
    @Test func usageErrorExitsTwo() throws {
        let r = try Self.run(["serve", "--bogus"])
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
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        // Debug records say why a connection was closed, should a request fail (see the catch below).
        p.arguments = ["serve", "--config", dir.path + "/node.yaml", "--log-format", "json", "--log-level", "debug"]
        let err = Pipe()
        p.standardError = err
        try p.run()
        // The first line is the JSON "serving" record with the bound ports.
        var buffer = Data()
        var port: Int?
        let deadline = Date().addingTimeInterval(20)
        while port == nil, Date() < deadline {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer += chunk
            for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") {
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      obj["message"] as? String == "serving", let http = obj["edge.http"] as? String else { continue }
                port = http.split(separator: ":").last.flatMap { Int($0) }
            }
        }
        let bound = try #require(port)
        do {
            let r = try await TestHTTPClient.get(port: bound, "/a.jpg?w=50")
            #expect(r.status == 200)
        } catch {
            // Show what the server said (it may have died) rather than only the client's side.
            p.terminate()
            let rest = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            Issue.record("request failed: \(error); server running: \(p.isRunning); server log: \(rest.suffix(4000))")
            return
        }
        p.terminate()  // SIGTERM
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}
