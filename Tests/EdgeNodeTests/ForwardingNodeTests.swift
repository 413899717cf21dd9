import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

/// Request headers forwarded with the fetch of an original, Vary keyed on them, and RFC 9111 §3.5's rules for
/// requests with Authorization.
@Suite struct ForwardingNodeTests {
    /// A text answer that varies with Accept-Language, fresh for ten minutes.
    static func varying(_ text: String) -> TestOrigin.Route {
        TestOrigin.Route(headers: [("Content-Type", "text/plain"), ("Vary", "Accept-Language"), ("Cache-Control", "max-age=600")],
                         body: Array(text.utf8))
    }

    /// Should forward an original's end-to-end request headers, and not hop-by-hop ones, Host, conditionals,
    /// Range, Cookie, Authorization or client hints; a transform's fetch forwards nothing.
    @Test func forwardsEndToEndHeaders() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders)
        let headers = [("Accept-Language", "de-CH, de;q=0.9"), ("User-Agent", "test-agent/1"), ("X-Custom", "one"),
                       ("Cookie", "session=1"), ("Authorization", "Bearer secret"), ("Width", "300"), ("DPR", "2"),
                       ("If-Modified-Since", "Tue, 14 Nov 2023 22:13:20 GMT"), ("Range", "bytes=0-10"),
                       ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"), ("Referer", "https://page.example/")]
        _ = try await node.get("/p.jpg", headers: headers)
        let sent = try #require(node.origin.requests.last)
        #expect(sent.header("accept-language") == "de-CH, de;q=0.9")
        #expect(sent.header("user-agent") == "test-agent/1")
        #expect(sent.header("x-custom") == "one")
        #expect(sent.header("referer") == "https://page.example/")
        for absent in ["cookie", "authorization", "width", "dpr", "if-modified-since", "range", "x-hop"] {
            #expect(sent.header(absent) == nil, "\(absent)")
        }
        #expect(sent.header("host")?.hasPrefix("127.0.0.1") == true)
        // A transform fetches the original once for all its variants: with none of one client's headers.
        _ = try await node.get("/p.jpg?w=20", headers: headers)
        let shared = try #require(node.origin.requests.last)
        #expect(shared.header("user-agent") == "imgedge" && shared.header("accept-language") == nil)
    }

    /// Should forward Cookie, Authorization or a client hint when the source lists it in forwardRequestHeaders.
    @Test func forwardsWhatTheSourceLists() async throws {
        let node = try await TestNode.start { $0.sources[0].forwardRequestHeaders = ["cookie", "width"] }
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders)
        _ = try await node.get("/p.jpg", headers: [("Cookie", "session=1"), ("Width", "300"), ("Authorization", "Basic x")])
        let sent = try #require(node.origin.requests.last)
        #expect(sent.header("cookie") == "session=1" && sent.header("width") == "300")
        #expect(sent.header("authorization") == nil)
    }

    /// Should keep one answer per value of a field the origin's Vary names and the node forwards, values
    /// normalised, an absent field apart from every value; over HTTP/1.1 as the tests run.
    @Test func varyKeysOnForwardedFields() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/v.txt", byHeader: "accept-language", ["de": Self.varying("Hallo"), "en": Self.varying("Hello"),
                                                                  "de, en": Self.varying("Hallo/Hello")], absent: Self.varying("?"))
        func get(_ value: String?) async throws -> (String, String?) {
            let r = try await node.get("/v.txt", headers: value.map { [("Accept-Language", $0)] } ?? [])
            return (String(decoding: r.body, as: UTF8.self), r.header("x-cache"))
        }
        #expect(try await get("de") == ("Hallo", "MISS"))
        #expect(try await get("de") == ("Hallo", "HIT"))
        #expect(try await get("en") == ("Hello", "MISS"))
        #expect(try await get("en") == ("Hello", "HIT"))
        #expect(try await get("de") == ("Hallo", "HIT"))
        #expect(try await get(nil) == ("?", "MISS"))
        #expect(try await get(nil) == ("?", "HIT"))
        #expect(try await get("de, en") == ("Hallo/Hello", "MISS"))
        // The same list written differently is the same variant.
        #expect(try await get("de ,  en") == ("Hallo/Hello", "HIT"))
        #expect(node.origin.count("/v.txt") == 4)
        // The origin's Vary goes downstream too.
        #expect(try await node.get("/v.txt", headers: [("Accept-Language", "de")]).header("vary") == "Accept-Language")
    }

    /// Should give requests that joined one fill before the node knew the original varies each their own answer.
    @Test func concurrentRequestsThatVary() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/c.txt", byHeader: "accept-language", ["de": Self.varying("Hallo"), "en": Self.varying("Hello")], absent: Self.varying("?"))
        node.origin.hold("/c.txt")
        async let de = node.get("/c.txt", headers: [("Accept-Language", "de")])
        async let en = node.get("/c.txt", headers: [("Accept-Language", "en")])
        // Both are waiting on one fill (one request at the origin) before it is let go.
        for _ in 0..<400 where node.origin.count("/c.txt") < 1 { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        node.origin.release()
        let (a, b) = try await (de, en)
        #expect(String(decoding: a.body, as: UTF8.self) == "Hallo")
        #expect(String(decoding: b.body, as: UTF8.self) == "Hello")
        #expect(node.origin.count("/c.txt") == 2)
    }

    /// Should not store `Vary: *`, and not key on a field the node never forwards (the origin cannot have used it).
    @Test func varyStarAndUnforwardedFields() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/star.txt", body: Array("x".utf8), headers: [("Content-Type", "text/plain"), ("Vary", "*"),
                                                                        ("Cache-Control", "max-age=600")])
        node.origin.route("/cookie.txt", body: Array("y".utf8), headers: [("Content-Type", "text/plain"), ("Vary", "Cookie"),
                                                                          ("Cache-Control", "max-age=600")])
        for _ in 0..<2 { #expect(try await node.get("/star.txt").header("x-cache") == "BYPASS") }
        #expect(node.origin.count("/star.txt") == 2)
        _ = try await node.get("/cookie.txt", headers: [("Cookie", "a=1")])
        #expect(try await node.get("/cookie.txt", headers: [("Cookie", "a=2")]).header("x-cache") == "HIT")
        #expect(node.origin.count("/cookie.txt") == 1)
    }

    /// Should, where the source forwards Authorization, store and serve from the cache an answer to a request that
    /// carries it only when it says public, s-maxage or must-revalidate (RFC 9111 §3.5), and never share a fill.
    @Test func authorization() async throws {
        let node = try await TestNode.start { $0.sources[0].forwardRequestHeaders = ["authorization"] }
        defer { Task { await node.stopAll() } }
        node.origin.route("/mine.txt", body: Array("mine".utf8), headers: [("Content-Type", "text/plain"), ("Cache-Control", "max-age=600")])
        node.origin.route("/shared.txt", body: Array("shared".utf8), headers: [("Content-Type", "text/plain"),
                                                                             ("Cache-Control", "public, max-age=600")])
        let auth = [("Authorization", "Bearer token")]
        #expect(try await node.get("/mine.txt", headers: auth).header("x-cache") == "BYPASS")
        #expect(try await node.get("/mine.txt", headers: auth).header("x-cache") == "BYPASS")
        #expect(node.origin.requests.last?.header("authorization") == "Bearer token")
        // Stored for a request without credentials, but not served to one with them.
        #expect(try await node.get("/mine.txt").header("x-cache") == "MISS")
        #expect(try await node.get("/mine.txt").header("x-cache") == "HIT")
        #expect(try await node.get("/mine.txt", headers: auth).header("x-cache") == "BYPASS")
        #expect(node.origin.count("/mine.txt") == 4)
        #expect(try await node.get("/shared.txt", headers: auth).header("x-cache") == "MISS")
        #expect(try await node.get("/shared.txt", headers: auth).header("x-cache") == "HIT")
        #expect(node.origin.count("/shared.txt") == 1)
    }
}
