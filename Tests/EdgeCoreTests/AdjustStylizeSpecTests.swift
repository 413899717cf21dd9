import EdgeCore
import Testing

@Suite struct AdjustStylizeSpecTests {
    /// Should give the same cache key as no parameter at all for every parameter at its default or a no-op.
    @Test(arguments: [
        "bri=0", "con=0", "exp=0", "gam=0", "high=0", "hue=0", "hue=360", "hue=-720", "invert=false", "inv=0",
        "sat=0", "shad=0", "sharp=0", "sharp=0.0", "usm=0", "usmrad=2.5", "usmrad=9", "usm=50&usmrad=0",
        "vib=0", "nr=20", "nrs=20", "nr=20&nrs=20", "nr=0&nrs=0", "nr=-40&nrs=0",
        "blur=0", "blur=-5", "px=0", "px=1", "htn=0", "sepia=0", "sepia=-10",
        "monochrome=00ff0000", "mono=0000", "duotone-alpha=40", "duotone=000,fff&duotone-alpha=0",
        "high=30",
    ])
    func defaultsAndNoOpsAddNothing(query: String) throws {
        #expect(try key(query) == key(""))
        let s = try spec(query)
        #expect(!s.adjust.changesImage)
        #expect(!s.stylize.changesImage)
    }

    /// Should give every parameter that changes the image its own key, different from the unchanged image's.
    @Test func everyEffectChangesTheKey() throws {
        let queries = [
            "", "bri=10", "con=10", "exp=10", "gam=10", "high=-10", "hue=10", "invert=true", "sat=10", "shad=10",
            "sharp=10", "usm=10", "usm=10&usmrad=5", "vib=10", "nr=30", "nrs=30", "nr=0",
            "blur=10", "px=2", "htn=2", "sepia=10", "mono=808080", "mono=80808080",
            "duotone=000,fff", "duotone=000,fff&duotone-alpha=50", "duotone=fff,000",
        ]
        let keys = try queries.map { try key($0) }
        #expect(Set(keys).count == queries.count)
    }

    /// Should clamp values outside imgix's suggested ranges to the nearest end.
    @Test(arguments: [
        ("bri=250", "bri=100"), ("bri=-101", "bri=-100"), ("con=-1000", "con=-100"), ("exp=101", "exp=100"),
        ("gam=-500", "gam=-100"), ("high=-150", "high=-100"), ("sat=200", "sat=100"), ("shad=120.5", "shad=100"),
        ("sharp=1000", "sharp=100"), ("usm=300", "usm=100"), ("vib=-101", "vib=-100"), ("nr=150", "nr=100"),
        ("nrs=-150", "nrs=-100"), ("blur=5000", "blur=2000"), ("px=500", "px=100"), ("htn=101", "htn=100"),
        ("sepia=150", "sepia=100"), ("usm=10&usmrad=1000000000", "usm=10&usmrad=1000"), ("usm=10&usmrad=-3", ""),
        ("htn=1", "htn=2"), ("hue=370", "hue=10"), ("hue=-90", "hue=270"), ("nr=-30&nrs=40", "nr=0&nrs=40"),
    ])
    func clampsToSuggestedRanges(pair: (String, String)) throws {
        #expect(try key(pair.0) == key(pair.1))
        #expect(try spec(pair.0) == spec(pair.1))
    }

