import EdgeCore
import Testing

@Suite struct TransformParserTests {
    /// Should give the default spec for an empty query.
    @Test func emptyQueryIsDefault() throws {
        let s = try spec("")
        #expect(s == TransformSpec())
        #expect(s.width == nil && s.height == nil)
        #expect(s.fit == .clip)
        #expect(s.quality == 75)
        #expect(s.background == .white)
        #expect(s.format == nil)
        #expect(!s.autoFormat)
    }

    /// Should split a raw query on the bytes `&` and `=` even where a neighbouring character joins one into a
    /// grapheme cluster (a combining mark after `&`, U+0600 before `=`), as the signature check does.
    @Test func splitsOnBytes() throws {
        let joined = try TransformParser.parse(query: "txt=a\u{600}&w=120&\u{301}x=1")
        #expect(joined.width == (try spec("w=120")).width && joined.width != nil)
        let marked = try TransformParser.parse(query: "w=7&\u{301}txt=b")
        #expect(marked.width == (try spec("w=7")).width)
    }

    /// Should resolve the aliases width, height and f to w, h and fit.
    @Test func aliasesResolve() throws {
        let long = try spec("width=400&height=300&f=crop")
        let short = try spec("w=400&h=300&fit=crop")
        #expect(long == short)
        #expect(short.width == .pixels(400))
        #expect(short.height == .pixels(300))
        #expect(short.fit == .crop)
    }

    /// Should treat parameter names and enum values case-insensitively.
    @Test func namesAndValuesAreCaseInsensitive() throws {
        let s = try spec("W=400&FIT=CROP&Fm=PNG")
        #expect(s.width == .pixels(400))
        #expect(s.fit == .crop)
        #expect(s.format == .png)
    }

    /// Should read 400, 400.0, +400 and 400.4 as the same 400-pixel width.
    @Test(arguments: ["w=400", "w=400.0", "w=+400", "w=400.4", "w=%20400", "w=0400"])
    func equivalentNumbers(query: String) throws {
        #expect(try spec(query) == spec("w=400"))
        #expect(try spec(query).width == .pixels(400))
    }

    /// Should read values from 0 to 1 as fractions of the source dimension.
    @Test func fractions() throws {
        #expect(try spec("w=0.5").width == .fraction(0.5))
        #expect(try spec("h=.25").height == .fraction(0.25))
        #expect(try spec("w=2").width == .pixels(2))
    }

    /// Should fold dpr into pixel and fraction dimensions, whatever the parameter order.
    @Test func dprFolds() throws {
        #expect(try spec("w=400&h=300&dpr=2") == spec("w=800&h=600"))
        #expect(try spec("dpr=2&w=400") == spec("w=800"))
        #expect(try spec("w=0.25&dpr=2").width == .fraction(0.5))
        #expect(try spec("w=100&dpr=1.5").width == .pixels(150))
        // dpr alone changes nothing.
        #expect(try spec("dpr=3") == TransformSpec())
    }

    /// Should reject bad numeric values with a 400 that names the parameter as written.
    @Test(arguments: [
        ("w=abc", "w"), ("w=", "w"), ("w=0", "w"), ("w=-5", "w"), ("width=-5", "width"), ("h=1e3", "h"),
        ("h=0x10", "h"), ("w=nan", "w"), ("w=inf", "w"), ("w=1.2.3", "w"), ("w=4-0", "w"), ("w=2000000", "w"),
        ("dpr=0", "dpr"), ("dpr=6", "dpr"), ("dpr=x", "dpr"), ("q=101", "q"), ("q=50.5", "q"), ("q=-1", "q"),
        ("q=high", "q"), ("fit=banana", "fit"), ("f=banana", "f"), ("fm=tiff", "fm"), ("fm=", "fm"),
        ("auto=xyz", "auto"), ("bg=zzz", "bg"), ("bg=12345", "bg"), ("bg=", "bg"),
        ("fit=crop&crop=banana", "crop"), ("fit=facearea,facearea&w=1", "fit"), ("fit=crop,clip", "fit"),
    ])
    func badValues(query: String, param: String) {
        let error = parseError(query)
        #expect(error?.status == 400, "\(query)")
        #expect(error?.param == param, "\(query)")
    }

    /// Should refuse imgix features this node does not implement with a 400 naming the parameter.
    @Test(arguments: [
        ("fit=fill&fill=gen&w=10&h=10", "fill"), ("fm=mp4", "fm"), ("fm=webm", "fm"), ("fm=jxr", "fm"),
        ("fit=fill&fill=gradient&w=10&h=10", "fill"),
    ])
    func unsupportedValues(query: String, param: String) {
        let error = parseError(query)
        #expect(error?.status == 400, "\(query)")
        #expect(error?.param == param, "\(query)")
        #expect(error?.publicMessage.contains("not supported") == true, "\(query)")
    }

