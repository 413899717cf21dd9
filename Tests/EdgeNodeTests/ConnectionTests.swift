import EdgeCore
@testable import EdgeNode
import EdgeTestSupport
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import Testing

/// The edge front's own HTTP/1.1 connection handling (EdgeHTTPHandler and ResponseHead): pipelining, malformed
/// requests, and the header block it encodes.
@Suite struct ConnectionTests {
    /// Should answer pipelined requests in the order they were sent, a slow miss first included, then close when
    /// the last asks for it.
    @Test func pipelinedRequestsAnsweredInOrder() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/slow.jpg", body: photo, headers: jpegHeaders, delay: .milliseconds(300))
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let hit = try await node.get("/photo.jpg?w=40")
        #expect(hit.status == 200)
        let requests = [
            "GET /slow.jpg?w=30 HTTP/1.1\r\nHost: web.test\r\n\r\n",
            "GET /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\n\r\n",
            "HEAD /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\n\r\n",
            "GET /photo.jpg?w=abc HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n",
            "GET /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\n\r\n",  // after the close: never answered
        ]
        let text = try await RawTCPExchange.exchange(port: node.port, requests.joined())
        #expect(RawTCPExchange.statusLines(text) == ["200 OK", "200 OK", "200 OK", "400 Bad Request"])
        let caches = text.split(separator: "\r\n").filter { $0.hasPrefix("x-cache: ") }
        #expect(caches == ["x-cache: MISS", "x-cache: HIT", "x-cache: HIT"])
        #expect(text.contains("connection: close"))
        #expect(node.origin.count("/slow.jpg") == 1)
    }

    /// Should answer a request it cannot parse with 400 and close the connection.
    @Test func malformedRequestIs400() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        let text = try await RawTCPExchange.exchange(port: node.port, "GET /photo.jpg HTTP/1.1\r\nHost web.test\r\n\r\n")
        #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(text)")
        #expect(text.contains("connection: close\r\n"))
        #expect(node.origin.totalRequests == 0)
    }

    /// Should frame every answer with Content-Length (none on 304), name the server, and say when it closes.
    @Test func headBlockFraming() {
        let allocator = ByteBufferAllocator()
        let ok = EdgeAnswer(status: .ok, fields: [.contentType: "image/jpeg"], body: .buffer(ByteBuffer(string: "12345")))
        #expect(String(buffer: ResponseHead().encode(ok, keepAlive: true, allocator: allocator))
            == "HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\ncontent-length: 5\r\nserver: imgedge\r\n\r\n")
        let known = EdgeAnswer(status: .notFound, fields: [:], body: .buffer(ByteBuffer(string: "{}")))
        #expect(String(buffer: ResponseHead().encode(known, keepAlive: false, allocator: allocator))
            == "HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\nserver: imgedge\r\nconnection: close\r\n\r\n")
        let notModified = EdgeAnswer(status: .notModified, fields: [.eTag: "\"a\""])
        #expect(String(buffer: ResponseHead().encode(notModified, keepAlive: true, allocator: allocator))
            == "HTTP/1.1 304 Not Modified\r\netag: \"a\"\r\nserver: imgedge\r\n\r\n")
    }

    /// Should never let a field value split the header block: bytes that could (CR, LF, NUL) go out as spaces.
    @Test func unsafeHeaderValueCannotSplitTheBlock() {
        let allocator = ByteBufferAllocator()
        let r = EdgeAnswer(status: .ok, fields: [.contentDisposition: "attachment\r\nset-cookie: a=b",
                                                 HTTPField.Name("x-nul")!: "a\u{0}b", .eTag: "\"e\""])
        #expect(String(buffer: ResponseHead().encode(r, keepAlive: true, allocator: allocator))
            == "HTTP/1.1 200 OK\r\ncontent-disposition: attachment  set-cookie: a=b\r\nx-nul: a b\r\netag: \"e\"\r\n"
            + "content-length: 0\r\nserver: imgedge\r\n\r\n")
    }
}

