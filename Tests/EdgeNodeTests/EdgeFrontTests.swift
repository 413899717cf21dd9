import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

@Suite struct EdgeFrontTests {
    /// Should fill on the first request (MISS, one origin fetch) and answer the second from the cache (HIT).
    @Test func missThenHit() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)

        let first = try await node.get("/photo.jpg?w=300&fm=webp")
        #expect(first.status == 200)
        #expect(first.header("content-type") == "image/webp")
        #expect(first.header("x-cache") == "MISS")
        #expect(first.header("server-timing")?.contains("origin;dur=") == true)
        #expect(first.header("server-timing")?.contains("transform;dur=") == true)
        #expect(first.header("etag")?.hasPrefix("\"") == true)
        #expect(first.header("cache-control")?.hasPrefix("public, max-age=") == true)
        #expect(Array(first.body.prefix(4)) == Array("RIFF".utf8))

        let second = try await node.get("/photo.jpg?width=300.0&fm=webp")
        #expect(second.status == 200)
        #expect(second.header("x-cache") == "HIT")
        #expect(second.header("server-timing") == nil)
        #expect(second.body == first.body)
        #expect(second.header("etag") == first.header("etag"))
        #expect(node.origin.count("/photo.jpg") == 1)
    }

    /// Should still answer from the cache after the node restarts on the same cache folder.
    @Test func cacheSurvivesRestart() async throws {
        let node = try await TestNode.start()
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let first = try await node.get("/photo.jpg?w=200")
        #expect(first.header("x-cache") == "MISS")
        await node.stop()

        let again = try await TestNode.start(origin: node.origin, cacheDir: node.cacheDir)
        defer { Task { await again.stopAll() } }
        let second = try await again.get("/photo.jpg?w=200")
        #expect(second.header("x-cache") == "HIT")
        #expect(second.body == first.body)
        #expect(node.origin.count("/photo.jpg") == 1)
    }

    /// Should answer hits from LMDB alone when the memory tier is off.
    @Test func hitsWithoutMemoryTier() async throws {
        let node = try await TestNode.start { $0.cacheMemoryBytes = 0 }
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let first = try await node.get("/photo.jpg?w=77")
        let second = try await node.get("/photo.jpg?w=77")
        #expect(second.header("x-cache") == "HIT")
        #expect(second.body == first.body)
        #expect(node.origin.count("/photo.jpg") == 1)
    }

    /// Should answer If-None-Match with the entry's ETag with 304 and no body.
    @Test func conditionalRequest() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let first = try await node.get("/photo.jpg?w=120")
        let etag = try #require(first.header("etag"))
        let cached = try await node.get("/photo.jpg?w=120", headers: [("If-None-Match", etag)])
        #expect(cached.status == 304)
        #expect(cached.body.isEmpty)
        #expect(cached.header("etag") == etag)
        let other = try await node.get("/photo.jpg?w=120", headers: [("If-None-Match", "\"nope\"")])
        #expect(other.status == 200)
    }

    /// Should name the parameter in a JSON 400 for a value it cannot understand.
    @Test func badParameter() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        let r = try await node.get("/photo.jpg?w=abc")
        #expect(r.status == 400)
        #expect(r.header("content-type") == "application/json")
        let json = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]
        #expect(json?["param"] as? String == "w")
        #expect(node.origin.totalRequests == 0)
    }

    /// Should map origin answers to 404, 502 and 504, and an oversized source to 413.
    @Test func originFailures() async throws {
        let node = try await TestNode.start { $0.originTimeout = 0.5; $0.maxSourceBytes = 100_000 }
        defer { Task { await node.stopAll() } }
        node.origin.route("/broken.jpg", status: 500, text: "boom")
        node.origin.route("/slow.jpg", TestOrigin.Route(body: photo, delay: .seconds(3)))
        node.origin.route("/big.jpg", body: photo, headers: jpegHeaders)
        #expect(try await node.get("/missing.jpg?w=10").status == 404)
        #expect(try await node.get("/broken.jpg?w=10").status == 502)
        #expect(try await node.get("/slow.jpg?w=10").status == 504)
        #expect(try await node.get("/big.jpg?w=10").status == 413)
    }

    /// Should pass a source that is not an image through unchanged (imgix serves unsupported formats as they are),
    /// and refuse a corrupt image (4xx) without caching it.
    @Test func badSources() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/notes.jpg", text: "this is not an image")
        node.origin.route("/cut.jpg", body: Array(photo.prefix(photo.count / 3)), headers: jpegHeaders)
        let notes = try await node.get("/notes.jpg?w=10")
        #expect(notes.status == 200 && notes.text == "this is not an image")
        #expect(notes.header("content-type") == "application/octet-stream")
        let cut = try await node.get("/cut.jpg?w=10")
        #expect((400..<500).contains(cut.status))
        #expect(try await node.get("/cut.jpg?w=10").status == cut.status)
        // The refusal is not cached, the (fresh) original is: the second try decodes it again without a fetch.
        #expect(node.origin.count("/cut.jpg") == 1)
    }

    /// Should pick AVIF, then WebP, from Accept with auto=format, and say Vary: Accept.
    @Test func autoFormat() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let avif = try await node.get("/photo.jpg?w=64&auto=format", headers: [("Accept", "image/avif,image/webp,*/*")])
        #expect(avif.header("content-type") == "image/avif")
        #expect(avif.header("vary") == "Accept")
        let webp = try await node.get("/photo.jpg?w=64&auto=format", headers: [("Accept", "image/webp,*/*")])
        #expect(webp.header("content-type") == "image/webp")
        let plain = try await node.get("/photo.jpg?w=64&auto=format", headers: [("Accept", "*/*")])
        #expect(plain.header("content-type") == "image/jpeg")
        #expect(plain.header("vary") == "Accept")
        let fm = try await node.get("/photo.jpg?w=64&auto=format&fm=png", headers: [("Accept", "text/html")])
        #expect(fm.header("content-type") == "image/png")
        // Four variants, one original fetched.
        #expect(node.origin.count("/photo.jpg") == 1)
    }

    /// Should cost one origin fetch for many concurrent requests of one uncached variant.
    @Test func concurrentMissesCoalesce() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", TestOrigin.Route(headers: jpegHeaders, body: photo, delay: .milliseconds(200)))
        let port = node.port
        let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for _ in 0..<40 {
                group.addTask {
                    let r = try await TestHTTPClient.get(port: port, "/photo.jpg?w=90", headers: [("Host", "web.test")])
                    return (r.status, r.header("etag"))
                }
            }
            return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
        }
        #expect(statuses.count == 40)
        #expect(statuses.allSatisfy { $0.0 == 200 })
        #expect(Set(statuses.map(\.1)).count == 1)
        #expect(node.origin.count("/photo.jpg") == 1)
    }

    /// Should route by Host: folder source for files.test, default source for unknown hosts, 404 without a default.
    @Test func hostRouting() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        try node.filesDir.write("local.jpg", bytes: photo)
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        #expect(try await node.get("/local.jpg?w=50", host: "files.test:8080").status == 200)
        #expect(try await node.get("/photo.jpg?w=50", host: "unknown.example").status == 200)
        #expect(node.origin.count("/photo.jpg") == 1)
        #expect(node.origin.count("/local.jpg") == 0)

        let strict = try await TestNode.start { $0.defaultSource = nil }
        defer { Task { await strict.stopAll() } }
        #expect(try await strict.get("/photo.jpg?w=50", host: "unknown.example").status == 404)
    }

    /// Should never serve a file outside a folder source's root, however the path is spelled.
    @Test func pathTraversalRefused() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        let outside = try TemporaryDirectory(prefix: "imgedge-outside")
        defer { outside.remove() }
        try outside.write("secret.jpg", bytes: photo)
        try FileManager.default.createSymbolicLink(atPath: node.filesDir.path + "/link.jpg",
                                                   withDestinationPath: outside.path + "/secret.jpg")
        let secret = (outside.path as NSString).lastPathComponent
        for target in ["/../\(secret)/secret.jpg", "/%2e%2e/\(secret)/secret.jpg", "/%2E%2E%2F\(secret)%2Fsecret.jpg",
                       "/..%2f\(secret)/secret.jpg", "/link.jpg", "/link.jpg?w=10"] {
            let r = try await node.get(target, host: "files.test")
            #expect(r.status == 404 || r.status == 400, "\(target) answered \(r.status)")
        }
    }

    /// Should answer HEAD with the headers of GET and no body.
    @Test func headRequest() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let get = try await node.get("/photo.jpg?w=100")
        let head = try await TestHTTPClient.get(port: node.port, "/photo.jpg?w=100", method: .HEAD, headers: [("Host", "web.test")])
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.header("content-length") == String(get.body.count))
        #expect(head.header("x-cache") == "HIT")
    }

    /// Should refuse other methods, an over-long request line (414) and an oversized header block (431).
    @Test func requestLimits() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        let post = try await TestHTTPClient.get(port: node.port, "/photo.jpg", method: .POST, headers: [("Host", "web.test")])
        #expect(post.status == 405)
        let long = try await node.get("/photo.jpg?w=10&x=" + String(repeating: "a", count: 9000))
        #expect(long.status == 414)
        let big = try await node.get("/photo.jpg?w=10", headers: (0..<40).map { ("X-Filler-\($0)", String(repeating: "b", count: 500)) })
        #expect(big.status == 431)
        #expect(node.origin.totalRequests == 0)
    }

    /// Should serve several requests over one keep-alive connection.
    @Test func keepAlive() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let client = try await TestHTTPClient.connect(port: node.port)
        defer { Task { await client.close() } }
        for w in [40, 41, 40] {
            let r = try await client.send("/photo.jpg?w=\(w)", headers: [("Host", "web.test")])
            #expect(r.status == 200)
        }
        #expect(!client.isClosed)
        // Both widths are made from the one original the originals tier keeps.
        #expect(node.origin.count("/photo.jpg") == 1)
    }

    /// Should answer 503 with Retry-After at once when transforms are saturated, rather than queue without bound.
    @Test func overloadAnswers503() async throws {
        let node = try await TestNode.start { $0.maxConcurrentTransforms = 1; $0.maxQueuedTransforms = 0 }
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let port = node.port
        let results = try await withThrowingTaskGroup(of: TestHTTPResponse.self) { group in
            for i in 0..<12 {
                group.addTask {
                    try await TestHTTPClient.get(port: port, "/photo.jpg?w=\(600 + i)&fm=avif", headers: [("Host", "web.test")])
                }
            }
            return try await group.reduce(into: [TestHTTPResponse]()) { $0.append($1) }
        }
        let overloaded = results.filter { $0.status == 503 }
        #expect(results.allSatisfy { $0.status == 200 || $0.status == 503 })
        #expect(!overloaded.isEmpty)
        #expect(overloaded.allSatisfy { $0.header("retry-after") != nil })
        #expect(results.contains { $0.status == 200 })
    }

    /// Should not store a response the origin marks no-store, and pass the directive on.
    @Test func noStoreIsObeyed() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/private.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "no-store")])
        let a = try await node.get("/private.jpg?w=30")
        let b = try await node.get("/private.jpg?w=30")
        #expect(a.status == 200 && b.status == 200)
        #expect(b.header("x-cache") == "BYPASS")
        #expect(b.header("cache-control") == "no-store")
        #expect(node.origin.count("/private.jpg") == 2)
    }

    /// Should take the entry's lifetime from the origin's max-age.
    @Test func originMaxAge() async throws {
        let node = try await TestNode.start(clock: ManualClock())
        defer { Task { await node.stopAll() } }
        node.origin.route("/short.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "public, max-age=120")])
        let r = try await node.get("/short.jpg?w=30")
        let maxAge = r.header("cache-control").flatMap { $0.split(separator: "=").last }.flatMap { Int($0) }
        #expect(maxAge == 120)
    }
}