    /// Should refuse unsupported imgix parameters (and their aliases) with a 400 naming the parameter.
    @Test(arguments: ["bg-remove", "upscale", "blend", "palette", "mask", "lp-blur", "face-blur", "page"])
    func unsupportedParameters(name: String) {
        let error = parseError("w=100&\(name)=20")
        #expect(error?.status == 400)
        #expect(error?.param == name)
    }

    /// Should ignore parameters imgix does not define (tracking and cache-busting).
    @Test func unknownParametersIgnored() throws {
        #expect(try spec("utm_source=mail&foo=bar&_=123&v=2") == TransformSpec())
        #expect(try spec("w=400&cachebust=1") == spec("w=400"))
        // `s` (signature) is accepted and changes nothing.
        #expect(try spec("w=400&s=abcdef") == spec("w=400"))
    }

    /// Should keep the first occurrence of a repeated parameter, aliases included.
    @Test func firstOccurrenceWins() throws {
        #expect(try spec("w=100&w=200").width == .pixels(100))
        #expect(try spec("width=100&w=200").width == .pixels(100))
        #expect(try spec("fm=png&fm=webp").format == .png)
        // A bad later duplicate is never looked at.
        #expect(try spec("w=100&w=abc").width == .pixels(100))
    }

    /// Should ignore crop unless fit is crop (or min), even a value it would refuse.
    @Test func cropNeedsFitCrop() throws {
        #expect(try spec("w=100&h=100&crop=top,left").gravity == .center)
        #expect(try spec("w=100&h=100&crop=faces") == spec("w=100&h=100"))
        let cropped = try spec("w=100&h=100&fit=crop&crop=top,left")
        #expect(cropped.gravity == CropGravity(horizontal: .left, vertical: .top))
        let minFit = try spec("w=100&h=100&fit=min&crop=bottom,right")
        #expect(minFit.gravity == CropGravity(horizontal: .right, vertical: .bottom))
        // The order of parameters does not matter for the crop/fit dependency.
        #expect(try spec("crop=bottom&fit=crop&w=1&h=1").gravity.vertical == .bottom)
    }

    /// Should parse every hex colour form imgix accepts for bg.
    @Test func backgroundHexForms() throws {
        #expect(try spec("bg=fff").background == RGBAColor(red: 255, green: 255, blue: 255))
        #expect(try spec("bg=f00").background == RGBAColor(red: 255, green: 0, blue: 0))
        #expect(try spec("bg=8f00").background == RGBAColor(red: 255, green: 0, blue: 0, alpha: 0x88))
        #expect(try spec("bg=00ff00").background == RGBAColor(red: 0, green: 255, blue: 0))
        #expect(try spec("bg=800000ff").background == RGBAColor(red: 0, green: 0, blue: 255, alpha: 0x80))
        #expect(try spec("bg=%23FF0000").background == RGBAColor(red: 255, green: 0, blue: 0))
        #expect(try spec("bg=ABCDEF").background == RGBAColor(red: 0xab, green: 0xcd, blue: 0xef))
        #expect(RGBAColor(red: 1, green: 2, blue: 255, alpha: 16).description == "100102ff")
    }

    /// Should read fm, q and auto=format.
    @Test func formatQualityAuto() throws {
        #expect(try spec("fm=jpg").format == .jpg)
        #expect(try spec("fm=pjpg").format == .pjpg)
        #expect(try spec("fm=avif").format == .avif)
        #expect(try spec("q=40").quality == 40)
        #expect(try spec("q=0").quality == 1)
        #expect(try spec("q=100.0").quality == 100)
        #expect(try spec("auto=format").autoFormat)
        #expect(try spec("auto=format,%20format").autoFormat)
    }

    /// Should read every fit mode.
    @Test(arguments: FitMode.allCases)
    func fitModes(fit: FitMode) throws {
        // facearea has no face detector here: it resolves to its fallback (clip by default).
        #expect(try spec("fit=\(fit.rawValue)").fit == (fit == .facearea ? .clip : fit))
    }

    /// Should refuse malformed percent-encoding with a 400 that names no parameter.
    @Test(arguments: ["w=%zz", "w%=1", "w=%c3%28"])
    func badEncoding(query: String) {
        let error = parseError(query)
        #expect(error?.status == 400)
        #expect(error?.param == nil)
    }

    /// Should decode + as a space in values, so "+400" only means positive when percent-encoded.
    @Test func plusIsSpace() throws {
        // `w=+400` arrives as " 400": spaces around numbers are trimmed.
        #expect(try spec("w=+400").width == .pixels(400))
        #expect(try spec("w=%2B400").width == .pixels(400))
        #expect(try spec("crop=top,+left&fit=crop&w=1").gravity == CropGravity(horizontal: .left, vertical: .top))
    }
}