@Suite struct IdleConnectionTests {
    /// Should keep a connection whose request is still being worked on past the idle timeout (a slow fill is not
    /// an idle client), and close it once it has been idle that long.
    @Test func idleConnectionClosedSlowFillNot() async throws {
        let node = try await TestNode.start { $0.idleTimeout = 1 }
        defer { Task { await node.stopAll() } }
        node.origin.route("/slow.jpg", body: photo, headers: jpegHeaders, delay: .milliseconds(3000))
        // A machine loaded enough to delay the request's bytes past the idle timeout sees the connection closed
        // before its request was read (the origin then heard nothing): that is an idle client, so try again.
        for attempt in 0..<5 {
            let start = ContinuousClock.now
            // (Closed before the request could even be written: the exchange throws.)
            let text = (try? await RawTCPExchange.exchange(
                port: node.port, "GET /slow.jpg?w=\(30 + attempt) HTTP/1.1\r\nHost: web.test\r\n\r\n", timeout: .seconds(60))) ?? ""
            if text.isEmpty && node.origin.count("/slow.jpg") == attempt { continue }
            #expect(node.origin.count("/slow.jpg") == attempt + 1)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(text.prefix(200))")
            #expect(!text.contains("connection: close"))
            #expect(ContinuousClock.now - start < .seconds(60), "closed by the server, not by the exchange's timeout")
            return
        }
        Issue.record("every connection was closed before its request was read")
    }
}

@Suite struct MemoryTierPolicyTests {
    /// Should count hits served from the memory tier in the store's eviction policy (without them the most
    /// popular variants would look never hit there, and be evicted first).
    @Test func memoryTierHitsReachTheStorePolicy() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        #expect(try await node.get("/photo.jpg?w=40").header("x-cache") == "MISS")
        #expect(node.server.store.policyState().residents.map(\.frequency) == [0])
        for _ in 0..<2 { #expect(try await node.get("/photo.jpg?w=40").header("x-cache") == "HIT") }
        #expect(node.server.service.hot.usage.entries == 1, "the hits came from the memory tier")
        #expect(node.server.store.policyState().residents.map(\.frequency) == [2])
        let store = try #require(try await node.stats()["store"] as? [String: Any])
        #expect(store["smallQueueEntries"] as? Int == 1 && store["mainQueueEntries"] as? Int == 0)
        #expect(store["isolatedBatches"] as? Int == 0 && store["snapshotsSaved"] as? Int == 0)
    }
}

@Suite struct LargeHitTests {
    static let target = "/photo.jpg?w=640&q=100"
    var target: String { Self.target }

    /// A node whose origin has the test photo, and the answer to the first request for `target` (a variant large
    /// enough for the memory tier to keep as a file).
    static func nodeWithLargeVariant() async throws -> (TestNode, TestHTTPResponse) {
        let node = try await TestNode.start()
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let miss = try await node.get(target)
        if miss.body.count < BodyFile.minimumBytes { await node.stopAll() }
        try #require(miss.body.count >= BodyFile.minimumBytes, "a body of \(miss.body.count) bytes is too small for this test")
        return (node, miss)
    }

    /// Should serve a large variant (kept by the memory tier as a sealed file, sent with sendfile) with the very
    /// bytes of its fill, whole, as HEAD and as a range.
    @Test func largeVariantFromTheMemoryTier() async throws {
        let (node, miss) = try await Self.nodeWithLargeVariant()
        defer { Task { await node.stopAll() } }
        #expect(miss.header("x-cache") == "MISS")
        for _ in 0..<3 {
            let hit = try await node.get(target)
            #expect(hit.header("x-cache") == "HIT")
            #expect(hit.body == miss.body)
            #expect(hit.header("content-length") == String(miss.body.count))
        }
        let key = try node.server.service.resolve(EdgeRequest(method: .get, uri: target, host: "web.test", accept: nil,
                                                              ifNoneMatch: nil)).key
        #expect(node.server.service.hot.get(key)?.file != nil, "kept as a file")
        let head = try await TestHTTPClient.get(port: node.port, target, method: .HEAD, headers: [("Host", "web.test")])
        #expect(head.body.isEmpty && head.header("content-length") == String(miss.body.count))
        let part = try await node.get(target, headers: [("Range", "bytes=1000-1999")])
        #expect(part.status == 206)
        #expect(part.body == Array(miss.body[1000..<2000]))
        #expect(node.origin.count("/photo.jpg") == 1)
    }

