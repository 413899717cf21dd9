import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

/// The originals tier (`cache.originalsBytes`): variants of one original are made from one fetch of it while it is
/// fresh, a stale original is revalidated once for all of its variants, and what the origin forbids keeping is not.
@Suite struct OriginalsTierNodeTests {
    static let widths = Array(stride(from: 40, to: 240, by: 10))

    func route(_ node: TestNode, _ path: String, cacheControl: String = "max-age=3600", etag: String? = "\"o1\"") {
        var headers = jpegHeaders + [("Cache-Control", cacheControl)]
        if let etag { headers.append(("ETag", etag)) }
        node.origin.route(path, TestOrigin.Route(headers: headers, body: photo,
                                                 notModifiedHeaders: [("ETag", etag ?? ""), ("Cache-Control", cacheControl)]))
    }

    func originals(_ stats: [String: Any]) -> [String: Any] { stats["originals"] as? [String: Any] ?? [:] }

    /// Should make 20 variants of one fresh original, requested together and then 20 more one after another, from
    /// one origin fetch.
    @Test func twentyVariantsOneFetch() async throws {
        // Room for all 20 transforms at once (the default queue on 2 cores is 16 deep: the rest would be 503).
        let node = try await TestNode.start { $0.maxQueuedTransforms = 32 }
        defer { Task { await node.stopAll() } }
        route(node, "/p.jpg")
        let together = try await withThrowingTaskGroup(of: (Int, TestHTTPResponse).self) { group in
            for w in Self.widths { group.addTask { (w, try await node.get("/p.jpg?w=\(w)")) } }
            return try await group.reduce(into: [Int: TestHTTPResponse]()) { $0[$1.0] = $1.1 }
        }
        #expect(together.values.allSatisfy { $0.status == 200 && $0.header("x-cache") == "MISS" })
        #expect(Set(together.values.map(\.body)).count == Self.widths.count)
        #expect(node.origin.count("/p.jpg") == 1)
        for w in Self.widths {
            let r = try await node.get("/p.jpg?w=\(w + 5)&fm=png")
            #expect(r.status == 200 && r.header("x-cache") == "MISS" && r.header("content-type") == "image/png")
        }
        #expect(node.origin.count("/p.jpg") == 1)
        let stats = originals(try await node.stats())
        #expect(stats["entries"] as? Int == 1)
        #expect((stats["bytes"] as? Int ?? 0) > photo.count)
        let lookups = stats["lookups"] as? [String: Int] ?? [:]
        #expect(lookups["fetched"] == 1)
        #expect((lookups["hit"] ?? 0) + (lookups["coalesced"] ?? 0) == 2 * Self.widths.count - 1)
    }

