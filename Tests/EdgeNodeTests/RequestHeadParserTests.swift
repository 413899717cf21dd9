import EdgeCore
@testable import EdgeNode
import NIOHTTP1
import Testing

/// The edge front's request parser (RequestHeadParser) and chunked-body skipper, on bytes.
@Suite struct RequestHeadParserTests {
    static func parse(_ text: String) -> RequestHeadParser.Outcome {
        Array(text.utf8).withUnsafeBytes { RequestHeadParser.parse($0) }
    }

    static func head(_ text: String) -> RequestHead? {
        if case .head(let h, let length) = parse(text), length == text.utf8.count { return h }
        return nil
    }

    static func error(_ text: String) -> EdgeError? {
        if case .invalid(let e) = parse(text) { return e }
        return nil
    }

    /// Should parse a browser's request: the line, the fields the node uses (names in any case), keep-alive.
    @Test func browserRequest() throws {
        let text = "GET /photo.jpg?w=400&auto=format HTTP/1.1\r\nHOST: img.example.com\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept: image/avif,image/webp\r\naccept: */*;q=0.8\r\n"
            + "If-None-Match: \"a\"\r\nRange: bytes=0-99\r\nIf-Range: \"a\"\r\nSec-CH-Width: 800\r\nWidth: 400\r\n"
            + "DPR: 2\r\nSave-Data: on\r\nCookie: k=\u{e9}\r\n\r\n"
        let h = try #require(Self.head(text))
        #expect(h.method == .GET && h.target == "/photo.jpg?w=400&auto=format" && h.minorVersion == 1)
        #expect(h.keepAlive && h.body == .none)
        #expect(h.host == "img.example.com")
        #expect(h.accept == "image/avif,image/webp, */*;q=0.8")
        #expect(h.ifNoneMatch == "\"a\"" && h.range == "bytes=0-99" && h.ifRange == "\"a\"")
        #expect(h.width == "800" && h.dpr == "2" && h.saveData == "on")
    }

    /// Should accept bare LF line ends, skip blank lines before the request line, trim a value's whitespace.
    @Test func lenientWhereTheRFCAllows() throws {
        let h = try #require(Self.head("GET / HTTP/1.1\nHost:\t a.test \t\n\n"))
        #expect(h.host == "a.test")
        #expect(Self.parse("\r\n\r\nGET / HTTP/1.1\r\n") == .incomplete(skip: 4))
        #expect(Self.head("HEAD /x HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n")?.method == .HEAD)
        #expect(Self.head("PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n")?.method == .RAW(value: "PURGE"))
    }

    /// Should decide persistence by version and Connection tokens, and serve a later 1.x as 1.1.
    @Test func persistence() {
        #expect(Self.head("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, Close\r\n\r\n")?.keepAlive == false)
        #expect(Self.head("GET / HTTP/1.0\r\n\r\n")?.keepAlive == false)
        #expect(Self.head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")?.keepAlive == true)
        #expect(Self.head("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")?.keepAlive == false)
        #expect(Self.head("GET / HTTP/1.9\r\nHost: a\r\n\r\n")?.minorVersion == 1)
        #expect(Self.error("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == .httpVersionNotSupported)
    }

