import EdgeCore
import EdgeImaging
import EdgeTestSupport
import Foundation
import Testing

/// A 300x200 PNG: white, with a 100x50 red block at (150, 100) — content with known edges for trim and rect.
func markedCanvas(transparent: Bool = false) throws -> [UInt8] {
    let dir = try TemporaryDirectory(prefix: "imgedge-size")
    defer { dir.remove() }
    let base = dir.appending("base.v").path, out = dir.appending("out.png").path
    let bg = transparent ? "0 0 0 0" : "255 255 255"
    // A black image turned into the background colour, then a red block inserted.
    try run("/usr/bin/vips", ["black", dir.appending("b.v").path, "300", "200", "--bands", transparent ? "4" : "3"])
    try run("/usr/bin/vips", ["linear", dir.appending("b.v").path, dir.appending("bg.v").path, "1", bg])
    try run("/usr/bin/vips", ["black", dir.appending("r.v").path, "100", "50", "--bands", transparent ? "4" : "3"])
    try run("/usr/bin/vips", ["linear", dir.appending("r.v").path, dir.appending("red.v").path, "1", transparent ? "255 0 0 255" : "255 0 0"])
    try run("/usr/bin/vips", ["insert", dir.appending("bg.v").path, dir.appending("red.v").path, base, "150", "100"])
    try run("/usr/bin/vips", ["cast", base, out, "uchar"])
    return [UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))
}

@Suite struct SizeTests {
    /// Should pad fit=fill to the box with fill-color, transparent by default in PNG and white in JPEG.
    @Test func fillCanvas() throws {
        let src = "basics/jpeg_baseline_testorig.jpg"  // 227x149
        let red = try Pixels(decoding: process(corpus: src, "w=200&h=200&fit=fill&fill-color=ff0000&fm=png").body)
        #expect(red.width == 200 && red.height == 200)
        #expect(red.pixel(100, 2).prefix(3) == [255, 0, 0])
        let clear = try Pixels(decoding: process(corpus: src, "w=200&h=200&fit=fill&fm=png").body)
        #expect(clear.bands == 4 && clear.pixel(100, 2)[3] == 0)
        let jpeg = try Pixels(decoding: process(corpus: src, "w=200&h=200&fit=fill&fm=jpg").body)
        #expect(jpeg.mean(x: 90, y: 0, width: 20, height: 3).allSatisfy { $0 > 240 })
        let blur = try Pixels(decoding: process(corpus: src, "w=200&h=200&fit=fill&fill=blur&fm=png").body)
        #expect(blur.width == 200 && blur.height == 200)
        #expect(blur.bands == 3)  // the padding is image, not transparency
    }

    /// Should extend the edge pixels with fit=clamp, and not enlarge with fit=fillmax.
    @Test func clampAndFillmax() throws {
        let clamp = try Pixels(decoding: process(markedCanvas(), "w=300&h=300&fit=clamp&fm=png").body)
        #expect(clamp.width == 300 && clamp.height == 300)
        // The block touches nothing at the bottom edge, so the extension below is white; the left stays white.
        #expect(clamp.pixel(10, 295).prefix(3) == [255, 255, 255])
        let fillmax = try process(corpus: "basics/jpeg_baseline_testorig.jpg", "w=400&h=400&fit=fillmax&fm=png")
        #expect(fillmax.width == 400 && fillmax.height == 400)
        let p = try Pixels(decoding: fillmax.body)
        // The 227x149 image sits unscaled in the middle of a transparent canvas.
        #expect(p.pixel(200, 200)[3] == 255 && p.pixel(200, 60)[3] == 0 && p.pixel(60, 200)[3] == 0)
    }

    /// Should cut rect out of the source before sizing.
    @Test func rectCutsFirst() throws {
        let out = try Pixels(decoding: process(markedCanvas(), "rect=150,100,100,50&fm=png").body)
        #expect(out.width == 100 && out.height == 50)
        #expect(out.mean(x: 0, y: 0, width: 100, height: 50).prefix(3).map { Int($0.rounded()) } == [255, 0, 0])
        let scaled = try process(markedCanvas(), "rect=150,100,100,50&w=50&fm=png")
        #expect(scaled.width == 50 && scaled.height == 25)
    }

    /// Should trim a uniform border (auto and colour) and transparent edges (alpha), keeping trim-pad.
    @Test func trimBorders() throws {
        let auto = try process(markedCanvas(), "trim=auto&fm=png")
        #expect(abs(auto.width - 100) <= 2 && abs(auto.height - 50) <= 2, "\(auto.width)x\(auto.height)")
        let color = try process(markedCanvas(), "trim=color&trim-color=fff&fm=png")
        #expect(abs(color.width - 100) <= 2 && abs(color.height - 50) <= 2)
        let padded = try process(markedCanvas(), "trim=color&trim-color=fff&trim-pad=10&fm=png")
        #expect(abs(padded.width - 120) <= 2 && abs(padded.height - 70) <= 2)
        let alpha = try process(markedCanvas(transparent: true), "trim=alpha&fm=png")
        #expect(abs(alpha.width - 100) <= 2 && abs(alpha.height - 50) <= 2)
        // Corners that differ: trim=auto leaves the image alone.
        let photo = try process(corpus: "basics/jpeg_baseline_testorig.jpg", "trim=auto&fm=png")
        #expect(photo.width == 227 && photo.height == 149)
    }

