import EdgeCore
import EdgeImaging
import EdgeTestSupport
import Foundation
import Testing

/// basics/jpeg_baseline_testorig.jpg is 227x149.
let baseline = "basics/jpeg_baseline_testorig.jpg"

@Suite struct GeometryTests {
    /// Should produce the planned output size for each fit mode on a real JPEG.
    @Test(arguments: [
        ("w=100&h=100", 100, 66),
        ("w=100&h=100&fit=clip", 100, 66),
        ("w=100&h=100&fit=crop", 100, 100),
        ("w=100&h=40&fit=crop&crop=bottom", 100, 40),
        ("w=500&h=500&fit=max", 227, 149),
        ("w=100&h=100&fit=max", 100, 66),
        ("w=500&h=500&fit=min", 149, 149),
        ("w=100&h=100&fit=min", 100, 100),
        ("w=100&h=50&fit=scale", 100, 50),
        ("w=100&h=100&fit=fill", 100, 100),
        ("w=0.5", 114, 75),
        ("h=298", 454, 298),
        ("", 227, 149),
    ])
    func outputSize(query: String, width: Int, height: Int) throws {
        let out = try process(corpus: baseline, query + (query.isEmpty ? "" : "&") + "fm=png")
        #expect(out.width == width && out.height == height)
        #expect(out.format == .png)
        let header = try #require(pngHeader(out.body))
        #expect(header.width == width && header.height == height)
    }

    /// Should keep the source's format when no fm is given.
    @Test(arguments: [
        (baseline, OutputFormat.jpg), ("basics/png_rgba_transparent.png", .png), ("basics/webp_lossy_hopper.webp", .webp),
        ("basics/gif_static_hopper.gif", .gif), ("basics/tiff_rgb_hopper.tif", .jpg),
    ])
    func sourceFormatKept(file: String, format: OutputFormat) throws {
        #expect(try process(corpus: file, "w=32").format == format)
    }

    /// Should pad fill with the background colour around the centred image.
    @Test func fillPadsWithBackground() throws {
        let out = try process(corpus: baseline, "w=100&h=100&fit=fill&bg=00ff00&fm=png")
        let px = try Pixels(decoding: out.body)
        #expect(px.width == 100 && px.height == 100)
        // The image is 100x66 at y=17: the top rows and bottom rows are padding.
        for (x, y) in [(0, 0), (50, 5), (99, 16), (50, 95), (99, 99)] {
            let p = px.pixel(x, y)
            #expect(p[0] < 10 && p[1] > 245 && p[2] < 10, "padding at \(x),\(y) is \(p)")
        }
        let inside = px.mean(x: 10, y: 30, width: 80, height: 40)
        #expect(!(inside[0] < 10 && inside[1] > 245 && inside[2] < 10))
    }

    /// Should keep the right part for crop=right and the left for crop=left.
    @Test func cropGravityPicksSide() throws {
        let full = try Pixels(decoding: process(corpus: baseline, "h=50&fm=png").body)
        let left = try Pixels(decoding: process(corpus: baseline, "w=20&h=50&fit=crop&crop=left&fm=png").body)
        let right = try Pixels(decoding: process(corpus: baseline, "w=20&h=50&fit=crop&crop=right&fm=png").body)
        #expect(left.width == 20 && right.width == 20)
        let fullLeft = full.mean(x: 0, y: 0, width: 20, height: 50)
        let fullRight = full.mean(x: full.width - 20, y: 0, width: 20, height: 50)
        let l = left.mean(x: 0, y: 0, width: 20, height: 50), r = right.mean(x: 0, y: 0, width: 20, height: 50)
        #expect(maxDifference(l, fullLeft) < 4, "left \(l) vs \(fullLeft)")
        #expect(maxDifference(r, fullRight) < 4, "right \(r) vs \(fullRight)")
        #expect(maxDifference(fullLeft, fullRight) > 10)
    }
}

@Suite struct OrientationTests {
    static let n = 4

    /// The 4x4 brightness grid of a corpus file's upright output, and its size.
    func grid(_ file: String) throws -> (cells: [Double], width: Int, height: Int) {
        let out = try process(corpus: "orientation/\(file)", "w=96&fm=png")
        let px = try Pixels(decoding: out.body)
        #expect(px.width == out.width && px.height == out.height)
        return (px.grid(Self.n), out.width, out.height)
    }