@Suite struct ShutdownTests {
    /// Should let a request in flight finish when the node is asked to stop, and then refuse connections.
    @Test func drainsInFlightRequests() async throws {
        let node = try await TestNode.start()
        defer { Task { try? await node.origin.shutdown() } }
        node.origin.route("/slow.jpg", TestOrigin.Route(headers: jpegHeaders, body: photo, delay: .milliseconds(600)))
        let port = node.port
        async let response = TestHTTPClient.get(port: port, "/slow.jpg?w=20", headers: [("Host", "web.test")])
        // Stop once the request is in flight (its fill has reached the origin), however slow the machine.
        for _ in 0..<500 where node.origin.count("/slow.jpg") == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(node.origin.count("/slow.jpg") == 1)
        await node.stop()
        let r = try await response
        #expect(r.status == 200)
        await #expect(throws: (any Error).self) { _ = try await TestHTTPClient.get(port: port, "/slow.jpg?w=20") }
    }
}

@Suite struct ClientHintsNodeTests {
    /// Should size by the Width header with ch=width, answer Vary and Accept-CH, and cache per hint value.
    @Test func widthHintSizesAndVaries() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let narrow = try await node.get("/photo.jpg?w=400&ch=width,dpr&fm=png", headers: [("Width", "120")])
        let wide = try await node.get("/photo.jpg?w=400&ch=width,dpr&fm=png", headers: [("Sec-CH-Width", "160")])
        let none = try await node.get("/photo.jpg?w=400&ch=width,dpr&fm=png")
        #expect(narrow.status == 200 && wide.status == 200 && none.status == 200)
        #expect(narrow.header("vary") == "DPR, Width")
        #expect(narrow.header("accept-ch") == "DPR, Width")
        // PNG IHDR width (bytes 16–19).
        func width(_ b: [UInt8]) -> Int { b[16...19].reduce(0) { $0 << 8 | Int($1) } }
        #expect(width(narrow.body) == 120 && width(wide.body) == 160 && width(none.body) == 400)
        let again = try await node.get("/photo.jpg?w=400&ch=width,dpr&fm=png", headers: [("Width", "120")])
        #expect(again.header("x-cache") == "HIT")
    }
}