    /// Should send a variant kept as a file whole to many connections at once, whichever event loops they are on:
    /// NIO refuses a file handle another thread is using (EBUSY, and the connection was closed after the head),
    /// so each loop sends through a handle of its own.
    @Test func largeVariantToManyConnectionsAtOnce() async throws {
        let (node, miss) = try await Self.nodeWithLargeVariant()
        defer { Task { await node.stopAll() } }
        let hit = try await node.get(target)
        #expect(hit.header("x-cache") == "HIT")
        let perConnection = 40
        let one = "GET \(target) HTTP/1.1\r\nHost: web.test\r\n\r\n"
        let request = String(repeating: one, count: perConnection - 1)
            + "GET \(target) HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n"
        try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<16 { group.addTask { try await RawTCPExchange.exchangeBytes(port: node.port, request) } }
            for try await bytes in group {
                let bodies = RawTCPExchange.bodies(bytes)
                #expect(bodies.count == perConnection, "answers on one connection")
                #expect(bodies.allSatisfy { $0 == miss.body })
            }
        }
        #expect(node.origin.count("/photo.jpg") == 1)
    }
}

/// The edge front's own request decoding over a real connection: bodies skipped by their framing, refusals
/// answered and the connection closed, heads that arrive in pieces.
@Suite struct RequestFramingTests {
    /// Should skip a request's body by its Content-Length or chunked framing — a request hidden in a body is
    /// never answered — and answer the requests after it on the same connection.
    @Test func bodiesAreSkippedNotParsed() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let hidden = "GET /photo.jpg?w=31 HTTP/1.1\r\nHost: web.test\r\n\r\n"
        let chunked = String(hidden.utf8.count, radix: 16) + ";x=y\r\n" + hidden + "\r\n0\r\nX-T: 1\r\n\r\n"
        let requests = "GET /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\nContent-Length: \(hidden.utf8.count)\r\n\r\n" + hidden
            + "POST /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
            + "GET /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n"
        let text = try await RawTCPExchange.exchange(port: node.port, requests)
        #expect(RawTCPExchange.statusLines(text) == ["200 OK", "405 Method Not Allowed", "200 OK"], "\(text.prefix(300))")
        #expect(node.origin.count("/photo.jpg") == 1)
    }

    /// Should answer an ambiguous or unsupported request with its status and close, after answering the
    /// complete requests before it, reading nothing after it. (A chunked body found malformed comes after its
    /// request's head, which was answered.)
    @Test(arguments: [
        ("GET /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", ["400 Bad Request"]),
        ("GET /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ["200 OK", "400 Bad Request"]),
        ("GET /photo.jpg?w=40 HTTP/1.1\r\nX-A: 1\r\n\r\n", ["400 Bad Request"]),
        ("GET /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\nX-A: 1\r\n  folded\r\n\r\n", ["400 Bad Request"]),
        ("GET /photo.jpg?w=40 HTTP/2.0\r\nHost: web.test\r\n\r\n", ["505 HTTP Version Not Supported"]),
        ("GET /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\nContent-Length: 2000000\r\n\r\n", ["413 Payload Too Large"]),
    ])
    func refusalsCloseTheConnection(_ refused: String, _ statuses: [String]) async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let first = "GET /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\n\r\n"
        let after = "GET /photo.jpg?w=41 HTTP/1.1\r\nHost: web.test\r\n\r\n"
        let text = try await RawTCPExchange.exchange(port: node.port, first + refused + after)
        #expect(RawTCPExchange.statusLines(text) == ["200 OK"] + statuses, "\(text.prefix(200))")
        #expect(text.hasSuffix("}"))  // the JSON error body, nothing after it
        #expect(text.contains("connection: close\r\n"))
        #expect(node.origin.count("/photo.jpg") == 1)
    }

    /// Should put together a head that arrives a few bytes at a time, and answer it once.
    @Test func headInPieces() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let request = "\r\nGET /photo.jpg?w=40&auto=format HTTP/1.1\r\nHost: web.test\r\nAccept: image/webp\r\nConnection: close\r\n\r\n"
        let pieces = stride(from: 0, to: request.utf8.count, by: 7).map {
            String(decoding: Array(request.utf8)[$0..<min($0 + 7, request.utf8.count)], as: UTF8.self)
        }
        let text = try await RawTCPExchange.exchange(port: node.port, pieces: pieces, pause: .milliseconds(5))
        #expect(RawTCPExchange.statusLines(text) == ["200 OK"], "\(text.prefix(200))")
        #expect(text.contains("content-type: image/webp"))
    }
}

