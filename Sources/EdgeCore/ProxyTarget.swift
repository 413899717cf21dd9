/// The origin URL a `proxy` source's request path names (imgix "web proxy": `/https%3A%2F%2Fexample.com%2Fa.jpg`):
/// the path after its leading `/`, percent-decoded once, an absolute http(s) URL. Normalised so that one origin
/// object has one form, which is both what is fetched and what the cache key holds: scheme and host lower-case,
/// a default port dropped, the fragment dropped, bytes a URL cannot carry (spaces, non-ASCII…) percent-encoded.
public struct ProxyTarget: Sendable, Hashable, CustomStringConvertible {
    /// The normalised absolute URL.
    public let url: String
    /// `http` or `https`.
    public let scheme: String
    /// Lower case; an IPv6 address in brackets.
    public let host: String

    /// From a request path (`/` then the percent-encoded URL), as a proxy source receives it. `+` decodes to a
    /// space, as imgix's client libraries encode the URL (Python's `quote_plus`; JavaScript's
    /// `encodeURIComponent` writes a `+` as `%2B`). 400 for anything that is not an absolute http(s) URL.
    public init(path raw: Substring) throws(EdgeError) {
        guard raw.utf8.count <= SourcePath.maxLength else { throw .uriTooLong }
        guard raw.hasPrefix("/"), let decoded = PercentDecoding.decode(raw.dropFirst(), plusAsSpace: true) else {
            throw .badRequest("the path must be a percent-encoded http(s) URL")
        }
        try self.init(url: decoded)
    }

    /// From an absolute URL as written (a decoded proxy path, a watermark's `mark` URL).
    public init(url text: String) throws(EdgeError) {
        let invalid = EdgeError.badRequest("the path must be a percent-encoded http(s) URL")
        let bytes = Array(text.utf8)
        // Control characters have no business in a URL, and would reach the origin's request line.
        guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { throw invalid }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { throw invalid }
        let scheme = String(decoding: bytes[..<colon], as: UTF8.self).lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw .badRequest("only http and https URLs can be proxied")
        }
        guard bytes[(colon + 1)...].starts(with: "//".utf8) else { throw invalid }
        let authorityStart = colon + 3
        let authorityEnd = bytes[authorityStart...].firstIndex { "/?#".utf8.contains($0) } ?? bytes.endIndex
        let authority = bytes[authorityStart..<authorityEnd]
        // Credentials in the URL would be sent to the origin, and `allowed.example@evil.example` reads two ways.
        guard !authority.contains(UInt8(ascii: "@")) else { throw .badRequest("proxied URLs cannot carry credentials") }
        guard let (host, port) = Self.hostAndPort(authority) else { throw invalid }
        let defaultPort = scheme == "http" ? 80 : 443
        var url = scheme + "://" + host + (port == nil || port == defaultPort ? "" : ":\(port!)")
        var rest = bytes[authorityEnd...]
        if let hash = rest.firstIndex(of: UInt8(ascii: "#")) { rest = rest[..<hash] }
        if rest.first != UInt8(ascii: "/") { url += "/" }
        url += Self.encoded(rest)
        self.url = url
        self.scheme = scheme
        self.host = host
    }

    public var description: String { url }

    /// The URL up to its query: where a download name (`dl`) comes from.
    public var urlWithoutQuery: Substring { url.prefix { $0 != "?" } }

    /// `host[:port]`: a name of letters, digits, `-`, `.`, `_` (lower-cased; non-ASCII letters pass for IDN), or
    /// an IPv6 address in brackets; the port 1–65535. nil when malformed.
    private static func hostAndPort(_ authority: ArraySlice<UInt8>) -> (String, Int?)? {
        var hostPart = authority
        var portPart: ArraySlice<UInt8>?
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            hostPart = authority[...close]
            let after = authority[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { return nil }
                portPart = after.dropFirst()
            }
            guard case .v6? = IPAddress(String(decoding: hostPart, as: UTF8.self)) else { return nil }
        } else {
            if let c = authority.firstIndex(of: UInt8(ascii: ":")) {
                hostPart = authority[..<c]
                portPart = authority[(c + 1)...]
            }
            guard !hostPart.isEmpty, hostPart.allSatisfy({ c in
                c >= 0x80 || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                    || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || "-._".utf8.contains(c)
            }) else { return nil }
        }
        var port: Int?
        if let portPart, !portPart.isEmpty {
            guard portPart.count <= 5, portPart.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
            let n = portPart.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard (1...65535).contains(n) else { return nil }
            port = n
        }
        guard let host = String(validating: hostPart, as: UTF8.self) else { return nil }
        return (host.lowercased(), port)
    }

    /// Path and query with every byte a URL cannot carry as it is percent-encoded; escapes already there kept.
    private static func encoded(_ rest: ArraySlice<UInt8>) -> String {
        var out = ""
        for i in rest.indices {
            let b = rest[i]
            let isEscape = b == UInt8(ascii: "%") && i + 2 < rest.endIndex
                && PercentDecoding.hexValue(rest[i + 1]) != nil && PercentDecoding.hexValue(rest[i + 2]) != nil
            if isEscape || SourcePath.pathCharacter(b) || b == UInt8(ascii: "/") || b == UInt8(ascii: "?") {
                out.unicodeScalars.append(UnicodeScalar(b))
            } else {
                PercentDecoding.appendEscaped(b, to: &out)
            }
        }
        return out
    }
}
