/// The parameters of one request, after the generic imgix rules and before any meaning is given to them:
/// names lower-cased, aliases resolved to canonical names, `<name>64` values decoded (URL-safe base64,
/// padding optional), the first occurrence of a repeated parameter kept (except `auto`, whose values imgix
/// adds up), non-imgix names dropped, and a
/// source's `defaultParams` filled in where the URL is silent. Typed accessors check values and name the
/// parameter in every error.
public struct ParameterReader: Sendable {
    struct Entry: Sendable {
        var value: String
        /// The name as written in the URL (for error messages).
        var written: String
    }

    private(set) var entries: [String: Entry] = [:]

    /// Parses a raw (still percent-encoded) query string, without the leading `?`.
    public init(query: Substring, defaults: [(name: String, value: String)] = []) throws(EdgeError) {
        // Split on the bytes `&` and `=`, as the signature check does: a neighbour that joins one of them into a
        // grapheme cluster (a combining mark after it, U+0600 before it) must not hide it.
        for bytes in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let pair = Substring(bytes)
            let eq = pair.utf8.firstIndex(of: UInt8(ascii: "="))
            let rawName = eq.map { pair[..<$0] } ?? pair
            let rawValue = eq.map { pair[pair.utf8.index(after: $0)...] } ?? ""
            guard let name = PercentDecoding.decode(rawName, plusAsSpace: true),
                  let value = PercentDecoding.decode(rawValue, plusAsSpace: true)
            else { throw .badRequest("query string is not valid percent-encoded UTF-8") }
            try add(name: name, value: value, overwrite: false)
        }
        // A source's defaults fill in only what the URL leaves out (an `auto` in the URL replaces the default's).
        for d in defaults {
            let lower = d.name.lowercased()
            let canonical = Self.canonicalName(lower) ?? (lower.hasSuffix("64") ? Self.canonicalName(String(lower.dropLast(2))) : nil)
            if let canonical, entries[canonical] != nil { continue }
            try add(name: d.name, value: d.value, overwrite: false)
        }
    }

    private mutating func add(name: String, value: String, overwrite: Bool) throws(EdgeError) {
        let lower = name.lowercased()
        if let canonical = Self.canonicalName(lower) {
            // imgix lets `auto` repeat (`auto=format&auto=compress`): its values add up.
            if canonical == "auto", let existing = entries[canonical], !overwrite {
                entries[canonical] = Entry(value: existing.value + "," + value, written: existing.written)
                return
            }
            if entries[canonical] == nil || overwrite { entries[canonical] = Entry(value: value, written: name) }
            return
        }
        // `<name>64`: the value is URL-safe base64 of the real value.
        if lower.hasSuffix("64"), let canonical = Self.canonicalName(String(lower.dropLast(2))) {
            guard !ImgixParameters.disallowBase64.contains(canonical) else {
                throw .badParameter(name, "\(canonical) cannot be base64-encoded")
            }
            guard let decoded = Base64URL.decodeString(value) else {
                throw .badParameter(name, "\(name) must be URL-safe base64 of UTF-8 text")
            }
            if entries[canonical] == nil || overwrite { entries[canonical] = Entry(value: decoded, written: name) }
        }
        // Anything else is not an imgix parameter: ignored, as imgix does.
    }

    /// Replaces a parameter's value (a client hint overriding the URL's `dpr`).
    mutating func set(_ name: String, _ value: String) {
        entries[name] = Entry(value: value, written: name)
    }

    static func canonicalName(_ lower: String) -> String? {
        if ImgixParameters.names.contains(lower) { return lower }
        if let a = ImgixParameters.aliases[lower] { return a }
        return nil
    }

    /// Canonical names present.
    var names: Dictionary<String, Entry>.Keys { entries.keys }

    public func has(_ name: String) -> Bool { entries[name] != nil }

    /// The decoded value, and the name it was written as.
    public func raw(_ name: String) -> (value: String, written: String)? {
        entries[name].map { ($0.value, $0.written) }
    }

    /// An integer (`400`, `+400`, `400.0`). Outside `range`: clamped into it when `clamp`, else a 400 naming it.
    public func integer(_ name: String, in range: ClosedRange<Int>, clamp: Bool = false) throws(EdgeError) -> Int? {
        guard let e = entries[name] else { return nil }
        guard let d = NumberText.parse(e.value), d == d.rounded(), abs(d) < 1e12 else {
            throw .badParameter(e.written, "\(e.written) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        let n = Int(d)
        if range.contains(n) { return n }
        if clamp { return min(max(n, range.lowerBound), range.upperBound) }
        throw .badParameter(e.written, "\(e.written) must be an integer from \(range.lowerBound) to \(range.upperBound)")
    }

    /// A decimal number. Outside `range`: clamped when `clamp`, else a 400 naming it.
    public func number(_ name: String, in range: ClosedRange<Double>, clamp: Bool = false) throws(EdgeError) -> Double? {
        guard let e = entries[name] else { return nil }
        let message = "\(e.written) must be a number from \(NumberText.format(range.lowerBound)) to \(NumberText.format(range.upperBound))"
        guard let d = NumberText.parse(e.value) else { throw .badParameter(e.written, message) }
        if range.contains(d) { return d }
        if clamp { return min(max(d, range.lowerBound), range.upperBound) }
        throw .badParameter(e.written, message)
    }

    /// `true`/`false` (also `1`/`0`).
    public func boolean(_ name: String) throws(EdgeError) -> Bool? {
        guard let e = entries[name] else { return nil }
        switch e.value.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw .badParameter(e.written, "\(e.written) must be true or false")
        }
    }

    /// One of a fixed set of values (case-insensitive).
    public func choice<T: RawRepresentable>(_ name: String, _ type: T.Type) throws(EdgeError) -> T?
    where T.RawValue == String, T: CaseIterable {
        guard let e = entries[name] else { return nil }
        guard let v = T(rawValue: e.value.lowercased()) else {
            let all = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw .badParameter(e.written, "\(e.written) must be one of \(all)")
        }
        return v
    }

    /// A comma-separated list, items trimmed and lower-cased, empty items dropped.
    public func list(_ name: String) -> [String]? {
        guard let e = entries[name] else { return nil }
        return e.value.split(separator: ",").map { $0.trimmingSpaces.lowercased() }.filter { !$0.isEmpty }
    }

    /// A colour: hex (`RGB`, `ARGB`, `RRGGBB`, `AARRGGBB`, optional `#`) or a CSS colour keyword.
    public func color(_ name: String) throws(EdgeError) -> RGBAColor? {
        guard let e = entries[name] else { return nil }
        guard let c = ColorParser.parse(e.value) else {
            throw .badParameter(e.written, "\(e.written) must be a hex colour (RGB, ARGB, RRGGBB, AARRGGBB) or a colour keyword")
        }
        return c
    }

    /// The name as written in the URL (for messages about a parameter that is present).
    public func written(_ name: String) -> String { entries[name]?.written ?? name }
}

