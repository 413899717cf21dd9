import EdgeCore
import Testing

/// Plans on a 1000x500 source unless stated.
@Suite struct ResizePlanTests {
    typealias Rect = ResizePlan.Rect

    /// Should leave the source as it is when no size is asked for, whatever the fit.
    @Test(arguments: FitMode.allCases)
    func noSizeKeepsSource(fit: FitMode) throws {
        let p = try plan("fit=\(fit.rawValue)", 1000, 500)
        #expect(p.resizeWidth == 1000 && p.resizeHeight == 500)
        #expect(p.crop == nil && p.canvas == nil)
    }

    /// Should fit inside the box keeping the aspect ratio for fit=clip, enlarging when asked.
    @Test func clip() throws {
        let p = try plan("w=400&h=400", 1000, 500)
        #expect(p.resizeWidth == 400 && p.resizeHeight == 200)
        #expect(p.crop == nil && p.canvas == nil)
        let big = try plan("w=2000&h=2000&fit=clip", 1000, 500)
        #expect(big.outputWidth == 2000 && big.outputHeight == 1000)
    }

    /// Should fit inside the box for fit=max but never enlarge.
    @Test func max() throws {
        let p = try plan("w=400&h=400&fit=max", 1000, 500)
        #expect(p.outputWidth == 400 && p.outputHeight == 200)
        let big = try plan("w=2000&h=2000&fit=max", 1000, 500)
        #expect(big.outputWidth == 1000 && big.outputHeight == 500)
        #expect(big.crop == nil && big.canvas == nil)
    }

    /// Should stretch to exactly the box for fit=scale.
    @Test func scale() throws {
        let p = try plan("w=400&h=400&fit=scale", 1000, 500)
        #expect(p.resizeWidth == 400 && p.resizeHeight == 400)
        #expect(p.crop == nil && p.canvas == nil)
    }

    /// Should fit inside the box and centre the image on a box-sized canvas for fit=fill.
    @Test func fill() throws {
        let p = try plan("w=400&h=400&fit=fill", 1000, 500)
        #expect(p.resizeWidth == 400 && p.resizeHeight == 200)
        #expect(p.canvas == Rect(x: 0, y: 100, width: 400, height: 400))
        #expect(p.outputWidth == 400 && p.outputHeight == 400)

        let tall = try plan("w=300&h=400&fit=fill", 1000, 500)
        #expect(tall.resizeWidth == 300 && tall.resizeHeight == 150)
        #expect(tall.canvas == Rect(x: 0, y: 125, width: 300, height: 400))

        let wide = try plan("w=400&h=100&fit=fill", 1000, 500)
        #expect(wide.resizeWidth == 200 && wide.resizeHeight == 100)
        #expect(wide.canvas == Rect(x: 100, y: 0, width: 400, height: 100))

        // Odd padding: the extra pixel goes after the image.
        let odd = try plan("w=401&h=100&fit=fill", 1000, 500)
        #expect(odd.canvas == Rect(x: 100, y: 0, width: 401, height: 100))
    }

    /// Should cover the box and cut the horizontal overflow at the gravity for fit=crop.
    @Test(arguments: [(CropGravity.Horizontal.left, 0), (.center, 200), (.right, 400)])
    func cropHorizontal(horizontal: CropGravity.Horizontal, x: Int) throws {
        let crop = horizontal == .center ? "" : "&crop=\(horizontal.rawValue)"
        let p = try plan("w=400&h=400&fit=crop" + crop, 1000, 500)
        #expect(p.resizeWidth == 800 && p.resizeHeight == 400)
        #expect(p.crop == Rect(x: x, y: 0, width: 400, height: 400))
        #expect(p.outputWidth == 400 && p.outputHeight == 400)
        #expect(p.canvas == nil)
    }

    /// Should cover the box and cut the vertical overflow at the gravity for fit=crop.
    @Test(arguments: [(CropGravity.Vertical.top, 0), (.middle, 50), (.bottom, 100)])
    func cropVertical(vertical: CropGravity.Vertical, y: Int) throws {
        let crop = vertical == .middle ? "" : "&crop=\(vertical.rawValue)"
        let p = try plan("w=400&h=100&fit=crop" + crop, 1000, 500)
        #expect(p.resizeWidth == 400 && p.resizeHeight == 200)
        #expect(p.crop == Rect(x: 0, y: y, width: 400, height: 100))
    }

    /// Should combine both gravity axes for fit=crop.
    @Test func cropCorner() throws {
        let p = try plan("w=100&h=100&fit=crop&crop=bottom,right", 300, 300)
        #expect(p.resizeWidth == 100 && p.resizeHeight == 100)
        #expect(p.crop == Rect(x: 0, y: 0, width: 100, height: 100))
        let q = try plan("w=100&h=50&fit=crop&crop=bottom,right", 300, 300)
        #expect(q.resizeWidth == 100 && q.resizeHeight == 100)
        #expect(q.crop == Rect(x: 0, y: 50, width: 100, height: 50))
        let r = try plan("w=50&h=100&fit=crop&crop=top,right", 300, 300)
        #expect(r.crop == Rect(x: 50, y: 0, width: 50, height: 100))
    }

    /// Should behave as fit=crop for fit=min when the source is larger than the box.
    @Test func minShrinks() throws {
        let p = try plan("w=400&h=400&fit=min", 1000, 500)
        #expect(p == (try plan("w=400&h=400&fit=crop", 1000, 500)))
        #expect(p.outputWidth == 400 && p.outputHeight == 400)
    }