    /// Should turn every EXIF orientation the same way up as orientation 1.
    @Test(arguments: ["Landscape", "Portrait"], 0...8)
    func uprightLikeOrientationOne(kind: String, orientation: Int) throws {
        let reference = try grid("\(kind)_1.jpg")
        let candidate = try grid("\(kind)_\(orientation).jpg")
        #expect(candidate.width == reference.width && candidate.height == reference.height)
        if kind == "Landscape" {
            #expect(candidate.width == 96 && candidate.height == 64)
        } else {
            #expect(candidate.width == 96 && candidate.height == 144)
        }
        let d = maxDifference(candidate.cells, reference.cells)
        #expect(d < 8, "\(kind)_\(orientation): grid differs by \(d)")
    }

    /// Should use pictures whose mirror images differ, so the orientation test can fail.
    @Test(arguments: ["Landscape", "Portrait"])
    func referenceIsAsymmetric(kind: String) throws {
        let reference = try grid("\(kind)_1.jpg").cells
        #expect(maxDifference(reference, mirrored(reference, Self.n)) > 30)
        #expect(maxDifference(reference, flipped(reference, Self.n)) > 30)
    }

    /// Should not carry the orientation tag into the output (viewers would rotate it twice).
    @Test func orientationTagRemoved() throws {
        let out = try process(corpus: "orientation/Landscape_6.jpg", "w=64&fm=jpg")
        let dir = try TemporaryDirectory()
        let file = try dir.write("out.jpg", bytes: out.body)
        let (_, text) = try run("/usr/bin/exiftool", ["-s", "-s", "-s", "-Orientation", file.path])
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }
}

@Suite struct FormatTests {
    /// Should encode every output format with its own magic bytes and content type.
    @Test(arguments: OutputFormat.allCases.filter(\.isImage))
    func encodesWithMagic(format: OutputFormat) throws {
        let out = try process(corpus: baseline, "w=64&fm=\(format.rawValue)")
        #expect(out.format == format)
        #expect(out.width == 64 && out.height == 42)
        let b = out.body
        switch format {
        case .jpg, .pjpg:
            #expect(b.starts(with: [0xff, 0xd8, 0xff]))
            #expect(format.contentType == "image/jpeg")
            let frames = jpegFrames(b).map(\.marker)
            // imgix's jpg-progressive defaults to true, so fm=jpg is progressive too.
            #expect(frames == [0xc2], "frames \(frames)")
        case .png, .png8, .png32:
            #expect(b.starts(with: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
        case .webp:
            #expect(b.starts(with: "RIFF") && b.count > 12 && b[8..<12].elementsEqual("WEBP".utf8))
        case .avif:
            #expect(b.count > 12 && b[4..<8].elementsEqual("ftyp".utf8))
            #expect(b[8..<12].elementsEqual("avif".utf8) || b[8..<12].elementsEqual("avis".utf8))
        case .gif:
            #expect(b.starts(with: "GIF89a") || b.starts(with: "GIF87a"))
        case .jp2:
            #expect(b.starts(with: [0xff, 0x4f, 0xff, 0x51]) || b.starts(with: [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20]))
        case .json, .blurhash:
            Issue.record("\(format) is not an image")
        }
        // Every output decodes back to the reported size.
        let px = try Pixels(decoding: b)
        #expect(px.width == 64 && px.height == 42)
    }

    /// Should make higher quality JPEGs larger.
    @Test func qualityChangesSize() throws {
        let low = try process(corpus: baseline, "fm=jpg&q=10").body.count
        let high = try process(corpus: baseline, "fm=jpg&q=95").body.count
        #expect(low < high)
    }

    /// Should read every common input type in the corpus.
    @Test(arguments: [
        "basics/gif_static_hopper.gif", "basics/jpeg_baseline_testorig.jpg", "basics/jpeg_cmyk_pil_sample.jpg",
        "basics/jpeg_progressive_kimono.jpg", "basics/png_16bit_rgb_monkey16.png", "basics/png_palette_trns_circle.png",
        "basics/png_rgba_transparent.png", "basics/tiff_rgb_hopper.tif", "basics/webp_alpha_transparent.webp",
        "basics/webp_lossy_hopper.webp",
    ])
    func readsCommonInputs(file: String) throws {
        let out = try process(corpus: file, "w=40&fm=png")
        #expect(out.width == 40)
        #expect(pngHeader(out.body)?.depth == 8)
    }
}