    /// Should say incomplete for every proper prefix of a head, and parse it the same fed one byte at a time
    /// with the search carried over.
    @Test func incrementalArrival() throws {
        let bytes = Array("GET /a?w=1 HTTP/1.1\r\nHost: a\r\nAccept: image/webp\r\n\r\n".utf8)
        for n in 0..<bytes.count {
            #expect(Array(bytes[..<n]).withUnsafeBytes { RequestHeadParser.parse($0) } == .incomplete(skip: 0))
        }
        var state = RequestHeadParser.ScanState()
        var outcome = RequestHeadParser.Outcome.incomplete(skip: 0)
        for n in 1...bytes.count {
            outcome = Array(bytes[..<n]).withUnsafeBytes { RequestHeadParser.parse($0, state: &state) }
            if n < bytes.count { #expect(outcome == .incomplete(skip: 0)) }
        }
        #expect(outcome == Self.parse(String(decoding: bytes, as: UTF8.self)))
        #expect(state.resume <= bytes.count)
    }

    /// Should refuse, with 400, every framing that two servers could read two ways or that is not HTTP/1.1.
    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",                       // whitespace before the colon
        "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n",        // obs-fold
        "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",                  // bare CR
        "GET / HTTP/1.1\r\nHost: a\u{0}b\r\n\r\n",                  // NUL in a value
        "GET / HTTP/1.1\r\nHost: a\u{7f}\r\n\r\n",                  // DEL in a value
        "GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n",             // not a token
        "GET / HTTP/1.1\r\n: empty\r\nHost: a\r\n\r\n",             // empty name
        "GET / HTTP/1.1\r\n\r\n",                                   // no Host
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",             // two Hosts
        "GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",                       // two spaces
        "GET /\t HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / http/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
        "GET /\r\nHost: a\r\n\r\n",                                 // HTTP/0.9
        "G@T / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
        "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
    ])
    func refusedFraming(_ text: String) {
        #expect(Self.error(text)?.status == 400, "\(text.debugDescription)")
    }

    /// Should frame bodies by Content-Length (one value, repeated or not) or chunked, and refuse large ones.
    @Test func bodyFraming() {
        #expect(Self.head("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")?.body == RequestHead.Body.none)
        #expect(Self.head("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n")?.body == .length(12))
        #expect(Self.head("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\ncontent-length: 7\r\n\r\n")?.body == .length(7))
        #expect(Self.head("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n\r\n")?.body == .chunked)
        #expect(Self.error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n")?.status == 413)
        #expect(Self.error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n")?.status == 400)
    }

    /// Should answer 414 for a long target and 431 for a large header section — at once when complete, and
    /// before completion once the bytes cannot fit.
    @Test func limits() {
        let long = String(repeating: "a", count: RequestHeadParser.maxTargetBytes)
        #expect(Self.head("GET /\(long.dropFirst()) HTTP/1.1\r\nHost: a\r\n\r\n") != nil)
        #expect(Self.error("GET /\(long) HTTP/1.1\r\nHost: a\r\n\r\n") == .uriTooLong)
        #expect(Self.error("GET /\(long)\(long)") == .uriTooLong)
        let filler = (0..<40).map { "X-Filler-\($0): " + String(repeating: "b", count: 500) + "\r\n" }.joined()
        #expect(Self.error("GET / HTTP/1.1\r\nHost: a\r\n\(filler)\r\n") == .headersTooLarge)
        #expect(Self.error("GET / HTTP/1.1\r\nHost: a\r\n\(filler)\(filler)") == .headersTooLarge)
        let many = (0..<RequestHeadParser.maxFields).map { "X-\($0): 1\r\n" }.joined()
        #expect(Self.error("GET / HTTP/1.1\r\nHost: a\r\n\(many)\r\n") == .headersTooLarge)
        #expect(Self.error(String(repeating: "A", count: 40) + " / HTTP/1.1\r\nHost: a\r\n\r\n")?.status == 400)
    }

    static func skip(_ chunks: [String]) -> [ChunkedBodySkipper.Step] {
        var skipper = ChunkedBodySkipper()
        var pending: [UInt8] = []
        var steps: [ChunkedBodySkipper.Step] = []
        for c in chunks {
            pending += Array(c.utf8)
            let step = pending.withUnsafeBytes { skipper.consume($0) }
            steps.append(step)
            switch step {
            case .more(let n), .done(let n): pending.removeFirst(n)
            case .invalid: return steps
            }
        }
        return steps
    }

    /// Should pass over a chunked body — extensions, trailers, bare LFs, any split of its bytes — and end exactly
    /// where it ends.
    @Test func chunkedBodies() {
        let body = "5;name=value\r\nhello\r\n1A\r\n" + String(repeating: "z", count: 26) + "\r\n0\r\nX-Trailer: 1\r\n\r\n"
        #expect(Self.skip([body + "GET"]) == [.done(consumed: body.utf8.count)])
        #expect(Self.skip(["3\nabc\n0\n\n"]) == [.done(consumed: 9)])
        // One byte at a time: every step but the last wants more.
        let steps = Self.skip(body.map { String($0) })
        #expect(steps.dropLast().allSatisfy { if case .more = $0 { true } else { false } })
        if case .done = steps.last {} else { Issue.record("not done: \(String(describing: steps.last))") }
    }

    /// Should refuse a chunked body that is malformed or too large.
    @Test(arguments: ["x\r\n", "5\r\nhelloX\r\n", "5 x\r\nhello\r\n", "0\r\nbad trailer\r\n\r\n", "\r\n",
                      "123456789\r\n", "100001\r\n", String(repeating: "0", count: 5000)])
    func refusedChunkedBodies(_ body: String) {
        guard case .invalid(let e) = Self.skip([body]).last else {
            Issue.record("accepted \(body.prefix(40).debugDescription)")
            return
        }
        #expect(e.status == 400 || e.status == 413)
    }
}
