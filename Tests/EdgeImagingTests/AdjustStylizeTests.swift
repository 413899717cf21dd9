import EdgeCore
import EdgeImaging
import EdgeTestSupport
import Testing

/// A 227x149 baseline JPEG photo, and a 200x150 RGBA PNG with partly transparent areas.
private let photo = "basics/jpeg_baseline_testorig.jpg"
private let rgba = "basics/png_rgba_transparent.png"

/// The corpus file processed for `query` as lossless PNG, decoded.
private func render(_ file: String, _ query: String) throws -> Pixels {
    try Pixels(decoding: process(corpus: file, query + "&fm=png").body)
}

private extension Pixels {
    var count: Int { width * height }
    func value(_ i: Int, _ band: Int) -> Double { Double(data[i * bands + band]) }
    /// Mean of the three colour bands at pixel `i`.
    func grey(_ i: Int) -> Double { (value(i, 0) + value(i, 1) + value(i, 2)) / 3 }
    /// Mean level over every pixel and colour band.
    var mean: Double { (0..<count).map(grey).reduce(0, +) / Double(count) }
    /// Standard deviation of the grey level.
    var deviation: Double {
        let m = mean
        return ((0..<count).map { (grey($0) - m) * (grey($0) - m) }.reduce(0, +) / Double(count)).squareRoot()
    }
    /// Mean of max - min over the colour bands: 0 for a grey image.
    var chroma: Double {
        (0..<count).map { i in
            let v = (0..<3).map { value(i, $0) }
            return v.max()! - v.min()!
        }.reduce(0, +) / Double(count)
    }
    /// Largest max - min over the colour bands of any pixel.
    var maxChroma: Double {
        (0..<count).map { i in
            let v = (0..<3).map { value(i, $0) }
            return v.max()! - v.min()!
        }.max()!
    }
    /// Mean absolute difference between horizontal neighbours' grey levels: high-frequency energy.
    var roughness: Double {
        var sum = 0.0
        for y in 0..<height {
            for x in 0..<(width - 1) { sum += abs(grey(y * width + x + 1) - grey(y * width + x)) }
        }
        return sum / Double(height * (width - 1))
    }
    /// The alpha band (the last), when there is one.
    var alpha: [UInt8] { bands == 4 ? (0..<count).map { data[$0 * 4 + 3] } : [] }
    /// Mean of a band over every pixel.
    func bandMean(_ band: Int) -> Double { (0..<count).map { value($0, band) }.reduce(0, +) / Double(count) }
    /// Mean of a band over the pixels `where` selects.
    func mean(band: Int, where select: (Int) -> Bool) -> Double {
        let picked = (0..<count).filter(select)
        return picked.map { value($0, band) }.reduce(0, +) / Double(max(1, picked.count))
    }
}

@Suite struct AdjustStylizeTests {
    /// Should leave the output byte-identical to the plain image when every parameter is at its default.
    @Test func defaultsChangeNothing() throws {
        let plain = try process(corpus: photo, "fm=png").body
        let defaults = try process(corpus: photo, "fm=png&bri=0&con=0&exp=0&gam=0&high=0&hue=360&inv=false&sat=0"
                                   + "&shad=0&sharp=0&usm=0&usmrad=4&vib=0&nr=20&nrs=20&blur=0&px=1&htn=0&sepia=0"
                                   + "&mono=00112233&duotone-alpha=100").body
        #expect(defaults == plain)
    }

    /// Should raise the mean level with bri above 0 and lower it below.
    @Test func brightness() throws {
        let base = try render(photo, "").mean
        #expect(try render(photo, "bri=50").mean > base + 15)
        #expect(try render(photo, "bri=-50").mean < base - 15)
    }

    /// Should flatten the image at con=-100 and spread its levels at con=50.
    @Test func contrast() throws {
        let base = try render(photo, "").deviation
        #expect(try render(photo, "con=-100").deviation < 1)
        #expect(try render(photo, "con=-50").deviation < base * 0.6)
        #expect(try render(photo, "con=50").deviation > base * 1.3)
    }

    /// Should brighten with positive exposure and gamma and darken with negative ones.
    @Test func exposureAndGamma() throws {
        let base = try render(photo, "").mean
        #expect(try render(photo, "exp=50").mean > base + 10)
        #expect(try render(photo, "exp=-50").mean < base - 10)
        #expect(try render(photo, "gam=50").mean > base + 10)
        #expect(try render(photo, "gam=-50").mean < base - 10)
    }

    /// Should darken bright areas with high=-100 and lift dark ones with shad=100, each sparing the other end.
    @Test func highlightsAndShadows() throws {
        let base = try render(photo, "")
        let bright = { (i: Int) in base.grey(i) > 190 }
        let dark = { (i: Int) in base.grey(i) < 50 }
        let high = try render(photo, "high=-100")
        #expect(high.mean(band: 1, where: bright) < base.mean(band: 1, where: bright) - 10)
        #expect(abs(high.mean(band: 1, where: dark) - base.mean(band: 1, where: dark)) < 4)
        let shad = try render(photo, "shad=100")
        #expect(shad.mean(band: 1, where: dark) > base.mean(band: 1, where: dark) + 10)
        #expect(abs(shad.mean(band: 1, where: bright) - base.mean(band: 1, where: bright)) < 4)
    }