@Suite struct ColourTests {
    /// Should convert a CMYK JPEG to 3-channel 8-bit sRGB.
    @Test func cmykToSRGB() throws {
        let jpg = try process(corpus: "basics/jpeg_cmyk_pil_sample.jpg", "w=50&fm=jpg")
        let frames = jpegFrames(jpg.body)
        #expect(frames.count == 1 && frames.first?.components == 3 && frames.first?.precision == 8)
        let png = try process(corpus: "basics/jpeg_cmyk_pil_sample.jpg", "w=50&fm=png")
        let header = try #require(pngHeader(png.body))
        #expect(header.depth == 8 && header.colorType == 2)
        // Still the same picture: not black, not white.
        let px = try Pixels(decoding: png.body)
        let m = px.mean(x: 0, y: 0, width: px.width, height: px.height)
        #expect(m.allSatisfy { $0 > 10 && $0 < 245 })
    }

    /// Should convert a 16-bit PNG to 8-bit sRGB, keeping its brightness.
    @Test func sixteenBitToEight() throws {
        let out = try process(corpus: "basics/png_16bit_rgb_monkey16.png", "fm=png")
        let header = try #require(pngHeader(out.body))
        #expect(header.depth == 8 && header.colorType == 2)
        #expect(header.width == 149 && header.height == 227)
        let px = try Pixels(decoding: out.body)
        let m = px.mean(x: 0, y: 0, width: px.width, height: px.height)
        // A plain cast of 16-bit values to 8 bits would saturate to white.
        #expect(m.allSatisfy { $0 > 20 && $0 < 235 }, "mean \(m)")
        let jpg = try process(corpus: "basics/png_16bit_rgb_monkey16.png", "w=50&fm=jpg")
        #expect(jpegFrames(jpg.body).first?.precision == 8)
    }

    /// Should flatten transparent pixels onto bg when the output has no alpha.
    @Test(arguments: [("fm=jpg&bg=ff0000", [255.0, 0, 0]), ("fm=jpg", [255.0, 255, 255]), ("fm=jpg&bg=0000ff", [0.0, 0, 255])])
    func transparentToJPEGFlattens(query: String, expected: [Double]) throws {
        let source = try Pixels(decoding: Corpus.bytes("basics/png_rgba_transparent.png"))
        #expect(source.bands == 4)
        let out = try process(corpus: "basics/png_rgba_transparent.png", query)
        #expect(out.format == .jpg)
        let px = try Pixels(decoding: out.body)
        #expect(px.bands == 3 && px.width == source.width && px.height == source.height)
        var checked = 0
        for y in stride(from: 0, to: source.height, by: 7) {
            // Only pixels well inside transparent areas: JPEG's chroma subsampling blurs colour at edges.
            for x in stride(from: 0, to: source.width, by: 7) where Self.transparentAround(source, x, y) {
                let p = px.pixel(x, y).map(Double.init)
                #expect(maxDifference(p, expected) < 40, "pixel \(x),\(y) is \(p)")
                checked += 1
            }
        }
        #expect(checked > 10)
    }

    static func transparentAround(_ px: Pixels, _ x: Int, _ y: Int) -> Bool {
        for yy in max(0, y - 4)...min(px.height - 1, y + 4) {
            for xx in max(0, x - 4)...min(px.width - 1, x + 4) where px.pixel(xx, yy)[3] != 0 { return false }
        }
        return true
    }

    /// Should keep alpha in PNG output of a transparent source.
    @Test func transparentPNGKeepsAlpha() throws {
        let out = try process(corpus: "basics/png_rgba_transparent.png", "w=100&fm=png")
        #expect(pngHeader(out.body)?.colorType == 6)
    }
}

