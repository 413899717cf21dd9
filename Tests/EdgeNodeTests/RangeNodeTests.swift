import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Range requests on cached variants (RFC 9110 §14): 206 with Content-Range for one range, 416 past the end, the
/// whole body otherwise; HEAD and 304 unaffected.
@Suite struct RangeNodeTests {
    /// Should answer a byte range of a cached (and of a just-filled) variant with exactly those bytes.
    @Test func partialContent() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=600")])
        // A miss with a Range: the fill completes and the range is cut from it.
        let firstPart = try await node.get("/p.jpg?w=50", headers: [("Range", "bytes=0-99")])
        #expect(firstPart.status == 206)
        #expect(firstPart.header("x-cache") == "MISS")
        let whole = try await node.get("/p.jpg?w=50")
        #expect(whole.status == 200 && whole.header("accept-ranges") == "bytes")
        let n = whole.body.count
        #expect(firstPart.body == Array(whole.body[0..<100]))
        #expect(firstPart.header("content-range") == "bytes 0-99/\(n)")
        #expect(firstPart.header("content-length") == "100")
        let tail = try await node.get("/p.jpg?w=50", headers: [("Range", "bytes=-10")])
        #expect(tail.status == 206 && tail.header("x-cache") == "HIT")
        #expect(tail.body == Array(whole.body[(n - 10)...]))
        #expect(tail.header("content-range") == "bytes \(n - 10)-\(n - 1)/\(n)")
        let open = try await node.get("/p.jpg?w=50", headers: [("Range", "bytes=\(n - 3)-")])
        #expect(open.body == Array(whole.body[(n - 3)...]))
        let clipped = try await node.get("/p.jpg?w=50", headers: [("Range", "bytes=5-99999999")])
        #expect(clipped.status == 206 && clipped.body == Array(whole.body[5...]))
        #expect(node.origin.count("/p.jpg") == 1)
    }

    /// Should answer 416 with `Content-Range: bytes */length` for a range that starts past the end.
    @Test func unsatisfiable() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders)
        let whole = try await node.get("/p.jpg?w=50")
        let r = try await node.get("/p.jpg?w=50", headers: [("Range", "bytes=\(whole.body.count)-")])
        #expect(r.status == 416)
        #expect(r.header("content-range") == "bytes */\(whole.body.count)")
        #expect(r.header("content-type") == "application/json")
    }

    /// Should serve the whole body for several ranges, a stale If-Range, bad syntax, and HEAD.
    @Test func wholeBodyOtherwise() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders)
        let whole = try await node.get("/p.jpg?w=50")
        let etag = try #require(whole.header("etag"))
        for headers in [[("Range", "bytes=0-1,5-6")], [("Range", "bytes=0-1"), ("If-Range", "\"stale\"")],
                        [("Range", "pages=1")], [("Range", "bytes=9-1")]] {
            let r = try await node.get("/p.jpg?w=50", headers: headers)
            #expect(r.status == 200 && r.body == whole.body, "\(headers)")
        }
        let current = try await node.get("/p.jpg?w=50", headers: [("Range", "bytes=0-1"), ("If-Range", etag)])
        #expect(current.status == 206 && current.body.count == 2)
        let head = try await TestHTTPClient.get(port: node.port, "/p.jpg?w=50", method: .HEAD,
                                                headers: [("Host", "web.test"), ("Range", "bytes=0-1")])
        #expect(head.status == 200)
        #expect(head.header("content-length") == String(whole.body.count))
        // If-None-Match wins over Range (RFC 9110 §13.2.2: preconditions before Range).
        let notModified = try await node.get("/p.jpg?w=50", headers: [("Range", "bytes=0-1"), ("If-None-Match", etag)])
        #expect(notModified.status == 304)
    }

    /// Should refuse methods other than GET and HEAD even for a URL whose resolution is remembered.
    @Test func methodCheckedBeforeTheMemo() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/p.jpg", body: photo, headers: jpegHeaders)
        #expect(try await node.get("/p.jpg?w=50").status == 200)
        let post = try await TestHTTPClient.get(port: node.port, "/p.jpg?w=50", method: .POST, headers: [("Host", "web.test")])
        #expect(post.status == 405)
    }
}
