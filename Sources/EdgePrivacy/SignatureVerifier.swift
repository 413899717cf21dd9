import Crypto
public import EdgeCore

/// imgix secure URLs, checked over the request target exactly as received (before any percent-decoding or
/// reordering): `s` is the lower-case hex MD5 of `token + path + "?" + query-without-s` (no `"?"` part when the
/// query without `s` is empty), and `s` must be the last parameter. Then `expires` (Unix seconds): past it the
/// URL is refused. Pure and allocation-light: it runs on the event loop before any parsing or I/O.
public struct SignatureVerifier: Sendable {
    /// The source's secure-URL token; nil: the source is not secured and `s` is ignored, as imgix does.
    private let token: String?
    /// Refuse URLs without a valid signature (with a token, a URL that carries `s` is always checked).
    private let required: Bool

    /// An empty token counts as none (anyone could sign with it); `required` without a token refuses every URL
    /// (fails closed: nothing can be verified).
    public init(token: String?, required: Bool) {
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.required = required
    }

    /// The checks a source's configuration asks for. A proxy source requires signatures whatever its
    /// configuration says: unsigned, it would fetch any URL for anyone.
    public init(source: SourceConfig) {
        self.init(token: source.secureToken, required: source.requireSignature || source.kind == .proxy)
    }

    /// What the verifier found in an accepted request.
    public struct Verdict: Sendable, Equatable {
        /// The URL carried a signature that matched the token.
        public var signed: Bool
        /// `expires` (Unix seconds), when present: responses must not be cached beyond it.
        public var expires: Double?

        public init(signed: Bool, expires: Double?) {
            self.signed = signed
            self.expires = expires
        }
    }

    /// Largest `expires` accepted (year 5138): keeps the arithmetic exact; beyond it the value is a mistake.
    static let maxExpires = 99_999_999_999

    /// Checks a raw request target (`/path?query`, as on the request line) at Unix time `now`.
    /// Throws 403 (signature missing where required, wrong, not last; URL expired) or 400 (unreadable
    /// `expires`). No message names the expected signature.
    public func verify(target: Substring, now: Double) throws(EdgeError) -> Verdict {
        let utf8 = target.utf8
        let q = utf8.firstIndex(of: UInt8(ascii: "?"))
        let path = q.map { target[..<$0] } ?? target
        let query = q.map { target[utf8.index(after: $0)...] } ?? ""
        var signed = false
        if let token {
            let found = try Self.locateSignature(query)
            if let found {
                let expected = Self.signature(token: token, path: path, query: found.unsigned)
                guard Self.constantTimeEqualsHex(found.value, expected) else {
                    throw .forbidden("signature does not match")
                }
                signed = true
            } else if required {
                throw .forbidden("this source requires signed URLs")
            }
        } else if required {
            throw .forbidden("this source requires signed URLs")
        }
        let expires = try Self.expires(in: query)
        if let expires, now > expires { throw .forbidden("this URL has expired") }
        return Verdict(signed: signed, expires: expires)
    }

