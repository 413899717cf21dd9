import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import NIOHTTP1
import Testing

/// What the node makes of origin answers other than a plain 200: negative caching for transforms, statuses and
/// headers passed on for originals, redirects, conditional requests on hits.
@Suite struct OriginAnswerNodeTests {
    /// Should answer a transform of a missing image with the origin's 404 / 410 and keep that answer for
    /// `cache.negativeTTL`: a flood of requests costs one origin fetch per lifetime.
    @Test(arguments: [404, 410])
    func negativeCaching(status: Int) async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock) { $0.negativeTTL = 30 }
        defer { Task { await node.stopAll() } }
        node.origin.route("/missing.jpg", status: status, text: "<html>not here</html>", headers: [("Content-Type", "text/html")])
        let first = try await node.get("/missing.jpg?w=100")
        #expect(first.status == status)
        #expect(first.header("content-type") == "application/json")
        #expect(String(decoding: first.body, as: UTF8.self).contains("\"status\":\(status)"))
        #expect(first.header("x-cache") == "MISS")
        #expect(first.header("cache-control") == "public, max-age=30")
        // 1,000 more, in 10 waves of 100 concurrent requests: none reaches the origin.
        for _ in 0..<10 {
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<100 { group.addTask { try await node.get("/missing.jpg?w=100").status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == status })
        }
        let hit = try await node.get("/missing.jpg?w=100")
        #expect(hit.header("x-cache") == "HIT" && hit.body == first.body)
        #expect(node.origin.count("/missing.jpg") == 1)
        // Conditions do not apply to an error (RFC 9110 §13.2.1).
        let conditional = try await node.get("/missing.jpg?w=100", headers: [("If-None-Match", hit.header("etag") ?? "*")])
        #expect(conditional.status == status)
        // Once the negative lifetime is over, the origin is asked again; an image that appeared is served.
        clock.advance(31)
        node.origin.route("/missing.jpg", body: photo, headers: jpegHeaders)
        let found = try await node.get("/missing.jpg?w=100")
        #expect(found.status == 200 && found.header("x-cache") == "MISS")
        #expect(node.origin.count("/missing.jpg") == 2)
    }

    /// Should keep a missing image's answer for the freshness the origin gives it rather than negativeTTL, and not
    /// at all when the origin forbids it.
    @Test func negativeFreshnessFromOrigin() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        node.origin.route("/a.jpg", status: 404, text: "no", headers: [("Cache-Control", "max-age=5")])
        node.origin.route("/b.jpg", status: 404, text: "no", headers: [("Cache-Control", "no-store")])
        #expect(try await node.get("/a.jpg?w=10").header("cache-control") == "public, max-age=5")
        clock.advance(4)
        #expect(try await node.get("/a.jpg?w=10").header("x-cache") == "HIT")
        clock.advance(2)
        #expect(try await node.get("/a.jpg?w=10").header("x-cache") == "MISS")
        for _ in 0..<3 { #expect(try await node.get("/b.jpg?w=10").status == 404) }
        #expect(node.origin.count("/a.jpg") == 2 && node.origin.count("/b.jpg") == 3)
    }

    /// Should answer a transform whose origin fails with 502, never cached, and a 4xx other than 404 / 410 too.
    @Test(arguments: [500, 503, 403])
    func transformOriginFails(status: Int) async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", status: status, text: "broken", headers: [("Cache-Control", "max-age=600")])
        for _ in 0..<3 {
            let r = try await node.get("/p.jpg?w=10")
            #expect(r.status == 502)
            #expect(r.header("cache-control") == "no-store")
            #expect(!String(decoding: r.body, as: UTF8.self).contains("broken"))
        }
        #expect(node.origin.count("/p.jpg") == 3)
    }

    /// Should pass an original's status, body and headers on, and cache each as RFC 9111 allows it.
    @Test func originalStatusesPassed() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        let cases: [(path: String, status: Int, headers: [(String, String)], cached: Bool)] = [
            ("/404.jpg", 404, [("X-Reason", "unknown")], true),
            ("/410.jpg", 410, [], true),
            ("/403.jpg", 403, [], false),
            ("/403-fresh.jpg", 403, [("Cache-Control", "max-age=60")], true),
            ("/500.jpg", 500, [], false),
            ("/503-fresh.jpg", 503, [("Cache-Control", "max-age=60")], true),
            ("/203.jpg", 203, [], true),
            ("/300.jpg", 300, [], true),
            ("/501.jpg", 501, [], false),
        ]
        for c in cases {
            node.origin.route(c.path, status: c.status, text: "body of \(c.status)",
                              headers: [("Content-Type", "text/plain; charset=utf-8")] + c.headers)
        }
        for c in cases {
            let first = try await node.get(c.path)
            #expect(first.status == c.status, "\(c.path)")
            #expect(String(decoding: first.body, as: UTF8.self) == "body of \(c.status)", "\(c.path)")
            #expect(first.header("content-type") == "text/plain; charset=utf-8")
            if c.path == "/404.jpg" { #expect(first.header("x-reason") == "unknown") }
            let second = try await node.get(c.path)
            #expect(second.status == c.status && second.body == first.body)
            #expect(second.header("x-cache") == (c.cached ? "HIT" : first.header("x-cache")), "\(c.path)")
            #expect(node.origin.count(c.path) == (c.cached ? 1 : 2), "\(c.path)")
        }
        // 204: no body, cached by default.
        node.origin.route("/204.jpg", status: 204, body: [])
        let empty = try await node.get("/204.jpg")
        #expect(empty.status == 204 && empty.body.isEmpty)
        #expect(try await node.get("/204.jpg").header("x-cache") == "HIT")
    }

    /// Should pass redirects on for originals of a source with passRedirects (cached as their status allows), and
    /// follow them for transforms and for other sources.
    @Test func redirects() async throws {
        let node = try await TestNode.start { config in
            config.sources[0].passRedirects = true
        }
        defer { Task { await node.stopAll() } }
        node.origin.route("/old.jpg", status: 301, text: "moved", headers: [("Location", "/new.jpg")])
        node.origin.route("/temp.jpg", status: 302, text: "", headers: [("Location", "/new.jpg")])
        node.origin.route("/new.jpg", body: photo, headers: jpegHeaders)
        let moved = try await node.get("/old.jpg")
        #expect(moved.status == 301 && moved.header("location") == "/new.jpg")
        #expect(try await node.get("/old.jpg").header("x-cache") == "HIT")
        let temp = try await node.get("/temp.jpg")
        #expect(temp.status == 302 && temp.header("location") == "/new.jpg")
        #expect(try await node.get("/temp.jpg").status == 302)
        #expect(node.origin.count("/old.jpg") == 1 && node.origin.count("/temp.jpg") == 2)
        #expect(node.origin.count("/new.jpg") == 0)
        // A transform follows the redirect.
        let resized = try await node.get("/old.jpg?w=10")
        #expect(resized.status == 200 && resized.header("content-type") == "image/jpeg")
        #expect(node.origin.count("/new.jpg") == 1)
    }

    /// Should keep an original's end-to-end headers (Cache-Control as sent, its ETag and Last-Modified, Link, any
    /// unknown one), drop hop-by-hop ones, Set-Cookie and the source's stripResponseHeaders, on the miss and the hit.
    @Test func originalHeaders() async throws {
        let node = try await TestNode.start { config in
            config.sources[0].keepMetadata = true
            config.sources[0].stripResponseHeaders = ["x-internal"]
        }
        defer { Task { await node.stopAll() } }
        let lastModified = "Tue, 14 Nov 2023 22:13:20 GMT"
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders + [
            ("Cache-Control", "max-age=3600"), ("ETag", "\"origin-v1\""), ("Last-Modified", lastModified),
            ("Link", "</p.css>; rel=preload"), ("Content-Language", "de"), ("X-Custom", "yes"), ("X-Internal", "secret"),
            ("Set-Cookie", "session=1"), ("Connection", "X-Hop"), ("X-Hop", "1"), ("Server", "origin-server"),
        ])
        for expected in ["MISS", "HIT"] {
            let r = try await node.get("/p.jpg")
            #expect(r.header("x-cache") == expected)
            #expect(r.body == photo)
            #expect(r.header("cache-control") == "max-age=3600")
            #expect(r.header("etag") == "\"origin-v1\"")
            #expect(r.header("last-modified") == lastModified)
            #expect(r.header("date") != nil)
            #expect(r.header("link") == "</p.css>; rel=preload")
            #expect(r.header("content-language") == "de")
            #expect(r.header("x-custom") == "yes")
            for absent in ["x-internal", "set-cookie", "x-hop"] { #expect(r.header(absent) == nil, "\(absent)") }
            #expect(r.header("server") == "imgedge")
        }
        // The origin's entity tag answers If-None-Match on the hit.
        #expect(try await node.get("/p.jpg", headers: [("If-None-Match", "\"origin-v1\"")]).status == 304)
    }

    /// Should not let an original's own Cache-Control outlast a signed URL's `expires`, on the miss or on a hit.
    @Test func expiresBoundsOriginCacheControl() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock) { config in
            config.sources[0].secureToken = SecureURLTests.token
            config.sources[0].requireSignature = false
        }
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "public, max-age=31536000, immutable")])
        let expires = Int(clock.reading()) + 100
        let url = SecureURLTests.sign("/p.jpg", "expires=\(expires)")
        #expect(try await node.get(url).header("cache-control") == "public, immutable, max-age=100")
        clock.advance(40)
        #expect(try await node.get(url).header("cache-control") == "public, immutable, max-age=60")
        // Without expires, the origin's value as sent.
        #expect(try await node.get("/p.jpg").header("cache-control") == "public, max-age=31536000, immutable")
    }

    /// Should give an original whose metadata was removed a weak form of the origin's tag, and a variant its own
    /// tag with only the fields the source lists in passResponseHeaders.
    @Test func variantHeaders() async throws {
        let node = try await TestNode.start { config in config.sources[0].passResponseHeaders = ["link"] }
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders + [
            ("Cache-Control", "max-age=3600"), ("ETag", "\"origin-v1\""), ("Link", "</p.css>; rel=preload"), ("X-Custom", "yes"),
        ])
        let original = try await node.get("/p.jpg")
        #expect(original.body != photo) // its metadata was removed
        #expect(original.header("etag") == "W/\"origin-v1\"")
        let variant = try await node.get("/p.jpg?w=30")
        #expect(variant.header("etag") != "\"origin-v1\"" && variant.header("etag")?.hasPrefix("\"") == true)
        #expect(variant.header("link") == "</p.css>; rel=preload")
        #expect(variant.header("x-custom") == nil)
        #expect(variant.header("cache-control")?.hasPrefix("public, max-age=") == true)
    }

    /// Should answer If-Modified-Since on a hit with 304 when the entry is not newer, and ignore it beside
    /// If-None-Match or when it is not a valid date.
    @Test func ifModifiedSince() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        let lastModified = "Tue, 14 Nov 2023 22:13:20 GMT"
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=3600"), ("Last-Modified", lastModified)])
        let full = try await node.get("/p.jpg?w=40")
        #expect(full.header("last-modified") == lastModified)
        let same = try await node.get("/p.jpg?w=40", headers: [("If-Modified-Since", lastModified)])
        #expect(same.status == 304 && same.body.isEmpty && same.header("etag") == full.header("etag"))
        #expect(try await node.get("/p.jpg?w=40", headers: [("If-Modified-Since", "Wed, 15 Nov 2023 00:00:00 GMT")]).status == 304)
        #expect(try await node.get("/p.jpg?w=40", headers: [("If-Modified-Since", "Mon, 13 Nov 2023 00:00:00 GMT")]).status == 200)
        #expect(try await node.get("/p.jpg?w=40", headers: [("If-Modified-Since", "yesterday")]).status == 200)
        let both = try await node.get("/p.jpg?w=40", headers: [("If-Modified-Since", lastModified), ("If-None-Match", "\"other\"")])
        #expect(both.status == 200)
        #expect(node.origin.count("/p.jpg") == 1)
    }

    /// Should refuse methods other than GET and HEAD with 405 and Allow, reaching no origin.
    @Test func methodNotAllowed() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders)
        for method in [HTTPMethod.PUT, .POST, .DELETE, .PATCH] {
            let r = try await TestHTTPClient.get(port: node.port, "/p.jpg", method: method, headers: [("Host", "web.test")],
                                                 body: method == .DELETE ? nil : Array("x".utf8))
            #expect(r.status == 405, "\(method)")
            #expect(r.header("allow") == "GET, HEAD")
        }
        #expect(node.origin.count("/p.jpg") == 0)
    }
}
