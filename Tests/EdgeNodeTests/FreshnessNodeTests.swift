import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

@Suite struct FreshnessNodeTests {
    /// Should serve a stale copy within stale-while-revalidate (X-Cache: STALE) and refresh it in the background.
    @Test func staleWhileRevalidate() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=1, stale-while-revalidate=60")])
        #expect(try await node.get("/p.jpg?w=20").header("x-cache") == "MISS")
        clock.advance(1.3)
        let stale = try await node.get("/p.jpg?w=20")
        #expect(stale.status == 200)
        #expect(stale.header("x-cache") == "STALE")
        #expect(stale.header("cache-control") == "public, max-age=0")
        // The background refresh lands; the next request is fresh again.
        var last = ""
        for _ in 0..<400 where last != "HIT" {
            try await Task.sleep(for: .milliseconds(25))
            last = try await node.get("/p.jpg?w=20").header("x-cache") ?? ""
        }
        #expect(last == "HIT")
        #expect(node.origin.count("/p.jpg") == 2)
    }

    /// Should answer with the stale copy when the origin fails within stale-if-error, for a variant as for an
    /// original; past the window a variant's origin 5xx is 502 and an original's is passed on, and a 404 passes.
    @Test(arguments: ["/p.jpg?w=21", "/p.jpg"])
    func staleIfError(target: String) async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock)
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=1, stale-if-error=60")])
        let fresh = try await node.get(target)
        clock.advance(1.3)
        node.origin.route("/p.jpg", status: 503, text: "down")
        let rescued = try await node.get(target)
        #expect(rescued.status == 200 && rescued.header("x-cache") == "STALE")
        #expect(rescued.body == fresh.body)
        clock.advance(120)
        let failed = try await node.get(target)
        if target.contains("?") {
            #expect(failed.status == 502 && !String(decoding: failed.body, as: UTF8.self).contains("down"))
        } else {
            #expect(failed.status == 503 && String(decoding: failed.body, as: UTF8.self) == "down")
        }
        node.origin.route("/p.jpg", status: 404, text: "gone")
        #expect(try await node.get(target).status == 404)
    }

    /// Should let CDN-Cache-Control govern this cache while the origin's Cache-Control goes downstream.
    @Test func cdnCacheControlGoverns() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo,
                          headers: jpegHeaders + [("Cache-Control", "private"), ("CDN-Cache-Control", "max-age=600")])
        _ = try await node.get("/p.jpg?w=22")
        let second = try await node.get("/p.jpg?w=22")
        #expect(second.header("x-cache") == "HIT")
        #expect(second.header("cache-control") == "private")
        #expect(node.origin.count("/p.jpg") == 1)
    }

    /// Should count the origin's Age into the entry's age and remaining lifetime.
    @Test func originAgeCounts() async throws {
        let node = try await TestNode.start(clock: ManualClock())
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=3600"), ("Age", "100")])
        let r = try await node.get("/p.jpg?w=23")
        let age = Int(r.header("age") ?? "") ?? -1
        let maxAge = r.header("cache-control").flatMap { $0.split(separator: "=").last }.flatMap { Int($0) } ?? -1
        #expect(age == 100)
        #expect(maxAge == 3500)
    }

    /// Should store nothing with defaultTTL 0 unless the origin states a lifetime.
    @Test func defaultTTLZero() async throws {
        let node = try await TestNode.start { $0.defaultTTL = 0 }
        defer { Task { await node.stopAll() } }
        node.origin.route("/silent.jpg", body: photo, headers: jpegHeaders)
        node.origin.route("/said.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=60")])
        _ = try await node.get("/silent.jpg?w=24")
        #expect(try await node.get("/silent.jpg?w=24").header("x-cache") == "BYPASS")
        _ = try await node.get("/said.jpg?w=24")
        #expect(try await node.get("/said.jpg?w=24").header("x-cache") == "HIT")
    }
}
