@testable import EdgeNode
import NIOHPACK
import Testing

/// Request header blocks as RFC 9113 §8.2 and §8.3 have a server take or refuse them, read in one pass.
@Suite struct HTTP2RequestHeadTests {
    static let base: [(String, String)] = [(":method", "GET"), (":scheme", "https"), (":authority", "img.test"),
                                           (":path", "/a.jpg?w=40")]

    static func parse(_ fields: [(String, String)]) -> Result<HTTP2RequestHead, HTTP2RequestHead.Malformed> {
        HTTP2RequestHead.parse(HPACKHeaders(fields))
    }

    /// Should read the pseudo-headers and the fields the node uses, joining repeated ones, and fall back to
    /// `host` without `:authority`.
    @Test func readsWhatTheNodeUses() throws {
        let head = try Self.parse(Self.base + [("accept", "image/avif"), ("accept", "image/webp"), ("range", "bytes=0-9"),
                                               ("if-none-match", "\"x\""), ("if-range", "\"x\""), ("sec-ch-width", "400"),
                                               ("dpr", "2"), ("save-data", "on"), ("user-agent", "test"), ("te", "trailers")]).get()
        #expect(head.method == "GET" && head.scheme == "https" && head.path == "/a.jpg?w=40" && head.authority == "img.test")
        #expect(head.accept == "image/avif, image/webp" && head.range == "bytes=0-9" && head.ifNoneMatch == "\"x\"")
        #expect(head.ifRange == "\"x\"" && head.width == "400" && head.dpr == "2" && head.saveData == "on")
        let hosted = try Self.parse([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("host", "h.test")]).get()
        #expect(hosted.authority == "h.test")
        // Sec-CH-Width and Sec-CH-DPR win over Width and DPR, as in HTTP/1.1.
        let both = try Self.parse(Self.base + [("width", "300"), ("sec-ch-width", "400"), ("sec-ch-dpr", "3"), ("dpr", "1")]).get()
        #expect(both.width == "400" && both.dpr == "3")
        let request = try #require(EdgeRequest(head))
        #expect(request.uri == "/a.jpg?w=40" && request.host == "img.test" && request.hints.width == 400)
    }

    static let malformed: [(String, [(String, String)])] = [
        ("upper case name", base + [("Accept", "image/webp")]),
        ("space in a name", base + [("x y", "1")]),
        ("empty name", base + [("", "1")]),
        ("CR in a value", base + [("accept", "a\rb")]),
        ("LF in a value", base + [("accept", "a\nb")]),
        ("NUL in a value", base + [("accept", "a\u{0}b")]),
        ("leading space", base + [("accept", " image/webp")]),
        ("trailing tab", base + [("accept", "image/webp\t")]),
        ("pseudo-header after a field", [(":method", "GET"), (":scheme", "https"), ("accept", "*/*"), (":path", "/")]),
        ("duplicate :path", base + [(":path", "/b")]),
        ("duplicate :method", [(":method", "GET")] + base),
        ("response pseudo-header", [(":status", "200")] + base),
        ("unknown pseudo-header", [(":colour", "blue")] + base),
        ("no :method", Array(base.dropFirst())),
        ("no :scheme", base.filter { $0.0 != ":scheme" }),
        ("no :path", base.filter { $0.0 != ":path" }),
        ("empty :path", base.filter { $0.0 != ":path" } + [(":path", "")]),
        ("connection", base + [("connection", "keep-alive")]),
        ("keep-alive", base + [("keep-alive", "5")]),
        ("proxy-connection", base + [("proxy-connection", "x")]),
        ("transfer-encoding", base + [("transfer-encoding", "chunked")]),
        ("upgrade", base + [("upgrade", "h2c")]),
        ("te other than trailers", base + [("te", "gzip")]),
        ("CONNECT with a path", [(":method", "CONNECT"), (":authority", "a:443"), (":path", "/")]),
        ("CONNECT without authority", [(":method", "CONNECT")]),
    ]

    /// Should refuse every malformed block RFC 9113 names.
    @Test(arguments: 0..<malformed.count)
    func refusesMalformed(index: Int) {
        let (name, fields) = Self.malformed[index]
        guard case .failure = Self.parse(fields) else {
            Issue.record("\(name) was taken")
            return
        }
    }

    /// Should take CONNECT with an authority only (the node then answers it 400: it is no proxy), and a `*` path
    /// for OPTIONS (answered 400 too: not a resource).
    @Test func connectAndAsterisk() throws {
        let connect = try Self.parse([(":method", "CONNECT"), (":authority", "a.test:443")]).get()
        #expect(connect.path == "" && EdgeRequest(connect) == nil)
        let options = try Self.parse([(":method", "OPTIONS"), (":scheme", "https"), (":path", "*")]).get()
        #expect(EdgeRequest(options) == nil)
    }
}
