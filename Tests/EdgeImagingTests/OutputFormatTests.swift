import EdgeCore
@testable import EdgeImaging
import EdgeTestSupport
import Foundation
import Testing

private let photo = "basics/jpeg_baseline_testorig.jpg"
private let exiftool = "/usr/bin/exiftool"
private let hasExiftool = FileManager.default.isExecutableFile(atPath: exiftool)

/// JPEG markers before the first scan, with their payloads.
private func jpegSegments(_ b: [UInt8]) -> [(marker: UInt8, payload: ArraySlice<UInt8>)] {
    var out: [(UInt8, ArraySlice<UInt8>)] = []
    var i = 2
    while i + 4 <= b.count, b[i] == 0xff {
        let marker = b[i + 1]
        if marker == 0xda { break }
        let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
        guard i + 2 + length <= b.count else { break }
        out.append((marker, b[i + 4..<i + 2 + length]))
        i += 2 + length
    }
    return out
}

/// Sampling factors (H << 4 | V) of each component in the JPEG frame header.
private func samplingFactors(_ b: [UInt8]) -> [UInt8] {
    guard let sof = jpegSegments(b).first(where: { (0xc0...0xc2).contains($0.marker) })?.payload else { return [] }
    let p = Array(sof)
    return (0..<Int(p[5])).map { p[6 + $0 * 3 + 1] }
}

/// PNG chunks by type.
private func pngChunks(_ b: [UInt8]) -> [(type: String, data: ArraySlice<UInt8>)] {
    var out: [(String, ArraySlice<UInt8>)] = []
    var i = 8
    while i + 8 <= b.count {
        let n = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
        guard i + 12 + n <= b.count else { break }
        out.append((String(decoding: b[i + 4..<i + 8], as: UTF8.self), b[i + 8..<i + 8 + n]))
        i += 12 + n
    }
    return out
}

private func distinctColours(_ px: Pixels) -> Int {
    var seen = Set<[UInt8]>()
    for y in 0..<px.height { for x in 0..<px.width { seen.insert(px.pixel(x, y)) } }
    return seen.count
}

