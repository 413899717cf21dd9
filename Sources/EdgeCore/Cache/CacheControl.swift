/// The response cache directives this shared cache acts on (RFC 9111 §5.2.2, RFC 5861), read from a
/// `Cache-Control`, `CDN-Cache-Control` (RFC 9213) or `Surrogate-Control` field.
///
/// Names are case-insensitive; values may be tokens or quoted strings. Where directives conflict the result is the
/// conservative one (RFC 9111 §4.2.1): a repeated delta-seconds directive with different values, or one whose value
/// is not a delta-seconds (negative, decimal, missing, junk after it), reads as 0 — stale, or no stale window; the
/// unqualified form of `no-cache`/`private` wins over a field list. Unknown directives are ignored.
public struct CacheControl: Sendable, Equatable {
    /// What a `no-cache` or `private` directive covers.
    public enum Scope: Sendable, Equatable {
        /// The whole response (the unqualified form).
        case whole
        /// Only these header fields (lower-cased), which a cache may not send from a stored response.
        case fields([String])
    }

    /// `max-age`, seconds (0 when invalid or conflicting).
    public var maxAge: Int?
    /// `s-maxage`, seconds: the lifetime for shared caches; implies `proxy-revalidate` (RFC 9111 §5.2.2.10).
    public var sMaxAge: Int?
    /// `no-store`: never store.
    public var noStore = false
    /// `no-cache`: unqualified, revalidate before every use; with fields, only those fields are withheld.
    public var noCache: Scope?
    /// `private`: unqualified, no shared cache may store it; with fields, only those fields are withheld.
    public var `private`: Scope?
    /// `public`: explicitly cacheable.
    public var `public` = false
    /// `must-revalidate`: never serve stale without revalidating.
    public var mustRevalidate = false
    /// `proxy-revalidate`: `must-revalidate` for shared caches.
    public var proxyRevalidate = false
    /// `immutable` (RFC 8246): the representation never changes while fresh.
    public var immutable = false
    /// `stale-while-revalidate` (RFC 5861 §3), seconds.
    public var staleWhileRevalidate: Int?
    /// `stale-if-error` (RFC 5861 §4), seconds.
    public var staleIfError: Int?
    /// True when the field (all its lines together) was longer than `maxFieldBytes` and was not read: a policy that
    /// cannot be read whole cannot be trusted, so the cache does not store the response.
    public var oversized = false
    /// True when no directive this type knows was present.
    public var isEmpty: Bool { self == CacheControl() }

    /// Longest field value read, all lines together (real Cache-Control values are well under 200 bytes).
    public static let maxFieldBytes = 16 * 1024
    /// RFC 9111 §1.2.2: a delta-seconds too large to represent is taken as 2^31.
    public static let maxDeltaSeconds = 2_147_483_648
    /// Most field names kept in one `no-cache`/`private` list; a longer list is taken as the unqualified form.
    public static let maxFieldNames = 32

    /// No directives.
    public init() {}

    /// Parses `Cache-Control` syntax (RFC 9111 §5.2); several field lines are one comma-separated list.
    public init(lines: [String]) {
        self.init()
        guard let bytes = CacheControl.joined(lines) else {
            oversized = true
            return
        }
        var scanner = DirectiveScanner(bytes)
        while let d = scanner.next() {
            apply(d.name, d.value, malformed: d.malformed || d.hasParameters, repeatedMeansConflict: true)
        }
    }

    /// Parses one `Cache-Control` field value.
    public init(_ value: String) { self.init(lines: [value]) }

    /// `Surrogate-Control` (W3C Edge Architecture 1.0 as CDNs read it): Cache-Control syntax; a directive aimed at a
    /// named surrogate (`no-store;abc`) is not for this cache and is skipped; `no-store-remote` is `no-store` for an
    /// edge cache; `max-age=N+M` reads as `max-age=N` (the `+M` extension is not honoured). Nil when no directive
    /// this cache acts on is present.
    public static func surrogate(lines: [String]) -> CacheControl? {
        guard !lines.isEmpty else { return nil }
        var cc = CacheControl()
        guard let bytes = joined(lines) else {
            cc.oversized = true
            return cc
        }
        var scanner = DirectiveScanner(bytes)
        while let d = scanner.next() {
            if d.hasParameters { continue }
            var value = d.value
            if d.name == "max-age", case .token(let t) = value, let plus = t.firstIndex(of: "+") {
                value = .token(String(t[..<plus]))
            }
            cc.apply(d.name == "no-store-remote" ? "no-store" : d.name, value, malformed: d.malformed,
                     repeatedMeansConflict: true)
        }
        return cc.isEmpty ? nil : cc
    }

