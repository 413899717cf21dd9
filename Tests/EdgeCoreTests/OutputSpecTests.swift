import EdgeCore
import Testing

@Suite struct OutputSpecTests {
    /// Should parse every format option's values.
    @Test func parsesValues() throws {
        let s = try spec("fm=png8&lossless=1&chromasub=444&colorquant=16&dpi=300&jpg-progressive=false&cs=srgb&iptc=allow&dl=a.png&svg-sanitize=false&auto=enhance")
        #expect(s.format == .png8)
        let o = s.output
        #expect(o.lossless && o.chromaSubsampling == .full && o.colorQuantization == 16 && o.dpi == 300)
        #expect(!o.jpegProgressive && o.colorSpace == .srgb && o.iptc == .allow && o.download == "a.png")
        #expect(!o.svgSanitize && o.enhance)
        #expect(try spec("jpeg-progressive=0").output.jpegProgressive == false)
        #expect(try spec("cs=ADOBERGB1998").output.colorSpace == .adobergb1998)
    }

    /// Should default to imgix's defaults: 4:2:0, progressive, no profile, IPTC blocked, no download.
    @Test func defaults() throws {
        let o = try spec("").output
        #expect(o.chromaSubsampling == .quarter && o.jpegProgressive && o.colorSpace == .strip)
        #expect(o.iptc == .block && o.download == nil && !o.lossless && o.colorQuantization == nil && o.dpi == nil)
    }

    /// Should accept the new output formats and refuse the video and JPEG XR ones by name.
    @Test(arguments: ["png8", "png32", "jp2", "json", "blurhash"])
    func acceptsFormats(fm: String) throws {
        #expect(try spec("fm=\(fm)").format?.rawValue == fm)
    }

    /// Should refuse values out of range with a 400 naming the parameter as written.
    @Test(arguments: [
        ("chromasub=411", "chromasub"), ("chromasub=abc", "chromasub"), ("colorquant=1", "colorquant"),
        ("colorquant=257", "colorquant"), ("dpi=0", "dpi"), ("dpi=70000", "dpi"), ("dpi=7.5", "dpi"),
        ("lossless=yes", "lossless"), ("cs=p3", "cs"), ("iptc=maybe", "iptc"), ("jpeg-progressive=x", "jpeg-progressive"),
        ("svg-sanitize=2", "svg-sanitize"), ("auto=redeye", "auto"), ("auto=true", "auto"), ("fm=jxr", "fm"),
    ])
    func badValues(query: String, param: String) {
        let error = parseError(query)
        #expect(error?.status == 400, "\(query)")
        #expect(error?.param == param, "\(query)")
    }

    /// Should refuse 4:2:2 (libvips 8.14 cannot write it) with a message that says so.
    @Test func refuses422() {
        let error = parseError("chromasub=422")
        #expect(error?.param == "chromasub")
        #expect(error?.publicMessage.contains("not supported") == true)
    }

    /// Should refuse a dl file name longer than 255 characters.
    @Test func dlLength() {
        #expect(parseError("dl=" + String(repeating: "a", count: 255)) == nil)
        #expect(parseError("dl=" + String(repeating: "a", count: 256))?.param == "dl")
    }

    /// Should set q to 45 for auto=compress unless q is given.
    @Test func compressQuality() throws {
        #expect(try spec("auto=compress").quality == 45)
        #expect(try spec("auto=format,compress&q=80").quality == 80)
        #expect(try spec("auto=compress&fm=jpg").quality == 45)
        #expect(try key("auto=compress&fm=jpg") == key("fm=jpg&q=45"))
    }

    /// Should ignore auto=format for json and blurhash (a description is never AVIF).
    @Test func descriptionsIgnoreAccept() throws {
        #expect(try key("fm=json&auto=format", accept: "image/avif") == key("fm=json"))
        #expect(try spec("fm=blurhash&auto=format").autoFormat == false)
    }

