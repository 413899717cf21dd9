import EdgeCore
import Testing

@Suite struct SizeSpecTests {
    /// Should plan fit=fill, fillmax and clamp as fit-inside plus a canvas of the requested box.
    @Test func paddingModes() throws {
        let fill = try plan("w=300&h=300&fit=fill", 600, 400)
        #expect(fill.resizeWidth == 300 && fill.resizeHeight == 200)
        #expect(fill.canvas == ResizePlan.Rect(x: 0, y: 50, width: 300, height: 300))
        #expect(fill.canvasFill == .solid)
        // fillmax never enlarges the image, but the canvas is still the box.
        let fillmax = try plan("w=300&h=300&fit=fillmax", 150, 100)
        #expect(fillmax.resizeWidth == 150 && fillmax.resizeHeight == 100)
        #expect(fillmax.canvas == ResizePlan.Rect(x: 75, y: 100, width: 300, height: 300))
        let enlarged = try plan("w=300&h=300&fit=fill", 150, 100)
        #expect(enlarged.resizeWidth == 300 && enlarged.resizeHeight == 200)
        let clamp = try plan("w=300&h=300&fit=clamp", 600, 400)
        #expect(clamp.canvasFill == .extend)
        #expect(clamp.outputWidth == 300 && clamp.outputHeight == 300)
        #expect(try plan("w=300&h=300&fit=fill&fill=blur", 600, 400).canvasFill == .blur)
    }

    /// Should fall back from fit=facearea (no face detector) to the listed mode, else clip.
    @Test func faceareaFallsBack() throws {
        #expect(try spec("w=100&h=100&fit=facearea") == spec("w=100&h=100"))
        #expect(try spec("w=100&h=100&fit=facearea,fill") == spec("w=100&h=100&fit=fill"))
        #expect(try spec("w=100&h=100&fit=facearea,crop") == spec("w=100&h=100&fit=crop"))
    }

    /// Should treat crop=faces as a link to skip in the fallback chain.
    @Test func cropChain() throws {
        #expect(try spec("w=10&h=10&fit=crop&crop=faces") == spec("w=10&h=10&fit=crop"))
        #expect(try spec("w=10&h=10&fit=crop&crop=faces,top,left").gravity == CropGravity(horizontal: .left, vertical: .top))
        #expect(try spec("w=10&h=10&fit=crop&crop=faces,entropy").size.crop == .entropy)
        #expect(try spec("w=10&h=10&fit=crop&crop=edges,entropy").size.crop == .edges)
        let fp = try spec("w=10&h=10&fit=crop&crop=focalpoint&fp-x=0.25&fp-y=0.75&fp-z=2")
        #expect(fp.size.crop == .focalPoint(x: 0.25, y: 0.75, zoom: 2))
        #expect(try spec("w=10&h=10&fit=crop&crop=focalpoint").size.crop == .focalPoint(x: 0.5, y: 0.5, zoom: 1))
        #expect(parseError("w=10&h=10&fit=crop&crop=focalpoint&fp-x=2")?.param == "fp-x")
        #expect(parseError("w=10&h=10&fit=crop&crop=focalpoint&fp-z=0.5")?.param == "fp-z")
    }

    /// Should keep the focal point in the crop and zoom around it.
    @Test func focalPointPlan() throws {
        let p = try plan("w=100&h=100&fit=crop&crop=focalpoint&fp-x=0&fp-y=0.5", 400, 200)
        #expect(p.resizeWidth == 200 && p.resizeHeight == 100)
        #expect(p.crop == ResizePlan.Rect(x: 0, y: 0, width: 100, height: 100))
        let right = try plan("w=100&h=100&fit=crop&crop=focalpoint&fp-x=0.9&fp-y=0.5", 400, 200)
        #expect(right.crop?.x == 100)
        let zoom = try plan("w=100&h=100&fit=crop&crop=focalpoint&fp-x=0.5&fp-y=0.5&fp-z=2", 400, 200)
        #expect(zoom.resizeWidth == 400 && zoom.resizeHeight == 200)
        #expect(zoom.crop == ResizePlan.Rect(x: 150, y: 50, width: 100, height: 100))
        #expect(try plan("w=100&h=100&fit=crop&crop=entropy", 400, 200).smartCrop == .entropy)
        #expect(try plan("w=100&h=100&fit=crop&crop=edges", 400, 200).smartCrop == .attention)
    }