    /// One directive's value as written.
    enum Value: Equatable {
        case absent
        case token(String)
        case string(String)
        case integer(Int64)
        /// A Structured Fields value of another type (decimal, byte sequence, boolean, inner list).
        case other
    }

    mutating func apply(_ name: String, _ value: Value, malformed: Bool, repeatedMeansConflict: Bool) {
        func delta(_ old: Int?) -> Int {
            let new = malformed ? 0 : CacheControl.deltaSeconds(value) ?? 0
            guard let old, repeatedMeansConflict else { return new }
            return old == new ? old : 0
        }
        switch name {
        case "max-age": maxAge = delta(maxAge)
        case "s-maxage": sMaxAge = delta(sMaxAge)
        case "stale-while-revalidate": staleWhileRevalidate = delta(staleWhileRevalidate)
        case "stale-if-error": staleIfError = delta(staleIfError)
        case "no-store": noStore = true
        case "no-cache": noCache = CacheControl.merge(noCache, CacheControl.scope(value, malformed: malformed))
        case "private": self.private = CacheControl.merge(self.private, CacheControl.scope(value, malformed: malformed))
        case "public": self.public = true
        case "must-revalidate": mustRevalidate = true
        case "proxy-revalidate": proxyRevalidate = true
        case "immutable": immutable = true
        default: break
        }
    }

    /// A delta-seconds value (RFC 9111 §1.2.2: `1*DIGIT`, token or quoted form), capped at 2^31; nil if invalid.
    static func deltaSeconds(_ value: Value) -> Int? {
        let text: String
        switch value {
        case .integer(let n): return n < 0 ? nil : Int(Swift.min(n, Int64(maxDeltaSeconds)))
        case .token(let t), .string(let t): text = t
        case .absent, .other: return nil
        }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        var n = 0
        for b in text.utf8 {
            n = n * 10 + Int(b - UInt8(ascii: "0"))
            if n >= maxDeltaSeconds { return maxDeltaSeconds }
        }
        return n
    }

    /// The scope of `no-cache`/`private`: no value is the whole response; a list of valid field names is that list;
    /// anything else (empty, malformed, too long) is taken as the whole response.
    static func scope(_ value: Value, malformed: Bool) -> Scope {
        guard !malformed else { return .whole }
        let text: String
        switch value {
        case .token(let t), .string(let t): text = t
        case .absent, .integer, .other: return .whole
        }
        var names: [String] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            var s = Substring(item)
            while s.first == " " || s.first == "\t" { s.removeFirst() }
            while s.last == " " || s.last == "\t" { s.removeLast() }
            guard !s.isEmpty, s.utf8.count <= 64, s.utf8.allSatisfy(isTchar) else { return .whole }
            let name = s.lowercased()
            if !names.contains(name) { names.append(name) }
            if names.count > maxFieldNames { return .whole }
        }
        return names.isEmpty ? .whole : .fields(names)
    }

    static func merge(_ a: Scope?, _ b: Scope) -> Scope {
        switch (a, b) {
        case (nil, _): return b
        case (.whole?, _), (_, .whole): return .whole
        case (.fields(let x)?, .fields(let y)):
            var all = x
            for n in y where !all.contains(n) { all.append(n) }
            return all.count > maxFieldNames ? .whole : .fields(all)
        }
    }

    /// The lines as one list (RFC 9110 §5.3), or nil when longer than `maxFieldBytes`.
    static func joined(_ lines: [String]) -> [UInt8]? {
        var total = 0
        for l in lines { total += l.utf8.count + 2 }
        guard total <= maxFieldBytes + 2 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(total)
        for l in lines {
            if !bytes.isEmpty { bytes += [UInt8(ascii: ","), UInt8(ascii: " ")] }
            bytes += l.utf8
        }
        return bytes
    }
}

/// RFC 9110 §5.6.2 token characters: letters, digits and !#$%&'*+-.^_`|~. Inlinable: the edge's request parser
/// runs it on every byte of every header name.
@inlinable public func isTchar(_ b: UInt8) -> Bool {
    switch b {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
    case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
    default: false
    }
}