    /// The signature imgix expects for a path and a query (both as written in the URL, `s` excluded):
    /// lower-case hex MD5 of `token + path + "?" + query`, without `"?"` when the query is empty.
    public static func signature<P: StringProtocol, Q: StringProtocol>(token: String, path: P, query: Q) -> String {
        var md5 = Insecure.MD5()
        md5.update(data: Array(token.utf8))
        md5.update(data: Array(path.utf8))
        if !query.isEmpty {
            md5.update(data: [UInt8(ascii: "?")])
            md5.update(data: Array(query.utf8))
        }
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for b in md5.finalize() {
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Finds `s`: it must be the last parameter and appear once. Returns its raw value and the query before it
    /// (without the `&` that joins them), or nil when the query has no `s`.
    package static func locateSignature(_ query: Substring) throws(EdgeError) -> (value: Substring, unsigned: Substring)? {
        var last: (value: Substring, unsigned: Substring)?
        var sawEarlier = false
        var start = query.startIndex
        while start <= query.endIndex {
            // Bytes, not characters: the signed text is bytes, and a `&` or `=` that a neighbour joins into one
            // grapheme cluster (U+0600 before it, a combining mark after it) still separates.
            let end = query.utf8[start...].firstIndex(of: UInt8(ascii: "&")) ?? query.endIndex
            let pair = query[start..<end]
            if !pair.isEmpty, isSignatureName(pair) {
                if end == query.endIndex {
                    let eq = pair.utf8.firstIndex(of: UInt8(ascii: "="))
                    let value = eq.map { pair[pair.utf8.index(after: $0)...] } ?? ""
                    let before = start == query.startIndex ? query[start..<start] : query[..<query.utf8.index(before: start)]
                    last = (value, before)
                } else {
                    sawEarlier = true
                }
            }
            if end == query.endIndex { break }
            start = query.utf8.index(after: end)
        }
        if sawEarlier { throw .forbidden("the signature must be the last parameter") }
        return last
    }

    /// A parameter whose name, percent-decoded and lower-cased, is `s`.
    private static func isSignatureName(_ pair: Substring) -> Bool {
        let name = pair.utf8.firstIndex(of: UInt8(ascii: "=")).map { pair[..<$0] } ?? pair
        if name == "s" || name == "S" { return true }
        guard name.utf8.count <= 3, name.contains("%") else { return false }
        return PercentDecoding.decode(name, plusAsSpace: true)?.lowercased() == "s"
    }

    /// Compares a provided hex signature with the expected lower-case one in time independent of where they
    /// differ. Upper-case hex digits are accepted (the same number); anything but 32 hex digits is refused.
    static func constantTimeEqualsHex(_ provided: Substring, _ expected: String) -> Bool {
        let a = provided.utf8, b = expected.utf8
        // The provided value's shape is public: checking it first leaks nothing about the expected one.
        guard a.count == b.count, a.allSatisfy(isHexDigit) else { return false }
        var diff: UInt8 = 0
        // `| 0x20` folds A–F to a–f and leaves 0–9 unchanged (bit 5 is already set on ASCII digits).
        for (x, y) in zip(a, b) { diff |= (x | 0x20) ^ y }
        return diff == 0
    }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): true
        default: false
        }
    }

    /// `expires` in a raw query, read by the same rules as every other parameter (name case-insensitive,
    /// percent-decoded, `expires64` base64, first occurrence wins). 400 when present but not a Unix time.
    /// Allocation-free for queries without it (this runs on every request).
    static func expires(in query: Substring) throws(EdgeError) -> Double? {
        var start = query.startIndex
        while start < query.endIndex {
            let end = query[start...].firstIndex(of: "&") ?? query.endIndex
            let pair = query[start..<end]
            start = end == query.endIndex ? end : query.index(after: end)
            let eq = pair.firstIndex(of: "=")
            let rawName = eq.map { pair[..<$0] } ?? pair
            let base64: Bool
            if asciiEqualsIgnoringCase(rawName, "expires") {
                base64 = false
            } else if asciiEqualsIgnoringCase(rawName, "expires64") {
                base64 = true
            } else if rawName.utf8.count <= 32, rawName.contains("%") || rawName.contains("+"),
                      let decoded = PercentDecoding.decode(rawName, plusAsSpace: true)?.lowercased(),
                      decoded == "expires" || decoded == "expires64" {
                base64 = decoded == "expires64"
            } else {
                continue
            }
            let written = PercentDecoding.decode(rawName, plusAsSpace: true) ?? "expires"
            let message = "\(written) must be a Unix time in whole seconds"
            let rawValue = eq.map { pair[pair.index(after: $0)...] } ?? ""
            guard var value = PercentDecoding.decode(rawValue, plusAsSpace: true) else { throw .badParameter(written, message) }
            if base64 {
                guard let decoded = Base64URL.decodeString(value) else { throw .badParameter(written, message) }
                value = decoded
            }
            guard let d = NumberText.parse(value), d == d.rounded(), d >= 0, d <= Double(maxExpires) else {
                throw .badParameter(written, message)
            }
            return d
        }
        return nil
    }

    /// ASCII case-insensitive equality with a lower-case literal, without allocating.
    private static func asciiEqualsIgnoringCase(_ a: Substring, _ lower: StaticString) -> Bool {
        guard a.utf8.count == lower.utf8CodeUnitCount else { return false }
        return lower.withUTF8Buffer { b in
            zip(a.utf8, b).allSatisfy { x, y in
                (x >= UInt8(ascii: "A") && x <= UInt8(ascii: "Z") ? x | 0x20 : x) == y
            }
        }
    }
}
