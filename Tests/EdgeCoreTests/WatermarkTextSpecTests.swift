import EdgeCore
import Testing

@Suite struct WatermarkTextSpecTests {
    private func canonical(_ query: String) throws -> String {
        try spec(query).canonical(for: .format(.png))
    }

    /// Should read `m`, `markalign`, `malph`, `mp` as their canonical names and resolve a relative path.
    @Test func markAliases() throws {
        let s = try spec("m=logo.png&markalign=top,left&malph=40&mp=12&mw=0.5&mh=30&mf=crop&mx=-3")
        #expect(s.watermark.reference?.description == "/logo.png")
        #expect(s.watermark.vertical == .top && s.watermark.horizontal == .left)
        #expect(s.watermark.alpha == 40)
        #expect(s.watermark.pad == 12)
        #expect(s.watermark.width == .fraction(0.5))
        #expect(s.watermark.height == .pixels(30))
        #expect(s.watermark.fit == .crop)
        #expect(s.watermark.x == -3)
    }

    /// Should decode `mark64` and `txt64` (URL-safe base64) into the same spec as the plain spellings.
    @Test func base64Variants() throws {
        let mark = Base64URL.encode(Array("/wm/logo & co.png".utf8))
        let text = Base64URL.encode(Array("Hello, <wörld> & +".utf8))
        let a = try spec("mark64=\(mark)&txt64=\(text)")
        let b = try spec("mark=%2Fwm%2Flogo%20%26%20co.png&txt=Hello%2C%20%3Cw%C3%B6rld%3E%20%26%20%2B")
        #expect(a.watermark == b.watermark)
        #expect(a.text.text == "Hello, <wörld> & +")
        #expect(a.text == b.text)
        #expect(try canonical("mark64=\(mark)&txt64=\(text)") == canonical("mark=%2Fwm%2Flogo%20%26%20co.png&txt=Hello%2C%20%3Cw%C3%B6rld%3E%20%26%20%2B"))
    }

    /// Should give imgix's defaults and explicit defaults the same key, and ignore mark-* without a mark.
    @Test func canonicalDefaults() throws {
        #expect(try canonical("mark=/a.png") == canonical("mark=/a.png&mark-align=bottom,right&mark-pad=5&mark-alpha=100&mark-rot=360"))
        #expect(try canonical("mark=/a.png&mark-tile=grid") == canonical("mark=/a.png&mark-tile=grid&mark-align=left,top"))
        #expect(try canonical("mark-w=40&mark-alpha=3&txt-size=40") == canonical(""))
        #expect(try canonical("txt=hi") == canonical("txt=hi&txt-size=12&txt-color=000&txt-align=bottom,right&txt-pad=10&txt-clip=end&txt-lead=4"))
        #expect(try canonical("txt=hi&txt-font=Helvetica") == canonical("txt=hi&txt-font=sans-serif"))
        #expect(try canonical("txt=hi&txt-font=Arial-BoldItalicMT") == canonical("txt=hi&txt-font=sans-serif,italic,bold"))
        // Padding of a centred mark moves nothing; with one dimension, crop keeps the aspect like clip.
        #expect(try canonical("mark=/a.png&mark-align=middle,center&mark-pad=40") == canonical("mark=/a.png&mark-align=middle,center"))
        #expect(try canonical("mark=/a.png&mark-w=50&mark-fit=crop") == canonical("mark=/a.png&mark-w=50"))
    }

    /// Should give every output-changing mark and txt setting its own key.
    @Test func canonicalDistinguishes() throws {
        let queries = [
            "mark=/a.png", "mark=/b.png", "mark=https://cdn.example/a.png", "mark=/a.png&mark-w=40",
            "mark=/a.png&mark-w=0.4", "mark=/a.png&mark-h=40", "mark=/a.png&mark-w=40&mark-h=40",
            "mark=/a.png&mark-w=40&mark-h=40&mark-fit=crop", "mark=/a.png&mark-scale=20", "mark=/a.png&mark-alpha=50",
            "mark=/a.png&mark-pad=6", "mark=/a.png&mark-x=3", "mark=/a.png&mark-y=3", "mark=/a.png&mark-tile=grid",
            "mark=/a.png&mark-rot=30", "mark=/a.png&mark-align=top", "mark=/a.png&mark-if-min-width=300",
            "mark=/a.png&mark-if-min-height=300", "mark-base=/wm&mark=/a.png",
            "txt=hi", "txt=ho", "txt=hi&txt-size=13", "txt=hi&txt-color=f00", "txt=hi&txt-align=top",
            "txt=hi&txt-pad=0", "txt=hi&txt-shad=2", "txt=hi&txt-width=100", "txt=hi&txt-clip=start",
            "txt=hi&txt-clip=end,ellipsis", "txt=hi&txt-line=2", "txt=hi&txt-line=2&txt-line-color=f00",
            "txt=hi&txt-fit=max", "txt=hi&txt-x=4", "txt=hi&txt-y=4", "txt=hi&txt-font=serif",
            "txt=hi&txt-font=monospace,bold", "txt=hi&txt-track=2", "txt=hi&dpr=2&w=10",
            "txt=hi%26txt-size%3D20", "txt=hi&txt-size=20",
        ]
        var seen: [String: String] = [:]
        for q in queries {
            let c = try canonical(q)
            #expect(seen[c] == nil, "\(q) and \(seen[c] ?? "") share \(c)")
            seen[c] = q
        }
    }

