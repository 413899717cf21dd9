import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

/// Conditional revalidation of stale entries (RFC 9111 §4.3): If-None-Match / If-Modified-Since to the origin, a 304
/// renews the stored variant (and, through the origin object's record, its sibling variants) without fetching or
/// transforming again; a changed origin is fetched in full.
@Suite struct RevalidationNodeTests {
    static let v1 = "\"v1\""
    static let other: [UInt8] = (try? Corpus.bytes("basics/jpeg_baseline_testorig.jpg")) ?? []

    /// A route that answers a matching If-None-Match with 304 and a new lifetime.
    func routeWithETag(_ node: TestNode, _ path: String, etag: String = v1, body: [UInt8] = photo,
                       maxAge: Int = 60, renewedMaxAge: Int = 120, delay: Duration? = nil) {
        node.origin.route(path, TestOrigin.Route(
            headers: jpegHeaders + [("ETag", etag), ("Cache-Control", "max-age=\(maxAge)")], body: body, delay: delay,
            notModifiedHeaders: [("ETag", etag), ("Cache-Control", "max-age=\(renewedMaxAge)")]))
    }

    func maxAge(_ r: TestHTTPResponse) -> Int? {
        r.header("cache-control").flatMap { $0.split(separator: "=").last }.flatMap { Int($0) }
    }