    /// Should give default values the key of their absence, and ignore options the output format cannot use.
    @Test(arguments: [
        ("fm=jpg&chromasub=420", "fm=jpg"), ("fm=jpg&jpg-progressive=true", "fm=jpg"), ("fm=png&q=20", "fm=png"),
        ("fm=png&chromasub=444", "fm=png"), ("fm=jpg&lossless=1", "fm=jpg"), ("fm=webp&colorquant=8", "fm=webp"),
        ("fm=webp&dpi=300", "fm=webp"), ("fm=pjpg&jpg-progressive=false", "fm=pjpg"), ("fm=gif&cs=srgb", "fm=gif"),
        ("fm=jpg&cs=strip", "fm=jpg"), ("fm=png8&colorquant=256", "fm=png8"), ("fm=png&iptc=allow", "fm=png"),
        ("fm=jpg&dl=x.jpg", "fm=jpg"), ("fm=jpg&svg-sanitize=false", "fm=jpg"), ("fm=json&auto=enhance", "fm=json"),
        ("fm=json&q=10", "fm=json"), ("fm=png8&q=10", "fm=png8"), ("fm=jpg&jpeg-progressive=1", "fm=jpg"),
    ])
    func equivalentKeys(a: String, b: String) throws {
        #expect(try key(a) == key(b), "\(a) vs \(b)")
    }

    /// Should give every setting that changes the output its own key.
    @Test(arguments: [
        ("fm=jpg&chromasub=444", "fm=jpg"), ("fm=jpg&jpg-progressive=false", "fm=jpg"), ("fm=webp&lossless=1", "fm=webp"),
        ("fm=avif&lossless=1", "fm=avif"), ("fm=png8&colorquant=16", "fm=png8"), ("fm=gif&colorquant=16", "fm=gif"),
        ("fm=png&dpi=300", "fm=png"), ("fm=jpg&dpi=300", "fm=jpg"), ("fm=jpg&cs=srgb", "fm=jpg"),
        ("fm=jpg&cs=tinysrgb", "fm=jpg&cs=srgb"), ("fm=webp&cs=adobergb1998", "fm=webp"), ("fm=jpg&auto=enhance", "fm=jpg"),
        ("fm=blurhash&auto=enhance", "fm=blurhash"), ("fm=png8", "fm=png"), ("fm=png32", "fm=png"), ("fm=jp2", "fm=jpg"),
        ("fm=jp2&q=30", "fm=jp2"), ("fm=jpg&auto=compress", "fm=jpg"), ("chromasub=444", ""),
        ("fm=png&auto=format&lossless=1", "fm=png&auto=format"),
    ])
    func distinctKeys(a: String, b: String) throws {
        #expect(try key(a, accept: "image/webp") != key(b, accept: "image/webp"), "\(a) vs \(b)")
    }

    /// Should build a safe attachment header: no quotes, CR/LF, separators; RFC 6266 filename* for non-ASCII.
    @Test(arguments: [
        ("medium.jpg", "attachment; filename=\"medium.jpg\""),
        ("a\"b\r\nSet-Cookie: x.jpg", "attachment; filename=\"abSet-Cookie: x.jpg\""),
        ("../../etc/passwd", "attachment; filename=\"etcpasswd\""),
        ("..\\win.ini", "attachment; filename=\"win.ini\""),
        ("", "attachment; filename=\"cat.jpg\""),
        ("...", "attachment; filename=\"cat.jpg\""),
        ("café 1.jpg", "attachment; filename=\"caf_ 1.jpg\"; filename*=UTF-8''caf%C3%A9%201.jpg"),
        ("100%.png", "attachment; filename=\"100_.png\"; filename*=UTF-8''100%25.png"),
    ])
    func contentDisposition(dl: String, expected: String) throws {
        let o = try spec("dl64=" + Base64URL.encode(Array(dl.utf8))).output
        let value = o.contentDisposition(sourcePath: "/photos/cat.jpg")
        #expect(value == expected)
        #expect(value?.contains("\r") == false && value?.contains("\n") == false)
    }

    /// Should send no Content-Disposition without dl, and a fallback name when the path has none.
    @Test func contentDispositionFallback() throws {
        #expect(try spec("w=10").output.contentDisposition(sourcePath: "/a.jpg") == nil)
        #expect(try spec("dl=").output.contentDisposition(sourcePath: "/") == "attachment; filename=\"image\"")
    }
}
