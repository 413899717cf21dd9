/// Which of an origin's response header lines a client gets with the node's answer (RFC 9110 §7.6.1, RFC 9111 §3.1).
///
/// Originals and passed-through files are the origin's representation: its end-to-end fields go on (Link,
/// Content-Language, Content-Disposition, Expires, any field this node does not know), but for hop-by-hop fields,
/// `Set-Cookie` (never stored, never served from a cache), fields this node writes itself, fields a qualified
/// `private="…"` / `no-cache="…"` withholds, and the source's `stripResponseHeaders`. A transformed variant is a
/// new representation: only the fields the source lists in `passResponseHeaders` go on (the same exclusions apply).
public struct ResponseHeaderRules: Sendable, Equatable {
    /// Pass every end-to-end field (originals, passthrough), or only `listed` (variants).
    public var passAll: Bool
    /// `passResponseHeaders`, lower-cased.
    public var listed: Set<String>
    /// `stripResponseHeaders`, lower-cased: never passed.
    public var stripped: Set<String>

    public init(passAll: Bool, listed: Set<String> = [], stripped: Set<String> = []) {
        self.passAll = passAll
        self.listed = Set(listed.map { $0.lowercased() })
        self.stripped = Set(stripped.map { $0.lowercased() })
    }

    /// Hop-by-hop fields (RFC 9110 §7.6.1), framing, cookies, what only a hop's cache acts on, and the fields this
    /// node writes itself from the entry (Cache-Control, Age, Date, ETag, Last-Modified, Content-Type, Accept-Ranges)
    /// or from its own configuration (Server, Strict-Transport-Security): none of these is ever passed as sent.
    public static let neverPassed: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization", "proxy-authentication-info", "content-length", "content-range",
        "accept-ranges", "age", "date", "cache-control", "etag", "last-modified", "content-type", "set-cookie",
        "set-cookie2", "surrogate-control", "surrogate-key", "server", "strict-transport-security", "alt-svc",
        "x-cache", "server-timing", "accept-ch",
    ]

    /// Fields that describe the exact bytes the origin sent: left out when the node serves other bytes (metadata
    /// removed from an original).
    public static let bytesBound: Set<String> = ["content-md5", "digest", "content-digest", "repr-digest", "content-encoding"]

    /// Most lines passed, and their total size: an origin cannot make every answer from an entry enormous.
    public static let maxLines = 64
    public static let maxBytes = 16 * 1_024

    /// The lines of `headers` (names lower-case, as `OriginResponse` holds them) that go on, in the origin's order.
    /// `withheld`: the fields a qualified `private` / `no-cache` names (`CacheDecision.withheldFields`);
    /// `sameBytes`: the body served is the origin's, byte for byte.
    public func select(_ headers: [(name: String, value: String)], withheld: [String], sameBytes: Bool) -> [HeaderLine] {
        // Fields the origin names in Connection are hop-by-hop too (RFC 9110 §7.6.1).
        var connection: Set<String> = []
        for line in headers where line.name == "connection" {
            for token in line.value.split(separator: ",") { connection.insert(trimmed(token).lowercased()) }
        }
        var out: [HeaderLine] = []
        var bytes = 0
        for (name, value) in headers {
            guard passAll || listed.contains(name), !Self.neverPassed.contains(name), !stripped.contains(name),
                  !connection.contains(name), !withheld.contains(name), sameBytes || !Self.bytesBound.contains(name),
                  Self.isToken(name), Self.isFieldValue(value)
            else { continue }
            bytes += name.utf8.count + value.utf8.count + 4
            guard out.count < Self.maxLines, bytes <= Self.maxBytes else { break }
            out.append(HeaderLine(name: name, value: value))
        }
        return out
    }

    /// `lines` refreshed by a 304's header lines (RFC 9111 §4.3.4): each field the 304 carries that these rules
    /// pass, or that the stored lines hold already, replaces the stored lines of that name.
    public func refresh(_ lines: [HeaderLine], with notModified: [(name: String, value: String)],
                        withheld: [String]) -> [HeaderLine] {
        let stored = Set(lines.map(\.name))
        var widened = self
        widened.passAll = true
        let fresh = widened.select(notModified.filter { passAll || listed.contains($0.name) || stored.contains($0.name) },
                                   withheld: withheld, sameBytes: false)
        let names = Set(fresh.map(\.name))
        return Array((lines.filter { !names.contains($0.name) } + fresh).prefix(Self.maxLines))
    }

    static func isToken(_ s: String) -> Bool { !s.isEmpty && s.utf8.allSatisfy(isTchar) }

    /// Visible ASCII, obs-text, spaces and tabs: nothing that could end a line or a head.
    static func isFieldValue(_ s: String) -> Bool {
        s.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }
}