@Suite struct MetadataTests {
    /// A copy of a corpus JPEG with EXIF (camera, GPS), XMP and IPTC written by exiftool.
    static func taggedJPEG(in dir: TemporaryDirectory) throws -> [UInt8] {
        let file = try dir.write("tagged.jpg", bytes: Corpus.bytes(baseline))
        let (status, _) = try run("/usr/bin/exiftool", [
            "-q", "-overwrite_original", "-Make=SecretMake", "-Model=SecretModel", "-Artist=SecretArtist",
            "-GPSLatitude=48.8584", "-GPSLatitudeRef=N", "-GPSLongitude=2.2945", "-GPSLongitudeRef=E",
            "-XMP-dc:Creator=SecretCreator", "-IPTC:Keywords=SecretKeyword", "-Comment=SecretComment", file.path,
        ])
        #expect(status == 0)
        return [UInt8](try Data(contentsOf: file))
    }

    static func tags(_ bytes: [UInt8], in dir: TemporaryDirectory, name: String) throws -> String {
        let file = try dir.write(name, bytes: bytes)
        return try run("/usr/bin/exiftool", ["-json", "-G", "-a", file.path]).output
    }

    /// Should strip EXIF, GPS, XMP, IPTC and comments from every output format.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/exiftool")),
          arguments: OutputFormat.allCases.filter(\.isImage))
    func stripped(format: OutputFormat) throws {
        let dir = try TemporaryDirectory()
        let source = try Self.taggedJPEG(in: dir)
        let before = try Self.tags(source, in: dir, name: "before.jpg")
        // The source really has the metadata, so the test can fail.
        for needle in ["SecretMake", "SecretModel", "GPSLatitude", "SecretCreator", "SecretKeyword", "SecretComment"] {
            #expect(before.contains(needle), "source lacks \(needle)")
        }
        let out = try process(source, "w=80&fm=\(format.rawValue)")
        let after = try Self.tags(out.body, in: dir, name: "out.\(format.rawValue)")
        #expect(after.contains("\"SourceFile\""))
        for needle in ["Secret", "GPS", "\"EXIF:", "\"XMP", "\"IPTC:", "Make\"", "Model\"", "\"ICC_Profile:"] {
            #expect(!after.contains(needle), "\(format) output has \(needle): \(after)")
        }
    }

    /// Should strip the metadata of sources in every format that carries it — PNG (eXIf, text), WebP, GIF
    /// (comments, XMP), TIFF and AVIF (the HEIF container) — from every output format.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/exiftool")),
          arguments: ["png", "webp", "gif", "tif", "avif"])
    func strippedFromEveryInput(ext: String) throws {
        let dir = try TemporaryDirectory()
        let base: [UInt8] = switch ext {
        case "png": try Corpus.bytes("basics/png_rgba_transparent.png")
        case "webp": try Corpus.bytes("basics/webp_lossy_hopper.webp")
        case "gif": try Corpus.bytes("basics/gif_static_hopper.gif")
        case "tif": try Corpus.bytes("basics/tiff_rgb_hopper.tif")
        default: try process(corpus: "basics/tiff_rgb_hopper.tif", "fm=avif").body
        }
        let file = try dir.write("in.\(ext)", bytes: base)
        let (status, _) = try run("/usr/bin/exiftool", [
            "-q", "-overwrite_original", "-Make=SecretMake", "-GPSLatitude=48.8584", "-GPSLatitudeRef=N",
            "-XMP-dc:Creator=SecretCreator", "-Comment=SecretComment", file.path,
        ])
        #expect(status == 0)
        let source = [UInt8](try Data(contentsOf: file))
        let before = try Self.tags(source, in: dir, name: "before.\(ext)")
        // The source really carries it, so the test can fail.
        #expect(before.contains("SecretCreator") && before.contains("GPS") || ext == "gif" && before.contains("SecretCreator"),
                "\(ext) source: \(before)")
        for format in [OutputFormat.jpg, .png, .webp, .avif] {
            let out = try process(source, "w=60&fm=\(format.rawValue)")
            let after = try Self.tags(out.body, in: dir, name: "out-\(ext).\(format.rawValue)")
            for needle in ["Secret", "GPS", "\"XMP"] {
                #expect(!after.contains(needle), "\(ext) → \(format) has \(needle): \(after)")
            }
        }
    }

    /// Should write WebP with alpha and no metadata chunks (libvips 8.14.1 adds EXIF despite strip).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/exiftool")))
    func webpWithAlphaHasNoEXIF() throws {
        let dir = try TemporaryDirectory()
        let out = try process(corpus: "basics/png_rgba_transparent.png", "w=100&fm=webp")
        let tags = try Self.tags(out.body, in: dir, name: "alpha.webp")
        #expect(!tags.contains("EXIF") && !tags.contains("Warning"), "\(tags)")
        #expect(tags.contains("Alpha"))
        let px = try Pixels(decoding: out.body)
        #expect(px.bands == 4 && px.width == 100 && px.height == 75)
        // The RIFF size covers exactly the file.
        let b = out.body
        #expect(Int(b[4]) | Int(b[5]) << 8 | Int(b[6]) << 16 | Int(b[7]) << 24 == b.count - 8)
    }
}

