@testable import EdgeCore
import EdgeTestSupport
import Foundation
import Testing

/// Lossless metadata removal on images carrying GPS, camera serial, owner, XMP, IPTC and comments (written by
/// exiftool: Tests/Fixtures/metadata/generate.sh).
@Suite struct LosslessMetadataTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        try Array(Data(contentsOf: Corpus.packageRoot.appendingPathComponent("Tests/Fixtures/metadata/\(name)")))
    }

    static let personal = ["Jane Doe", "0123456789", "taken at home", "Canon", "EOS 5D", "48.8583", "GPS"]

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard haystack.count >= n.count else { return false }
        return (0...(haystack.count - n.count)).contains { haystack[$0..<($0 + n.count)].elementsEqual(n) }
    }

    /// The bytes from the first SOS marker on (the compressed image data and EOI).
    static func scan(_ jpeg: [UInt8]) -> ArraySlice<UInt8> {
        var i = 2
        while i + 3 < jpeg.count, jpeg[i + 1] != 0xDA { i += 2 + (Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3])) }
        return jpeg[i...]
    }

    /// Should remove every personal field from a JPEG, keep the image data byte for byte, and keep Orientation.
    @Test func jpeg() throws {
        let original = try Self.fixture("private.jpg")
        #expect(Self.personal.contains { Self.contains(original, $0) })
        let result = try #require(LosslessMetadata.strip(original))
        #expect(result.container == .jpeg)
        for p in Self.personal { #expect(!Self.contains(result.body, p), "\(p)") }
        #expect(Self.scan(result.body) == Self.scan(original))
        // The minimal EXIF segment: only Orientation = 6.
        #expect(result.body[2..<6].elementsEqual([0xFF, 0xE0, 0x00, 0x10]) || result.body[2..<4].elementsEqual([0xFF, 0xE1]))
        let app1 = try #require((0..<(result.body.count - 10)).first { result.body[$0] == 0xFF && result.body[$0 + 1] == 0xE1 })
        #expect(LosslessMetadata.exifOrientation(Array(result.body[(app1 + 10)...])) == 6)
        #expect(result.body.count < original.count)
    }

    /// Should write no EXIF at all for an upright JPEG, and keep JFIF, the ICC profile and Adobe segments.
    @Test func jpegUprightAndProfiles() throws {
        let upright = try Corpus.bytes("orientation/Landscape_1.jpg")
        let r = try #require(LosslessMetadata.strip(upright))
        #expect(!Self.contains(r.body, "Exif"))
        let cmyk = try Corpus.bytes("basics/jpeg_cmyk_pil_sample.jpg")
        let c = try #require(LosslessMetadata.strip(cmyk))
        #expect(Self.contains(cmyk, "Adobe") == Self.contains(c.body, "Adobe"))
        for n in 2...8 {
            let rotated = try Corpus.bytes("orientation/Landscape_\(n).jpg")
            let s = try #require(LosslessMetadata.strip(rotated))
            let app1 = try #require((0..<(s.body.count - 10)).first { s.body[$0] == 0xFF && s.body[$0 + 1] == 0xE1 })
            #expect(LosslessMetadata.exifOrientation(Array(s.body[(app1 + 10)...])) == UInt16(n))
            #expect(Self.scan(s.body) == Self.scan(rotated))
        }
    }

    /// Should drop eXIf and text chunks from a PNG and keep the image chunks byte for byte.
    @Test func png() throws {
        let original = try Self.fixture("private.png")
        let result = try #require(LosslessMetadata.strip(original))
        #expect(result.container == .png)
        for p in Self.personal { #expect(!Self.contains(result.body, p), "\(p)") }
        for chunk in ["eXIf", "tEXt", "zTXt", "iTXt"] { #expect(!Self.contains(result.body, chunk), "\(chunk)") }
        #expect(Self.contains(result.body, "IDAT") && Self.contains(result.body, "IEND"))
        let idat = { (b: [UInt8]) in Self.chunks(b).filter { $0.type == "IDAT" }.map(\.bytes) }
        #expect(idat(result.body) == idat(original))
    }

    static func chunks(_ b: [UInt8]) -> [(type: String, bytes: [UInt8])] {
        var out: [(String, [UInt8])] = []
        var i = 8
        while i + 12 <= b.count {
            let n = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
            out.append((String(decoding: b[(i + 4)..<(i + 8)], as: UTF8.self), Array(b[i..<(i + 12 + n)])))
            i += 12 + n
        }
        return out
    }

    /// Should drop EXIF and XMP chunks from a WebP and clear their VP8X flags.
    @Test func webp() throws {
        let original = try Self.fixture("private.webp")
        let result = try #require(LosslessMetadata.strip(original))
        for p in Self.personal { #expect(!Self.contains(result.body, p), "\(p)") }
        #expect(!Self.contains(result.body, "EXIF") && !Self.contains(result.body, "XMP "))
        if let x = (12..<(result.body.count - 4)).first(where: { result.body[$0..<($0 + 4)].elementsEqual("VP8X".utf8) }) {
            #expect(result.body[x + 8] & 0x0C == 0)
        }
        let riff = Int(result.body[4]) | Int(result.body[5]) << 8 | Int(result.body[6]) << 16 | Int(result.body[7]) << 24
        #expect(riff == result.body.count - 8)
    }

    /// Should drop comments and XMP application blocks from a GIF.
    @Test func gif() throws {
        let original = try Self.fixture("private.gif")
        #expect(Self.contains(original, "Jane Doe"))
        let result = try #require(LosslessMetadata.strip(original))
        for p in Self.personal { #expect(!Self.contains(result.body, p), "\(p)") }
        #expect(result.body.last == 0x3B)
    }

    /// Should answer nil, never crash, for other formats, truncations and garbage.
    @Test func malformed() throws {
        #expect(LosslessMetadata.strip(Array("%PDF-1.4".utf8)) == nil)
        #expect(LosslessMetadata.strip([]) == nil)
        #expect(LosslessMetadata.strip(try Corpus.bytes("basics/tiff_rgb_hopper.tif")) == nil)
        var rng = SeededGenerator(seed: 7)
        for name in ["private.jpg", "private.png", "private.webp", "private.gif"] {
            let b = try Self.fixture(name)
            for _ in 0..<200 {
                let cut = Int.random(in: 0..<b.count, using: &rng)
                let truncated = Array(b[..<cut])
                if let r = LosslessMetadata.strip(truncated) { #expect(r.body.count <= truncated.count + 34) }
                var flipped = b
                flipped[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                _ = LosslessMetadata.strip(flipped)
            }
        }
    }
}
