import Dispatch
import EdgeCore
import EdgeOrigin
import EdgeTestSupport
import Foundation
import Testing

/// Runs blocking work (curl, file I/O) off the cooperative pool.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws(EdgeError) -> T) async throws(EdgeError) -> T {
    let result: Result<T, EdgeError> = await withCheckedContinuation { c in
        DispatchQueue.global().async { c.resume(returning: Result { () throws(EdgeError) in try work() }) }
    }
    return try result.get()
}

/// The EdgeError a blocking fetch throws, or nil when it succeeds.
func fetchError(_ work: @escaping @Sendable () throws(EdgeError) -> OriginResponse) async -> EdgeError? {
    do {
        _ = try await offload(work)
        return nil
    } catch {
        return error
    }
}

extension CurlOriginFetcher {
    /// A GET as a source that allows loopback (where the test origins listen) and any host would make it.
    func get(loopback url: String, maxBytes: Int) throws(EdgeError) -> OriginResponse {
        try get(url: url, maxBytes: maxBytes, addresses: .anyUnicast, hosts: .any)
    }
}

func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ $0 >> 9) } }

@Suite struct CurlOriginFetcherTests {
    /// Should return the body and every header, names lower-cased, for a 200.
    @Test func get200() async throws {
        let origin = try await TestOrigin.start()
        let body = pattern(10_000)
        origin.route("/a.jpg", body: body, headers: [("Content-Type", "image/jpeg"), ("Cache-Control", "max-age=60"),
                                                      ("X-Custom-Header", "Mixed Case Value")])
        let fetcher = CurlOriginFetcher()
        let before = Date().timeIntervalSince1970
        let r = try await offload { () throws(EdgeError) in try fetcher.get(loopback: origin.baseURL + "/a.jpg", maxBytes: 1 << 20) }
        #expect(r.body == body)
        #expect(r.header("content-type") == "image/jpeg")
        #expect(r.header("cache-control") == "max-age=60")
        #expect(r.header("x-custom-header") == "Mixed Case Value")
        #expect(r.header("content-length") == "10000")
        #expect(r.headers.allSatisfy { $0.name == $0.name.lowercased() })
        #expect(r.startedAt >= before - 1 && r.startedAt <= Date().timeIntervalSince1970)
        #expect(r.duration >= 0)
        #expect(origin.count("/a.jpg") == 1)
        #expect(origin.requests.first?.method == "GET")
        #expect(origin.requests.first?.header("user-agent") == "imgedge")
        try await origin.shutdown()
    }

    /// Should return every final status the origin answers with its body and headers (what it means is the
    /// caller's to decide), and not follow a Location outside the redirect statuses (300, 305 and 201 carry one).
    @Test(arguments: [404, 410, 500, 503, 403, 300, 305, 201, 204])
    func otherStatuses(status: Int) async throws {
        let origin = try await TestOrigin.start()
        let body = status == 204 ? [] : Array("no".utf8)
        origin.route("/x.jpg", status: status, body: body,
                     headers: [("Location", origin.baseURL + "/target.jpg"), ("X-Why", "because")])
        origin.route("/target.jpg", body: pattern(10))
        let fetcher = CurlOriginFetcher()
        let r = try await offload { () throws(EdgeError) in try fetcher.get(loopback: origin.baseURL + "/x.jpg", maxBytes: 1000) }
        #expect(r.status == status)
        #expect(r.body == body)
        #expect(r.header("x-why") == "because")
        #expect(origin.count("/target.jpg") == 0)
        // An unrouted path is the origin's 404.
        let missing = try await offload { () throws(EdgeError) in try fetcher.get(loopback: origin.baseURL + "/nothing", maxBytes: 1000) }
        #expect(missing.status == 404)
        try await origin.shutdown()
    }

    /// Should pass a redirect on as it came when asked to, and still follow it otherwise.
    @Test(arguments: [301, 302, 303, 307, 308])
    func passRedirects(status: Int) async throws {
        let origin = try await TestOrigin.start()
        origin.route("/old.jpg", status: status, text: "moved", headers: [("Location", "/new.jpg")])
        origin.route("/new.jpg", body: pattern(10))
        let fetcher = CurlOriginFetcher()
        let passed = try await offload { () throws(EdgeError) in
            try fetcher.get(url: origin.baseURL + "/old.jpg", maxBytes: 1000, passRedirects: true, addresses: .anyUnicast,
                            hosts: .any)
        }
        #expect(passed.status == status && passed.header("location") == "/new.jpg")
        #expect(origin.count("/new.jpg") == 0)
        let followed = try await offload { () throws(EdgeError) in try fetcher.get(loopback: origin.baseURL + "/old.jpg", maxBytes: 1000) }
        #expect(followed.status == 200 && followed.body == pattern(10))
        try await origin.shutdown()
    }

    /// Should answer 502 for a 304 to an unconditional request (no stored copy it could confirm).
    @Test func unconditionalNotModified() async throws {
        let origin = try await TestOrigin.start()
        origin.route("/x.jpg", status: 304, body: [])
        let error = await fetchError { () throws(EdgeError) in try CurlOriginFetcher().get(loopback: origin.baseURL + "/x.jpg", maxBytes: 1000) }
        #expect(error?.status == 502)
        try await origin.shutdown()
    }

    /// Should answer 502 when nothing listens.
    @Test func connectionRefused() async {
        let fetcher = CurlOriginFetcher(connectTimeout: .seconds(2), totalTimeout: .seconds(2))
        let error = await fetchError { () throws(EdgeError) in try fetcher.get(loopback: "http://127.0.0.1:1/a.jpg", maxBytes: 1000) }
        #expect(error?.status == 502)
    }

