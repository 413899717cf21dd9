import EdgeCore
@testable import EdgeNode
import EdgePrivacy
import EdgeTestSupport
import Foundation
import Testing

/// The edge front over HTTP/2 (TLS, ALPN h2): every feature of the HTTP/1.1 path through curl and h2load, and the
/// protocol's abuses written as raw frames — each ends the offending connection with GOAWAY while the node and
/// its other connections carry on.
@Suite struct HTTP2NodeTests {
    typealias Raw = RawHTTP2Client

    static func start(_ certs: TestCertificates, configure: (inout NodeConfig) -> Void = { _ in }) async throws -> TestNode {
        try await HTTPSNodeTests.start(certs, configure: configure)
    }

    /// One request through `curl --http2`; the protocol version curl used, the status, the headers (names lower
    /// case) and the body.
    struct Curled {
        var version: String
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    static func curl(_ node: TestNode, _ certs: TestCertificates, _ path: String, _ extra: [String] = [],
                     host: String = "images.test") async throws -> Curled {
        let port = try #require(node.httpsPort)
        let out = certs.dir.path + "/body-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try await ChildProcess.run("/usr/bin/curl", [
            "--http2", "-s", "--max-time", "20", "--cacert", certs.caPath, "--resolve", "\(host):\(port):127.0.0.1", "-D", "-", "-o", out,
            "-w", "\nversion=%{http_version}\n"] + extra + ["https://\(host):\(port)\(path)"])
        var headers: [String: String] = [:]
        var status = 0
        var version = ""
        for line in r.stdout.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("HTTP/") { status = Int(line.split(separator: " ")[1]) ?? 0 }
            else if line.hasPrefix("version=") { version = String(line.dropFirst(8)) }
            else if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        let body = FileManager.default.contents(atPath: out).map(Array.init) ?? []
        return Curled(version: version, status: status, headers: headers, body: body)
    }

    /// Should serve over h2 what HTTP/1.1 serves: a miss with Server-Timing, then hits, 304, ranges, HEAD, errors,
    /// client hints, signatures, X-Cache, and an access-log line per stream.
    @Test func everyFeature() async throws {
        let certs = try TestCertificates()
        let logDir = try TemporaryDirectory(prefix: "imgedge-h2-log")
        let node = try await Self.start(certs) { c in
            c.accessLogPath = logDir.path + "/access.log"
            c.sources[1].secureToken = SecureURLTests.token
            c.sources[1].requireSignature = true
        }
        defer { Task { await node.stopAll() } }
        let miss = try await Self.curl(node, certs, "/a.jpg?w=40")
        #expect(miss.version == "2" && miss.status == 200 && miss.headers["x-cache"] == "MISS", "\(miss)")
        #expect(miss.headers["server-timing"]?.contains("transform;dur=") == true)
        #expect(miss.headers["content-type"] == "image/jpeg" && miss.headers["content-length"] == String(miss.body.count))
        let clear = try await node.get("/a.jpg?w=40")
        let hit = try await Self.curl(node, certs, "/a.jpg?w=40")
        #expect(hit.status == 200 && hit.headers["x-cache"] == "HIT" && hit.body == clear.body && hit.body == miss.body)
        #expect(hit.headers["etag"] == clear.header("etag") && hit.headers["cache-control"] != nil)
        let etag = try #require(hit.headers["etag"])
        let notModified = try await Self.curl(node, certs, "/a.jpg?w=40", ["-H", "If-None-Match: \(etag)"])
        #expect(notModified.status == 304 && notModified.body.isEmpty)
        let part = try await Self.curl(node, certs, "/a.jpg?w=40", ["-H", "Range: bytes=10-109"])
        #expect(part.status == 206 && part.body == Array(clear.body[10..<110]))
        #expect(part.headers["content-range"] == "bytes 10-109/\(clear.body.count)")
        let head = try await Self.curl(node, certs, "/a.jpg?w=40", ["-I"])
        #expect(head.status == 200 && head.headers["content-length"] == String(clear.body.count))
        let bad = try await Self.curl(node, certs, "/a.jpg?w=abc")
        #expect(bad.status == 400 && String(decoding: bad.body, as: UTF8.self).contains("\"param\""))
        let hinted = try await Self.curl(node, certs, "/a.jpg?w=40&ch=Width,DPR", ["-H", "Sec-CH-DPR: 2"])
        #expect(hinted.status == 200 && hinted.headers["vary"]?.contains("DPR") == true, "\(hinted.headers)")
        #expect(hinted.body != clear.body, "DPR 2 makes a larger image")
        // files.test is under no certificate of this node: the client takes the default one as it is (-k).
        let unsigned = try await Self.curl(node, certs, "/a.jpg?w=20", ["-k"], host: "files.test")
        #expect(unsigned.status == 403)
        try FileManager.default.copyItem(atPath: Corpus.url("basics/jpeg_baseline_testorig.jpg").path,
                                         toPath: node.filesDir.path + "/b.jpg")
        let signed = try await Self.curl(node, certs, SecureURLTests.sign("/b.jpg", "w=20"), ["-k"], host: "files.test")
        #expect(signed.status == 200, "\(signed.headers)")
        let post = try await Self.curl(node, certs, "/a.jpg?w=40", ["-X", "POST", "-d", "x=1"])
        #expect(post.status == 405)
        // The access log has the streams' lines (written in the background).
        var lines: [String] = []
        for _ in 0..<100 where lines.count < 11 {
            try await Task.sleep(for: .milliseconds(20))
            lines = ((try? String(contentsOfFile: logDir.path + "/access.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        #expect(lines.contains { $0.contains("\"status\":206") } && lines.contains { $0.contains("\"status\":304") }, "\(lines)")
    }

    /// Should over h2 as over HTTP/1.1 forward an original's request headers, key its Vary on them, answer
    /// If-Modified-Since on a hit, pass an original's status and headers on and keep a missing image's 404.
    @Test func originAnswersAndHeaders() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs)
        defer { Task { await node.stopAll() } }
        let lastModified = "Tue, 14 Nov 2023 22:13:20 GMT"
        func route(_ text: String) -> TestOrigin.Route {
            TestOrigin.Route(headers: [("Content-Type", "text/plain"), ("Vary", "Accept-Language"), ("Cache-Control", "max-age=600"),
                                       ("Last-Modified", lastModified), ("Link", "</x>; rel=preload")], body: Array(text.utf8))
        }
        node.origin.route("/o.txt", byHeader: "accept-language", ["de": route("Hallo"), "en": route("Hello")], absent: route("?"))
        let de = try await Self.curl(node, certs, "/o.txt", ["-H", "Accept-Language: de", "-H", "X-Trace: 7"])
        #expect(de.version == "2" && String(decoding: de.body, as: UTF8.self) == "Hallo" && de.headers["x-cache"] == "MISS")
        #expect(de.headers["link"] == "</x>; rel=preload" && de.headers["cache-control"] == "max-age=600")
        #expect(node.origin.requests.last?.header("x-trace") == "7")
        let en = try await Self.curl(node, certs, "/o.txt", ["-H", "Accept-Language: en"])
        #expect(String(decoding: en.body, as: UTF8.self) == "Hello" && en.headers["x-cache"] == "MISS")
        let again = try await Self.curl(node, certs, "/o.txt", ["-H", "Accept-Language: de", "-H", "If-Modified-Since: \(lastModified)"])
        #expect(again.status == 304 && again.headers["x-cache"] == "HIT")
        #expect(node.origin.count("/o.txt") == 2)
        node.origin.route("/gone.jpg", status: 404, text: "no")
        for _ in 0..<3 { #expect(try await Self.curl(node, certs, "/gone.jpg?w=10").status == 404) }
        #expect(node.origin.count("/gone.jpg") == 1)
    }

    /// Should serve HTTP/1.1 on the TLS port to a client that asks for it by ALPN (curl --http1.1): miss, hit
    /// with the bytes of the clear port, 304, range, HEAD, errors and HSTS, as the same cache answers over h2.
    @Test func http11OverTLS() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs) { $0.https.hsts = "max-age=600" }
        defer { Task { await node.stopAll() } }
        let http11 = ["--http1.1"]  // after --http2 in the helper's arguments: curl takes the last one
        let miss = try await Self.curl(node, certs, "/a.jpg?w=40", http11)
        #expect(miss.version == "1.1" && miss.status == 200 && miss.headers["x-cache"] == "MISS", "\(miss)")
        #expect(miss.headers["strict-transport-security"] == "max-age=600")
        let clear = try await node.get("/a.jpg?w=40")
        let hit = try await Self.curl(node, certs, "/a.jpg?w=40", http11)
        #expect(hit.version == "1.1" && hit.headers["x-cache"] == "HIT" && hit.body == clear.body && hit.body == miss.body)
        let etag = try #require(hit.headers["etag"])
        let notModified = try await Self.curl(node, certs, "/a.jpg?w=40", http11 + ["-H", "If-None-Match: \(etag)"])
        #expect(notModified.status == 304 && notModified.body.isEmpty)
        let part = try await Self.curl(node, certs, "/a.jpg?w=40", http11 + ["-H", "Range: bytes=10-109"])
        #expect(part.status == 206 && part.body == Array(clear.body[10..<110]))
        let head = try await Self.curl(node, certs, "/a.jpg?w=40", http11 + ["-I"])
        #expect(head.status == 200 && head.headers["content-length"] == String(clear.body.count))
        let bad = try await Self.curl(node, certs, "/a.jpg?w=abc", http11)
        #expect(bad.version == "1.1" && bad.status == 400)
    }

    /// Should carry many concurrent streams on few connections (h2load: 2 connections × 10 streams), every
    /// answer a 200, with the idle connection closed by an orderly GOAWAY.
    @Test func concurrentStreams() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs) { $0.idleTimeout = 1 }
        defer { Task { await node.stopAll() } }
        _ = try await node.get("/a.jpg?w=40")
        let port = try #require(node.httpsPort)
        let r = try await ChildProcess.run("/usr/bin/h2load", ["-n", "400", "-c", "2", "-m", "10", "--connect-to", "127.0.0.1:\(port)",
                                                             "https://images.test:\(port)/a.jpg?w=40"])
        #expect(r.stdout.contains("400 succeeded, 0 failed, 0 errored"), "\(r.stdout)")
        #expect(r.stdout.contains("status codes: 400 2xx"), "\(r.stdout)")
        #expect(r.stdout.contains("Application protocol: h2"), "\(r.stdout)")
        let idle = try await Raw.connect(port: port, caPath: certs.caPath, serverName: "images.test")
        let goAway = try await idle.waitFor(timeout: .seconds(5)) { $0.type == Raw.FrameType.goAway }
        #expect(goAway?.goAwayCode == Raw.ErrorCode.noError)
        #expect(try await idle.waitForClose())
    }

    /// The abuses NIO's HTTP/2 handler answers: each gets GOAWAY with `code` and its connection closed; the node
    /// serves a new connection afterwards.
    static let floods: [(name: String, code: UInt32, frames: @Sendable () -> [UInt8])] = [
        ("rapid reset", Raw.ErrorCode.enhanceYourCalm, {
            (0..<400).flatMap { i -> [UInt8] in
                let stream = UInt32(2 * i + 1)
                return Raw.get("/a.jpg?w=\(i % 50 + 10)", stream: stream)
                    + Raw.frame(Raw.FrameType.rstStream, 0, stream, [0, 0, 0, 8])
            }
        }),
        ("CONTINUATION flood", Raw.ErrorCode.enhanceYourCalm, {
            Raw.frame(Raw.FrameType.headers, Raw.Flag.endStream, 1, Raw.headerBlock([(":method", "GET")]))
                + (0..<50).flatMap { _ in Raw.frame(Raw.FrameType.continuation, 0, 1, Raw.headerBlock([("x-pad", "a")])) }
        }),
        ("HPACK bomb", Raw.ErrorCode.compressionError, {
            // A 4 KB field into the dynamic table, then referred to 2,000 times: 8 MB of header list from 6 KB.
            let big = [0x40] + Raw.integer(6, prefix: 7) + Array("x-bomb".utf8) + Raw.integer(4000, prefix: 7)
                + [UInt8](repeating: 97, count: 4000)
            let block = Raw.headerBlock([(":method", "GET"), (":scheme", "https"), (":path", "/"), (":authority", "a")])
                + big + [UInt8](repeating: 0xBE, count: 2000)
            return Raw.frame(Raw.FrameType.headers, Raw.Flag.endStream | Raw.Flag.endHeaders, 1, block)
        }),
        ("SETTINGS flood", Raw.ErrorCode.enhanceYourCalm, {
            (0..<1000).flatMap { _ in Raw.frame(Raw.FrameType.settings, 0, 0, []) }
        }),
        ("PING flood", Raw.ErrorCode.enhanceYourCalm, {
            (0..<1000).flatMap { i in Raw.frame(Raw.FrameType.ping, 0, 0, withUnsafeBytes(of: UInt64(i), Array.init)) }
        }),
        ("empty DATA flood", Raw.ErrorCode.enhanceYourCalm, {
            Raw.frame(Raw.FrameType.headers, Raw.Flag.endHeaders, 1,
                      Raw.headerBlock([(":method", "POST"), (":scheme", "https"), (":authority", "a"), (":path", "/a.jpg")]))
                + (0..<100).flatMap { _ in Raw.frame(Raw.FrameType.data, 0, 1, []) }
        }),
    ]

    /// Should end each flooding connection with GOAWAY and go on serving everyone else, counting what it met.
    @Test(arguments: 0..<floods.count)
    func flood(index: Int) async throws {
        let (name, code, frames) = Self.floods[index]
        let certs = try TestCertificates()
        let node = try await Self.start(certs)
        defer { Task { await node.stopAll() } }
        let port = try #require(node.httpsPort)
        let bystander = try await Raw.connect(port: port, caPath: certs.caPath, serverName: "images.test")
        let abuser = try await Raw.connect(port: port, caPath: certs.caPath, serverName: "images.test")
        try? await abuser.send(frames())
        let goAway = try await abuser.waitFor { $0.type == Raw.FrameType.goAway }
        #expect(goAway?.goAwayCode == code, "\(name): \(String(describing: goAway)), \(abuser.frames().map(\.type))")
        #expect(try await abuser.waitForClose(), "\(name): the connection stays open")
        // The other connection, and a new one, are served.
        try await bystander.send(Raw.get("/a.jpg?w=40", stream: 1))
        let answered = try await bystander.waitFor { $0.type == Raw.FrameType.data && $0.flags & Raw.Flag.endStream != 0 }
        #expect(answered != nil, "\(name): the bystander was not answered")
        let after = try await Self.curl(node, certs, "/a.jpg?w=40")
        #expect(after.status == 200, "\(name)")
        let events = try #require((try await node.stats()["connections"] as? [String: Any])?["events"] as? [String: Int])
        #expect(events.keys.contains { $0.hasPrefix("h2_error_") }, "\(name): \(events)")
        await bystander.close()
    }

    /// Should end a connection whose client keeps its flow-control window shut on an answer (a zero-window stall)
    /// with ENHANCE_YOUR_CALM once `http.sendTimeout` passes.
    @Test func zeroWindowStall() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs) { $0.sendTimeout = 0.5 }
        defer { Task { await node.stopAll() } }
        _ = try await node.get("/a.jpg?w=300")
        let port = try #require(node.httpsPort)
        // SETTINGS_INITIAL_WINDOW_SIZE (4) = 0: the server may send headers, no data.
        let client = try await Raw.connect(port: port, caPath: certs.caPath, serverName: "images.test", settings: [(4, 0)])
        try await client.send(Raw.get("/a.jpg?w=300", stream: 1))
        let headers = try await client.waitFor { $0.type == Raw.FrameType.headers && $0.stream == 1 }
        #expect(headers != nil)
        let goAway = try await client.waitFor(timeout: .seconds(10)) { $0.type == Raw.FrameType.goAway }
        #expect(goAway?.goAwayCode == Raw.ErrorCode.enhanceYourCalm)
        #expect(!client.frames().contains { $0.type == Raw.FrameType.data })
        #expect(try await client.waitForClose())
        let events = try #require((try await node.stats()["connections"] as? [String: Any])?["events"] as? [String: Int])
        #expect(events["h2_send_stalled"] == 1 && events["h2_goaway_enhance_your_calm"] == 1, "\(events)")
    }

    /// Should reset the stream of a malformed request (RFC 9113 §8.1.1: here an upper case field name, a
    /// connection-specific field, a pseudo-header after a field) with PROTOCOL_ERROR, answer nothing on it, count
    /// it, and go on serving the connection.
    @Test func malformedRequestsAreReset() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs)
        defer { Task { await node.stopAll() } }
        let port = try #require(node.httpsPort)
        let client = try await Raw.connect(port: port, caPath: certs.caPath, serverName: "images.test")
        try await client.send(Raw.get("/a.jpg?w=40", stream: 1, extra: [("Accept", "image/webp")]))
        try await client.send(Raw.get("/a.jpg?w=40", stream: 3, extra: [("connection", "keep-alive")]))
        try await client.send(Raw.frame(Raw.FrameType.headers, Raw.Flag.endStream | Raw.Flag.endHeaders, 5,
                                        Raw.headerBlock([(":method", "GET"), (":scheme", "https"), ("accept", "*/*"),
                                                         (":authority", "web.test"), (":path", "/a.jpg?w=40")])))
        try await client.send(Raw.get("/a.jpg?w=40", stream: 7))
        let answered = try await client.waitFor { $0.type == Raw.FrameType.headers && $0.stream == 7 }
        #expect(answered != nil, "the connection was not served after the malformed requests")
        for stream: UInt32 in [1, 3, 5] {
            let reset = client.frames().first { $0.type == Raw.FrameType.rstStream && $0.stream == stream }
            #expect(reset?.payload == [0, 0, 0, UInt8(Raw.ErrorCode.protocolError)], "stream \(stream): \(String(describing: reset))")
            #expect(!client.frames().contains { $0.type == Raw.FrameType.headers && $0.stream == stream })
        }
        let events = try #require((try await node.stats()["connections"] as? [String: Any])?["events"] as? [String: Int])
        #expect(events["h2_malformed_request"] == 3, "\(events)")
        await client.close()
    }

    /// Should close an HTTP/2 connection whose client has begun a frame, or a header block, and not finished it
    /// within `http.headerTimeout` (an h2 slowloris), count it, and leave a connection that sent whole frames and
    /// then waits alone.
    @Test func slowFramesAreCutOff() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs) { $0.headerTimeout = 0.5 }
        defer { Task { await node.stopAll() } }
        let port = try #require(node.httpsPort)
        let request = Raw.get("/a.jpg?w=40", stream: 1)
        // Half a HEADERS frame; a HEADERS frame without END_HEADERS whose CONTINUATION never comes.
        let halfFrame = try await Raw.connect(port: port, caPath: certs.caPath, serverName: "images.test")
        try await halfFrame.send(Array(request.prefix(12)))
        let openBlock = try await Raw.connect(port: port, caPath: certs.caPath, serverName: "images.test")
        try await openBlock.send(Raw.frame(Raw.FrameType.headers, Raw.Flag.endStream, 1, Array(request.dropFirst(9))))
        let waiting = try await Raw.connect(port: port, caPath: certs.caPath, serverName: "images.test")
        #expect(try await halfFrame.waitForClose(timeout: .seconds(10)))
        #expect(try await openBlock.waitForClose(timeout: .seconds(10)))
        #expect(!openBlock.frames().contains { $0.type == Raw.FrameType.headers })
        // The connection that sent only whole frames is still served.
        #expect(waiting.isOpen)
        try await waiting.send(request)
        let answered = try await waiting.waitFor { $0.type == Raw.FrameType.headers && $0.stream == 1 }
        #expect(answered != nil)
        let events = try #require((try await node.stats()["connections"] as? [String: Any])?["events"] as? [String: Int])
        #expect(events["header_timeout"] == 2, "\(events)")
        await waiting.close()
    }

    /// Should hold clients to `https.maxConcurrentStreams`: one that keeps to the SETTINGS is served in full (h2load
    /// asking for 10 streams at a time gets 3); one that opens more than it acknowledged gets GOAWAY
    /// (PROTOCOL_ERROR: NIO treats it as a connection error, where nghttp2 would refuse only the stream).
    @Test func concurrentStreamLimit() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs) { $0.https.maxConcurrentStreams = 3 }
        defer { Task { await node.stopAll() } }
        let port = try #require(node.httpsPort)
        _ = try await node.get("/a.jpg?w=40")
        let r = try await ChildProcess.run("/usr/bin/h2load", ["-n", "60", "-c", "1", "-m", "10", "--connect-to", "127.0.0.1:\(port)",
                                                             "https://images.test:\(port)/a.jpg?w=40"])
        #expect(r.stdout.contains("60 succeeded, 0 failed, 0 errored"), "\(r.stdout)")
        node.origin.hold("/a.jpg")
        let client = try await Raw.connect(port: port, caPath: certs.caPath, serverName: "images.test")
        // The server's SETTINGS, acknowledged: the limit is in force from the acknowledgement on.
        _ = try await client.waitFor { $0.type == Raw.FrameType.settings && $0.flags & Raw.Flag.ack == 0 }
        try await client.send(Raw.frame(Raw.FrameType.settings, Raw.Flag.ack, 0, []))
        try await client.send((0..<4).flatMap { Raw.get("/a.jpg?w=\(20 + $0)", stream: UInt32(2 * $0 + 1)) })
        let goAway = try await client.waitFor { $0.type == Raw.FrameType.goAway }
        #expect(goAway?.goAwayCode == Raw.ErrorCode.protocolError, "\(String(describing: goAway))")
        #expect(try await client.waitForClose())
        node.origin.release()
    }

    /// Should, when the node stops, send GOAWAY at once, finish the stream in flight, then close.
    @Test func gracefulDrain() async throws {
        let certs = try TestCertificates()
        let node = try await Self.start(certs)
        node.origin.hold("/a.jpg")
        let port = try #require(node.httpsPort)
        let client = try await Raw.connect(port: port, caPath: certs.caPath, serverName: "images.test")
        try await client.send(Raw.get("/a.jpg?w=40", stream: 1))
        try await Task.sleep(for: .milliseconds(200))
        let stopping = Task { await node.stopAll() }
        let goAway = try await client.waitFor { $0.type == Raw.FrameType.goAway }
        #expect(goAway?.goAwayCode == Raw.ErrorCode.noError)
        #expect(goAway.map { Array($0.payload[0..<4]) } == [0, 0, 0, 1], "the last stream taken is 1")
        #expect(client.isOpen, "the stream in flight is still being answered")
        node.origin.release()
        let done = try await client.waitFor { $0.stream == 1 && $0.flags & Raw.Flag.endStream != 0 }
        #expect(done?.type == Raw.FrameType.data, "\(client.frames().map { ($0.type, $0.stream, $0.flags) })")
        #expect(try await client.waitForClose())
        await stopping.value
    }
}
