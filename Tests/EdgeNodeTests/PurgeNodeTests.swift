import EdgeCore
import EdgeNode
import EdgePrivacy
import EdgeTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Purge through the admin API: tombstones that take effect before the 202, every selector kind, key scopes,
/// the fill race, and persistence across restarts.
@Suite struct PurgeNodeTests {
    static let operatorSecret = "operator-secret-0000001"
    static let acmeSecret = "acme-customer-secret-01"

    static func start(cacheDir: TemporaryDirectory? = nil, origin: TestOrigin? = nil) async throws -> TestNode {
        try await TestNode.start(origin: origin, cacheDir: cacheDir) { c in
            c.adminKeys = [AdminKey(id: "ops", secret: operatorSecret, scope: .operator)!,
                           AdminKey(id: "acme", secret: acmeSecret, scope: .customer("acme"))!]
            c.sources[0].customer = "acme"
        }
    }

    static func purge(_ node: TestNode, _ body: String, secret: String? = operatorSecret) async throws -> TestHTTPResponse {
        try await node.admin("/v1/purge", method: .POST, secret: secret, body: body)
    }

    func route(_ node: TestNode, _ path: String, tags: String? = nil) {
        var headers = jpegHeaders + [("Cache-Control", "max-age=3600")]
        if let tags { headers.append(("Surrogate-Key", tags)) }
        node.origin.route(path, body: photo, headers: headers)
    }

