import EdgeCore
import Foundation
/// Signs imgix URLs (used by `imgedge sign`), in two ways:
///
/// - `sign(_:token:)` signs a URL exactly as given, as imgix's client libraries sign the URL they have built and a
///   node checks the target it receives: the path and query byte for byte (`%20` stays `%20`, `+` stays `+`,
///   `%26` stays `%26`, `[` stays `[`, `?mark` stays `?mark`), an `s` already present dropped and the new one
///   appended last. Only what no client sends raw is percent-encoded first, as every client encodes it before
///   sending: spaces, control characters and non-ASCII text (UTF-8, upper-case hex).
/// - `build(path:params:token:domain:)` builds the URL from a path and parameters as imgix's Python library
///   (imgix 4.0.0, `UrlBuilder.create_url`) does, byte for byte: the path as a file name — RFC 3986 unreserved
///   characters and `/&$;=@,` kept, everything else percent-encoded — or, when it is an absolute `http://` or
///   `https://` URL (imgix "web proxy"), encoded whole with spaces as `+`; parameters sorted by name, names with
///   `/` kept, values with only unreserved characters kept (space as `%20`), the values of names ending in `64`
///   base64url-encoded first.
public enum URLSigner {
    /// Why a URL cannot be signed (a usage error: the message says what to change).
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// `url` (absolute, or a path starting with `/`) with `s=` appended, signed as given.
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
        let target = encodeUnsendable(rest)
        let q = target.firstIndex(of: "?")
        let path = target[..<(q ?? target.endIndex)]
        // The query as given, less any `s` item (the signature being replaced).
        let items = (q.map { target[target.index(after: $0)...] } ?? "").split(separator: "&", omittingEmptySubsequences: false)
        let query = items.filter { $0 != "s" && !$0.hasPrefix("s=") }.joined(separator: "&")
        return String(prefix) + signed(path: path, query: query, token: token)
    }

    /// The signed URL imgix-python builds for `path` and `params` (`https://domain` in front when `domain` is
    /// given, else the target alone).
    public static func build(path: String, params: [(name: String, value: String)], token: String,
                             domain: String?) throws(Failure) -> String {
        guard !token.isEmpty else { throw Failure(description: "the token is empty") }
        guard !path.isEmpty else { throw Failure(description: "the path is empty") }
        let body = path.hasPrefix("/") ? Substring(path.dropFirst()) : Substring(path)
        let encodedPath: String
        let lower = body.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            encodedPath = "/" + encode(String(body), keep: "", spaceAsPlus: true)
        } else {
            encodedPath = "/" + body.split(separator: "/", omittingEmptySubsequences: false)
                .map { encode(String($0), keep: "&$;=@,", spaceAsPlus: false) }.joined(separator: "/")
        }
        let query = params.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }.map { p in
            let value = p.name.hasSuffix("64") ? base64URL(p.value) : p.value
            return encode(p.name, keep: "/", spaceAsPlus: false) + "=" + encode(value, keep: "", spaceAsPlus: false)
        }.joined(separator: "&")
        return (domain.map { "https://" + $0 } ?? "") + signed(path: encodedPath, query: query, token: token)
    }

    /// `path` and `query` (without `?`) with the signature appended as the last parameter.
    static func signed(path: some StringProtocol, query: String, token: String) -> String {
        let s = SignatureVerifier.signature(token: token, path: path, query: query)
        return String(path) + (query.isEmpty ? "?s=" : "?" + query + "&s=") + s
    }

    /// `text`'s UTF-8 in URL-safe base64 without padding, as imgix's `…64` parameters take it.
    static func base64URL(_ text: String) -> String {
        var out = Data(text.utf8).base64EncodedString()
        out = out.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while out.hasSuffix("=") { out.removeLast() }
        return out
    }

    /// `target` with the bytes no client sends raw — spaces, control characters, DEL and non-ASCII — as `%XX`;
    /// every other byte as it is.
    static func encodeUnsendable(_ target: Substring) -> Substring {
        guard target.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else { return target }
        var out: [UInt8] = []
        for b in target.utf8 {
            if b <= 0x20 || b >= 0x7F { escape(b, into: &out) } else { out.append(b) }
        }
        return Substring(String(decoding: out, as: UTF8.self))
    }

    /// Python's `urllib.parse.quote` (`spaceAsPlus`: `quote_plus`): ASCII letters, digits and `_.-~` kept,
    /// plus the characters in `keep`; every other byte of the UTF-8 as `%XX`.
    static func encode(_ s: String, keep: String, spaceAsPlus: Bool) -> String {
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
                if kept.contains(b) { out.append(b) } else { escape(b, into: &out) }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `b` as `%XX` (upper-case hex).
    static func escape(_ b: UInt8, into out: inout [UInt8]) {
        out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xf)]]
    }

    private static let hex = Array("0123456789ABCDEF".utf8)
}
