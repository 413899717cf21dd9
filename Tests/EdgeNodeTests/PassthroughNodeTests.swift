import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

/// Requests without transform parameters serve the original (metadata removed losslessly unless the source keeps
/// it); files libvips cannot read are served as the origin sent them. Both are cached by the same rules.
@Suite struct PassthroughNodeTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        try Array(Data(contentsOf: Corpus.packageRoot.appendingPathComponent("Tests/Fixtures/metadata/\(name)")))
    }

    /// What exiftool finds in `bytes`, as "Group:Tag" names (exiftool is installed by tools/test).
    static func exiftoolTags(_ bytes: [UInt8]) async throws -> [String: String] {
        let dir = try TemporaryDirectory(prefix: "imgedge-exif")
        let file = dir.path + "/image"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let r = try await ChildProcess.run("/usr/bin/env", ["exiftool", "-j", "-G1", "-a", "-u", file])
        #expect(r.status == 0, "exiftool must be installed (tools/test installs libimage-exiftool-perl)")
        let list = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        return (list?.first ?? [:]).mapValues { "\($0)" }
    }

    /// Should serve a parameterless JPEG with its image data untouched, its personal metadata gone (exiftool finds
    /// no GPS, serial, owner, XMP, IPTC or comment) and its orientation kept; and cache it.
    @Test func originalWithoutMetadata() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        let original = try Self.fixture("private.jpg")
        node.origin.route("/private.jpg", body: original, headers: jpegHeaders + [("Cache-Control", "max-age=600")])
        let r = try await node.get("/private.jpg")
        #expect(r.status == 200 && r.header("x-cache") == "MISS")
        #expect(r.header("content-type") == "image/jpeg")
        #expect(r.body == LosslessMetadata.strip(original)?.body)
        let tags = try await Self.exiftoolTags(r.body)
        let leaked = tags.filter { k, v in
            k.hasPrefix("GPS") || k.hasPrefix("XMP") || k.hasPrefix("IPTC") || k.hasPrefix("ExifIFD")
                || k.hasSuffix(":Comment") || k.hasSuffix(":Make") || k.hasSuffix(":Model") || v.contains("Jane Doe")
        }
        #expect(leaked.isEmpty, "\(leaked)")
        #expect(tags["IFD0:Orientation"] == "Rotate 90 CW")
        // `dl` and unknown parameters change no byte: the same cached original.
        let again = try await node.get("/private.jpg?dl=photo.jpg&utm_source=x")
        #expect(again.header("x-cache") == "HIT" && again.body == r.body)
        #expect(again.header("content-disposition")?.contains("photo.jpg") == true)
        #expect(node.origin.count("/private.jpg") == 1)
    }

    /// Should remove metadata from PNG, WebP and GIF originals too, as exiftool sees them.
    @Test func otherFormats() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        for (name, type) in [("private.png", "image/png"), ("private.webp", "image/webp"), ("private.gif", "image/gif")] {
            let original = try Self.fixture(name)
            node.origin.route("/\(name)", body: original, headers: [("Content-Type", type)])
            let r = try await node.get("/\(name)")
            #expect(r.status == 200 && r.header("content-type") == type, "\(name)")
            let tags = try await Self.exiftoolTags(r.body)
            let leaked = tags.filter { k, v in k.hasPrefix("GPS") || k.hasPrefix("XMP") || v.contains("Jane Doe") || v.contains("taken at home") }
            #expect(leaked.isEmpty, "\(name): \(leaked)")
        }
    }

    /// Should serve the origin's exact bytes when the source sets keepMetadata.
    @Test func keepMetadata() async throws {
        let node = try await TestNode.start { $0.sources[0].keepMetadata = true }
        defer { Task { await node.stopAll() } }
        let original = try Self.fixture("private.jpg")
        node.origin.route("/private.jpg", body: original, headers: jpegHeaders)
        #expect(try await node.get("/private.jpg").body == original)
        // A transformed output never carries metadata, whatever the source says.
        let small = try await node.get("/private.jpg?w=20")
        #expect(try await Self.exiftoolTags(small.body).keys.contains { $0.hasPrefix("GPS") } == false)
    }

    /// Should serve files libvips cannot read as the origin sent them, with or without parameters, cached, and
    /// unable to run as pages of this host.
    @Test func nonImagesPassThrough() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        let pdf = Array("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".utf8)
        node.origin.route("/doc.pdf", body: pdf, headers: [("Content-Type", "application/pdf"), ("Cache-Control", "max-age=600")])
        let html = Array("<html><script>alert(1)</script></html>".utf8)
        node.origin.route("/page.html", body: html, headers: [("Content-Type", "text/html; charset=utf-8")])
        node.origin.route("/odd", body: Array("{}".utf8), headers: [("Content-Type", "text/html\"><script>")])
        for target in ["/doc.pdf", "/doc.pdf?w=200&fm=webp"] {
            let r = try await node.get(target)
            #expect(r.status == 200 && r.body == pdf, "\(target)")
            #expect(r.header("content-type") == "application/pdf")
            #expect(r.header("x-content-type-options") == "nosniff")
            #expect(r.header("content-security-policy")?.contains("sandbox") == true)
        }
        #expect(try await node.get("/doc.pdf").header("x-cache") == "HIT")
        #expect(node.origin.count("/doc.pdf") == 2)
        let page = try await node.get("/page.html?w=10")
        #expect(page.body == html && page.header("content-type") == "text/html; charset=utf-8")
        #expect(page.header("content-security-policy") == "default-src 'none'; sandbox")
        let odd = try await node.get("/odd")
        #expect(odd.status == 200)
        #expect(odd.header("content-type") == "application/octet-stream")
        // A corrupt file of an image format is still an error (422), not passed through.
        node.origin.route("/broken.jpg", body: [0xFF, 0xD8, 0xFF, 0xE0, 0, 16] + Array(repeating: 7, count: 40), headers: jpegHeaders)
        #expect(try await node.get("/broken.jpg?w=10").status == 422)
    }

    /// Should transform a parameterless TIFF (no lossless cleaning for it) as before: re-encoded, metadata-free.
    @Test func formatsWithoutLosslessCleaningAreReencoded() async throws {
        let node = try await TestNode.start()
        defer { Task { await node.stopAll() } }
        node.origin.route("/h.tif", body: try Corpus.bytes("basics/tiff_rgb_hopper.tif"), headers: [("Content-Type", "image/tiff")])
        let r = try await node.get("/h.tif")
        #expect(r.status == 200 && r.header("content-type") == "image/jpeg")
    }
}