@Suite struct RejectionTests {
    /// Should reject every corrupt PngSuite file with a 4xx error, never a crash or a 5xx.
    @Test(arguments: try Corpus.files(in: "pngsuite").filter { $0.hasPrefix("x") && $0.hasSuffix(".png") })
    func corruptPNG(file: String) throws {
        let error = processError(try Corpus.bytes("pngsuite/\(file)"), "w=16&fm=png")
        let status = try #require(error?.status, "\(file) was accepted")
        #expect((400..<500).contains(status), "\(file): \(status)")
    }

    /// Should process every valid PngSuite file.
    @Test func validPNGSuite() throws {
        let files = try Corpus.files(in: "pngsuite").filter { !$0.hasPrefix("x") && $0.hasSuffix(".png") }
        #expect(files.count > 150)
        for file in files {
            do {
                let out = try process(corpus: "pngsuite/\(file)", "w=16&fm=png")
                #expect(out.width == 16, "\(file)")
            } catch {
                Issue.record("\(file): \(error)")
            }
        }
    }

    /// Should answer 415 for bytes that are not an image.
    @Test func notAnImage() {
        var rng = SystemRandomNumberGenerator()
        let random = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
        #expect(processError(random)?.status == 415)
        #expect(processError(Array("hello, this is a text file\n".utf8))?.status == 415)
        #expect(processError(Array("<html><body>not found</body></html>".utf8))?.status == 415)
        #expect(processError([])?.status == 415)
        #expect(processError(Array(repeating: 0, count: 100))?.status == 415)
    }

    /// Should answer 413 from the header alone for a PNG that claims 50000x50000 pixels.
    @Test func decompressionBomb() {
        let emptyZlib: [UInt8] = [0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]
        let bomb = png([("IHDR", ihdr(width: 50000, height: 50000)), ("IDAT", emptyZlib), ("IEND", [])])
        #expect(bomb.count < 100)
        #expect(processError(bomb, "w=100&fm=png")?.status == 413)
        // The same file at a small size is accepted as far as the header, then fails as corrupt (4xx, not 413).
        let small = png([("IHDR", ihdr(width: 4, height: 4)), ("IDAT", emptyZlib), ("IEND", [])])
        let status = processError(small, "w=2&fm=png")?.status
        #expect(status != 413)
    }

    /// Should respect maxSourcePixels exactly (width x height from the header).
    @Test func maxSourcePixels() throws {
        let pixels = 227 * 149
        #expect(processError(try Corpus.bytes(baseline), "w=10", limits: ImageLimits(maxSourcePixels: pixels - 1))?.status == 413)
        #expect(processError(try Corpus.bytes(baseline), "w=10", limits: ImageLimits(maxSourcePixels: pixels)) == nil)
        // A large JPEG against a tight limit.
        let err = processError(try Corpus.bytes("orientation/Landscape_1.jpg"), "w=10", limits: ImageLimits(maxSourcePixels: 1_000_000))
        #expect(err?.status == 413)
    }

    /// Should answer a 4xx for a truncated JPEG rather than crash.
    @Test func truncatedJPEG() throws {
        let bytes = try Corpus.bytes(baseline)
        for cut in [2, 20, 200, bytes.count / 2] {
            if let status = processError(Array(bytes.prefix(cut)), "w=50&fm=png")?.status {
                #expect((400..<500).contains(status), "cut at \(cut): \(status)")
            }
        }
        // Cut inside the header, it cannot be read at all.
        #expect(processError(Array(bytes.prefix(20)))?.status != nil)
    }
}