    /// Should stop serving every variant of an image from the 202 on, and refill from the origin.
    @Test func purgeOneImageByURL() async throws {
        let node = try await Self.start()
        defer { Task { await node.stopAll() } }
        route(node, "/a.jpg")
        route(node, "/b.jpg")
        for q in ["w=20", "w=30&fm=webp"] { _ = try await node.get("/a.jpg?\(q)") }
        _ = try await node.get("/b.jpg?w=20")
        #expect(try await node.get("/a.jpg?w=20").header("x-cache") == "HIT")
        let r = try await Self.purge(node, #"{"url": "http://web.test/a.jpg?w=999"}"#)
        #expect(r.status == 202)
        let id = try #require((try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])?["id"] as? String)
        for q in ["w=20", "w=30&fm=webp"] { #expect(try await node.get("/a.jpg?\(q)").header("x-cache") == "MISS") }
        #expect(try await node.get("/a.jpg?w=20").header("x-cache") == "HIT")
        #expect(try await node.get("/b.jpg?w=20").header("x-cache") == "HIT")
        // One fetch before, one after: the purge dropped the kept original too.
        #expect(node.origin.count("/a.jpg") == 2)
        let status = try await node.admin("/v1/purge/\(id)", secret: Self.operatorSecret)
        #expect(status.status == 200 && status.text.contains("\"test\":\"applied\""))
        // Purging again is harmless.
        #expect(try await Self.purge(node, #"{"url": "http://web.test/a.jpg"}"#).status == 202)
    }

    /// Should purge by path prefix, by Surrogate-Key tag, and a whole source.
    @Test func prefixTagAndSource() async throws {
        let node = try await Self.start()
        defer { Task { await node.stopAll() } }
        route(node, "/photos/1.jpg", tags: "summer beach")
        route(node, "/photos/2.jpg", tags: "winter")
        route(node, "/other/3.jpg", tags: "summer")
        func warm() async throws { for p in ["/photos/1.jpg", "/photos/2.jpg", "/other/3.jpg"] { _ = try await node.get(p + "?w=20") } }
        func cached(_ p: String) async throws -> Bool { try await node.get(p + "?w=20").header("x-cache") == "HIT" }
        try await warm()
        #expect(try await Self.purge(node, #"{"source": "web", "prefix": "/photos/"}"#).status == 202)
        #expect(try await !cached("/photos/1.jpg"))
        #expect(try await !cached("/photos/2.jpg"))
        #expect(try await cached("/other/3.jpg"))
        try await warm()
        #expect(try await Self.purge(node, #"{"tag": "summer"}"#).status == 202)
        #expect(try await !cached("/photos/1.jpg"))
        #expect(try await cached("/photos/2.jpg"))
        #expect(try await !cached("/other/3.jpg"))
        try await warm()
        #expect(try await Self.purge(node, #"{"source": "web"}"#).status == 202)
        for p in ["/photos/1.jpg", "/photos/2.jpg", "/other/3.jpg"] { #expect(try await !cached(p)) }
        #expect(try await Self.purge(node, #"{"source": "web", "path": "/photos/1.jpg"}"#).status == 202)
        #expect(try await !cached("/photos/1.jpg"))
    }

    /// Should refuse missing or wrong keys (401), other customers' sources (403), and bad bodies (400 / 404).
    @Test func refusals() async throws {
        let node = try await Self.start()
        defer { Task { await node.stopAll() } }
        #expect(try await Self.purge(node, #"{"source": "web"}"#, secret: nil).status == 401)
        #expect(try await Self.purge(node, #"{"source": "web"}"#, secret: "not-a-configured-key-00").status == 401)
        #expect(try await Self.purge(node, #"{"source": "files"}"#, secret: Self.acmeSecret).status == 403)
        #expect(try await Self.purge(node, #"{"source": "web"}"#, secret: Self.acmeSecret).status == 202)
        #expect(try await Self.purge(node, #"{"tag": "x"}"#, secret: Self.acmeSecret).status == 202)
        for (body, status) in [("not json", 400), (#"{"source": "nope"}"#, 404), (#"{"source": "web", "tag": "x"}"#, 400),
                               (#"{"url": "ftp://web.test/a"}"#, 400), (#"{"url": 5}"#, 400), ("{}", 400),
                               (#"{"source": "web", "prefix": "nope"}"#, 400), (#"{"colour": "red"}"#, 400)] {
            #expect(try await Self.purge(node, body).status == status, "\(body)")
        }
        let big = "{\"tag\": \"" + String(repeating: "x", count: 70_000) + "\"}"
        #expect(try await Self.purge(node, big).status == 413)
        let unknown = try await node.admin("/v1/purge/none", secret: Self.operatorSecret)
        #expect(unknown.status == 404)
    }

    /// Routes `/slow.jpg` (cacheable for an hour) and holds the origin's answers to it until `release()`.
    static func holdSlow(_ node: TestNode) {
        node.origin.route("/slow.jpg", TestOrigin.Route(headers: jpegHeaders + [("Cache-Control", "max-age=3600")],
                                                        body: photo))
        node.origin.hold("/slow.jpg")
    }

    /// Waits until the origin has received the one request for `/slow.jpg`.
    static func waitForSlowFetch(_ node: TestNode) async throws {
        for _ in 0..<6000 where node.origin.count("/slow.jpg") == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try #require(node.origin.count("/slow.jpg") == 1)
    }

    /// Should not serve a variant whose origin fetch started before a purge, though it lands after it.
    @Test func fillThatStartedBeforeThePurgeIsDead() async throws {
        let node = try await Self.start()
        defer { Task { await node.stopAll() } }
        // The origin holds its answer until the purge has been acknowledged, however slow the machine is.
        Self.holdSlow(node)
        async let inFlight = node.get("/slow.jpg?w=20")
        try await Self.waitForSlowFetch(node)
        #expect(try await Self.purge(node, #"{"source": "web", "path": "/slow.jpg"}"#).status == 202)
        node.origin.release()
        let first = try await inFlight
        #expect(first.status == 200)
        // The fill that began before the purge was redone from a fetch after it; that one is cached.
        #expect(node.origin.count("/slow.jpg") == 2)
        #expect(try await node.get("/slow.jpg?w=20").header("x-cache") == "HIT")
        #expect(node.origin.count("/slow.jpg") == 2)
    }

    /// Should keep, through a sweep, the tombstone of a purge made while a fill was under way, so that the fill
    /// (whose fetch began before the purge) is not stored when it lands after the sweep; it expires afterwards.
    @Test func sweepDuringFillKeepsItsTombstone() async throws {
        let node = try await TestNode.start { c in
            c.adminKeys = [AdminKey(id: "ops", secret: Self.operatorSecret, scope: .operator)!]
            c.sweepInterval = 0.05
        }
        defer { Task { await node.stopAll() } }
        Self.holdSlow(node)
        async let inFlight = node.get("/slow.jpg?w=20")
        try await Self.waitForSlowFetch(node)
        #expect(try await Self.purge(node, #"{"source": "web", "path": "/slow.jpg"}"#).status == 202)
        var stats = try await node.stats { ($0["sweeps"] as? Int ?? 0) >= 1 }
        #expect((stats["sweeps"] as? Int ?? 0) >= 1)
        #expect(stats["tombstones"] as? Int == 1, "kept while the fill is under way")
        node.origin.release()
        #expect(try await inFlight.status == 200)
        #expect(node.origin.count("/slow.jpg") == 2)
        #expect(try await node.get("/slow.jpg?w=20").header("x-cache") == "HIT")
        stats = try await node.stats { $0["tombstones"] as? Int == 0 }
        #expect(stats["tombstones"] as? Int == 0)
        #expect(stats["tombstonesExpired"] as? Int == 1)
        #expect(node.origin.count("/slow.jpg") == 2)
    }

    /// Should delete covered entries from the store in the background, then expire the tombstone; the purged image
    /// is still not served from the old entries, and other entries stay.
    @Test func sweeperDeletesThenExpires() async throws {
        let node = try await TestNode.start { c in
            c.adminKeys = [AdminKey(id: "ops", secret: Self.operatorSecret, scope: .operator)!]
            c.sweepInterval = 0.05
        }
        defer { Task { await node.stopAll() } }
        route(node, "/a.jpg")
        route(node, "/b.jpg")
        for target in ["/a.jpg?w=20", "/a.jpg?w=30", "/b.jpg?w=20"] { _ = try await node.get(target) }
        #expect(try await node.stats()["entries"] as? Int == 3)
        #expect(try await Self.purge(node, #"{"url": "http://web.test/a.jpg"}"#).status == 202)
        let stats = try await node.stats(until: { $0["tombstonesExpired"] as? Int == 1 }, attempts: 400)
        #expect(stats["tombstonesExpired"] as? Int == 1)
        #expect(stats["tombstones"] as? Int == 0)
        // Two variants and the kept original of a.jpg.
        #expect(stats["sweptEntries"] as? Int == 3)
        #expect(stats["entries"] as? Int == 1)
        #expect((stats["originals"] as? [String: Any])?["entries"] as? Int == 1)
        #expect(try await node.get("/a.jpg?w=20").header("x-cache") == "MISS")
        #expect(try await node.get("/b.jpg?w=20").header("x-cache") == "HIT")
        #expect(node.origin.count("/a.jpg") == 2)
    }

    /// Should record every one of many concurrent purges (flushed together) before answering it: all are there
    /// after a restart.
    @Test func concurrentPurgesAllRecorded() async throws {
        let node = try await Self.start()
        defer { Task { try? await node.origin.shutdown() } }
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<60 {
                group.addTask {
                    let r = try await Self.purge(node, #"{"source": "web", "path": "/many/\#(i).jpg"}"#)
                    #expect(r.status == 202)
                    let json = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]
                    return json?["id"] as? String ?? ""
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(ids).count == 60)
        await node.stop()
        let again = try await Self.start(cacheDir: node.cacheDir, origin: node.origin)
        defer { Task { await again.stop() } }
        for id in ids {
            let r = try await again.admin("/v1/purge/\(id)?local", secret: Self.operatorSecret)
            #expect(r.status == 200, "\(id)")
        }
    }

    /// Should keep tombstones across a restart: a purged entry stays purged.
    @Test func tombstonesSurviveRestart() async throws {
        let node = try await Self.start()
        defer { Task { try? await node.origin.shutdown() } }
        route(node, "/a.jpg")
        _ = try await node.get("/a.jpg?w=20")
        #expect(try await Self.purge(node, #"{"url": "http://web.test/a.jpg"}"#).status == 202)
        await node.stop()
        let again = try await Self.start(cacheDir: node.cacheDir, origin: node.origin)
        defer { Task { await again.stop() } }
        #expect(try await again.get("/a.jpg?w=20").header("x-cache") == "MISS")
        #expect(try await again.get("/a.jpg?w=20").header("x-cache") == "HIT")
    }

    /// Should answer a purge — applied, and on disk before the 202 — while every thread of Swift's concurrency pool
    /// is held by other work, as a busy process holds them (the pool has one per core and adds none while they are
    /// blocked). The admin listener answers on its own event loop, and the tombstone log's writer thread wakes it
    /// directly; before, the answer waited for a pool thread, and the command line's purge timed out under load.
    @Test func purgeAnswersWhileEveryPoolThreadIsHeld() async throws {
        let node = try await Self.start()
        defer { Task { await node.stopAll() } }
        route(node, "/a.jpg")
        _ = try await node.get("/a.jpg?w=20")
        #expect(try await node.get("/a.jpg?w=20").header("x-cache") == "HIT")
        let body = #"{"url": "http://web.test/a.jpg"}"#
        let request = "POST /v1/purge HTTP/1.1\r\nHost: admin.test\r\nAuthorization: Bearer \(Self.operatorSecret)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        let port = node.adminPort, logPath = node.config.cachePath + "/tombstones.log"
        // A plain thread holds the pool, asks, reads the tombstone log as the answer arrives, and lets the pool go.
        let result = try await OffPool.run {
            Self.whileEveryPoolThreadIsHeld { () -> (answer: String?, log: String) in
                let answer = BlockingHTTP.exchange(port: port, request, timeout: 20)
                return (answer, (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
            }
        }
        let (answer, log) = try #require(result, "could not hold every thread of the pool at once")
        let text = try #require(answer, "no answer within 20 s while the pool was held")
        #expect(text.hasPrefix("HTTP/1.1 202"))
        let id = try #require(text.split(separator: "\"id\":\"").dropFirst().first?.split(separator: "\"").first)
        #expect(log.contains(id), "the purge was answered before it was on disk")
        #expect(try await node.get("/a.jpg?w=20").header("x-cache") == "MISS")
    }

    /// Runs `work` (on the calling thread, which must not be one of the pool's) while a task holds each thread of
    /// Swift's concurrency pool. The rest of the suite runs in the same process, so the pool may not come free at
    /// once: an attempt that cannot hold every thread within half a second lets go of those it held (so it stalls
    /// nothing for long) and tries again, for up to a minute. Nil: never held them all.
    static func whileEveryPoolThreadIsHeld<T>(_ work: () -> T) -> T? {
        let threads = ProcessInfo.processInfo.activeProcessorCount
        for _ in 0..<120 {
            let held = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
            for _ in 0..<threads { Task.detached(priority: .high) { hold(held, until: release) } }
            let deadline = DispatchTime.now() + .milliseconds(500)
            var holding = 0
            while holding < threads, held.wait(timeout: deadline) == .success { holding += 1 }
            let result = holding == threads ? work() : nil
            // Every holder of this attempt goes (also one that starts late: it finds its release already given).
            for _ in 0..<threads { release.signal() }
            if let result { return result }
            Thread.sleep(forTimeInterval: 0.25)
        }
        return nil
    }

    /// Holds the calling thread: says so, then blocks until released.
    private static func hold(_ held: DispatchSemaphore, until release: DispatchSemaphore) {
        held.signal()
        release.wait()
    }

    /// Should purge through `imgedge purge` as an operator would, and exit 2 / 1 on usage errors and refusals.
    @Test func purgeCommand() async throws {
        let node = try await Self.start()
        defer { Task { await node.stopAll() } }
        route(node, "/a.jpg")
        _ = try await node.get("/a.jpg?w=20")
        let admin = "http://127.0.0.1:\(node.adminPort)"
        let ok = try await CommandLineTests.run(["purge", "--admin", admin, "--key", Self.operatorSecret, "--url", "http://web.test/a.jpg"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("\"id\""))
        #expect(try await node.get("/a.jpg?w=20").header("x-cache") == "MISS")
        let tagged = try await CommandLineTests.run(["purge", "--admin", admin, "--key", Self.acmeSecret, "--tag", "t"])
        #expect(tagged.status == 0, "\(tagged.stderr)")
        #expect(try await CommandLineTests.run(["purge", "--admin", admin, "--key", Self.operatorSecret]).status == 2)
        #expect(try await CommandLineTests.run(["purge", "--admin", admin, "--url", "http://web.test/a.jpg"]).status == 2)
        let refused = try await CommandLineTests.run(["purge", "--admin", admin, "--key", "wrong-key-00000000000", "--source", "web"])
        #expect(refused.status == 1 && refused.stderr.contains("401"))
    }
}
