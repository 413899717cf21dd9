import EdgeCore
import Testing

@Suite struct RotationBorderSpecTests {
    // MARK: rotation

    /// Should read rot modulo 360, so rot=360 is no rotation and rot=-90 is rot=270, in the spec and the key.
    @Test(arguments: [("rot=360", ""), ("rot=-90", "rot=270"), ("rot=450", "rot=90"), ("rot=-720", ""),
                      ("rot=370.1", "rot=10.1"), ("rot=10.001", "rot=10"), ("rot=0", ""), ("rot=359.999", "")])
    func rotationIsNormalised(pair: (String, String)) throws {
        #expect(try spec(pair.0) == spec(pair.1))
        #expect(try key(pair.0) == key(pair.1))
    }

    /// Should keep angles that draw differently apart in the key.
    @Test func distinctAnglesHaveDistinctKeys() throws {
        #expect(try key("rot=10") != key("rot=10.5"))
        #expect(try key("rot=90") != key("rot=270"))
        #expect(try spec("rot=10.5").rotation.degrees == 10.5)
    }

    /// Should read flip case-insensitively, and refuse anything but h, v and hv naming the parameter.
    @Test func flipValues() throws {
        #expect(try spec("flip=H") == spec("flip=h"))
        #expect(try spec("flip=Hv").rotation.flip == .hv)
        #expect(try key("flip=v") != key("flip=h"))
        #expect(try key("flip=h") != key(""))
        let error = parseError("flip=x")
        #expect(error?.status == 400)
        #expect(error?.param == "flip")
    }

    /// Should refuse a rot that is not a number, naming it.
    @Test(arguments: ["rot=abc", "rot=1e3", "rot=", "rot=nan"])
    func badRotation(query: String) {
        let error = parseError(query)
        #expect(error?.status == 400)
        #expect(error?.param == "rot")
    }

    /// Should make rot-type matter only where the two modes draw differently.
    @Test func rotationTypeOnlyWhereItMatters() throws {
        #expect(try key("rot-type=pivot") == key(""))
        #expect(try key("rot=180&rot-type=pivot") == key("rot=180"))
        #expect(try key("rot=90&rot-type=pivot") != key("rot=90"))
        #expect(try key("rot=30&rot-type=pivot") != key("rot=30&rot-type=straighten"))
        #expect(try key("rot=30&rot-type=straighten") == key("rot=30"))
        #expect(try spec("rott=pivot&rot=30") == spec("rot-type=pivot&rot=30"))
        #expect(try spec("rottype=PIVOT&rot=30").rotation.mode == .pivot)
        #expect(parseError("rot=30&rot-type=spin")?.param == "rot-type")
    }

    /// Should key the pivot corners by bg (transparent when absent), and only where corners show.
    @Test func pivotFillIsKeyed() throws {
        #expect(try spec("rot=30&rot-type=pivot").rotation.fill.alpha == 0)
        #expect(try key("rot=30&rot-type=pivot&fm=png") != key("rot=30&rot-type=pivot&bg=fff&fm=png"))
        #expect(try spec("rot=30&rot-type=pivot&bg=f00").rotation.fill == RGBAColor(red: 255, green: 0, blue: 0))
        #expect(try spec("rot=90&rot-type=pivot&bg=f00").rotation == spec("rot=90&rot-type=pivot").rotation)
        #expect(try spec("rot=30&bg=f00").rotation == spec("rot=30").rotation)
    }

    // MARK: padding

    /// Should treat pad=0 (and zero sides) as no padding at all.
    @Test(arguments: ["pad=0", "pad-top=0", "pad=0&pad-left=0", "pad=10&pad-top=0&pad-right=0&pad-bottom=0&pad-left=0"])
    func zeroPaddingIsAbsent(query: String) throws {
        #expect(try spec(query) == spec(""))
        #expect(try key(query) == key(""))
    }

    /// Should let the per-side parameters override pad for their side only.
    @Test func perSidePaddingOverrides() throws {
        #expect(try spec("pad=10").border.padding == .init(top: 10, right: 10, bottom: 10, left: 10))
        #expect(try spec("pad=10&pad-left=3").border.padding == .init(top: 10, right: 10, bottom: 10, left: 3))
        #expect(try spec("pad-top=7").border.padding == .init(top: 7))
        #expect(try key("pad=10&pad-left=3") == key("pad-left=3&pad-top=10&pad-right=10&pad-bottom=10"))
        #expect(try key("pad=10") != key("pad=10&pad-left=3"))
    }

