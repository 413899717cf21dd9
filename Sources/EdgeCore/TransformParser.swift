/// Turns an imgix query string into a `TransformSpec`: aliases resolved, numbers normalised, ranges
/// checked, parameters that change nothing dropped. Pure; every failure names the parameter.
public enum TransformParser {
    /// Parameters this node implements; other imgix parameters are refused with a clear 400 rather than
    /// silently ignored, and non-imgix parameters are ignored as imgix does.
    static let implemented: Set<String> = ["w", "h", "fit", "crop", "dpr", "fm", "q", "auto", "bg", "s"]

    /// Parses a raw (still percent-encoded) query string, without the leading `?`.
    public static func parse(query: Substring) throws(EdgeError) -> TransformSpec {
        var values: [String: (value: String, name: String)] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let (rawName, rawValue) = splitPair(pair)
            guard let name = PercentDecoding.decode(rawName, plusAsSpace: true),
                  let value = PercentDecoding.decode(rawValue, plusAsSpace: true)
            else { throw .badRequest("query string is not valid percent-encoded UTF-8") }
            let lower = name.lowercased()
            let canonical = ImgixParameters.aliases[lower] ?? lower
            guard ImgixParameters.names.contains(canonical) || canonical == "s" else { continue }
            guard implemented.contains(canonical) else {
                throw .badParameter(name, "parameter \(name) is not supported by this node")
            }
            // imgix uses the first occurrence of a repeated parameter.
            if values[canonical] == nil { values[canonical] = (value, name) }
        }
        return try build(values)
    }

    private static func build(_ values: [String: (value: String, name: String)]) throws(EdgeError) -> TransformSpec {
        var spec = TransformSpec()
        var dpr = 1.0
        if let (v, n) = values["dpr"] {
            guard let d = parseNumber(v), d > 0, d <= 5 else {
                throw .badParameter(n, "dpr must be a number greater than 0 and at most 5")
            }
            dpr = d
        }
        if let (v, n) = values["w"] { spec.width = try dimension(v, name: n, dpr: dpr) }
        if let (v, n) = values["h"] { spec.height = try dimension(v, name: n, dpr: dpr) }
        if let (v, n) = values["fit"] {
            guard let fit = FitMode(rawValue: v.lowercased()) else {
                if ["clamp", "facearea", "fillmax"].contains(v.lowercased()) {
                    throw .badParameter(n, "fit=\(v) is not supported by this node")
                }
                throw .badParameter(n, "fit must be one of clip, crop, fill, max, min, scale")
            }
            spec.fit = fit
        }
        if let (v, n) = values["crop"], spec.fit == .crop || spec.fit == .min {
            spec.gravity = try gravity(v, name: n)
        }
        if let (v, n) = values["fm"] {
            guard let fm = OutputFormat(rawValue: v.lowercased()) else {
                if ["jp2", "json", "jxr", "mp4", "png8", "png32", "webm", "blurhash"].contains(v.lowercased()) {
                    throw .badParameter(n, "fm=\(v) is not supported by this node")
                }
                throw .badParameter(n, "fm must be one of avif, gif, jpg, pjpg, png, webp")
            }
            spec.format = fm
        }
        if let (v, n) = values["q"] {
            guard let q = parseNumber(v), q == q.rounded(), q >= 0, q <= 100 else {
                throw .badParameter(n, "q must be an integer from 0 to 100")
            }
            spec.quality = max(1, Int(q))
        }
        if let (v, n) = values["auto"] {
            for item in v.split(separator: ",") {
                switch item.trimmingSpaces.lowercased() {
                case "format": spec.autoFormat = true
                case "compress", "enhance", "redeye", "true":
                    throw .badParameter(n, "auto=\(item) is not supported by this node")
                default: throw .badParameter(n, "auto must be a list of format, compress, enhance, redeye")
                }
            }
        }
        if let (v, n) = values["bg"] {
            guard let c = ColorParser.parse(v) else {
                throw .badParameter(n, "bg must be a hex colour: RGB, ARGB, RRGGBB or AARRGGBB")
            }
            spec.background = c
        }
        return spec
    }

    private static func dimension(_ v: String, name: String, dpr: Double) throws(EdgeError) -> Dimension {
        guard let d = parseNumber(v), d > 0 else {
            throw .badParameter(name, "\(name) must be a positive number of pixels or a fraction from 0 to 1")
        }
        if d <= 1 { return .fraction(d * dpr) }
        // Far beyond the 8192 output cap the value can only be a mistake; cap the arithmetic, not the meaning.
        guard d <= 1_000_000 else { throw .badParameter(name, "\(name) is too large") }
        return .pixels(d.rounded() * dpr)
    }

    private static func gravity(_ v: String, name: String) throws(EdgeError) -> CropGravity {
        var g = CropGravity.center
        for item in v.split(separator: ",") {
            switch item.trimmingSpaces.lowercased() {
            case "top": g.vertical = .top
            case "bottom": g.vertical = .bottom
            case "left": g.horizontal = .left
            case "right": g.horizontal = .right
            case "faces", "entropy", "edges", "focalpoint":
                throw .badParameter(name, "crop=\(item) is not supported by this node")
            default: throw .badParameter(name, "crop must be a list of top, bottom, left, right")
            }
        }
        return g
    }

    /// A finite decimal number: `400`, `400.0`, `+400`, `.5`. No hex, exponents, infinities or NaN.
    static func parseNumber(_ s: String) -> Double? {
        let t = s.trimmingSpaces
        guard !t.isEmpty, t.utf8.count <= 32 else { return nil }
        var sawDigit = false, sawDot = false
        for (i, c) in t.utf8.enumerated() {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
            case UInt8(ascii: "."): if sawDot { return nil }; sawDot = true
            case UInt8(ascii: "+"), UInt8(ascii: "-"): if i != 0 { return nil }
            default: return nil
            }
        }
        guard sawDigit, let d = Double(t), d.isFinite else { return nil }
        return d
    }

    private static func splitPair(_ pair: Substring) -> (Substring, Substring) {
        guard let eq = pair.firstIndex(of: "=") else { return (pair, "") }
        return (pair[..<eq], pair[pair.index(after: eq)...])
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

/// imgix hex colours: `RGB`, `ARGB`, `RRGGBB`, `AARRGGBB` (an optional leading `#`).
public enum ColorParser {
    public static func parse(_ raw: String) -> RGBAColor? {
        var s = Substring(raw.lowercased())
        if s.first == "#" { s.removeFirst() }
        guard s.allSatisfy(\.isHexDigit) else { return nil }
        let digits = s.compactMap { $0.hexDigitValue }.map(UInt8.init)
        func pair(_ i: Int) -> UInt8 { digits[i] << 4 | digits[i + 1] }
        switch digits.count {
        case 3: return RGBAColor(red: digits[0] * 17, green: digits[1] * 17, blue: digits[2] * 17)
        case 4: return RGBAColor(red: digits[1] * 17, green: digits[2] * 17, blue: digits[3] * 17, alpha: digits[0] * 17)
        case 6: return RGBAColor(red: pair(0), green: pair(2), blue: pair(4))
        case 8: return RGBAColor(red: pair(2), green: pair(4), blue: pair(6), alpha: pair(0))
        default: return nil
        }
    }
}