    /// Should map every colour level v to 255 - v with invert (and its alias inv).
    @Test func invert() throws {
        let base = try render(photo, "")
        let inverted = try render(photo, "invert=true")
        #expect(zip(base.data, inverted.data).allSatisfy { Int($0) + Int($1) == 255 })
        #expect(abs(inverted.mean - (255 - base.mean)) < 0.01)
        #expect(try render(photo, "inv=1").data == inverted.data)
    }

    /// Should turn the image grey at sat=-100 and make it more colourful at sat=100.
    @Test func saturation() throws {
        let base = try render(photo, "")
        let grey = try render(photo, "sat=-100")
        #expect(grey.maxChroma <= 3)
        #expect(abs(grey.mean - base.mean) < 8)
        #expect(try render(photo, "sat=100").chroma > base.chroma * 1.4)
    }

    /// Should strengthen muted colours with vib=100 and mute them with vib=-100.
    @Test func vibrance() throws {
        let base = try render(photo, "").chroma
        #expect(try render(photo, "vib=100").chroma > base * 1.2)
        #expect(try render(photo, "vib=-100").chroma < base * 0.8)
    }

    /// Should rotate hues with hue, keeping lightness and colourfulness, and come back at a full turn.
    @Test func hueShift() throws {
        let base = try render(photo, "")
        let turned = try render(photo, "hue=180")
        let shift = (0..<3).map { abs(turned.bandMean($0) - base.bandMean($0)) }
        #expect(shift.max()! > 8)
        #expect(abs(turned.mean - base.mean) < 10)
        #expect(abs(turned.chroma - base.chroma) < base.chroma * 0.35)
        #expect(try render(photo, "hue=90").data != turned.data)
    }

    /// Should add high-frequency energy with sharp, usm and nrs, and remove it with negative usm and with nr.
    @Test func sharpeningAndNoiseReduction() throws {
        let base = try render(photo, "").roughness
        #expect(try render(photo, "sharp=100").roughness > base * 1.15)
        #expect(try render(photo, "usm=100").roughness > base * 1.3)
        #expect(try render(photo, "usm=100&usmrad=8").roughness > base * 1.3)
        #expect(try render(photo, "usm=-100").roughness < base * 0.8)
        #expect(try render(photo, "nr=100&nrs=0").roughness < base * 0.9)
        #expect(try render(photo, "nr=0&nrs=100").roughness > base * 1.2)
    }

    /// Should apply a wide unsharp mask to a sequentially decoded photo (the blur reads far ahead of the mask).
    @Test func wideUnsharpMaskOnAStreamedSource() throws {
        let base = try render("orientation/Landscape_1.jpg", "w=1000")
        let masked = try render("orientation/Landscape_1.jpg", "w=1000&usm=100&usmrad=300")
        #expect(masked.width == base.width && masked.height == base.height)
        #expect(masked.deviation > base.deviation * 1.1)
        let withAlpha = try render(rgba, "w=1000&usm=100&usmrad=300")
        #expect(try withAlpha.alpha == render(rgba, "w=1000").alpha)
    }

    /// Should run every effect at once, at its most expensive, on streamed sources with and without alpha.
    @Test func everythingAtOnce() throws {
        let all = "bri=10&con=10&exp=10&gam=10&high=-10&hue=30&invert=true&sat=10&shad=10&sharp=50&usm=50&usmrad=200"
            + "&vib=10&nr=50&nrs=50&blur=2000&px=100&htn=100&mono=80ff0000&sepia=50&duotone=navy,gold&duotone-alpha=50"
        let photoOut = try render("orientation/Landscape_1.jpg", "w=450&" + all)
        #expect(photoOut.width == 450 && photoOut.height == 300)
        let alphaOut = try render(rgba, "w=450&" + all)
        #expect(alphaOut.bands == 4 && alphaOut.width == 450)
    }

    /// Should lower high-frequency energy with blur, keep the mean, and stay bounded at the largest blur.
    @Test func blur() throws {
        let base = try render(photo, "")
        let blurred = try render(photo, "blur=50")
        #expect(blurred.roughness < base.roughness * 0.5)
        #expect(abs(blurred.mean - base.mean) < 3)
        let heavy = try render(photo, "blur=400")  // sigma 44: the shrink, blur and enlarge path
        #expect(heavy.roughness < blurred.roughness)
        #expect(heavy.width == base.width && heavy.height == base.height)
        #expect(abs(heavy.mean - base.mean) < 6)
        let most = try render(photo, "blur=2000")
        #expect(most.deviation < base.deviation * 0.5)
        #expect(most.width == base.width && most.height == base.height)
    }