    /// Should refuse out-of-range and malformed mark values with a 400 naming the parameter as written.
    @Test func markErrors() {
        for (query, param) in [
            ("mark=/a.png&mark-w=9000", "mark-w"), ("mark=/a.png&mh=-1", "mh"), ("mark=/a.png&mark-alpha=101", "mark-alpha"),
            ("mark=/a.png&mark-fit=fillmax", "mark-fit"), ("mark=/a.png&mark-align=up", "mark-align"),
            ("mark=/a.png&mark-tile=random", "mark-tile"), ("mark=/a.png&mark-scale=101", "mark-scale"),
            ("mark=ftp://x/a.png", "mark"), ("mark=/a.png%3Fw%3D160", "mark"), ("m=/../etc/passwd", "m"),
            ("mark=//evil.example/a.png", "mark"), ("mark=/a.png&mark-pad=9000", "mark-pad"),
        ] {
            let e = parseError(query)
            #expect(e?.status == 400, "\(query)")
            #expect(e?.param == param, "\(query)")
        }
    }

    /// Should refuse unknown fonts, bad styles, over-long text and bad txt values with a 400.
    @Test func textErrors() {
        for (query, param) in [
            ("txt=hi&txt-font=Comic%20Sans%20Wild", "txt-font"), ("txt=hi&tf=sans-serif,wide", "tf"),
            ("txt=hi&txt-size=9000", "txt-size"), ("txt=hi&txt-clip=left", "txt-clip"), ("txt=hi&txt-fit=min", "txt-fit"),
            ("txt=hi&txt-color=zz", "txt-color"), ("txt=hi&txt-size=2000&dpr=5&w=10", "txt-size"),
            ("txt=" + String(repeating: "a", count: 1001), "txt"),
        ] {
            let e = parseError(query)
            #expect(e?.status == 400, "\(query)")
            #expect(e?.param == param, "\(query)")
        }
    }

    /// Should map imgix face names and CSS generics onto the installed DejaVu families with weight and slant.
    @Test func fonts() throws {
        #expect(try spec("txt=a&txt-font=Futura%20Condensed%20Medium").text.font == TextFont(family: .sans, bold: false, italic: false))
        #expect(try spec("txt=a&txt-font=Times-BoldItalic").text.font == TextFont(family: .serif, bold: true, italic: true))
        #expect(try spec("txt=a&txt-font=Menlo-Bold").text.font == TextFont(family: .mono, bold: true, italic: false))
        #expect(try spec("txt=a&txt-font=Georgia,italic").text.font == TextFont(family: .serif, bold: false, italic: true))
        #expect(try spec("txt=a&txt-font=monospace").text.font.pango(pixels: 20) == "DejaVu Sans Mono, 20")
        #expect(try spec("txt=a&txt-font=HelveticaNeue-BoldItalic").text.font.pango(pixels: 12.5) == "DejaVu Sans, Bold Oblique 12.5")
    }

    /// Should multiply text lengths by dpr, default to imgix's black 12 px bottom-right text, and clamp txt-shad.
    @Test func textDefaultsAndDpr() throws {
        let d = try spec("txt=hi").text
        #expect(d.size == 12 && d.pad == 10 && d.color == RGBAColor(red: 0, green: 0, blue: 0, alpha: 255))
        #expect(d.vertical == .bottom && d.horizontal == .right && d.clip == .end && !d.ellipsis)
        let s = try spec("txt=hi&w=100&dpr=2&txt-size=20&txt-pad=5&txt-width=50&txt-line=3&txt-shad=30").text
        #expect(s.size == 40 && s.pad == 10 && s.width == 100 && s.line == 6 && s.shadow == 20)
        #expect(try spec("t=a%0Ab").text.text == "a b")
        #expect(try spec("txt=%20%20").text.text == nil)
    }

    /// Should resolve a mark onto the request's source: paths anywhere, URLs only under a web source's base URL.
    @Test func markOnSource() throws {
        let web = SourceConfig(name: "w", kind: .web, baseURL: "https://origin.example/img")
        let folder = SourceConfig(name: "f", kind: .folder, root: "/srv/img")
        #expect(try spec("mark=/wm/a%20b.png").watermark.path(on: folder)?.description == "/wm/a b.png")
        #expect(try spec("mark=https://ORIGIN.example/img/wm/a.png").watermark.path(on: web)?.description == "/wm/a.png")
        #expect(try spec("mark-base=https://origin.example/img/wm/&mark=a.png").watermark.path(on: web)?.description == "/wm/a.png")
        #expect(try spec("txt=x").watermark.path(on: web) == nil)
        for (query, source) in [
            ("mark=https://other.example/img/a.png", web), ("mark=https://origin.example/imgx/a.png", web),
            ("mark=https://origin.example/img/../secret.png", web), ("mark=https://origin.example/img/a.png", folder),
        ] {
            do {
                _ = try spec(query).watermark.path(on: source)
                Issue.record("\(query) should be refused")
            } catch let e as EdgeError {
                #expect(e.status == 400 && e.param == "mark", "\(query)")
            }
        }
    }

    /// Should put the mark reference into the cache key: another mark, another key.
    @Test func keyIncludesMark() throws {
        #expect(try key("mark=/a.png") != key("mark=/b.png"))
        #expect(try key("mark=/a.png") != key(""))
        #expect(try key("m=/a.png&mark-alpha=100") == key("mark=a.png"))
    }
}