    /// Should answer 504 when the origin is slower than the total timeout.
    @Test func slowOriginTimesOut() async throws {
        let origin = try await TestOrigin.start()
        origin.route("/slow.jpg", body: pattern(100), delay: .seconds(3))
        let fetcher = CurlOriginFetcher(connectTimeout: .seconds(2), totalTimeout: .milliseconds(300))
        let error = await fetchError { () throws(EdgeError) in try fetcher.get(loopback: origin.baseURL + "/slow.jpg", maxBytes: 1000) }
        #expect(error?.status == 504)
        #expect(origin.count("/slow.jpg") == 1)
        try await origin.shutdown()
    }

    /// Should answer 413 for a body over maxBytes, with or without Content-Length, and accept one of exactly maxBytes.
    @Test(arguments: [false, true])
    func bodyLimit(chunked: Bool) async throws {
        let origin = try await TestOrigin.start()
        let limit = 100_000
        origin.route("/big.jpg", body: pattern(limit + 1), chunked: chunked)
        origin.route("/huge.jpg", body: pattern(3_000_000), chunked: chunked)
        origin.route("/exact.jpg", body: pattern(limit), chunked: chunked)
        let fetcher = CurlOriginFetcher()
        for path in ["/big.jpg", "/huge.jpg"] {
            let error = await fetchError { () throws(EdgeError) in try fetcher.get(loopback: origin.baseURL + path, maxBytes: limit) }
            #expect(error?.status == 413, "\(path) chunked=\(chunked)")
        }
        let r = try await offload { () throws(EdgeError) in try fetcher.get(loopback: origin.baseURL + "/exact.jpg", maxBytes: limit) }
        #expect(r.body == pattern(limit))
        #expect((r.header("transfer-encoding") == "chunked") == chunked)
        #expect((r.header("content-length") == nil) == chunked)
        try await origin.shutdown()
    }

    /// Should fetch a large body whole.
    @Test func largeBody() async throws {
        let origin = try await TestOrigin.start()
        let body = pattern(6_000_000)
        origin.route("/large.jpg", body: body)
        origin.route("/large-chunked.jpg", body: body, chunked: true)
        let fetcher = CurlOriginFetcher()
        for path in ["/large.jpg", "/large-chunked.jpg"] {
            let r = try await offload { () throws(EdgeError) in try fetcher.get(loopback: origin.baseURL + path, maxBytes: 8_000_000) }
            #expect(r.body.count == body.count)
            #expect(r.body == body)
        }
        try await origin.shutdown()
    }

    /// Should reuse one connection for sequential requests, and drop a connection after an aborted transfer.
    @Test func connectionReuse() async throws {
        let origin = try await TestOrigin.start()
        origin.route("/a.jpg", body: pattern(1000))
        origin.route("/b.jpg", body: pattern(2000))
        origin.route("/big.jpg", body: pattern(50_000))
        let fetcher = CurlOriginFetcher()
        let a = try await offload { () throws(EdgeError) in try fetcher.get(loopback: origin.baseURL + "/a.jpg", maxBytes: 10_000) }
        let b = try await offload { () throws(EdgeError) in try fetcher.get(loopback: origin.baseURL + "/b.jpg", maxBytes: 10_000) }
        #expect(a.body == pattern(1000) && b.body == pattern(2000))
        // A 404 leaves the connection usable.
        let missing = try await offload { () throws(EdgeError) in try fetcher.get(loopback: origin.baseURL + "/none", maxBytes: 10_000) }
        #expect(missing.status == 404)
        _ = try await offload { () throws(EdgeError) in try fetcher.get(loopback: origin.baseURL + "/a.jpg", maxBytes: 10_000) }
        #expect(origin.count("/a.jpg") == 2 && origin.count("/b.jpg") == 1)
        #expect(origin.connectionCount == 1)
        // An over-limit body abandons its connection; the next request opens a new one.
        let tooBig = await fetchError { () throws(EdgeError) in try fetcher.get(loopback: origin.baseURL + "/big.jpg", maxBytes: 10_000) }
        #expect(tooBig?.status == 413)
        _ = try await offload { () throws(EdgeError) in try fetcher.get(loopback: origin.baseURL + "/a.jpg", maxBytes: 10_000) }
        #expect(origin.connectionCount == 2)
        try await origin.shutdown()
    }

    /// Should serve many requests at once from one fetcher.
    @Test func concurrentRequests() async throws {
        let origin = try await TestOrigin.start()
        for i in 0..<8 { origin.route("/p\(i).jpg", body: pattern(1000 + i)) }
        let fetcher = CurlOriginFetcher()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                group.addTask {
                    let r = try await offload { () throws(EdgeError) in
                        try fetcher.get(loopback: origin.baseURL + "/p\(i).jpg", maxBytes: 10_000)
                    }
                    #expect(r.body == pattern(1000 + i))
                }
            }
            try await group.waitForAll()
        }
        #expect(origin.totalRequests == 8)
        try await origin.shutdown()
    }

    /// Should build web origin URLs from the base URL and the re-encoded path.
    @Test func webSourceEncodesPath() async throws {
        let origin = try await TestOrigin.start()
        origin.route("/base/dir/a%20b%3F.jpg", body: pattern(10))
        var web = SourceConfig(name: "web", kind: .web, baseURL: origin.baseURL + "/base")
        web.networkPolicy = .anyUnicast
        let source = web
        let path = try SourcePath(raw: "/dir/a%20b%3f.jpg")
        let fetcher = SourceOriginFetcher()
        let r = try await offload { () throws(EdgeError) in try fetcher.fetch(source: source, path: path, maxBytes: 100) }
        #expect(r.body == pattern(10))
        #expect(origin.count("/base/dir/a%20b%3F.jpg") == 1)
        try await origin.shutdown()
    }
}
