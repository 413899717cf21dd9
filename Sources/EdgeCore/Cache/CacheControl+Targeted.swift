extension CacheControl {
    /// A targeted field such as `CDN-Cache-Control` (RFC 9213 §2): a Structured Fields Dictionary (RFC 8941 §3.2)
    /// whose members are cache directives. Nil when the field is absent, empty or fails to parse — RFC 9213 §2.1:
    /// the cache then behaves as if it were not there. A later duplicate key replaces an earlier one (RFC 8941
    /// §4.2.2); parameters on members are ignored; `max-age` must be an Integer (a Decimal reads as 0, stale).
    /// A field over `maxFieldBytes` is returned `oversized` rather than ignored, so that a `no-store` in it is never lost.
    public static func targeted(lines: [String]) -> CacheControl? {
        guard !lines.isEmpty else { return nil }
        guard let bytes = joined(lines) else {
            var cc = CacheControl()
            cc.oversized = true
            return cc
        }
        var parser = StructuredDictionaryParser(bytes)
        guard let members = parser.parse(), !members.isEmpty else { return nil }
        var cc = CacheControl()
        for (name, value) in members {
            cc.apply(name, value, malformed: false, repeatedMeansConflict: false)
        }
        return cc
    }
}

/// The subset of an RFC 8941 parser a Dictionary of cache directives needs: every syntax rule is checked (a field
/// that breaks one is rejected whole, as §4.2 requires), values are kept only as far as cache directives use them.
struct StructuredDictionaryParser {
    private let bytes: [UInt8]
    private var i = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Members in order of first appearance, later duplicates replacing the value; nil on a syntax error.
    mutating func parse() -> [(String, CacheControl.Value)]? {
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
        var end = bytes.count
        while end > i, bytes[end - 1] == UInt8(ascii: " ") { end -= 1 }
        var members: [(String, CacheControl.Value)] = []
        var index: [String: Int] = [:]
        while i < end {
            guard let key = key() else { return nil }
            var value = CacheControl.Value.absent
            if i < end, bytes[i] == UInt8(ascii: "=") {
                i += 1
                if i < end, bytes[i] == UInt8(ascii: "(") {
                    guard innerList() else { return nil }
                    value = .other
                } else {
                    guard let v = bareItem() else { return nil }
                    value = v
                }
            }
            guard parameters() else { return nil }
            if let at = index[key] {
                members[at].1 = value
            } else {
                index[key] = members.count
                members.append((key, value))
            }
            while i < end, bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t") { i += 1 }
            if i >= end { break }
            guard bytes[i] == UInt8(ascii: ",") else { return nil }
            i += 1
            while i < end, bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t") { i += 1 }
            if i >= end { return nil } // a trailing comma
        }
        guard i == end else { return nil }
        return members
    }

    private func at(_ j: Int) -> UInt8? { j < bytes.count ? bytes[j] : nil }

    private static func lcalpha(_ b: UInt8) -> Bool { b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") }
    private static func digit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    private static func alpha(_ b: UInt8) -> Bool { lcalpha(b) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) }

    /// §4.2.3.3: `( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )`.
    private mutating func key() -> String? {
        guard let first = at(i), Self.lcalpha(first) || first == UInt8(ascii: "*") else { return nil }
        let start = i
        while let b = at(i), Self.lcalpha(b) || Self.digit(b) || "_-.*".utf8.contains(b) { i += 1 }
        guard i - start <= 64 else { return nil } // no directive name comes near; refuse rather than copy
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// §4.2.3.2: `*( ";" *SP key [ "=" bare-item ] )`.
    private mutating func parameters() -> Bool {
        while at(i) == UInt8(ascii: ";") {
            i += 1
            while at(i) == UInt8(ascii: " ") { i += 1 }
            guard key() != nil else { return false }
            if at(i) == UInt8(ascii: "=") {
                i += 1
                guard bareItem() != nil else { return false }
            }
        }
        return true
    }

    /// §4.2.1.2: `"(" *SP [ item *( 1*SP item ) *SP ] ")" parameters`.
    private mutating func innerList() -> Bool {
        i += 1
        while true {
            while at(i) == UInt8(ascii: " ") { i += 1 }
            guard let b = at(i) else { return false }
            if b == UInt8(ascii: ")") {
                i += 1
                return parameters()
            }
            guard bareItem() != nil, parameters() else { return false }
            guard let next = at(i), next == UInt8(ascii: " ") || next == UInt8(ascii: ")") else { return false }
        }
    }

    /// §4.2.3.1: Integer, Decimal, String, Token, Byte Sequence or Boolean.
    private mutating func bareItem() -> CacheControl.Value? {
        guard let b = at(i) else { return nil }
        if b == UInt8(ascii: "-") || Self.digit(b) { return number() }
        if b == UInt8(ascii: "\"") { return string() }
        if Self.alpha(b) || b == UInt8(ascii: "*") {
            let start = i
            while let c = at(i), isTchar(c) || c == UInt8(ascii: ":") || c == UInt8(ascii: "/") { i += 1 }
            return .token(String(decoding: bytes[start..<i], as: UTF8.self))
        }
        if b == UInt8(ascii: ":") {
            i += 1
            while let c = at(i), Self.alpha(c) || Self.digit(c) || "+/=".utf8.contains(c) { i += 1 }
            guard at(i) == UInt8(ascii: ":") else { return nil }
            i += 1
            return .other
        }
        if b == UInt8(ascii: "?") {
            guard let v = at(i + 1), v == UInt8(ascii: "0") || v == UInt8(ascii: "1") else { return nil }
            i += 2
            return .other
        }
        return nil
    }

    /// §4.2.4: at most 15 integer digits; a Decimal has at most 12 integer and 1–3 fraction digits.
    private mutating func number() -> CacheControl.Value? {
        var negative = false
        if at(i) == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard let first = at(i), Self.digit(first) else { return nil }
        var intDigits = 0
        var value: Int64 = 0
        while let c = at(i), Self.digit(c) {
            intDigits += 1
            guard intDigits <= 15 else { return nil }
            value = value * 10 + Int64(c - UInt8(ascii: "0"))
            i += 1
        }
        if at(i) == UInt8(ascii: ".") {
            guard intDigits <= 12 else { return nil }
            i += 1
            var fraction = 0
            while let c = at(i), Self.digit(c) {
                fraction += 1
                guard fraction <= 3 else { return nil }
                i += 1
            }
            guard fraction >= 1 else { return nil }
            return .other
        }
        return .integer(negative ? -value : value)
    }

    /// §4.2.5: printable ASCII, with `\"` and `\\` the only escapes.
    private mutating func string() -> CacheControl.Value? {
        i += 1
        var out: [UInt8] = []
        while let c = at(i) {
            i += 1
            if c == UInt8(ascii: "\\") {
                guard let e = at(i), e == UInt8(ascii: "\"") || e == UInt8(ascii: "\\") else { return nil }
                out.append(e)
                i += 1
            } else if c == UInt8(ascii: "\"") {
                return .string(String(decoding: out, as: UTF8.self))
            } else if c < 0x20 || c > 0x7E {
                return nil
            } else {
                out.append(c)
            }
        }
        return nil
    }
}
