/// imgix text parameters (`txt*`): one line of text drawn over the output.
public struct TextSpec: ParameterGroup {
    static let parameters: Set<String> = [
        "txt", "txt-font", "txt-size", "txt-color", "txt-align", "txt-pad", "txt-shad", "txt-width", "txt-clip",
        "txt-line", "txt-line-color", "txt-fit", "txt-x", "txt-y", "txt-lead", "txt-track",
    ]

    /// Longest text accepted, in characters (grapheme clusters). imgix's `txt` is for one line; this bounds
    /// the layout work (each measurement lays the whole string out).
    public static let maxCharacters = 1000
    /// Largest font size, outline, padding, width and position in pixels (after `dpr`): the output cap.
    public static let maxPixels = 8192
    /// Outline widths are clamped here (after `dpr`): erosion costs (2 × line + 1) per pixel and pass, and a
    /// wider outline than this fills any glyph a readable text uses.
    public static let maxLine = 100

    /// Which parts of a too-long line are cut (imgix `txt-clip`).
    public enum Clip: String, Sendable, Hashable { case start, middle, end }

    /// nil: no text (every other `txt-*` parameter is then ignored, as imgix does).
    public var text: String?
    public var font = TextFont.default
    /// Font size in pixels (after `dpr`).
    public var size: Double = 12
    /// imgix's default: opaque black.
    public var color = RGBAColor(red: 0, green: 0, blue: 0)
    public var vertical: OverlayAlign.Vertical = .bottom
    public var horizontal: OverlayAlign.Horizontal = .right
    public var pad: Double = 10
    /// Halo strength 0–10: the blur radius (sigma) in pixels, times `dpr`.
    public var shadow: Double = 0
    /// Width of the text box in pixels (after `dpr`); nil means the image width less the padding.
    public var width: Double?
    public var clip = Clip.end
    public var ellipsis = false
    /// Outline width in pixels (after `dpr`), drawn inside the glyph edges.
    public var line: Double = 0
    public var lineColor = RGBAColor.white
    /// `txt-fit=max`: shrink the text to fit the box instead of clipping it.
    public var fitMax = false
    public var x: Double?
    public var y: Double?
    /// Extra space between letters in pixels (after `dpr`).
    public var track: Double = 0

    public init() {}

    init(_ r: ParameterReader) throws(EdgeError) {
        // imgix measures text lengths in CSS pixels times dpr (txt-width, txt-pad); the parser has checked dpr.
        let dprValue = (try? r.number("dpr", in: 0...5)) ?? nil
        let dpr = (dprValue ?? 1) > 0 ? dprValue ?? 1 : 1
        func pixels(_ name: String, min: Int = 0) throws(EdgeError) -> Double? {
            guard let v = try r.integer(name, in: min...Self.maxPixels) else { return nil }
            let scaled = Double(v) * dpr
            guard abs(scaled) <= Double(Self.maxPixels) else {
                throw .badParameter(r.written(name), "\(r.written(name)) times dpr must be at most \(Self.maxPixels)")
            }
            return scaled
        }
        if let raw = r.raw("txt") {
            // One line: control characters (newlines, tabs) become spaces.
            let clean = String(String.UnicodeScalarView(raw.value.unicodeScalars.map {
                $0.properties.generalCategory == .control ? " " : $0
            }))
            guard clean.count <= Self.maxCharacters else {
                throw .badParameter(raw.written, "\(raw.written) must be at most \(Self.maxCharacters) characters")
            }
            if !clean.trimmingSpaces.isEmpty { text = clean }
        }
        if let f = r.raw("txt-font") { font = try TextFont.parse(f.value, written: f.written) }
        size = try pixels("txt-size") ?? 12 * dpr
        color = try r.color("txt-color") ?? color
        let (v, h) = try OverlayAlign.parse(r, "txt-align")
        vertical = v ?? .bottom
        horizontal = h ?? .right
        pad = try pixels("txt-pad") ?? 10 * dpr
        shadow = (try r.number("txt-shad", in: 0...10, clamp: true) ?? 0) * dpr
        width = try pixels("txt-width").flatMap { $0 > 0 ? $0 : nil }
        for item in r.list("txt-clip") ?? [] {
            switch item {
            case "start": clip = .start
            case "middle": clip = .middle
            case "end": clip = .end
            case "ellipsis": ellipsis = true
            default: throw .badParameter(r.written("txt-clip"), "txt-clip must be a list of start, middle, end, ellipsis")
            }
        }
        let outline = try r.number("txt-line", in: 0...Double(Self.maxLine), clamp: true) ?? 0
        line = Swift.min(outline * dpr, Double(Self.maxLine)).rounded()
        lineColor = try r.color("txt-line-color") ?? .white
        if let fit = r.raw("txt-fit") {
            guard fit.value.lowercased() == "max" else { throw .badParameter(fit.written, "txt-fit must be max") }
            fitMax = true
        }
        x = try r.integer("txt-x", in: -Self.maxPixels...Self.maxPixels, clamp: true).map { Double($0) * dpr }
        y = try r.integer("txt-y", in: -Self.maxPixels...Self.maxPixels, clamp: true).map { Double($0) * dpr }
        // Leading spaces lines apart; `txt` is drawn on one line (imgix applies it on its multi-line endpoint
        // only), so it is checked and changes nothing.
        _ = try pixels("txt-lead")
        track = Double(try r.integer("txt-track", in: -100...100) ?? 0) * dpr
        // Without text the other values were only checked: equal specs for equal outputs.
        if text == nil { self = TextSpec() }
    }

