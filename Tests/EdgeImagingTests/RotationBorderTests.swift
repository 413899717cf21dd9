import EdgeCore
@testable import EdgeImaging
import Testing

/// 227 x 149 baseline JPEG photo.
private let photo = "basics/jpeg_baseline_testorig.jpg"

private func decoded(_ query: String, file: String = photo) throws -> Pixels {
    try Pixels(decoding: process(corpus: file, query).body)
}

/// Whether a pixel is within `tolerance` of an RGB colour.
private func near(_ p: [UInt8], _ rgb: [Int], _ tolerance: Int = 12) -> Bool {
    zip(p.prefix(3), rgb).allSatisfy { abs(Int($0) - $1) <= tolerance }
}

@Suite struct RotationBorderTests {
    // MARK: flip and rot

    /// Should mirror the image left to right with flip=h and top to bottom with flip=v.
    @Test func flipMirrors() throws {
        let plain = try decoded("fm=png")
        let h = try decoded("flip=h&fm=png")
        let v = try decoded("flip=v&fm=png")
        #expect(h.width == plain.width && h.height == plain.height)
        let w = plain.width, ht = plain.height
        var mirroredExactly = true, flippedExactly = true
        for y in 0..<ht {
            for x in 0..<w {
                if h.pixel(x, y) != plain.pixel(w - 1 - x, y) { mirroredExactly = false }
                if v.pixel(x, y) != plain.pixel(x, ht - 1 - y) { flippedExactly = false }
            }
        }
        #expect(mirroredExactly)
        #expect(flippedExactly)
        // The photo is not symmetric, so the comparisons above can fail: its halves differ.
        #expect(maxDifference(plain.mean(x: 0, y: 0, width: w / 2, height: ht), plain.mean(x: w - w / 2, y: 0, width: w / 2, height: ht)) > 5)
        #expect(maxDifference(h.mean(x: 0, y: 0, width: w / 2, height: ht), plain.mean(x: w - w / 2, y: 0, width: w / 2, height: ht)) < 0.01)
    }

    /// Should turn the image a quarter counter-clockwise with rot=90 pivot, swapping its dimensions exactly.
    @Test func quarterTurnPivot() throws {
        let plain = try decoded("fm=png")
        let turned = try decoded("rot=90&rot-type=pivot&fm=png")
        #expect(turned.width == plain.height && turned.height == plain.width)
        // Counter-clockwise: output (x, y) is input (W - 1 - y, x).
        for (x, y) in [(0, 0), (10, 50), (148, 226), (70, 3)] {
            #expect(turned.pixel(x, y) == plain.pixel(plain.width - 1 - y, x))
        }
        #expect(try decoded("rot=-90&rot-type=pivot&fm=png").data == decoded("rot=270&rot-type=pivot&fm=png").data)
    }

    /// Should keep the dimensions at rot=45 straighten and show no background in the corners.
    @Test func straightenKeepsFrame() throws {
        let straight = try decoded("rot=45&bg=ff00ff&fm=png")
        #expect(straight.width == 227 && straight.height == 149)
        #expect(straight.bands == 3)
        let pivot = try decoded("rot=45&rot-type=pivot&bg=ff00ff&fm=png")
        // The pivot control shows the magenta background in its corners; straighten must not.
        #expect(near(pivot.pixel(0, 0), [255, 0, 255]))
        for (x, y) in [(0, 0), (226, 0), (0, 148), (226, 148), (1, 1), (225, 147)] {
            #expect(!near(straight.pixel(x, y), [255, 0, 255], 60), "corner (\(x), \(y)) shows the background")
        }
    }

    /// Should enlarge the canvas for rot=45 pivot and leave the corners transparent in PNG without bg.
    @Test func pivotEnlargesWithTransparentCorners() throws {
        let p = try decoded("rot=45&rot-type=pivot&fm=png")
        // 227 cos 45° + 149 sin 45° = 265.9.
        #expect(p.width == 266 && p.height == 266)
        #expect(p.bands == 4)
        #expect(p.pixel(0, 0)[3] == 0 && p.pixel(265, 265)[3] == 0)
        #expect(p.pixel(133, 133)[3] == 255)
    }

    /// Should cap a pivot of the largest output at 8192 x 8192, keeping its shape.
    @Test func pivotIsCapped() {
        let g = RotationStep.Geometry(width: 8192, height: 8192, degrees: 45, mode: .pivot)
        #expect(g.outputWidth == 8192 && g.outputHeight == 8192)
        #expect(g.scale < 0.71)
        let s = RotationStep.Geometry(width: 400, height: 100, degrees: 90, mode: .straighten)
        #expect(s.outputWidth == 400 && s.outputHeight == 100 && s.scale == 4)
    }

    // MARK: padding and border

    /// Should grow each side by pad pixels filled with bg, the image untouched inside.
    @Test func paddingGrowsWithBackground() throws {
        let plain = try decoded("fm=png")
        let padded = try decoded("pad=10&bg=ff0000&fm=png")
        #expect(padded.width == 247 && padded.height == 169)
        for strip in [padded.mean(x: 0, y: 0, width: 247, height: 10), padded.mean(x: 0, y: 159, width: 247, height: 10),
                      padded.mean(x: 0, y: 0, width: 10, height: 169), padded.mean(x: 237, y: 0, width: 10, height: 169)] {
            #expect(maxDifference(Array(strip.prefix(3)), [255, 0, 0]) < 0.5)
        }
        #expect(padded.pixel(10, 10).prefix(3) == plain.pixel(0, 0).prefix(3))
        #expect(padded.pixel(236, 158).prefix(3) == plain.pixel(226, 148).prefix(3))
    }