private func exif(_ bytes: [UInt8], _ tag: String, name: String) throws -> String {
    let dir = try TemporaryDirectory()
    let file = try dir.write(name, bytes: bytes)
    return try run(exiftool, ["-s", "-s", "-s", "-" + tag, file.path]).output.trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite struct OutputFormatTests {
    /// Should write png8 as a palette PNG with at most colorquant colours (rounded down to a power of two).
    @Test func png8Palette() throws {
        let full = try process(corpus: photo, "w=64&fm=png8")
        #expect(pngHeader(full.body)?.colorType == 3)
        let out = try process(corpus: photo, "w=64&fm=png8&colorquant=20")
        #expect(pngHeader(out.body)?.colorType == 3)
        let plte = try #require(pngChunks(out.body).first { $0.type == "PLTE" })
        #expect(plte.data.count / 3 <= 16)
        let colours = distinctColours(try Pixels(decoding: out.body))
        #expect(colours <= 16 && colours > 2, "\(colours) colours")
        // Without the limit the photo keeps many more colours.
        #expect(distinctColours(try Pixels(decoding: full.body)) > 16)
    }

    /// Should limit a GIF's palette with colorquant.
    @Test func gifColorquant() throws {
        let out = try process(corpus: photo, "w=64&fm=gif&colorquant=8")
        #expect(distinctColours(try Pixels(decoding: out.body)) <= 8)
    }

    /// Should always give png32 an alpha channel, where png keeps an opaque image RGB.
    @Test func png32HasAlpha() throws {
        #expect(pngHeader(try process(corpus: photo, "w=32&fm=png32").body)?.colorType == 6)
        #expect(pngHeader(try process(corpus: photo, "w=32&fm=png").body)?.colorType == 2)
    }

    /// Should write 4:2:0 by default (even at q=95) and 4:4:4 for chromasub=444, in the JPEG frame header.
    @Test func chromaSubsampling() throws {
        #expect(samplingFactors(try process(corpus: photo, "w=64&fm=jpg").body) == [0x22, 0x11, 0x11])
        #expect(samplingFactors(try process(corpus: photo, "w=64&fm=jpg&q=95").body) == [0x22, 0x11, 0x11])
        #expect(samplingFactors(try process(corpus: photo, "w=64&fm=jpg&chromasub=444").body) == [0x11, 0x11, 0x11])
        #expect(samplingFactors(try process(corpus: photo, "w=64&fm=pjpg&chromasub=444").body) == [0x11, 0x11, 0x11])
    }

    /// Should make fm=jpg progressive unless jpg-progressive=false.
    @Test func progressive() throws {
        #expect(jpegFrames(try process(corpus: photo, "w=64&fm=jpg").body).map(\.marker) == [0xc2])
        #expect(jpegFrames(try process(corpus: photo, "w=64&fm=jpg&jpg-progressive=false").body).map(\.marker) == [0xc0])
        #expect(jpegFrames(try process(corpus: photo, "w=64&fm=pjpg&jpeg-progressive=false").body).map(\.marker) == [0xc2])
    }

    /// Should round-trip pixels exactly through lossless WebP (and not through lossy WebP).
    @Test func losslessWebP() throws {
        let reference = try Pixels(decoding: try process(corpus: photo, "w=80&fm=png").body)
        let lossless = try process(corpus: photo, "w=80&fm=webp&lossless=1")
        // The lossless codec's chunk, VP8L, is in the RIFF container (after VP8X when there is one).
        #expect(lossless.body.starts(with: "RIFF") && (12..<60).contains { lossless.body[$0..<$0 + 4].elementsEqual("VP8L".utf8) })
        #expect(try Pixels(decoding: lossless.body).data == reference.data)
        #expect(try Pixels(decoding: try process(corpus: photo, "w=80&fm=webp&q=50").body).data != reference.data)
    }

    /// Should encode JPEG 2000 that decodes to the requested size, smaller at a lower quality.
    @Test func jpeg2000() throws {
        let out = try process(corpus: photo, "w=64&fm=jp2")
        #expect(out.format.contentType == "image/jp2")
        let px = try Pixels(decoding: out.body)
        #expect(px.width == 64 && px.height == 42)
        #expect(try process(corpus: photo, "w=64&fm=jp2&q=10").body.count < out.body.count)
    }

    /// Should write the dpi into the JFIF header of JPEGs and the pHYs chunk of PNGs.
    @Test func dpi() throws {
        let jpg = try process(corpus: photo, "w=32&fm=jpg&dpi=300").body
        let app0 = try #require(jpegSegments(jpg).first { $0.marker == 0xe0 }.map { Array($0.payload) })
        #expect(app0.starts(with: Array("JFIF\0".utf8)))
        #expect(app0[7] == 1 && Int(app0[8]) << 8 | Int(app0[9]) == 300 && Int(app0[10]) << 8 | Int(app0[11]) == 300)
        let png = try process(corpus: photo, "w=32&fm=png&dpi=300").body
        let phys = try #require(pngChunks(png).first { $0.type == "pHYs" }.map { Array($0.data) })
        let ppm = Int(phys[0]) << 24 | Int(phys[1]) << 16 | Int(phys[2]) << 8 | Int(phys[3])
        #expect(abs(ppm - 11811) <= 1 && phys[8] == 1)
    }

    /// Should tag outputs with sRGB for cs=srgb, a compact sRGB for tinysrgb, and nothing by default.
    @Test(.enabled(if: hasExiftool)) func srgbProfiles() throws {
        let plain = try process(corpus: photo, "w=32&fm=jpg").body
        #expect(!jpegSegments(plain).contains { $0.marker == 0xe2 })
        let srgb = try process(corpus: photo, "w=32&fm=jpg&cs=srgb").body
        #expect(try exif(srgb, "ProfileDescription", name: "s.jpg").lowercased().contains("srgb"))
        let tiny = try process(corpus: photo, "w=32&fm=jpg&cs=tinysrgb").body
        #expect(try exif(tiny, "ProfileDescription", name: "t.jpg") == "imgedge tiny sRGB")
        #expect(TinySRGB.profile.count < 600 && TinySRGB.profile.count < srgb.count - plain.count)
        // Colour management reads the compact profile: importing through it gives the sRGB pixels back closely.
        let dir = try TemporaryDirectory()
        let file = try dir.write("t.jpg", bytes: tiny)
        let imported = dir.appending("i.png")
        #expect(try run("/usr/bin/vips", ["icc_transform", file.path, imported.path, "srgb", "--embedded"]).status == 0)
        let back = try Pixels(decoding: Array(try Data(contentsOf: imported)))
        let direct = try Pixels(decoding: tiny)
        #expect(maxDifference(back.grid(4), direct.grid(4)) < 3)
        // WebP keeps the ICC chunk it was asked for, and still no EXIF.
        let webp = try process(corpus: photo, "w=32&fm=webp&cs=srgb").body
        let tags = try run(exiftool, ["-G", "-a", "-s", try dir.write("w.webp", bytes: webp).path]).output
        #expect(tags.contains("ICC_Profile") && !tags.contains("[EXIF]"), "\(tags)")
        // Keeping the profile keeps nothing else, from a source full of metadata, in any format that carries one.
        let tagged = try MetadataTests.taggedJPEG(in: dir)
        for fm in ["jpg", "png", "png8", "webp"] {
            let out = try process(tagged, "w=32&fm=\(fm)&cs=tinysrgb").body
            let all = try run(exiftool, ["-G", "-a", "-s", try dir.write("k.\(fm)", bytes: out).path]).output
            #expect(all.contains("imgedge tiny sRGB"), "\(fm): \(all)")
            for needle in ["[EXIF]", "[XMP", "[IPTC]", "GPS", "Secret"] { #expect(!all.contains(needle), "\(fm): \(all)") }
        }
    }

    /// Should convert pixels to Adobe RGB (1998) and tag them with the profile for cs=adobergb1998.
    @Test(.enabled(if: hasExiftool && FileManager.default.fileExists(atPath: EncodeStep.adobeRGBProfilePath)))
    func adobeRGB() throws {
        let srgb = try process(corpus: photo, "w=32&fm=png&cs=srgb").body
        let adobe = try process(corpus: photo, "w=32&fm=png&cs=adobergb1998").body
        #expect(try exif(adobe, "ProfileDescription", name: "a.png").contains("Adobe"))
        // Same colours in a wider space: saturated channels move towards the middle.
        #expect(try Pixels(decoding: adobe).data != Pixels(decoding: srgb).data)
    }

    /// Should keep the source's own RGB profile, and its pixel values, for cs=origin.
    @Test(.enabled(if: hasExiftool && FileManager.default.fileExists(atPath: EncodeStep.adobeRGBProfilePath)))
    func originProfile() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("adobe.jpg", bytes: Corpus.bytes(photo))
        let (status, _) = try run(exiftool, ["-q", "-overwrite_original", "-ICC_Profile<=\(EncodeStep.adobeRGBProfilePath)", file.path])
        #expect(status == 0)
        let source = [UInt8](try Data(contentsOf: file))
        let out = try process(source, "fm=png&cs=origin").body
        #expect(try exif(out, "ProfileDescription", name: "o.png") == exif(source, "ProfileDescription", name: "s.jpg"))
        // The pixels are the source's own numbers, which the profile describes.
        let diff = maxDifference(try Pixels(decoding: out).grid(4), try Pixels(decoding: source).grid(4))
        #expect(diff < 1, "\(diff)")
        // A source without a profile falls back to sRGB.
        let plain = try process(corpus: photo, "w=32&fm=png&cs=origin").body
        #expect(try exif(plain, "ProfileDescription", name: "p.png").lowercased().contains("srgb"))
    }

    /// Should stretch a low-contrast image's levels for auto=enhance.
    @Test func enhance() throws {
        let dir = try TemporaryDirectory()
        let input = try dir.write("in.jpg", bytes: Corpus.bytes(photo))
        let flat = dir.appending("flat.png")
        #expect(try run("/usr/bin/vips", ["linear", input.path, flat.path, "0.25", "90", "--uchar"]).status == 0)
        let source = [UInt8](try Data(contentsOf: flat))
        func spread(_ px: Pixels) -> Int {
            let green = stride(from: 1, to: px.data.count, by: px.bands).map { Int(px.data[$0]) }
            return (green.max() ?? 0) - (green.min() ?? 0)
        }
        let before = spread(try Pixels(decoding: try process(source, "w=80&fm=png").body))
        let after = spread(try Pixels(decoding: try process(source, "w=80&fm=png&auto=enhance").body))
        #expect(before < 70 && after > 150, "\(before) → \(after)")
    }

    /// Should describe the source for fm=json: its pixel size (not w), orientation, DPI and camera, never GPS,
    /// owner names or serial numbers.
    @Test(.enabled(if: hasExiftool)) func json() throws {
        let dir = try TemporaryDirectory()
        let source = try MetadataTests.taggedJPEG(in: dir)
        let file = try dir.write("serial.jpg", bytes: source)
        #expect(try run(exiftool, ["-q", "-overwrite_original", "-SerialNumber=SecretSerial", "-LensSerialNumber=SecretLens",
                                   "-OwnerName=SecretOwner", "-Copyright=SecretCopyright", file.path]).status == 0)
        let tagged = [UInt8](try Data(contentsOf: file))
        #expect(try run(exiftool, ["-a", "-G", file.path]).output.contains("GPS Latitude"))
        let out = try process(tagged, "w=10&fm=json")
        #expect(out.format.contentType == "application/json")
        let text = String(decoding: out.body, as: UTF8.self)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(out.body)) as? [String: Any])
        #expect(obj["PixelWidth"] as? Int == 227 && obj["PixelHeight"] as? Int == 149)
        #expect(obj["ColorModel"] as? String == "RGB" && obj["Depth"] as? Int == 8 && obj["Orientation"] as? Int == 1)
        #expect(obj["Content-Type"] as? String == "image/jpeg" && obj["Content-Length"] as? String == String(tagged.count))
        #expect((obj["TIFF"] as? [String: Any])?["Make"] as? String == "SecretMake")
        #expect((obj["JFIF"] as? [String: Any])?["IsProgressive"] as? Bool == false)
        for needle in ["GPS", "48.8", "SecretArtist", "SecretSerial", "SecretLens", "SecretOwner", "SecretCopyright",
                       "SecretCreator", "SecretKeyword", "SecretComment"] {
            #expect(!text.contains(needle), "\(needle) in \(text)")
        }
    }

    /// Should report the stored (not rotated) size, the orientation, the DPI and the EXIF of a camera photo.
    @Test func jsonOrientation() throws {
        let out = try process(corpus: "orientation/Landscape_6.jpg", "fm=json")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(out.body)) as? [String: Any])
        let px = try Pixels(decoding: try process(corpus: "orientation/Landscape_6.jpg", "fm=png").body)
        #expect(obj["Orientation"] as? Int == 6)
        #expect(obj["PixelWidth"] as? Int == px.height && obj["PixelHeight"] as? Int == px.width)
        #expect(obj["DPIWidth"] as? Int == 72)
    }

    /// Should answer fm=blurhash with a 5 x 5 BlurHash of the output, as text.
    @Test func blurhash() throws {
        let out = try process(corpus: photo, "w=100&fm=blurhash")
        #expect(out.format.contentType.hasPrefix("text/plain"))
        let hash = String(decoding: out.body, as: UTF8.self)
        #expect(hash.count == 4 + 2 * 25 && hash.first == "e", "\(hash)")
        #expect(hash.allSatisfy { BlurHash.alphabet.contains($0) })
        // It describes the output: another crop of the same source hashes differently.
        let top = try process(corpus: photo, "w=100&h=20&fit=crop&crop=top&fm=blurhash")
        #expect(String(decoding: top.body, as: UTF8.self) != hash)
    }

    /// Should match an independent BlurHash implementation (the `blurhash` Python package 1.1.5) on fixed pixels.
    @Test(arguments: [
        (8, 6, 4, 3, "LeG*y.19IN+++UJHxGXmQ}oOk.aQ"),
        (8, 6, 5, 5, "eeG*y.19IN++E++UJHxGXmW[Q}oOk.aQiz$oXlRXrcXkm]T1rsTHkW"),
        (17, 11, 9, 9, "|dGlI_S7N5NO1J,1rvw~V{xcRRaeJDn,$QSOnmJ-V$aLkHWcs*bdX7X8XRx1akbyabX2ofj;kDaiV[aQfgbWbXo#fAoIVzojofa*oyWZWIi_a}soVybHg2XMjJnPawjYXj#tbuaQX8RknTgKkDXTVzX8fmX5n+nmbWbKV["),
        (5, 5, 1, 1, "00A-c1"),
    ])
    func blurhashReference(width: Int, height: Int, cx: Int, cy: Int, expected: String) {
        // The fixture's pixels: r = (32x + 8y) mod 256, g = (13xy + 40) mod 256, b = (255 − 20x − 30y) mod 256.
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                pixels += [UInt8((x * 32 + y * 8) % 256), UInt8((x * y * 13 + 40) % 256),
                           UInt8(((255 - x * 20 - y * 30) % 256 + 256) % 256)]
            }
        }
        let hash = BlurHash.encode(width: width, height: height, bands: 3, components: (cx, cy)) { pixels[$0] }
        #expect(hash == expected)
    }
}
