import EdgeCore
import EdgeImaging
import Testing

/// A PNG of one solid colour (8-bit RGB, or RGBA when `rgba` has 4 values), stored without compression.
func solidPNG(width: Int, height: Int, _ rgba: [UInt8]) -> [UInt8] {
    let row = [UInt8(0)] + Array((0..<width).map { _ in rgba }.joined())
    let raw = Array((0..<height).map { _ in row }.joined())
    // zlib stream of stored deflate blocks.
    var z: [UInt8] = [0x78, 0x01]
    var i = 0
    repeat {
        let n = min(65535, raw.count - i)
        z.append(i + n == raw.count ? 1 : 0)
        z += [UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
        z += raw[i..<i + n]
        i += n
    } while i < raw.count
    var a: UInt32 = 1, b: UInt32 = 0
    for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
    z += be32(b << 16 | a)
    return png([("IHDR", ihdr(width: UInt32(width), height: UInt32(height), colorType: rgba.count == 4 ? 6 : 2)),
                ("IDAT", z), ("IEND", [])])
}

@Suite struct WatermarkTextTests {
    let white = solidPNG(width: 200, height: 100, [255, 255, 255])
    let red = solidPNG(width: 20, height: 10, [255, 0, 0, 255])

    /// Processes the white base with a red 20 x 10 mark at `/m.png` and decodes the PNG output.
    private func marked(_ query: String, mark: [UInt8]? = nil, base: [UInt8]? = nil) throws -> Pixels {
        let spec = try TransformParser.parse(query: Substring("fm=png&mark=/m.png&" + query))
        let out = try processor.process(source: base ?? white, spec: spec, format: NegotiatedFormat(spec: spec, accept: nil),
                                        limits: generousLimits,
                                        resources: TransformResources(images: ["/m.png": mark ?? red]))
        return try Pixels(decoding: out.body)
    }

    /// The bounding box (x0, y0, x1, y1; exclusive ends) of pixels matching `test`, or nil.
    private func box(_ p: Pixels, _ test: ([UInt8]) -> Bool) -> (Int, Int, Int, Int)? {
        var x0 = Int.max, y0 = Int.max, x1 = -1, y1 = -1
        for y in 0..<p.height {
            for x in 0..<p.width where test(p.pixel(x, y)) {
                x0 = min(x0, x); y0 = min(y0, y); x1 = max(x1, x + 1); y1 = max(y1, y + 1)
            }
        }
        return x1 < 0 ? nil : (x0, y0, x1, y1)
    }

    private func isRed(_ px: [UInt8]) -> Bool { px[0] > 200 && px[1] < 60 && px[2] < 60 }
    private func isDark(_ px: [UInt8]) -> Bool { px[0] < 128 && px[1] < 128 && px[2] < 128 }

    /// Should draw the mark bottom-right, 5 px from the edges, by default (imgix's placement).
    @Test func defaultPlacement() throws {
        let p = try marked("")
        #expect(p.width == 200 && p.height == 100 && p.bands == 3)
        #expect(box(p, isRed) ?? (0, 0, 0, 0) == (175, 85, 195, 95))
    }

    /// Should follow mark-align and mark-pad, and let mark-x / mark-y override them.
    @Test func alignmentAndPosition() throws {
        #expect(box(try marked("mark-align=top,left&mark-pad=0"), isRed) ?? (0, 0, 0, 0) == (0, 0, 20, 10))
        #expect(box(try marked("mark-align=middle,center"), isRed) ?? (0, 0, 0, 0) == (90, 45, 110, 55))
        #expect(box(try marked("mark-x=10&mark-y=20&mark-align=bottom,right"), isRed) ?? (0, 0, 0, 0) == (10, 20, 30, 30))
        // Partly outside: only the overlap is drawn.
        #expect(box(try marked("mark-x=-15&mark-y=95"), isRed) ?? (0, 0, 0, 0) == (0, 95, 5, 100))
    }

    /// Should size the mark by mark-w (pixels or a fraction of its own size) and by mark-scale (% of base width).
    @Test func sizing() throws {
        #expect(box(try marked("mark-w=40&mark-pad=0"), isRed) ?? (0, 0, 0, 0) == (160, 80, 200, 100))
        #expect(box(try marked("mark-w=0.5&mark-pad=0"), isRed) ?? (0, 0, 0, 0) == (190, 95, 200, 100))
        #expect(box(try marked("mark-scale=50&mark-pad=0&mark-w=10"), isRed) ?? (0, 0, 0, 0) == (100, 50, 200, 100))
        #expect(box(try marked("mark-w=40&mark-h=40&mark-fit=scale&mark-pad=0"), isRed) ?? (0, 0, 0, 0) == (160, 60, 200, 100))
        // fill: fitted (40 x 20), padded with transparency to 40 x 40 and aligned as a 40 x 40 box.
        #expect(box(try marked("mark-w=40&mark-h=40&mark-fit=fill&mark-pad=0"), isRed) ?? (0, 0, 0, 0) == (160, 70, 200, 90))
        // max never enlarges.
        #expect(box(try marked("mark-w=100&mark-h=100&mark-fit=max&mark-pad=0"), isRed) ?? (0, 0, 0, 0) == (180, 90, 200, 100))
    }

    /// Should blend the mark at mark-alpha: 50 % red over white is about (255, 128, 128).
    @Test func alpha() throws {
        let p = try marked("mark-alpha=50")
        let m = p.mean(x: 178, y: 87, width: 14, height: 6)
        #expect(m[0] > 250 && abs(m[1] - 128) < 4 && abs(m[2] - 128) < 4)
        #expect(p.pixel(10, 10) == [255, 255, 255])
    }

    /// Should tile the mark over the whole image with mark-pad gaps, starting top-left.
    @Test func tiling() throws {
        let p = try marked("mark-tile=grid&mark-pad=10")
        // Cells of 30 x 20 from (10, 10): red in [10,30) x [10,20) and every 30 / 20 px after, and across the
        // wrap-around to the left and top edges.
        #expect(isRed(p.pixel(10, 10)) && isRed(p.pixel(29, 19)) && isRed(p.pixel(40, 30)) && isRed(p.pixel(190, 90)))
        #expect(isRed(p.pixel(199, 99)))
        #expect(!isRed(p.pixel(5, 5)) && !isRed(p.pixel(35, 15)) && !isRed(p.pixel(15, 25)))
        // An explicit position shifts the whole grid: copies then wrap in from the left and top edges.
        let shifted = try marked("mark-tile=grid&mark-pad=10&mark-x=-5&mark-y=-5")
        #expect(isRed(shifted.pixel(0, 0)) && isRed(shifted.pixel(14, 4)) && !isRed(shifted.pixel(20, 0)) && isRed(shifted.pixel(25, 15)))
        var reds = 0
        for y in 0..<p.height { for x in 0..<p.width where isRed(p.pixel(x, y)) { reds += 1 } }
        #expect(abs(Double(reds) / Double(p.width * p.height) - 200.0 / 600.0) < 0.02)
    }

    /// Should rotate the mark anticlockwise on a transparent canvas: 90° makes it 10 x 20.
    @Test func rotation() throws {
        let b = box(try marked("mark-rot=90&mark-align=top,left&mark-pad=0"), isRed)
        #expect(b.map { $0.2 - $0.0 } == 10)
        #expect(b.map { $0.3 - $0.1 } == 20)
    }

    /// Should leave the image untouched when the mark is missing, is not an image, or the base is too small.
    @Test func markLeftOut() throws {
        for p in [try marked("", mark: []), try marked("", mark: Array("not an image".utf8)),
                  try marked("mark-if-min-width=201"), try marked("mark-if-min-height=101")] {
            #expect(box(p, isRed) == nil)
        }
        #expect(box(try marked("mark-if-min-width=200&mark-if-min-height=100"), isRed) != nil)
    }

    /// Should refuse a mark over the pixel limit with 413, like a source.
    @Test func markOverLimit() throws {
        let spec = try TransformParser.parse(query: "fm=png&mark=/m.png")
        let big = solidPNG(width: 200, height: 200, [0, 0, 255])
        #expect(throws: EdgeError.self) {
            try processor.process(source: white, spec: spec, format: .format(.png), limits: ImageLimits(maxSourcePixels: 30_000),
                                  resources: TransformResources(images: ["/m.png": big]))
        }
    }

    /// Processes a 400 x 100 white image with text and decodes it.
    private func texted(_ query: String) throws -> Pixels {
        let base = solidPNG(width: 400, height: 100, [255, 255, 255])
        return try Pixels(decoding: try process(base, "fm=png&" + query).body)
    }

    /// Should draw black text (imgix's default colour) inside the box its alignment and padding define.
    @Test func textPlacement() throws {
        let tl = try #require(box(try texted("txt=HELLO&txt-size=40&txt-align=top,left"), isDark))
        #expect(tl.0 >= 10 && tl.0 < 16 && tl.1 >= 10 && tl.1 < 30 && tl.3 <= 60 && tl.2 - tl.0 > 80)
        let br = try #require(box(try texted("txt=HELLO&txt-size=40"), isDark))
        #expect(br.2 <= 390 && br.2 > 380 && br.3 <= 90 && br.3 > 70)
        let xy = try #require(box(try texted("txt=HELLO&txt-size=40&txt-x=100&txt-y=30"), isDark))
        #expect(xy.0 >= 100 && xy.0 < 106 && xy.1 >= 30 && xy.1 < 50)
    }

    /// Should draw markup characters literally (Pango markup is never parsed from the URL).
    @Test func textIsPlain() throws {
        let p = try texted("txt=%3Cb%3E%26amp%3B%3C%2Fb%3E&txt-size=30&txt-align=top,left&txt-color=f00")
        let b = try #require(box(p, isRed))
        // "<b>&amp;</b>" is 12 characters: far wider than the 5-character "&amp;" would be bold.
        #expect(b.2 - b.0 > 150)
    }

    /// Should clip a line longer than txt-width at the end, and shrink it instead with txt-fit=max.
    @Test func textClipAndFit() throws {
        let long = String(repeating: "WIDE TEXT ", count: 30)
        let q = "txt=\(long.replacingOccurrences(of: " ", with: "%20"))&txt-size=40&txt-align=top,left&txt-width=150"
        let clipped = try #require(box(try texted(q), isDark))
        #expect(clipped.0 >= 10 && clipped.2 <= 160 && clipped.2 > 140 && clipped.3 - clipped.1 > 20)
        let short = "txt=WIDE%20TEXT%20WIDE%20TEXT%20WIDE%20TEXT&txt-size=40&txt-align=top,left&txt-width=150"
        let inked: ([UInt8]) -> Bool = { $0[0] < 200 }
        let fitted = try #require(box(try texted(short + "&txt-fit=max"), inked))
        #expect(fitted.0 >= 10 && fitted.2 <= 161 && fitted.2 > 130 && fitted.3 - fitted.1 < 14)
        let ellipsis = try #require(box(try texted(q + "&txt-clip=start,ellipsis"), isDark))
        #expect(ellipsis.2 <= 160)
    }

    /// Should honour txt-color's alpha and draw an outline of txt-line-color inside the glyphs.
    @Test func textColourAndOutline() throws {
        let half = try texted("txt=%E2%96%88%E2%96%88&txt-size=60&txt-align=middle,center&txt-color=80ff0000")
        let m = half.mean(x: 195, y: 45, width: 4, height: 4)
        #expect(m[0] > 250 && abs(m[1] - 128) < 8)
        let outlined = try texted("txt=%E2%96%88%E2%96%88&txt-size=60&txt-align=middle,center&txt-color=000&txt-line=6&txt-line-color=f00")
        let glyph = try #require(box(outlined, { $0[0] < 250 || $0[1] < 250 }))
        #expect(isRed(outlined.pixel(glyph.0 + 2, (glyph.1 + glyph.3) / 2)))
        #expect(isDark(outlined.pixel((glyph.0 + glyph.2) / 2, (glyph.1 + glyph.3) / 2)))
    }

    /// Should spread a soft dark halo around the text with txt-shad (white text on white shows only its halo).
    @Test func textShadow() throws {
        let grey: ([UInt8]) -> Bool = { $0[0] < 245 }
        #expect(box(try texted("txt=III&txt-size=40&txt-align=middle,center&txt-color=fff"), grey) == nil)
        let halo = try #require(box(try texted("txt=III&txt-size=40&txt-align=middle,center&txt-color=fff&txt-shad=4"), grey))
        #expect(halo.2 - halo.0 > 20 && halo.3 - halo.1 > 20)
    }
}