    func canonical(into out: inout [String]) {
        guard let text, size > 0 else { return }
        func px(_ d: Double) -> String { NumberText.format(d) }
        out.append("txt=" + CanonicalText.escape(text))
        out.append("txt-font=\(font)")
        out.append("txt-size=\(px(size))")
        out.append("txt-color=\(color)")
        if x == nil { out.append("txt-align-h=\(horizontal.rawValue)") }
        if y == nil { out.append("txt-align-v=\(vertical.rawValue)") }
        if let x { out.append("txt-x=\(px(x))") }
        if let y { out.append("txt-y=\(px(y))") }
        // The padding sets the default box width and the distance from aligned edges.
        out.append("txt-pad=\(px(pad))")
        if let width { out.append("txt-width=\(px(width))") }
        if shadow > 0 { out.append("txt-shad=\(px(shadow))") }
        // Clipping and fitting only act when the line is too long; both are always part of the output's recipe.
        if fitMax { out.append("txt-fit=max") } else { out.append("txt-clip=\(clip.rawValue)" + (ellipsis ? ",ellipsis" : "")) }
        if line > 0 { out.append("txt-line=\(px(line))"); out.append("txt-line-color=\(lineColor)") }
        if track != 0 { out.append("txt-track=\(px(track))") }
    }
}

/// A typeface this node can draw, resolved from an imgix font name: a DejaVu family (the one font package the
/// node installs) chosen by the requested face's class, with its weight and slant.
public struct TextFont: Sendable, Hashable, CustomStringConvertible {
    public enum Family: String, Sendable, Hashable { case sans, serif, mono }
    public var family: Family
    public var bold: Bool
    public var italic: Bool

    public init(family: Family, bold: Bool, italic: Bool) {
        self.family = family
        self.bold = bold
        self.italic = italic
    }

    /// imgix draws HelveticaNeue when `txt-font` is absent.
    public static let `default` = TextFont(family: .sans, bold: false, italic: false)

    /// Canonical spelling (`sans,bold`).
    public var description: String {
        ([family.rawValue] + (bold ? ["bold"] : []) + (italic ? ["italic"] : [])).joined(separator: ",")
    }

    /// The Pango font description for `pixels` at 72 dpi (where a point is a pixel).
    public func pango(pixels: Double) -> String {
        let name = switch family {
        case .sans: "DejaVu Sans"
        case .serif: "DejaVu Serif"
        case .mono: "DejaVu Sans Mono"
        }
        var style: [String] = []
        if bold { style.append("Bold") }
        if italic { style.append(family == .serif ? "Italic" : "Oblique") }
        let size = NumberText.format((pixels * 100).rounded() / 100)
        return "\(name), " + (style + [size]).joined(separator: " ")
    }

