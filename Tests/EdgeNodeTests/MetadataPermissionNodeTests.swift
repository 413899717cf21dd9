import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

/// The metadata a source may let through: IPTC with `allowIPTC` and `iptc=allow`, the GPS position in `fm=json`
/// with `exposeLocation` — and nothing of either without them.
@Suite struct MetadataPermissionNodeTests {
    static func node(allowIPTC: Bool = false, exposeLocation: Bool = false) async throws -> TestNode {
        let node = try await TestNode.start { c in
            c.sources[0].allowIPTC = allowIPTC
            c.sources[0].exposeLocation = exposeLocation
        }
        node.origin.route("/private.jpg", body: try PassthroughNodeTests.fixture("private.jpg"), headers: jpegHeaders)
        return node
    }

    /// Should pass the source's IPTC (and nothing else of its metadata) into a JPEG output only where the source
    /// allows it and the URL asks for it.
    @Test func iptcOnlyWhenAllowed() async throws {
        let allowed = try await Self.node(allowIPTC: true)
        defer { Task { await allowed.stopAll() } }
        let kept = try await allowed.get("/private.jpg?w=60&iptc=allow&fm=jpg")
        #expect(kept.status == 200)
        let tags = try await PassthroughNodeTests.exiftoolTags(kept.body)
        #expect(tags["IPTC:By-line"] == "Jane Doe")
        for (key, _) in tags {
            #expect(!key.hasPrefix("GPS:") && !key.hasPrefix("XMP") && !key.hasPrefix("ExifIFD:") && key != "IFD0:Artist",
                    "\(key) leaked")
        }
        // Without iptc=allow, and as WebP, nothing.
        for target in ["/private.jpg?w=60&fm=jpg", "/private.jpg?w=60&iptc=allow&fm=webp"] {
            let other = try await allowed.get(target)
            #expect(try await PassthroughNodeTests.exiftoolTags(other.body).keys.allSatisfy { !$0.hasPrefix("IPTC:") }, "\(target)")
        }
        let refused = try await Self.node()
        defer { Task { await refused.stopAll() } }
        let stripped = try await refused.get("/private.jpg?w=60&iptc=allow&fm=jpg")
        #expect(stripped.status == 200)
        #expect(try await PassthroughNodeTests.exiftoolTags(stripped.body).keys.allSatisfy { !$0.hasPrefix("IPTC:") })
    }

    /// Should include the GPS position in fm=json only with exposeLocation.
    @Test func locationOnlyWhenExposed() async throws {
        let exposed = try await Self.node(exposeLocation: true)
        defer { Task { await exposed.stopAll() } }
        let json = try JSONSerialization.jsonObject(with: Data(try await exposed.get("/private.jpg?fm=json").body)) as? [String: Any]
        let gps = try #require(json?["GPS"] as? [String: Any])
        #expect((gps["Latitude"] as? Double).map { abs($0 - 48.8583) < 0.0001 } == true)
        #expect(gps["LatitudeRef"] as? String == "N" && gps["LongitudeRef"] as? String == "E")
        #expect((json?["Exif"] as? [String: Any])?["SerialNumber"] == nil)
        let hidden = try await Self.node()
        defer { Task { await hidden.stopAll() } }
        let plain = try JSONSerialization.jsonObject(with: Data(try await hidden.get("/private.jpg?fm=json").body)) as? [String: Any]
        #expect(plain?["GPS"] == nil)
        #expect(!String(decoding: try await hidden.get("/private.jpg?fm=json").body, as: UTF8.self).contains("48.85"))
    }
}