    /// Should give a variant made from a kept original the original's age, so that it goes stale when the original does.
    @Test func variantTakesTheOriginalsAge() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        route(node, "/p.jpg", cacheControl: "max-age=100")
        #expect(try await node.get("/p.jpg?w=20").header("age") == "0")
        clock.advance(30)
        let later = try await node.get("/p.jpg?w=30")
        #expect(later.header("x-cache") == "MISS")
        #expect(later.header("age") == "30")
        #expect(later.header("cache-control") == "public, max-age=70")
        #expect(node.origin.count("/p.jpg") == 1)
    }

    /// Should revalidate a stale original once (If-None-Match) for all the variants requested after it went stale,
    /// new ones and stale ones, concurrently: one conditional request, no full fetch.
    @Test func staleOriginalRevalidatedOnce() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        route(node, "/p.jpg", cacheControl: "max-age=60")
        var before: [Int: [UInt8]] = [:]
        for w in [20, 30, 40] { before[w] = try await node.get("/p.jpg?w=\(w)").body }
        #expect(node.origin.count("/p.jpg") == 1)
        clock.advance(61)
        let answers = try await withThrowingTaskGroup(of: (Int, TestHTTPResponse).self) { group in
            for w in [20, 30, 40, 50, 60, 70] { group.addTask { (w, try await node.get("/p.jpg?w=\(w)")) } }
            return try await group.reduce(into: [Int: TestHTTPResponse]()) { $0[$1.0] = $1.1 }
        }
        #expect(answers.values.allSatisfy { $0.status == 200 })
        for (w, body) in before { #expect(answers[w]?.body == body) }
        #expect(node.origin.count("/p.jpg") == 2)
        #expect(node.origin.notModifiedCount("/p.jpg") == 1)
        #expect(node.origin.requests.last?.header("if-none-match") == "\"o1\"")
        let lookups = originals(try await node.stats())["lookups"] as? [String: Int] ?? [:]
        #expect(lookups["revalidated"] == 1)
    }

    /// Should not keep an original the origin says not to store (no-store, private), nor any when the tier is off.
    @Test(arguments: ["no-store", "private, max-age=600", "off"])
    func notKept(_ kind: String) async throws {
        let node = try await TestNode.start { c in if kind == "off" { c.originalsBytes = 0 } }
        defer { Task { await node.stopAll() } }
        route(node, "/p.jpg", cacheControl: kind == "off" ? "max-age=600" : kind)
        for w in [20, 30, 40] { #expect(try await node.get("/p.jpg?w=\(w)").status == 200) }
        #expect(node.origin.count("/p.jpg") == 3)
        let stats = originals(try await node.stats())
        #expect(stats["entries"] as? Int == 0)
        #expect(stats["maxBytes"] as? Int == (kind == "off" ? 0 : node.config.originalsBytes))
    }

    /// Should drop a stale original whose origin now says 404, and answer the new variant 404.
    @Test func goneOriginalDropped() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        route(node, "/p.jpg", cacheControl: "max-age=10")
        #expect(try await node.get("/p.jpg?w=20").status == 200)
        #expect(originals(try await node.stats())["entries"] as? Int == 1)
        clock.advance(11)
        node.origin.route("/p.jpg", status: 404, text: "gone")
        #expect(try await node.get("/p.jpg?w=30").status == 404)
        #expect(originals(try await node.stats())["entries"] as? Int == 0)
    }

    /// Should keep originals across a restart (the tier is on disk).
    @Test func keptAcrossRestart() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        route(node, "/p.jpg")
        #expect(try await node.get("/p.jpg?w=20").status == 200)
        await node.stop()
        let again = try await TestNode.start(origin: node.origin, cacheDir: node.cacheDir)
        defer { Task { await again.stop() } }
        let r = try await again.get("/p.jpg?w=30")
        #expect(r.status == 200 && r.header("x-cache") == "MISS")
        #expect(node.origin.count("/p.jpg") == 1)
    }
}

/// A srcset: the variants of one original requested together share one fetch and one decode.
@Suite struct DecodeSharingNodeTests {
    /// Should make 8 widths requested together from one origin fetch and fewer decodes than variants, each the
    /// same size as when made alone.
    @Test func srcsetSharesTheDecode() async throws {
        let node = try await TestNode.start { $0.maxQueuedTransforms = 32 }
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=600")])
        let widths = [40, 80, 120, 160, 240, 320, 400, 480]
        let answers = try await withThrowingTaskGroup(of: (Int, TestHTTPResponse).self) { group in
            for w in widths { group.addTask { (w, try await node.get("/p.jpg?w=\(w)&fm=png")) } }
            return try await group.reduce(into: [Int: TestHTTPResponse]()) { $0[$1.0] = $1.1 }
        }
        #expect(answers.values.allSatisfy { $0.status == 200 })
        #expect(node.origin.count("/p.jpg") == 1)
        let sharing = try await node.stats()["decodeSharing"] as? [String: Int] ?? [:]
        #expect((sharing["decodes"] ?? 0) >= 1 && (sharing["decodes"] ?? 99) < widths.count)
        #expect((sharing["decodes"] ?? 0) + (sharing["reuses"] ?? 0) == widths.count)
        // The same sizes as a lone request makes (another node, nothing to share).
        let alone = try await TestNode.start()
        defer { Task { await alone.stopAll() } }
        alone.origin.route("/p.jpg", body: photo, headers: jpegHeaders)
        // A PNG's size, from its IHDR.
        func size(_ png: [UInt8]) -> [UInt8] { png.count > 24 ? Array(png[16..<24]) : [] }
        for w in [40, 480] {
            let lone = try await alone.get("/p.jpg?w=\(w)&fm=png")
            #expect(lone.status == 200)
            #expect(!size(lone.body).isEmpty && size(answers[w]?.body ?? []) == size(lone.body))
        }
        #expect((try await alone.stats()["decodeSharing"] as? [String: Int])?["decodes"] == 0)
    }
}
