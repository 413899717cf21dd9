public import EdgeCore

/// What one access-log line may say, and nothing more: the client's network (IPv4 truncated to /24, IPv6 to /48),
/// the request target without its signature (`s`) and `expires`, and what was answered. No cookies, no
/// Authorization, no user agent or referrer — the log is for operating the service, not for knowing who looked.
public enum AccessLogFormat {
    /// The client address truncated: `203.0.113.77` → `203.0.113.0`, `2001:db8:1:2::9` → `2001:db8:1::`
    /// (IPv4-mapped IPv6 as IPv4); anything unparseable becomes `-`.
    public static func truncate(_ address: String) -> String {
        var text = Substring(address)
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }   // a zone id
        guard let ip = IPAddress(text) else { return "-" }
        switch ip.sameHostIPv4 ?? ip {
        case .v4(let a): return IPAddress.v4(a & 0xFFFF_FF00).description
        case .v6(let a): return IPAddress.v6(a & (UInt128.max << 80)).description
        }
    }

    /// The request target with `s` and `expires` (and their base64 forms) removed, the rest as sent.
    public static func sanitize(target: String) -> String {
        guard let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        // Split as the signature check splits (bytes): no `s` it reads can stay in the log.
        let kept = target[target.utf8.index(after: q)...].split(byte: UInt8(ascii: "&"), omittingEmptySubsequences: false).filter { pair in
            let name = pair.split(byte: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return !["s", "expires", "s64", "expires64"].contains(name.lowercased())
        }
        let path = target[..<q]
        return kept.isEmpty ? String(path) : path + "?" + kept.joined(separator: "&")
    }

    /// One JSON line (with its newline).
    public static func line(time: Double, client: String, method: String, host: String, target: String, status: Int,
                            bytes: Int, cache: String, milliseconds: Double) -> String {
        let ms = (milliseconds * 10).rounded() / 10
        let seconds = (time * 1000).rounded() / 1000
        return #"{"time":\#(seconds),"client":"\#(escape(truncate(client)))","method":"\#(escape(method))","#
            + #""host":"\#(escape(host))","target":"\#(escape(sanitize(target: target)))","status":\#(status),"#
            + #""bytes":\#(bytes),"cache":"\#(escape(cache))","ms":\#(ms)}"# + "\n"
    }

    static func escape(_ s: String) -> String { JSONText.escape(s) }
}