    /// imgix font families this node knows, by normalised name (lower case, no spaces, hyphens or
    /// underscores), with the class of face that stands in for them.
    static let families: [String: Family] = [
        // CSS generic names.
        "sansserif": .sans, "serif": .serif, "monospace": .mono, "cursive": .serif, "fantasy": .sans,
        // Sans-serif faces.
        "helvetica": .sans, "helveticaneue": .sans, "arial": .sans, "arialmt": .sans, "arialnarrow": .sans,
        "arialunicodems": .sans, "arialroundedmt": .sans, "verdana": .sans, "tahoma": .sans, "trebuchetms": .sans,
        "trebuchet": .sans, "avenir": .sans, "avenirnext": .sans, "avenirnextcondensed": .sans, "futura": .sans,
        "gillsans": .sans, "lucidagrande": .sans, "geneva": .sans, "optima": .sans, "lato": .sans, "ptsans": .sans,
        "liberationsans": .sans, "liberationsansnarrow": .sans, "nimbussans": .sans, "nimbussanl": .sans,
        "dejavusans": .sans, "opensans": .sans, "roboto": .sans, "sourcesanspro": .sans, "segoeui": .sans,
        "microsoftsansserif": .sans, "seravek": .sans, "skia": .sans, "urwgothic": .sans, "impact": .sans,
        // Serif faces.
        "times": .serif, "timesnewroman": .serif, "timesnewromanps": .serif, "georgia": .serif,
        "baskerville": .serif, "palatino": .serif, "bookantiqua": .serif, "garamond": .serif,
        "hoeflertext": .serif, "didot": .serif, "bodoni": .serif, "cochin": .serif, "charter": .serif,
        "iowanoldstyle": .serif, "athelas": .serif, "ptserif": .serif, "liberationserif": .serif,
        "nimbusroman": .serif, "nimbusromno9l": .serif, "dejavuserif": .serif, "bigcaslon": .serif,
        "superclarendon": .serif, "rockwell": .serif, "americantypewriter": .serif, "centuryschl": .serif,
        "c059": .serif, "p052": .serif, "urwpalladiol": .serif, "urwbookman": .serif, "stixgeneral": .serif,
        // Monospaced faces.
        "courier": .mono, "couriernew": .mono, "couriernewps": .mono, "menlo": .mono, "monaco": .mono,
        "andalemono": .mono, "ptmono": .mono, "liberationmono": .mono, "nimbusmono": .mono, "nimbusmonops": .mono,
        "nimbusmonl": .mono, "dejavusansmono": .mono, "sfmono": .mono, "notomono": .mono, "consolas": .mono,
    ]

    /// Words a PostScript name appends to its family (`Arial-BoldItalicMT`), and what they set.
    static let styleWords: [(word: String, bold: Bool, italic: Bool)] = [
        ("bolditalic", true, true), ("boldoblique", true, true), ("extrabold", true, false),
        ("ultrabold", true, false), ("semibold", true, false), ("demibold", true, false), ("bold", true, false),
        ("black", true, false), ("heavy", true, false), ("demi", true, false), ("medium", false, false), ("medi", true, false),
        ("italic", false, true), ("oblique", false, true), ("inclined", false, true), ("ital", false, true),
        ("obli", false, true), ("bdita", true, true), ("regular", false, false), ("roman", false, false),
        ("book", false, false), ("light", false, false), ("ultralight", false, false),
        ("extralight", false, false), ("thin", false, false), ("condensed", false, false), ("narrow", false, false),
        ("regu", false, false), ("roma", false, false), ("ligh", false, false), ("normal", false, false),
        ("plain", false, false), ("std", false, false), ("mt", false, false), ("ps", false, false),
    ]

    /// Parses imgix `txt-font`: a CSS generic name or a face name (`Helvetica Neue`, `Arial-BoldMT`), then
    /// optional `bold` / `italic` items. A face this node has no stand-in class for is a 400, not a
    /// silent substitution.
    static func parse(_ value: String, written: String) throws(EdgeError) -> TextFont {
        let items = value.split(separator: ",").map { $0.trimmingSpaces.lowercased() }.filter { !$0.isEmpty }
        guard let first = items.first else { throw .badParameter(written, "\(written) must name a font") }
        let name = String(first.unicodeScalars.filter { $0 != " " && $0 != "-" && $0 != "_" }.map(Character.init))
        var font = TextFont.default
        var matched = false
        // The longest known family that starts the name; the rest must be style words.
        for (family, cls) in families.sorted(by: { $0.key.count > $1.key.count }) where name.hasPrefix(family) {
            guard let style = styles(in: name.dropFirst(family.count)) else { continue }
            font = TextFont(family: cls, bold: style.bold, italic: style.italic)
            matched = true
            break
        }
        guard matched else {
            throw .badParameter(written, "font \(first) is not available on this node (use sans-serif, serif, monospace or a common face name)")
        }
        for item in items.dropFirst() {
            switch item {
            case "bold": font.bold = true
            case "italic": font.italic = true
            default: throw .badParameter(written, "\(written) style must be bold or italic")
            }
        }
        return font
    }

    /// The style a run of style words sets, or nil when `rest` is not made of style words only.
    private static func styles(in rest: Substring) -> (bold: Bool, italic: Bool)? {
        var rest = rest, bold = false, italic = false
        while !rest.isEmpty {
            guard let w = styleWords.first(where: { rest.hasPrefix($0.word) }) else { return nil }
            bold = bold || w.bold
            italic = italic || w.italic
            rest = rest.dropFirst(w.word.count)
        }
        return (bold, italic)
    }
}