    /// Should read clamped values as the effect they have.
    @Test func storedValues() throws {
        let a = try spec("bri=250&hue=-90&usm=-20&usmrad=1.5&nr=-5&nrs=60&shad=12.5").adjust
        #expect(a.brightness == 100)
        #expect(a.hue == 270)
        #expect(a.unsharpMask == -20 && a.unsharpRadius == 1.5)
        #expect(a.noiseBound == 0 && a.noiseSharpen == 60)
        #expect(a.shadow == 12.5)
        let s = try spec("blur=5000&px=1&htn=1&mono=red&duotone=navy,%23ffcc00&duotone-alpha=30").stylize
        #expect(s.blur == 2000 && s.blurSigma == 220)
        #expect(s.pixellate == 0)
        #expect(s.halftone == 2)
        #expect(s.monochrome == RGBAColor(red: 255, green: 0, blue: 0))
        #expect(s.duotone == StylizeSpec.Duotone(dark: RGBAColor(red: 0, green: 0, blue: 128),
                                                 light: RGBAColor(red: 255, green: 204, blue: 0)))
        #expect(s.duotoneAlpha == 30)
    }

    /// Should resolve the aliases inv and mono, and base64 values, to the same spec as the canonical names.
    @Test func aliasesAndBase64() throws {
        #expect(try key("inv=true") == key("invert=true"))
        #expect(try key("inv=1") == key("invert=true"))
        #expect(try key("mono=336699") == key("monochrome=336699"))
        #expect(try key("mono=369") == key("monochrome=336699"))
        #expect(try key("monochrome=ff336699") == key("monochrome=336699"))
        // "ZmZmLDAwMA" is base64 of "fff,000".
        #expect(try key("duotone64=ZmZmLDAwMA") == key("duotone=white,black"))
        #expect(try spec("INV=TRUE").adjust.invert)
    }

    /// Should read equal values spelled differently as one key.
    @Test func numberSpellings() throws {
        #expect(try key("bri=50") == key("bri=50.0"))
        #expect(try key("bri=50") == key("bri=+50"))
        #expect(try key("sharp=10") == key("sharp=10.0"))
        #expect(try key("usm=40&usmrad=3") == key("usmrad=3.0&usm=40"))
        #expect(try key("bri=10&blur=20&sepia=30") == key("sepia=30&blur=20&bri=10"))
        #expect(try key("nr=30") == key("nr=30&nrs=20"))
    }

    /// Should keep usmrad only with a usm that does something.
    @Test func unsharpRadiusDependsOnUnsharpMask() throws {
        #expect(try key("usmrad=7") == key(""))
        #expect(try spec("usmrad=7").adjust == AdjustSpec())
        #expect(try key("usm=30&usmrad=7") != key("usm=30"))
        #expect(try key("usm=30&usmrad=2.5") == key("usm=30"))
    }

    /// Should refuse unparseable values and values outside strict ranges with a 400 naming the parameter as written.
    @Test(arguments: [
        ("bri=abc", "bri"), ("bri=10.5", "bri"), ("con=", "con"), ("exp=1e3", "exp"), ("gam=0x10", "gam"),
        ("high=-5.5", "high"), ("hue=12.5", "hue"), ("hue=north", "hue"), ("invert=yes", "invert"),
        ("inv=2", "inv"), ("sat=NaN", "sat"), ("shad=lots", "shad"), ("sharp=-", "sharp"), ("usm=1.5", "usm"),
        ("usm=10&usmrad=wide", "usmrad"), ("usmrad=x", "usmrad"), ("vib=1/2", "vib"), ("nr=high", "nr"),
        ("nrs=3.3", "nrs"), ("blur=2.5", "blur"), ("blur=inf", "blur"), ("px=big", "px"), ("htn=0.5", "htn"),
        ("sepia=half", "sepia"), ("monochrome=zzz", "monochrome"), ("mono=", "mono"), ("mono=12345", "mono"),
        ("duotone=red", "duotone"), ("duotone=red,blue,green", "duotone"), ("duotone=red,nope", "duotone"),
        ("duotone=80ff0000,000", "duotone"), ("duotone=000,fff&duotone-alpha=101", "duotone-alpha"),
        ("duotone=000,fff&duotone-alpha=-1", "duotone-alpha"), ("duotone-alpha=200", "duotone-alpha"),
        ("duotone=000,fff&duotone-alpha=50.5", "duotone-alpha"), ("BRI=x", "BRI"),
    ])
    func badValuesAre400(pair: (String, String)) {
        let error = parseError(pair.0)
        #expect(error?.status == 400)
        #expect(error?.param == pair.1)
    }

    /// Should implement every adjustment, noise-reduction and stylize parameter rather than refuse it.
    @Test(arguments: ["bri=1", "con=1", "exp=1", "gam=1", "high=-1", "hue=1", "invert=true", "sat=1", "shad=1",
                      "sharp=1", "usm=1", "usmrad=1", "vib=1", "nr=1", "nrs=1", "blur=1", "monochrome=fff", "sepia=1",
                      "px=2", "htn=2", "duotone=000,fff", "duotone-alpha=50"])
    func parametersAreSupported(query: String) {
        #expect(parseError(query) == nil)
    }

    /// Should write the canonical items in one fixed order with canonical spellings.
    @Test func canonicalText() throws {
        let s = try spec("vib=-5&usmrad=3.50&usm=5&sharp=1.5&shad=2&sat=3&nrs=7&invert=1&hue=365&high=-4&gam=6&exp=7&con=8&bri=9")
        #expect(s.canonical(for: .format(.png)) == ["bri=9", "con=8", "exp=7", "gam=6", "high=-4", "hue=5",
                                                    "invert=true", "nr=20", "nrs=7", "sat=3", "shad=2", "sharp=1.5",
                                                    "usm=5", "usmrad=3.5", "vib=-5"].joined(separator: "&"))
        let t = try spec("sepia=5&px=3&mono=c0112233&htn=4&duotone=RED,Blue&duotone-alpha=60&blur=7")
        #expect(t.canonical(for: .format(.png)) == ["blur=7", "duotone=ffff0000,ff0000ff", "duotone-alpha=60",
                                                    "htn=4", "monochrome=c0112233", "px=3",
                                                    "sepia=5"].joined(separator: "&"))
    }
}