@Suite struct FullStoreTests {
    /// Should serve a variant the store cannot hold, marked BYPASS, never failing the request.
    @Test func unstorableVariantIsServedAsBypass() async throws {
        // A 1 MiB store refuses any value over a tenth of it.
        let node = try await TestNode.start { $0.cacheMaxBytes = 1 << 20 }
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let big = try await node.get("/photo.jpg?w=1400&fm=png")
        #expect(big.status == 200)
        #expect(big.body.count > 600_000)
        #expect(big.header("x-cache") == "BYPASS")
        let small = try await node.get("/photo.jpg?w=40")
        #expect(small.header("x-cache") == "MISS")
    }
}

@Suite struct FillTimeoutTests {
    /// Should answer 504 to requests that waited longer than limits.fillTimeout, and cache the fill that finished.
    @Test func slowFillTimesOutThenServes() async throws {
        let node = try await TestNode.start { $0.fillTimeout = 0.3 }
        defer { Task { await node.stopAll() } }
        node.origin.route("/slow.jpg", TestOrigin.Route(headers: jpegHeaders, body: photo, delay: .milliseconds(900)))
        let port = node.port
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<5 {
                group.addTask { try await TestHTTPClient.get(port: port, "/slow.jpg?w=33", headers: [("Host", "web.test")]).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == [504, 504, 504, 504, 504])
        #expect(node.origin.count("/slow.jpg") == 1)
        // The fill went on: once it has landed, the variant is a hit.
        var last = ""
        for _ in 0..<400 {
            try await Task.sleep(for: .milliseconds(50))
            last = try await node.get("/slow.jpg?w=33").header("x-cache") ?? ""
            if last == "HIT" { break }
        }
        #expect(last == "HIT")
        #expect(node.origin.count("/slow.jpg") == 1)
    }
}