    /// Should refuse negative, fractional and beyond-the-output-cap widths, naming the parameter.
    @Test(arguments: [("pad=-1", "pad"), ("pad=9000", "pad"), ("pad=1.5", "pad"), ("pad-left=x", "pad-left"),
                      ("border=5,red&border-top=-2", "border-top"), ("border-stroke-size=9000", "border-stroke-size")])
    func badWidths(pair: (String, String)) {
        let error = parseError(pair.0)
        #expect(error?.status == 400)
        #expect(error?.param == pair.1)
    }

    /// Should fill padding with bg when given and with transparency otherwise, keyed apart.
    @Test func paddingFill() throws {
        #expect(try spec("pad=10").border.fill.alpha == 0)
        #expect(try spec("pad=10&bg=00ff00").border.fill == RGBAColor(red: 0, green: 255, blue: 0))
        #expect(try key("pad=10&fm=png") != key("pad=10&bg=ffffff&fm=png"))
        #expect(try key("pad=10&bg=f00") != key("pad=10&bg=0f0"))
    }

    // MARK: border

    /// Should read border as width,colour, with the side parameters overriding one side each.
    @Test func borderParses() throws {
        let b = try spec("border=5,FF0000&border-left=2").border
        #expect(b.border == .init(top: 5, right: 5, bottom: 5, left: 2))
        #expect(b.borderColor == RGBAColor(red: 255, green: 0, blue: 0))
        #expect(try spec("border=5,red") == spec("border=5,ff0000"))
        #expect(try spec("border=5,%23FF0000") == spec("border=5,ff0000"))
        #expect(try key("border=5,red") != key("border=5,blue"))
        #expect(try key("border=5,red") != key("border=6,red"))
    }

    /// Should refuse a border without a colour or with a bad width, naming border.
    @Test(arguments: ["border=5", "border=red", "border=5,nocolour", "border=-1,red", "border=5,red,blue", "border=1.5,red"])
    func badBorder(query: String) {
        let error = parseError(query)
        #expect(error?.status == 400)
        #expect(error?.param == "border")
    }

    /// Should ignore the parameters that depend on border when border is absent, as imgix does.
    @Test func dependentsNeedBorder() throws {
        #expect(try key("border-top=5&border-radius=10&border-radius-inner=4") == key(""))
        #expect(try spec("border=0,red") == spec(""))
        #expect(try spec("border=0,red&border-top=3").border.border == .init(top: 3))
    }

    /// Should read one radius or four, in top-left, top-right, bottom-right, bottom-left order.
    @Test func radii() throws {
        #expect(try spec("border=0,000&border-radius=12").border.outerRadius == .init(topLeft: 12, topRight: 12, bottomRight: 12, bottomLeft: 12))
        #expect(try spec("border=0,000&border-radius=1,2,3,4").border.outerRadius == .init(topLeft: 1, topRight: 2, bottomRight: 3, bottomLeft: 4))
        #expect(try key("border=0,000&border-radius=5") == key("border=0,000&border-radius=5,5,5,5"))
        #expect(try key("border=0,000&border-radius=5") != key("border=0,000&border-radius=5,5,5,0"))
        #expect(parseError("border=0,000&border-radius=1,2,3")?.param == "border-radius")
        #expect(parseError("border=0,000&border-radius-inner=-1")?.param == "border-radius-inner")
    }

    /// Should drop a stroke that draws nothing (no size, or imgix's default transparent colour).
    @Test func strokeOnlyWhenVisible() throws {
        #expect(try key("border-stroke-size=4") == key(""))
        #expect(try key("border-stroke-color=red") == key(""))
        #expect(try key("border-stroke-size=4&border-stroke-color=red") != key(""))
        #expect(try spec("border-stroke-size=4&border-stroke-color=red").border.strokeSize == 4)
    }

    /// Should accept the base64 spelling of border like any other value.
    @Test func base64Border() throws {
        // "5,FF0000" in URL-safe base64.
        #expect(try spec("border64=NSxGRjAwMDA") == spec("border=5,FF0000"))
    }
}