/// Splits a Cache-Control-syntax list into directives in one pass; never backtracks, so work is linear in the input.
struct DirectiveScanner {
    struct Directive {
        /// Lower-cased name ("" when it is not a plausible directive name).
        var name: String
        var value: CacheControl.Value
        /// Something other than a well-formed value followed the name (an unterminated quote, junk before the comma).
        var malformed: Bool
        /// A `;` followed the directive (a Surrogate-Control device target; malformed in Cache-Control).
        var hasParameters: Bool
    }

    private let bytes: [UInt8]
    private var i = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func next() -> Directive? {
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t") || bytes[i] == UInt8(ascii: ",") {
            i += 1
        }
        guard i < bytes.count else { return nil }
        let nameStart = i
        while i < bytes.count, isTchar(bytes[i]) { i += 1 }
        var malformed = nameStart == i
        // No directive this cache knows is longer than 24 bytes; longer names are skipped without copying.
        let name = i - nameStart <= 24 ? String(decoding: bytes[nameStart..<i], as: UTF8.self).lowercased() : ""
        skipWhitespace()
        var value = CacheControl.Value.absent
        if i < bytes.count, bytes[i] == UInt8(ascii: "=") {
            i += 1
            skipWhitespace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
                let (text, closed) = quoted()
                value = .string(text)
                malformed = malformed || !closed
            } else {
                let start = i
                while i < bytes.count, isTchar(bytes[i]) { i += 1 }
                if start == i { malformed = true }
                value = .token(String(decoding: bytes[start..<i], as: UTF8.self))
            }
            skipWhitespace()
        }
        let hasParameters = i < bytes.count && bytes[i] == UInt8(ascii: ";")
        if i < bytes.count, bytes[i] != UInt8(ascii: ",") {
            if !hasParameters { malformed = true }
            skipToComma()
        }
        return Directive(name: name, value: value, malformed: malformed, hasParameters: hasParameters)
    }

    private mutating func skipWhitespace() {
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t") { i += 1 }
    }

    /// A quoted-string starting at `"`, unescaped; `closed` is false when the input ended first.
    private mutating func quoted() -> (String, closed: Bool) {
        i += 1
        var out: [UInt8] = []
        while i < bytes.count {
            let b = bytes[i]
            i += 1
            if b == UInt8(ascii: "\"") { return (String(decoding: out, as: UTF8.self), true) }
            if b == UInt8(ascii: "\\"), i < bytes.count {
                out.append(bytes[i])
                i += 1
            } else {
                out.append(b)
            }
        }
        return (String(decoding: out, as: UTF8.self), false)
    }

    /// Moves past the rest of a malformed member, up to the next comma outside a quoted string.
    private mutating func skipToComma() {
        var inQuote = false
        while i < bytes.count {
            let b = bytes[i]
            if inQuote {
                if b == UInt8(ascii: "\\") { i += 1 } else if b == UInt8(ascii: "\"") { inQuote = false }
            } else if b == UInt8(ascii: "\"") {
                inQuote = true
            } else if b == UInt8(ascii: ",") {
                return
            }
            i += 1
        }
    }
}

extension CacheControl {
    /// A Cache-Control value whose stated lifetimes (`max-age`, `s-maxage`) are replaced by `max-age=<maxAge>` when
    /// they are longer, or absent: every other directive kept as written (commas inside quoted strings are not
    /// separators). For answers that must not be kept past a moment, such as a signed URL's `expires`.
    public static func bounding(_ value: String, maxAge: Int) -> String {
        var directives: [Substring] = []
        var start = value.startIndex
        var quoted = false
        var escaped = false
        var i = value.startIndex
        while i < value.endIndex {
            let c = value[i]
            if escaped {
                escaped = false
            } else if quoted && c == "\\" {
                escaped = true
            } else if c == "\"" {
                quoted.toggle()
            } else if c == "," && !quoted {
                directives.append(value[start..<i])
                start = value.index(after: i)
            }
            i = value.index(after: i)
        }
        directives.append(value[start...])
        var kept: [String] = []
        var stated: Int?
        for d in directives {
            let t = trimmed(d)
            if t.isEmpty { continue }
            let name = t.prefix { $0 != "=" }.lowercased()
            if name == "max-age" || name == "s-maxage" {
                let n = deltaSeconds(.token(trimmed(t.drop { $0 != "=" }.dropFirst())))
                stated = Swift.min(stated ?? Int.max, n ?? 0)
                continue
            }
            kept.append(t)
        }
        kept.append("max-age=\(Swift.min(stated ?? maxAge, maxAge))")
        return kept.joined(separator: ", ")
    }
}
