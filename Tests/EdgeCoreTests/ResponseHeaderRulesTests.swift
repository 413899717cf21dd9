import EdgeCore
import Testing

@Suite struct ResponseHeaderRulesTests {
    let origin: [(name: String, value: String)] = [
        ("connection", "keep-alive, x-hop"), ("keep-alive", "timeout=5"), ("x-hop", "1"), ("transfer-encoding", "chunked"),
        ("content-length", "10"), ("content-type", "image/jpeg"), ("etag", "\"v\""), ("last-modified", "x"),
        ("cache-control", "max-age=60"), ("age", "3"), ("date", "x"), ("set-cookie", "a=b"), ("surrogate-key", "k"),
        ("surrogate-control", "max-age=9"), ("server", "nginx"), ("strict-transport-security", "max-age=1"),
        ("link", "</a.css>; rel=preload"), ("content-language", "de"), ("x-unknown", "kept"), ("expires", "x"),
        ("content-disposition", "inline"), ("content-md5", "abc="), ("vary", "Accept-Encoding"),
        ("cdn-cache-control", "max-age=600"), ("access-control-allow-origin", "*"),
    ]

    /// Should pass an original's end-to-end fields, in order, and nothing hop-by-hop, framing, cookie, for this hop's
    /// cache only, or written by the node itself.
    @Test func original() {
        let lines = ResponseHeaderRules(passAll: true).select(origin, withheld: [], sameBytes: true)
        #expect(lines.map(\.name) == ["link", "content-language", "x-unknown", "expires", "content-disposition", "content-md5",
                                      "vary", "cdn-cache-control", "access-control-allow-origin"])
    }

    /// Should leave out what describes the origin's exact bytes when the body served is not them.
    @Test func otherBytes() {
        let lines = ResponseHeaderRules(passAll: true).select(origin + [("content-encoding", "gzip")], withheld: [],
                                                              sameBytes: false)
        #expect(!lines.contains { $0.name == "content-md5" || $0.name == "content-encoding" })
        #expect(lines.contains { $0.name == "link" })
    }

    /// Should pass only the listed fields with a variant, and never a stripped one or a withheld one.
    @Test func variantAndStrip() {
        let variant = ResponseHeaderRules(passAll: false, listed: ["Link", "Set-Cookie", "X-Hop"])
        #expect(variant.select(origin, withheld: [], sameBytes: false).map(\.name) == ["link"])
        let stripped = ResponseHeaderRules(passAll: true, stripped: ["X-Unknown", "link"])
        let names = stripped.select(origin, withheld: ["content-language"], sameBytes: true).map(\.name)
        #expect(!names.contains("x-unknown") && !names.contains("link") && !names.contains("content-language"))
        #expect(names.contains("expires"))
    }

    /// Should bound what passes, and drop lines no client could be sent.
    @Test func bounds() {
        let many = (0..<200).map { (name: "x-\($0)", value: "v") }
        #expect(ResponseHeaderRules(passAll: true).select(many, withheld: [], sameBytes: true).count == ResponseHeaderRules.maxLines)
        let big = (0..<10).map { (name: "x-\($0)", value: String(repeating: "v", count: 4_000)) }
        #expect(ResponseHeaderRules(passAll: true).select(big, withheld: [], sameBytes: true).count == 4)
        let odd: [(name: String, value: String)] = [("x a", "v"), ("x-b", "line\r\nbreak"), ("x-c", "fine")]
        #expect(ResponseHeaderRules(passAll: true).select(odd, withheld: [], sameBytes: true).map(\.name) == ["x-c"])
    }

    /// Should refresh stored lines with a 304's (RFC 9111 §4.3.4): its passable fields replace those of their name.
    @Test func refresh() {
        let stored = [HeaderLine(name: "link", value: "old"), HeaderLine(name: "x-a", value: "1")]
        let variant = ResponseHeaderRules(passAll: false)
        let fresh = variant.refresh(stored, with: [("link", "new"), ("x-b", "2"), ("set-cookie", "c")], withheld: [])
        // A variant keeps taking what it stored already (the 304's Link), but nothing new it does not list.
        #expect(fresh == [HeaderLine(name: "x-a", value: "1"), HeaderLine(name: "link", value: "new")])
        let original = ResponseHeaderRules(passAll: true).refresh(stored, with: [("x-b", "2")], withheld: [])
        #expect(original == stored + [HeaderLine(name: "x-b", value: "2")])
    }
}

@Suite struct RequestHeaderRulesTests {
    /// Should forward end-to-end request fields, names lower-cased, and hold back hop-by-hop ones (and those
    /// Connection names), Host, framing, conditionals, Range, and — unless listed — credentials and client hints.
    @Test func forwarded() {
        let lines: [(name: String, value: String)] = [
            ("Host", "a"), ("Connection", "close, X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "5"), ("TE", "trailers"),
            ("Accept", "image/*"), ("Accept-Language", "de"), ("Cookie", "c=1"), ("Authorization", "Basic x"),
            ("If-None-Match", "\"x\""), ("Range", "bytes=0-1"), ("Width", "100"), ("Sec-CH-DPR", "2"),
            ("User-Agent", "ua"), ("X-Bad", "a\r\nb"), ("Content-Length", "0"),
        ]
        let plain = RequestHeaderRules().forwarded(lines)
        #expect(plain.map(\.name) == ["accept", "accept-language", "user-agent"])
        let opted = RequestHeaderRules(forward: ["Cookie", "Sec-CH-DPR"]).forwarded(lines)
        #expect(opted.map(\.name) == ["accept", "accept-language", "cookie", "sec-ch-dpr", "user-agent"])
        let many = (0..<100).map { (name: "x-\($0)", value: "v") }
        #expect(RequestHeaderRules().forwarded(many).count == RequestHeaderRules.maxLines)
    }

    /// Should key only on Vary names the node forwards, sorted and deduplicated.
    @Test func keyedVary() {
        #expect(RequestHeaderRules().keyedVary(["accept-language", "cookie", "accept", "accept", "width"]) == ["accept", "accept-language"])
        #expect(RequestHeaderRules(forward: ["cookie"]).keyedVary(["cookie"]) == ["cookie"])
    }

    /// Should normalise values (lines joined, spaces around commas and runs of spaces) and tell absent from empty.
    @Test func varyKeyText() {
        let t = { (lines: [(name: String, value: String)]) in RequestHeaderRules.varyKeyText(names: ["accept-language"], lines: lines) }
        #expect(t([("Accept-Language", "de, en")]) == t([("accept-language", "de ,en")]))
        #expect(t([("Accept-Language", "de"), ("Accept-Language", "en")]) == t([("Accept-Language", "de, en")]))
        #expect(t([("Accept-Language", "de  x")]) == t([("Accept-Language", "de x")]))
        #expect(t([("Accept-Language", "de")]) != t([("Accept-Language", "en")]))
        #expect(t([]) != t([("Accept-Language", "")]))
        #expect(t([("Accept-Language", "de")]) != t([("Accept-Language", "DE")]))
    }

    /// Should let a response serve requests with Authorization only when public, s-maxage or must-revalidate.
    @Test func authorized() {
        #expect(!RequestHeaderRules.allowsAuthorized(CacheControl("max-age=60")))
        #expect(RequestHeaderRules.allowsAuthorized(CacheControl("public, max-age=60")))
        #expect(RequestHeaderRules.allowsAuthorized(CacheControl("s-maxage=60")))
        #expect(RequestHeaderRules.allowsAuthorized(CacheControl("max-age=60, must-revalidate")))
    }
}
