/// Which of a client's request header lines go to the origin with the fetch of an original (RFC 9110 §7.6.1), and
/// how a response's `Vary` turns those lines into part of the cache key (RFC 9111 §4.1).
///
/// Forwarded: the end-to-end fields, but never hop-by-hop ones (nor those `Connection` names), `Host` and framing
/// (the node makes its own request), conditionals and `Range` (the node revalidates and answers ranges itself), nor
/// — unless the source lists them in `forwardRequestHeaders` — `Cookie`, `Authorization` and the client hints the
/// node consumes.
public struct RequestHeaderRules: Sendable, Equatable {
    /// `forwardRequestHeaders`, lower-cased: the withheld-by-default fields to forward after all.
    public var optedIn: Set<String>

    public init(forward optedIn: some Sequence<String> = [String]()) {
        self.optedIn = Set(optedIn.map { $0.lowercased() })
    }

    /// Never forwarded: the node's own request's business.
    public static let neverForwarded: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authorization", "host", "content-length", "expect", "max-forwards", "if-none-match", "if-match",
        "if-modified-since", "if-unmodified-since", "if-range", "range", "http2-settings",
    ]

    /// Forwarded only when the source lists them: credentials, and the client hints the node consumes itself.
    public static let withheldByDefault: Set<String> = [
        "cookie", "authorization", "width", "dpr", "save-data", "sec-ch-width", "sec-ch-dpr", "viewport-width",
        "sec-ch-viewport-width",
    ]

    /// Most lines forwarded, and their total size.
    public static let maxLines = 64
    public static let maxBytes = 16 * 1_024

    /// The lines of a request (names as received, any case) that go to the origin, names lower-cased, in order.
    public func forwarded(_ lines: [(name: String, value: String)]) -> [(name: String, value: String)] {
        var connection: Set<String> = []
        for line in lines where line.name.lowercased() == "connection" {
            for token in line.value.split(separator: ",") { connection.insert(trimmed(token).lowercased()) }
        }
        var out: [(name: String, value: String)] = []
        var bytes = 0
        for (rawName, value) in lines {
            let name = rawName.lowercased()
            guard forwards(name), !connection.contains(name), !name.isEmpty, name.utf8.allSatisfy(isTchar),
                  value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else { continue }
            bytes += name.utf8.count + value.utf8.count + 4
            guard out.count < Self.maxLines, bytes <= Self.maxBytes else { break }
            out.append((name, value))
        }
        return out
    }

    /// Whether a field of this (lower-case) name can be forwarded at all.
    public func forwards(_ name: String) -> Bool {
        !Self.neverForwarded.contains(name) && (!Self.withheldByDefault.contains(name) || optedIn.contains(name))
    }

    /// The names of a response's Vary that the cache must key on: those this source forwards (a field the origin
    /// never saw cannot have chosen the response), deduplicated, sorted so that the same set always makes the
    /// same key.
    public func keyedVary(_ names: [String]) -> [String] {
        Array(Set(names.filter { forwards($0) })).sorted()
    }

    /// A request's values for `names` (lower-case), normalised as RFC 9111 §4.1 allows: the field's lines joined
    /// with ", ", spaces around list commas and at the ends removed, runs of spaces collapsed; an absent field is
    /// distinct from an empty one. The text hashed into a varied cache key.
    public static func varyKeyText(names: [String], lines: [(name: String, value: String)]) -> String {
        var out = ""
        for name in names {
            let values = lines.filter { $0.name.lowercased() == name }.map(\.value)
            out += name
            if values.isEmpty {
                out += "\u{0}absent"
            } else {
                let items = values.joined(separator: ",").split(separator: ",", omittingEmptySubsequences: false)
                    .map { trimmed($0).split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }
                out += "\u{0}=" + items.joined(separator: ", ")
            }
            out += "\u{0}"
        }
        return out
    }

    /// RFC 9111 §3.5: a response to a request with `Authorization` may be stored, and a stored one served to
    /// such a request, only when its Cache-Control says `public`, `s-maxage` or `must-revalidate`.
    public static func allowsAuthorized(_ cacheControl: CacheControl) -> Bool {
        cacheControl.public || cacheControl.sMaxAge != nil || cacheControl.mustRevalidate
    }
}
