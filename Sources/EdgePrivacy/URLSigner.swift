import EdgeCore
/// Signs imgix URLs the way imgix's Python client library (imgix 4.0.0, `UrlBuilder.create_url`) writes
/// them, so a URL signed here is byte for byte the URL that library builds from the same path and
/// parameters (parameter order aside: the order given is kept). Used by `imgedge sign`.
///
/// The URL may be written as a person would (`/photos/cat 1.jpg`, unicode) or already encoded
/// (`/photos/cat%201.jpg`): the path is decoded, then encoded as the library encodes it — a file path with
/// RFC 3986 unreserved characters and `/&$;=@,` kept, everything else percent-encoded (upper-case hex); a
/// path that is an absolute `http://` or `https://` URL (imgix "web proxy") encoded whole, `/` and `:`
/// included, with spaces as `+`. Query names and values are decoded and re-encoded as the library writes
/// them (values: only unreserved characters kept, space as `%20`). Any `s` already present is replaced.
public enum URLSigner {
    /// Why a URL cannot be signed (a usage error: the message says what to change).
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// `url` (absolute, or a path starting with `/`) with `s=` appended.
    public static func sign(_ url: String, token: String) throws(Failure) -> String {
        guard !token.isEmpty else { throw Failure(description: "the token is empty") }
        if url.contains("#") {
            throw Failure(description: "the URL has a fragment (#…), which is never sent to a server; write # in a path as %23")
        }
        var rest = Substring(url)
        var prefix = Substring("")
        if rest.first != "/", let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            let afterScheme = rest[rest.index(colon, offsetBy: 3)...]
            let slash = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
            prefix = rest[..<slash]
            rest = rest[slash...]
            guard !afterScheme[..<slash].isEmpty else { throw Failure(description: "the URL has no host") }
        }
        guard rest.first == "/" else { throw Failure(description: "the URL must be absolute or start with /") }
        let q = rest.firstIndex(of: "?")
        let rawPath = rest[..<(q ?? rest.endIndex)]
        let rawQuery = q.map { rest[rest.index(after: $0)...] } ?? ""
        let path = try encodePath(rawPath)
        let query = try encodeQuery(rawQuery)
        let s = SignatureVerifier.signature(token: token, path: path, query: query)
        return String(prefix) + path + (query.isEmpty ? "?s=" : "?" + query + "&s=") + s
    }

    /// The path as imgix-python writes it: `/` + the encoded path without its leading slash.
    static func encodePath(_ raw: Substring) throws(Failure) -> String {
        let body = raw.dropFirst()
        let whole = try decode(body, plusAsSpace: false)
        let lower = whole.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            // Web proxy: the library's quote_plus of the whole URL; `+` in an encoded proxy path is a space.
            return "/" + encode(try decode(body, plusAsSpace: true), keep: "", spaceAsPlus: true)
        }
        // Segment by segment, so an encoded `/` (`%2F`) inside a name stays encoded.
        var segments: [String] = []
        for seg in body.split(separator: "/", omittingEmptySubsequences: false) {
            segments.append(encode(try decode(seg, plusAsSpace: false), keep: "&$;=@,", spaceAsPlus: false))
        }
        return "/" + segments.joined(separator: "/")
    }

    /// Names with `/` kept (the library's `quote(key)`), values with only unreserved characters kept and
    /// space as `%20`; empty items and any `s` dropped.
    static func encodeQuery(_ raw: Substring) throws(Failure) -> String {
        var items: [String] = []
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let eq = pair.firstIndex(of: "=")
            let name = try decode(eq.map { pair[..<$0] } ?? pair, plusAsSpace: true)
            let value = try decode(eq.map { pair[pair.index(after: $0)...] } ?? "", plusAsSpace: true)
            if name.lowercased() == "s" { continue }
            items.append(encode(name, keep: "/", spaceAsPlus: false) + "=" + encode(value, keep: "", spaceAsPlus: false))
        }
        return items.joined(separator: "&")
    }

    /// Percent-decoding that reads a `%` not followed by two hex digits as itself (a person's `100%.jpg`).
    static func decode(_ s: Substring, plusAsSpace: Bool) throws(Failure) -> String {
        let bytes = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "%"), i + 2 < bytes.count, let h = PercentDecoding.hexValue(bytes[i + 1]), let l = PercentDecoding.hexValue(bytes[i + 2]) {
                out.append(h << 4 | l)
                i += 3
                continue
            }
            out.append(plusAsSpace && c == UInt8(ascii: "+") ? UInt8(ascii: " ") : c)
            i += 1
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw Failure(description: "the URL's percent-escapes do not decode to UTF-8 text")
        }
        return text
    }

    /// Python's `urllib.parse.quote` (`spaceAsPlus`: `quote_plus`): ASCII letters, digits and `_.-~` kept,
    /// plus the characters in `keep`; every other byte of the UTF-8 as `%XX`.
    static func encode(_ s: String, keep: String, spaceAsPlus: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        let kept = Array(keep.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "~"):
                out.append(b)
            case UInt8(ascii: " ") where spaceAsPlus:
                out.append(UInt8(ascii: "+"))
            default:
                if kept.contains(b) {
                    out.append(b)
                } else {
                    out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xf)]]
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