    /// Should not enlarge for fit=min, cropping the source to the box's aspect ratio instead.
    @Test func minWouldEnlarge() throws {
        let p = try plan("w=2000&h=2000&fit=min", 1000, 500)
        #expect(p.resizeWidth == 1000 && p.resizeHeight == 500)
        #expect(p.crop == Rect(x: 250, y: 0, width: 500, height: 500))
        let left = try plan("w=2000&h=2000&fit=min&crop=left", 1000, 500)
        #expect(left.crop == Rect(x: 0, y: 0, width: 500, height: 500))
        let wide = try plan("w=4000&h=1000&fit=min&crop=bottom", 1000, 500)
        #expect(wide.resizeWidth == 1000 && wide.resizeHeight == 500)
        #expect(wide.crop == Rect(x: 0, y: 250, width: 1000, height: 250))
    }

    /// Should keep the aspect ratio with only a width, for every fit mode, and not enlarge for max, min, fillmax.
    @Test(arguments: FitMode.allCases)
    func widthOnly(fit: FitMode) throws {
        let p = try plan("w=400&fit=\(fit.rawValue)", 1000, 500)
        #expect(p.outputWidth == 400 && p.outputHeight == 200)
        #expect(p.crop == nil && p.canvas == nil)
        let big = try plan("w=2000&fit=\(fit.rawValue)", 1000, 500)
        if fit == .max || fit == .min || fit == .fillmax {
            #expect(big.outputWidth == 1000 && big.outputHeight == 500)
        } else {
            #expect(big.outputWidth == 2000 && big.outputHeight == 1000)
        }
    }

    /// Should keep the aspect ratio with only a height.
    @Test(arguments: FitMode.allCases)
    func heightOnly(fit: FitMode) throws {
        let p = try plan("h=100&fit=\(fit.rawValue)", 1000, 500)
        #expect(p.outputWidth == 200 && p.outputHeight == 100)
    }

    /// Should resolve fractions against the source's dimensions.
    @Test func fractions() throws {
        let p = try plan("w=0.5", 1000, 500)
        #expect(p.outputWidth == 500 && p.outputHeight == 250)
        let s = try plan("w=0.5&h=0.1&fit=scale", 1000, 500)
        #expect(s.outputWidth == 500 && s.outputHeight == 50)
        let c = try plan("w=0.25&h=0.5&fit=crop", 1000, 400)
        #expect(c.outputWidth == 250 && c.outputHeight == 200)
    }

    /// Should never plan a side of less than one pixel.
    @Test func atLeastOnePixel() throws {
        let p = try plan("w=10", 10000, 10)
        #expect(p.outputWidth == 10 && p.outputHeight == 1)
    }

    /// Should cap the output at 8192 pixels a side, keeping the shape.
    @Test func capWidthOnly() throws {
        let p = try plan("w=10000", 1000, 500)
        #expect(p.outputWidth == 8192 && p.outputHeight == 4096)
        let h = try plan("h=16384", 1000, 500)
        #expect(h.outputWidth == 8192 && h.outputHeight == 4096)
    }

    /// Should apply the 8192 cap after dpr.
    @Test func capIncludesDpr() throws {
        let p = try plan("w=5000&dpr=2", 1000, 500)
        #expect(p.outputWidth == 8192 && p.outputHeight == 4096)
        let ok = try plan("w=4000&dpr=2", 1000, 500)
        #expect(ok.outputWidth == 8000 && ok.outputHeight == 4000)
    }

    /// Should scale the requested box, not the result, when capping scale and fill.
    @Test func capBoxModes() throws {
        let s = try plan("w=16384&h=200&fit=scale", 1000, 500)
        #expect(s.outputWidth == 8192 && s.outputHeight == 100)
        let f = try plan("w=16384&h=16384&fit=fill", 1000, 500)
        #expect(f.resizeWidth == 8192 && f.resizeHeight == 4096)
        #expect(f.canvas == Rect(x: 0, y: 2048, width: 8192, height: 8192))
        let c = try plan("w=16384&h=16384&fit=crop", 1000, 500)
        #expect(c.outputWidth == 8192 && c.outputHeight == 8192)
    }

    /// Should shrink an over-cap source for fit=min or fit=max, which otherwise keep source pixels.
    @Test func capHugeSource() throws {
        let m = try plan("w=32768&h=32768&fit=min", 16384, 16384)
        #expect(m.outputWidth == 8192 && m.outputHeight == 8192)
        let x = try plan("w=32768&h=32768&fit=max", 16384, 8192)
        #expect(x.outputWidth == 8192 && x.outputHeight == 4096)
        let none = try plan("", 16384, 8192)
        #expect(none.outputWidth == 8192 && none.outputHeight == 4096)
    }

    /// Should never exceed the cap for any fit mode and box.
    @Test(arguments: FitMode.allCases)
    func capAlwaysHolds(fit: FitMode) throws {
        for (w, h) in [(9000, 100), (100, 9000), (9000, 9000), (20000, 3), (12345, 6789)] {
            for (sw, sh) in [(1000, 500), (500, 1000), (30000, 200), (9000, 9000)] {
                let p = try plan("w=\(w)&h=\(h)&fit=\(fit.rawValue)", sw, sh)
                #expect(p.outputWidth <= 8192 && p.outputHeight <= 8192, "\(fit) \(w)x\(h) on \(sw)x\(sh)")
                #expect(p.outputWidth >= 1 && p.outputHeight >= 1)
                if let c = p.crop {
                    #expect(c.x >= 0 && c.y >= 0 && c.x + c.width <= p.resizeWidth && c.y + c.height <= p.resizeHeight)
                }
                if let c = p.canvas {
                    #expect(c.x >= 0 && c.y >= 0 && c.x + p.resizeWidth <= c.width && c.y + p.resizeHeight <= c.height)
                }
            }
        }
    }
}