    /// Should draw flat px x px blocks from the top-left corner, keeping the size and the mean.
    @Test func pixellate() throws {
        let base = try render(photo, "")
        let blocks = try render(photo, "px=10")
        #expect(blocks.width == base.width && blocks.height == base.height)
        let flat = (0..<blocks.height).allSatisfy { y in
            (0..<blocks.width).allSatisfy { x in blocks.pixel(x, y) == blocks.pixel(x / 10 * 10, y / 10 * 10) }
        }
        #expect(flat)
        #expect(blocks.pixel(0, 0) != blocks.pixel(10, 0) || blocks.pixel(0, 0) != blocks.pixel(0, 10))
        #expect(abs(blocks.mean - base.mean) < 3)
    }

    /// Should give warm tones, red over green over blue, with sepia on a grey image.
    @Test func sepia() throws {
        let grey = try render(photo, "sat=-100")
        let toned = try render(photo, "sat=-100&sepia=100")
        let mid = (0..<toned.count).filter { grey.grey($0) > 30 && grey.grey($0) < 180 }
        #expect(mid.count > toned.count / 4)
        #expect(mid.allSatisfy { toned.value($0, 0) > toned.value($0, 1) && toned.value($0, 1) > toned.value($0, 2) })
        let half = try render(photo, "sat=-100&sepia=50")
        #expect(half.chroma > grey.chroma && half.chroma < toned.chroma)
    }

    /// Should give a grey image with a grey tint, and a red-tinted one (red above green and blue) with a red tint.
    @Test func monochrome() throws {
        let grey = try render(photo, "mono=808080")
        #expect(grey.maxChroma <= 2)
        let red = try render(photo, "monochrome=ff0000")
        #expect((0..<red.count).allSatisfy { red.value($0, 0) >= red.value($0, 1) && red.value($0, 1) == red.value($0, 2) })
        #expect(red.chroma > 40)
        let faint = try render(photo, "mono=40ff0000")  // alpha 0x40: a quarter strength
        #expect(faint.chroma < red.chroma)
    }

    /// Should map dark levels to the first duotone colour and light ones to the second, blended by duotone-alpha.
    @Test func duotone() throws {
        let base = try render(photo, "")
        let toned = try render(photo, "duotone=0000ff,ff0000")
        let dark = (0..<base.count).filter { base.grey($0) < 50 }
        let light = (0..<base.count).filter { base.grey($0) > 200 }
        #expect(!dark.isEmpty && !light.isEmpty)
        #expect(dark.allSatisfy { toned.value($0, 2) > toned.value($0, 0) + 60 && toned.value($0, 1) == 0 })
        #expect(light.allSatisfy { toned.value($0, 0) > toned.value($0, 2) + 60 && toned.value($0, 1) == 0 })
        let half = try render(photo, "duotone=blue,red&duotone-alpha=50")
        #expect(half.bandMean(1) > 20)  // half of the original green shows through
        #expect(half.chroma < toned.chroma)
    }

    /// Should draw a black-and-white dot screen with htn that keeps the image's mean level.
    @Test func halftone() throws {
        let base = try render(photo, "sat=-100")
        let dots = try render(photo, "htn=8")
        let inked = (0..<dots.count).filter { dots.grey($0) < 40 || dots.grey($0) > 215 }
        #expect(Double(inked.count) > Double(dots.count) * 0.6)
        #expect(dots.maxChroma <= 1)
        #expect(abs(dots.mean - base.mean) < 20)
        #expect(try render(photo, "htn=20").data != dots.data)
    }

    /// Should keep the alpha band exactly as it was through every adjustment and recolouring effect.
    @Test(arguments: ["invert=true", "bri=40&con=30&exp=20&gam=-30&high=-50&shad=50", "sat=-100&vib=50&hue=120",
                      "sharp=80&usm=60&nr=60&nrs=60", "sepia=100", "mono=ff3366", "duotone=navy,gold&duotone-alpha=70",
                      "htn=6"])
    func alphaIsPreserved(query: String) throws {
        let base = try render(rgba, "")
        let out = try render(rgba, query)
        #expect(base.bands == 4 && out.bands == 4)
        #expect(out.alpha == base.alpha)
        #expect(out.data != base.data)
    }

    /// Should blur and pixellate transparency with the colour, keeping the alpha band's mean and the size.
    @Test(arguments: ["blur=60", "px=12"])
    func spatialEffectsCarryAlpha(query: String) throws {
        let base = try render(rgba, "")
        let out = try render(rgba, query)
        #expect(out.bands == 4 && out.width == base.width && out.height == base.height)
        #expect(out.alpha != base.alpha)
        let mean = { (a: [UInt8]) in Double(a.reduce(0) { $0 + Int($1) }) / Double(a.count) }
        #expect(abs(mean(out.alpha) - mean(base.alpha)) < 3)
    }
}