    /// Should apply or= instead of the EXIF orientation.
    @Test func orientationOverride() throws {
        // Landscape_1 is upright 1800x1200; or=6 turns it a quarter clockwise.
        let turned = try process(corpus: "orientation/Landscape_1.jpg", "w=60&or=6&fm=png")
        #expect(turned.width == 60 && turned.height == 90)
        // Landscape_6 is stored sideways with tag 6; or=1 keeps it as stored (no rotation).
        let stored = try process(corpus: "orientation/Landscape_6.jpg", "h=60&or=1&fm=png")
        let upright = try process(corpus: "orientation/Landscape_6.jpg", "h=60&fm=png")
        #expect(stored.width != upright.width)
        // or=6 on the tag-6 file is the same as its own tag.
        let same = try process(corpus: "orientation/Landscape_6.jpg", "h=60&or=90&fm=png")
        #expect(try Pixels(decoding: same.body).grid(4) == Pixels(decoding: upright.body).grid(4))
    }

    /// Should pick the crop with smart and focal-point modes, at the requested size.
    @Test func smartAndFocalCrops() throws {
        let src = try markedCanvas()
        // The red block is right of centre: entropy/attention crops move towards it from the centre crop.
        for mode in ["entropy", "edges"] {
            let out = try Pixels(decoding: process(src, "w=100&h=100&fit=crop&crop=\(mode)&fm=png").body)
            #expect(out.width == 100 && out.height == 100)
            let redness = out.mean(x: 0, y: 0, width: 100, height: 100)
            #expect(redness[0] - redness[1] > 20, "\(mode) missed the red block")
        }
        let fp = try Pixels(decoding: process(src, "w=60&h=60&fit=crop&crop=focalpoint&fp-x=0.66&fp-y=0.62&fm=png").body)
        let centre = fp.pixel(30, 30)
        #expect(centre[0] > 240 && centre[1] < 40 && centre[2] < 40, "\(centre)")
        let dbg = try Pixels(decoding: process(src, "w=60&h=60&fit=crop&crop=focalpoint&fp-x=0.1&fp-y=0.1&fp-debug=true&fm=png").body)
        // The 300x200 source scales to 90x60; the focal point (9, 6) gets a red cross through it.
        for (x, y) in [(40, 6), (9, 40)] {
            let p = dbg.pixel(x, y)
            #expect(p[0] > 240 && p[1] < 40 && p[2] < 40, "(\(x), \(y)) is \(p)")
        }
        #expect(dbg.pixel(40, 40).prefix(3) == [255, 255, 255])
    }
}

@Suite struct ColourManagementTests {
    /// Should convert a source that embeds a wide-gamut profile into sRGB pixels (not just drop the profile).
    @Test func wideGamutBecomesSRGB() throws {
        let dir = try TemporaryDirectory(prefix: "imgedge-icc")
        defer { dir.remove() }
        // A saturated green in sRGB, re-encoded in Adobe RGB (1998) with that profile embedded.
        let src = dir.appending("src.v").path, wide = dir.appending("wide.jpg").path
        try run("/usr/bin/vips", ["black", dir.appending("b.v").path, "64", "64", "--bands", "3"])
        try run("/usr/bin/vips", ["linear", dir.appending("b.v").path, src, "1", "40 200 60"])
        try run("/usr/bin/vips", ["copy", src, dir.appending("s.v").path, "--interpretation", "srgb"])
        let profile = "/usr/share/color/icc/compatibleWithAdobeRGB1998.icc"
        try #require(FileManager.default.fileExists(atPath: profile))
        try run("/usr/bin/vips", ["icc_transform", dir.appending("s.v").path, wide + "[Q=95]", profile, "--input-profile", "srgb"])
        let stored = try Pixels(decoding: [UInt8](Data(contentsOf: URL(fileURLWithPath: wide))))
        let out = try Pixels(decoding: process(try [UInt8](Data(contentsOf: URL(fileURLWithPath: wide))), "w=32&fm=png").body)
        let storedMean = stored.mean(x: 0, y: 0, width: 64, height: 64), outMean = out.mean(x: 0, y: 0, width: 32, height: 32)
        // The stored Adobe RGB numbers differ from sRGB's; the output is back near the sRGB original.
        #expect(abs(storedMean[0] - 40) > 15 || abs(storedMean[1] - 200) > 15, "the fixture is not wide-gamut: \(storedMean)")
        #expect(abs(outMean[0] - 40) < 8 && abs(outMean[1] - 200) < 8 && abs(outMean[2] - 60) < 8, "\(outMean)")
    }
}