    /// Should apply ar only with fit=crop and the fill modes, as imgix documents.
    @Test func aspectRatio() throws {
        // imgix's own example: 900x270 with ar=9:1 and fit=crop is 900x100.
        let p = try plan("ar=9:1&fit=crop", 900, 270)
        #expect(p.outputWidth == 900 && p.outputHeight == 100)
        let one = try plan("w=280&ar=2:1&fit=crop", 1000, 1000)
        #expect(one.outputWidth == 280 && one.outputHeight == 140)
        let both = try plan("w=400&h=400&ar=2:1&fit=crop", 1000, 1000)
        #expect(both.outputWidth == 400 && both.outputHeight == 200)
        let fill = try plan("ar=1:1&fit=fill", 300, 200)
        #expect(fill.outputWidth == 300 && fill.outputHeight == 300)
        #expect(try spec("w=100&ar=2:1") == spec("w=100"))
        #expect(try spec("w=100&fit=crop&ar=2:1") == spec("w=100&fit=crop&ar=4:2"))
        #expect(parseError("fit=crop&ar=0:1")?.param == "ar")
        #expect(parseError("fit=crop&ar=wide")?.param == "ar")
    }

    /// Should bound the crop box by min-w/max-w/min-h/max-h with fit=crop only.
    @Test func minMaxBounds() throws {
        let p = try plan("w=1000&h=500&fit=crop&max-w=400", 2000, 1000)
        #expect(p.outputWidth == 400 && p.outputHeight == 500)
        let q = try plan("w=100&h=100&fit=crop&min-w=300&min-h=200", 2000, 1000)
        #expect(q.outputWidth == 300 && q.outputHeight == 200)
        #expect(try spec("w=100&max-w=50") == spec("w=100"))
        #expect(parseError("fit=crop&max-w=0")?.param == "max-w")
    }

    /// Should read rect in pixels, fractions, alignments and full, clamped to the source.
    @Test func rect() throws {
        func region(_ q: String, _ w: Int, _ h: Int) throws -> ResizePlan.Rect? {
            try spec(q).size.rect?.resolve(sourceWidth: w, sourceHeight: h)
        }
        #expect(try region("rect=10,20,100,50", 400, 300) == ResizePlan.Rect(x: 10, y: 20, width: 100, height: 50))
        #expect(try region("rect=0.25,0.5,0.5,0.5", 400, 300) == ResizePlan.Rect(x: 100, y: 150, width: 200, height: 150))
        #expect(try region("rect=right,bottom,100,100", 400, 300) == ResizePlan.Rect(x: 300, y: 200, width: 100, height: 100))
        #expect(try region("rect=center,middle,100,100", 400, 300) == ResizePlan.Rect(x: 150, y: 100, width: 100, height: 100))
        #expect(try region("rect=50,50,full,full", 400, 300) == ResizePlan.Rect(x: 50, y: 50, width: 350, height: 250))
        #expect(try region("rect=350,250,500,500", 400, 300) == ResizePlan.Rect(x: 350, y: 250, width: 50, height: 50))
        #expect(try region("rect=500,500,10,10", 400, 300) == nil)
        for bad in ["rect=1,2,3", "rect=a,b,c,d", "rect=0,0,0,10", "rect=-1,0,10,10"] {
            #expect(parseError(bad)?.param == "rect", "\(bad)")
        }
        #expect(try key("rect=0,0,100,100&w=50") != key("w=50"))
    }

    /// Should map or=90/180/270 onto the EXIF values, and treat 0 and 1 as no override.
    @Test func orientation() throws {
        #expect(try spec("or=90").size.orientation == 6)
        #expect(try spec("orient=180").size.orientation == 3)
        #expect(try spec("or=270").size.orientation == 8)
        // 0 (no orientation) and 1 (upright) both mean: as stored, whatever the EXIF tag says.
        #expect(try spec("or=0") == spec("or=1"))
        #expect(try spec("or=1") != spec(""))
        #expect(try key("or=90") == key("or=6"))
        #expect(parseError("or=45")?.param == "or")
    }

    /// Should parse trim modes with their options, and put effective ones in the key.
    @Test func trim() throws {
        let t = try #require(try spec("trim=color&trim-color=fff&trim-tol=10&trim-pad=5").size.trim)
        #expect(t.mode == .color && t.color == .white && t.tolerance == 10 && t.pad == 5)
        #expect(try key("trim=auto") == key("trim=auto&trim-md=11&trim-sd=10"))
        #expect(try key("trim=auto") != key("trim=auto&trim-md=30"))
        // Options of another mode change nothing.
        #expect(try key("trim=alpha") == key("trim=alpha&trim-md=30"))
        #expect(parseError("trim=sideways")?.param == "trim")
    }

    /// Should give fill-color a place in the key only with the fill modes.
    @Test func fillColor() throws {
        #expect(try key("w=10&h=10&fit=fill&fill-color=red") != key("w=10&h=10&fit=fill"))
        #expect(try key("w=10&h=10&fill-color=red") == key("w=10&h=10"))
        #expect(try key("w=10&h=10&fit=fill&fill=blur&fill-color=red") == key("w=10&h=10&fit=fill&fill=blur"))
        #expect(try spec("w=10&h=10&fit=fill&fillcolor=ff0000").size.fillColor == RGBAColor(red: 255, green: 0, blue: 0))
    }
}