/// imgix hex colours and CSS colour keywords.
public enum ColorParser {
    public static func parse(_ raw: String) -> RGBAColor? {
        var s = Substring(raw.lowercased().trimmingSpaces)
        if let v = ColorKeywords.values[String(s)] {
            return RGBAColor(red: UInt8(v >> 16 & 0xff), green: UInt8(v >> 8 & 0xff), blue: UInt8(v & 0xff))
        }
        if s.first == "#" { s.removeFirst() }
        guard !s.isEmpty, s.allSatisfy(\.isHexDigit) else { return nil }
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

/// Decimal numbers as imgix URLs write them.
public enum NumberText {
    /// A finite decimal: `400`, `400.0`, `+400`, `-5`, `.5`. No hex, exponents, infinities or NaN.
    public static func parse(_ s: String) -> Double? {
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
        return d == 0 ? 0 : d  // no negative zero
    }

    /// Shortest decimal that round-trips: 400 → "400", 0.5 → "0.5".
    public static func format(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return String(d)
    }
}

/// URL-safe base64 (RFC 4648 §5), padding optional; also accepts the standard alphabet.
public enum Base64URL {
    public static func decode(_ s: String) -> [UInt8]? {
        var bits: UInt32 = 0, count = 0
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count * 3 / 4)
        var padding = 0
        for c in s.utf8 {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "-"), UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "_"), UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="): padding += 1; continue
            default: return nil
            }
            guard padding == 0 else { return nil }
            bits = bits << 6 | v
            count += 6
            if count >= 8 {
                count -= 8
                out.append(UInt8(truncatingIfNeeded: bits >> UInt32(count)))
            }
        }
        guard padding <= 2, count < 6 else { return nil }
        return out
    }

    public static func decodeString(_ s: String) -> String? {
        decode(s).flatMap { String(validating: $0, as: UTF8.self) }
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)], table[Int(n & 63)]]
            i += 3
        }
        if bytes.count - i == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)]]
        } else if bytes.count - i == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
