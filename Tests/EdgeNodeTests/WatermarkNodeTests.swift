import EdgeCore
import EdgeTestSupport
import Foundation
import Testing

@Suite struct WatermarkNodeTests {
    /// Should fetch the mark from the source's origin, key the variant by it (another mark, another entry),
    /// serve repeats from the cache without refetching, and refuse a mark URL outside the source.
    @Test func markFetchedAndKeyed() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        node.origin.route("/wm/circle.png", body: try Corpus.bytes("basics/png_palette_trns_circle.png"),
                          headers: [("Content-Type", "image/png")])
        node.origin.route("/wm/hopper.webp", body: try Corpus.bytes("basics/webp_lossy_hopper.webp"),
                          headers: [("Content-Type", "image/webp")])

        let plain = try await node.get("/photo.jpg?w=200&fm=png")
        let first = try await node.get("/photo.jpg?w=200&fm=png&mark=/wm/circle.png&mark-w=80")
        #expect(first.status == 200)
        #expect(first.header("x-cache") == "MISS")
        #expect(first.body != plain.body)
        #expect(node.origin.count("/wm/circle.png") == 1)

        let again = try await node.get("/photo.jpg?w=200&fm=png&m=%2Fwm%2Fcircle.png&markw=80")
        #expect(again.header("x-cache") == "HIT")
        #expect(again.body == first.body)
        #expect(node.origin.count("/wm/circle.png") == 1)

        let other = try await node.get("/photo.jpg?w=200&fm=png&mark=/wm/hopper.webp&mark-w=80")
        #expect(other.header("x-cache") == "MISS")
        #expect(other.body != first.body)
        #expect(node.origin.count("/wm/hopper.webp") == 1)

        // An absolute URL under the source's base URL is the same origin object; anything else is refused.
        let absolute = try await node.get("/photo.jpg?w=200&fm=png&mark-w=80&mark="
            + (node.origin.baseURL + "/wm/circle.png").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        #expect(absolute.status == 200)
        #expect(absolute.body == first.body)
        // Another variant key, the same mark: the originals tier has it.
        #expect(node.origin.count("/wm/circle.png") == 1)
        let foreign = try await node.get("/photo.jpg?w=200&mark=https%3A%2F%2Fexample.com%2Fwm.png")
        #expect(foreign.status == 400)
        #expect(foreign.text.contains("\"param\": \"mark\"") || foreign.text.contains("\"param\":\"mark\""))
    }

    /// Should draw the image without a mark the origin does not have (as imgix does) and not store that result.
    @Test func missingMarkLeftOut() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)

        let plain = try await node.get("/photo.jpg?w=150&fm=png")
        let missing = try await node.get("/photo.jpg?w=150&fm=png&mark=/wm/none.png")
        #expect(missing.status == 200)
        #expect(missing.body == plain.body)
        #expect(missing.header("cache-control") == "no-store")
        let retry = try await node.get("/photo.jpg?w=150&fm=png&mark=/wm/none.png")
        #expect(retry.header("x-cache") == "BYPASS")
        #expect(node.origin.count("/wm/none.png") == 2)
    }
}