/// Plain hits (fresh, no conditions) reuse their entry's encoded head while it would say the same.
@Suite struct PlainHitHeadTests {
    static func heads(_ text: String) -> [String] {
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { "HTTP/1.1 " + $0.components(separatedBy: "\r\n\r\n")[0] }
    }

    /// Should answer hits with the same head while Age and max-age are the same whole seconds, a new head when
    /// the clock moves them, the same head to HEAD, and its own to a request that closes the connection.
    @Test func plainHitHeadFollowsTheClock() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=100")])
        #expect(try await node.get("/photo.jpg?w=40").status == 200)
        let get = "GET /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\n\r\n"
        let head = "HEAD /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\n\r\n"
        let close = "GET /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n"
        let first = Self.heads(try await RawTCPExchange.exchange(port: node.port, get + get + head + close))
        #expect(first.count == 4)
        guard first.count == 4 else { return }
        #expect(first[0] == first[1] && first[1] == first[2])
        #expect(first[0].contains("\r\nage: 0\r\n") && first[0].contains("cache-control: public, max-age=100\r\n"))
        #expect(first[0].contains("x-cache: HIT\r\n") && !first[0].contains("connection: close"))
        #expect(first[3] == first[0] + "\r\nconnection: close")
        clock.advance(3.5)
        let later = Self.heads(try await RawTCPExchange.exchange(port: node.port, get + close))
        #expect(later.first?.contains("\r\nage: 3\r\n") == true, "\(later)")
        #expect(later.first?.contains("cache-control: public, max-age=96\r\n") == true)
        #expect(later.last == later[0] + "\r\nconnection: close")
        #expect(node.origin.count("/photo.jpg") == 1)
    }

    /// Should send a plain hit's body whole and once, however its head was made (new, reused as one buffer with
    /// the body, to HEAD, on a closing answer), across a change of head, and serve ranges of the same bytes.
    @Test func plainHitBodiesOnTheWire() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=100")])
        let body = try await node.get("/photo.jpg?w=40").body
        #expect(body.count > 100)
        let get = "GET /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\n\r\n"
        let head = "HEAD /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\n\r\n"
        let range = "GET /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\nRange: bytes=10-99\r\n\r\n"
        let close = "GET /photo.jpg?w=40 HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n"
        for advance in [0, 2.5] {
            clock.advance(advance)
            let bytes = try await RawTCPExchange.exchangeBytes(port: node.port, get + get + head + range + get + close)
            let answers = RawTCPExchange.answers(bytes, isHead: [false, false, true, false, false, false])
            let statuses: [String] = answers.map { String($0.head.prefix(12)) }
            #expect(statuses == ["HTTP/1.1 200", "HTTP/1.1 200", "HTTP/1.1 200", "HTTP/1.1 206", "HTTP/1.1 200", "HTTP/1.1 200"])
            guard answers.count == 6 else { return }
            for i in [0, 1, 4, 5] { #expect(answers[i].body == body, "answer \(i)") }
            #expect(answers[2].body.isEmpty && answers[2].head == answers[1].head)
            #expect(answers[3].body == Array(body[10...99]))
            let framed: Int = answers.reduce(0) { $0 + $1.head.utf8.count + 4 + $1.body.count }
            #expect(framed == bytes.count, "nothing sent twice")
        }
        #expect(node.origin.count("/photo.jpg") == 1)
    }
}