    /// Should revalidate a stale entry with If-None-Match, keep its body on a 304, and take the 304's lifetime.
    @Test func notModifiedRenewsTheEntry() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        routeWithETag(node, "/p.jpg")
        let first = try await node.get("/p.jpg?w=20")
        #expect(first.header("x-cache") == "MISS")
        #expect(node.origin.requests.last?.header("if-none-match") == nil)
        clock.advance(61)
        let renewed = try await node.get("/p.jpg?w=20")
        #expect(renewed.status == 200)
        #expect(renewed.header("x-cache") == "HIT")
        #expect(renewed.body == first.body)
        #expect(renewed.header("etag") == first.header("etag"))
        #expect(maxAge(renewed) == 120)
        #expect(renewed.header("server-timing")?.contains("revalidated") == true)
        #expect(node.origin.count("/p.jpg") == 2)
        #expect(node.origin.notModifiedCount("/p.jpg") == 1)
        #expect(node.origin.requests.last?.header("if-none-match") == Self.v1)
        // Fresh again: no further origin contact.
        clock.advance(100)
        #expect(try await node.get("/p.jpg?w=20").header("x-cache") == "HIT")
        #expect(node.origin.count("/p.jpg") == 2)
        let stats = try await TestHTTPClient.get(port: node.adminPort, "/v1/stats")
        #expect(String(decoding: stats.body, as: UTF8.self).contains("\"not-modified\":1"))
    }

    /// Should refresh every variant of the origin object from one revalidation: siblings ask nobody.
    @Test func siblingVariantsInheritTheRevalidation() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        routeWithETag(node, "/p.jpg")
        let small = try await node.get("/p.jpg?w=20")
        let large = try await node.get("/p.jpg?w=40&fm=png")
        #expect(node.origin.count("/p.jpg") == 1)
        clock.advance(61)
        #expect(try await node.get("/p.jpg?w=20").header("x-cache") == "HIT")
        #expect(node.origin.count("/p.jpg") == 2)
        let sibling = try await node.get("/p.jpg?w=40&fm=png")
        #expect(sibling.header("x-cache") == "HIT")
        #expect(sibling.body == large.body)
        #expect(maxAge(sibling) == 120)
        #expect(node.origin.count("/p.jpg") == 2)
        _ = small
        // The inherited freshness was stored: it survives a restart.
        await node.stop()
        let again = try await TestNode.start(origin: node.origin, cacheDir: node.cacheDir, clock: clock)
        defer { Task { await again.stop() } }
        #expect(try await again.get("/p.jpg?w=40&fm=png").header("x-cache") == "HIT")
        #expect(node.origin.count("/p.jpg") == 2)
    }

    /// Should fetch in full when the origin changed, and not let siblings inherit a different representation.
    @Test func changedOriginIsFetchedAgain() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        routeWithETag(node, "/p.jpg")
        let before = try await node.get("/p.jpg?w=20")
        let siblingBefore = try await node.get("/p.jpg?w=30")
        clock.advance(61)
        routeWithETag(node, "/p.jpg", etag: "\"v2\"", body: Self.other)
        let after = try await node.get("/p.jpg?w=20")
        #expect(after.header("x-cache") == "MISS")
        #expect(after.body != before.body)
        #expect(node.origin.notModifiedCount("/p.jpg") == 0)
        // The sibling was made from v1: the v2 record does not vouch for it; it is made again from v2, which the
        // originals tier has fresh (no origin request).
        let sibling = try await node.get("/p.jpg?w=30")
        #expect(sibling.header("x-cache") == "MISS")
        #expect(sibling.body != siblingBefore.body)
        #expect(node.origin.requests.last?.header("if-none-match") == Self.v1)
        #expect(node.origin.count("/p.jpg") == 2)
    }

    /// Should revalidate with If-Modified-Since when the origin gave only Last-Modified.
    @Test func lastModifiedValidator() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        let lm = "Tue, 15 Nov 1994 12:45:26 GMT"
        node.origin.route("/lm.jpg", TestOrigin.Route(
            headers: jpegHeaders + [("Last-Modified", lm), ("Cache-Control", "max-age=60")], body: photo,
            notModifiedHeaders: [("Cache-Control", "max-age=90")]))
        _ = try await node.get("/lm.jpg?w=20")
        clock.advance(61)
        let r = try await node.get("/lm.jpg?w=20")
        #expect(r.header("x-cache") == "HIT")
        #expect(maxAge(r) == 90)
        #expect(node.origin.requests.last?.header("if-modified-since") == lm)
        #expect(node.origin.notModifiedCount("/lm.jpg") == 1)
    }

    /// Should pass a stale entry's revalidation that withdraws storage (no-store) on once, then forget the entry.
    @Test func notModifiedWithNoStoreDropsTheEntry() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", TestOrigin.Route(
            headers: jpegHeaders + [("ETag", Self.v1), ("Cache-Control", "max-age=60")], body: photo,
            notModifiedHeaders: [("ETag", Self.v1), ("Cache-Control", "no-store")]))
        let first = try await node.get("/p.jpg?w=20")
        clock.advance(61)
        let once = try await node.get("/p.jpg?w=20")
        #expect(once.status == 200 && once.body == first.body)
        #expect(once.header("x-cache") == "BYPASS")
        #expect(once.header("cache-control") == "no-store")
        // The entry is gone: the next request fetches without a validator.
        _ = try await node.get("/p.jpg?w=20")
        #expect(node.origin.requests.last?.header("if-none-match") == nil)
        #expect(node.origin.count("/p.jpg") == 3)
    }

    /// Should coalesce concurrent revalidations of one stale entry into one conditional request.
    @Test func revalidationsCoalesce() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        routeWithETag(node, "/p.jpg", delay: .milliseconds(200))
        let first = try await node.get("/p.jpg?w=20")
        clock.advance(61)
        let bodies = try await withThrowingTaskGroup(of: TestHTTPResponse.self) { group in
            for _ in 0..<30 { group.addTask { try await node.get("/p.jpg?w=20") } }
            var all: [TestHTTPResponse] = []
            for try await r in group { all.append(r) }
            return all
        }
        #expect(bodies.count == 30)
        #expect(bodies.allSatisfy { $0.status == 200 && $0.body == first.body && $0.header("x-cache") == "HIT" })
        #expect(node.origin.count("/p.jpg") == 2)
        #expect(node.origin.notModifiedCount("/p.jpg") == 1)
    }

    /// Should revalidate conditionally in the background within stale-while-revalidate.
    @Test func staleWhileRevalidateUsesValidators() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", TestOrigin.Route(
            headers: jpegHeaders + [("ETag", Self.v1), ("Cache-Control", "max-age=60, stale-while-revalidate=600")],
            body: photo, notModifiedHeaders: [("ETag", Self.v1), ("Cache-Control", "max-age=300")]))
        _ = try await node.get("/p.jpg?w=20")
        clock.advance(61)
        #expect(try await node.get("/p.jpg?w=20").header("x-cache") == "STALE")
        var last: TestHTTPResponse?
        for _ in 0..<400 {
            try await Task.sleep(for: .milliseconds(25))
            last = try await node.get("/p.jpg?w=20")
            if last?.header("x-cache") == "HIT" { break }
        }
        #expect(last?.header("x-cache") == "HIT")
        #expect(last.flatMap(maxAge) == 300)
        #expect(node.origin.notModifiedCount("/p.jpg") == 1)
        #expect(node.origin.count("/p.jpg") == 2)
    }
}