    /// Should pad with transparency in PNG and white in JPEG when bg is absent.
    @Test func paddingWithoutBackground() throws {
        let png = try decoded("pad=10&fm=png")
        #expect(png.bands == 4)
        #expect(png.mean(x: 0, y: 0, width: 247, height: 10)[3] == 0)
        #expect(png.pixel(50, 50)[3] == 255)
        let jpeg = try decoded("pad=10&fm=jpg")
        #expect(jpeg.width == 247)
        #expect(near(jpeg.pixel(2, 2), [255, 255, 255], 4))
    }

    /// Should fit image and padding together inside the requested width.
    @Test func paddingFitsRequestedSize() throws {
        let out = try process(corpus: photo, "w=200&pad=20&fm=png")
        #expect(out.width == 200)
        // The padded 240 x ~171 box scaled to 200 wide: about 143 high.
        #expect(abs(out.height - 143) <= 2)
    }

    /// Should draw a red border of the given width around the image.
    @Test func borderDrawsEdges() throws {
        let plain = try decoded("fm=png")
        let b = try decoded("border=5,FF0000&fm=png")
        #expect(b.width == 237 && b.height == 159)
        for strip in [b.mean(x: 0, y: 0, width: 237, height: 5), b.mean(x: 0, y: 154, width: 237, height: 5),
                      b.mean(x: 0, y: 0, width: 5, height: 159), b.mean(x: 232, y: 0, width: 5, height: 159)] {
            #expect(maxDifference(Array(strip.prefix(3)), [255, 0, 0]) < 0.5)
        }
        #expect(b.pixel(5, 5).prefix(3) == plain.pixel(0, 0).prefix(3))
        // Padding goes outside the border.
        let both = try decoded("border=5,FF0000&pad=4&bg=0000ff&fm=png")
        #expect(both.width == 245)
        #expect(near(both.pixel(1, 50), [0, 0, 255], 0) && near(both.pixel(6, 50), [255, 0, 0], 0))
    }

    /// Should keep a transparent source's own transparency inside the border and the padding.
    @Test func transparencyInsideBorderIsKept() throws {
        let file = "basics/png_rgba_transparent.png"
        let plain = try decoded("fm=png", file: file)
        try #require(plain.bands == 4 && plain.pixel(0, 0)[3] == 0)
        let framed = try decoded("border=5,ff0000&border-radius=8&pad=3&bg=0000ff&fm=png", file: file)
        #expect(framed.width == plain.width + 16)
        #expect(framed.pixel(8, 8)[3] == 0)
        #expect(near(framed.pixel(1, 40), [0, 0, 255], 0) && framed.pixel(1, 40)[3] == 255)
        #expect(near(framed.pixel(5, 40), [255, 0, 0], 0) && framed.pixel(5, 40)[3] == 255)
        // The cut outer corner shows the padding colour.
        #expect(near(framed.pixel(3, 3), [0, 0, 255], 0))
    }

    /// Should leave border-radius corners transparent in PNG and bg-coloured in JPEG.
    @Test func roundedCorners() throws {
        let png = try decoded("border=0,000&border-radius=30&fm=png")
        #expect(png.width == 227 && png.bands == 4)
        #expect(png.pixel(0, 0)[3] == 0 && png.pixel(226, 148)[3] == 0 && png.pixel(226, 0)[3] == 0)
        #expect(png.pixel(113, 0)[3] == 255 && png.pixel(0, 74)[3] == 255)
        let jpeg = try decoded("border=0,000&border-radius=30&bg=00ff00&fm=jpg")
        #expect(jpeg.bands == 3)
        #expect(near(jpeg.pixel(1, 1), [0, 255, 0], 30))
        #expect(!near(jpeg.pixel(113, 74), [0, 255, 0], 30))
        // Only the corners named get rounded.
        let one = try decoded("border=0,000&border-radius=30,0,0,0&fm=png")
        #expect(one.pixel(0, 0)[3] == 0 && one.pixel(226, 0)[3] == 255)
    }

    /// Should round the image inside the border with the border colour, and stroke the outer edge.
    @Test func innerRadiusAndStroke() throws {
        let inner = try decoded("border=10,0000ff&border-radius-inner=20&fm=png")
        #expect(inner.width == 247)
        #expect(near(inner.pixel(11, 11), [0, 0, 255], 0))
        #expect(inner.pixel(11, 11)[3] == 255)
        let stroked = try decoded("border=10,ff0000&border-stroke-size=3&border-stroke-color=00ff00&fm=png")
        #expect(near(stroked.pixel(1, 80), [0, 255, 0], 0))
        #expect(near(stroked.pixel(6, 80), [255, 0, 0], 0))
    }

    /// Should scale border and padding down so the result never passes the 8192 output cap.
    @Test func layoutIsCapped() {
        var spec = BorderSpec()
        spec.padding = .init(top: 8192, right: 8192, bottom: 8192, left: 8192)
        spec.border = .init(top: 10, right: 10, bottom: 10, left: 10)
        let l = BorderStep.Layout(spec: spec, width: 8192, height: 100, box: (nil, nil))
        let w = l.imageWidth + l.border.left + l.border.right + l.padding.left + l.padding.right
        let h = l.imageHeight + l.border.top + l.border.bottom + l.padding.top + l.padding.bottom
        #expect(w <= 8192 && h <= 8192)
        #expect(l.imageWidth < 8192)
        let free = BorderStep.Layout(spec: spec, width: 100, height: 100, box: (nil, nil))
        #expect(free.padding.left < 8192)
    }
}
