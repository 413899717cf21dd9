/// One entry of a source's `allowedHosts`: a host name (`img.example.com`), an IP address (`203.0.113.7`,
/// `[2001:db8::1]`), or `*.` and a domain (`*.example.com`: any name under it, at any depth, but not the domain
/// itself). Names compare case-insensitively, a trailing dot ignored; international names are written in
/// punycode (`xn--…`), as URL parsers hand them over.
public struct HostPattern: Sendable, Hashable, CustomStringConvertible {
    private enum Form: Sendable, Hashable {
        case name(String)
        /// The domain with a leading dot (`.example.com`).
        case under(String)
        case address(IPAddress)
    }

    private let form: Form

    /// nil for anything else: empty labels, characters outside letters, digits, `-` and `_`, a `*` anywhere but
    /// a leading `*.`, or a wildcard over a single label (`*.com`).
    public init?(_ text: String) {
        if let address = IPAddress(text) {
            form = .address(address)
            return
        }
        var name = text.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        let wildcard = name.hasPrefix("*.")
        if wildcard { name.removeFirst(2) }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.utf8.count <= 253, !wildcard || labels.count >= 2,
              labels.allSatisfy({ label in
                  (1...63).contains(label.utf8.count) && label.utf8.allSatisfy { c in
                      (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                          || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
                  }
              })
        else { return nil }
        form = wildcard ? .under("." + name) : .name(name)
    }

    /// True when `host` (as a URL names it: any case, IPv6 in brackets, perhaps a trailing dot) is this pattern's.
    public func matches<S: StringProtocol>(_ host: S) -> Bool {
        switch form {
        case .address(let a):
            return IPAddress(host) == a
        case .name(let n):
            return Self.normalised(host) == n
        case .under(let suffix):
            let h = Self.normalised(host)
            return h.count > suffix.count && h.hasSuffix(suffix) && IPAddress(h) == nil
        }
    }

    private static func normalised<S: StringProtocol>(_ host: S) -> String {
        var h = host.lowercased()
        if h.hasSuffix(".") { h.removeLast() }
        return h
    }

    public var description: String {
        switch form {
        case .name(let n): n
        case .under(let suffix): "*" + suffix
        case .address(let a): if case .v6 = a { "[\(a)]" } else { a.description }
        }
    }
}

/// The hosts one origin fetch may name, in its first request and in every redirect.
public enum OriginHosts: Sendable, Hashable {
    /// Any host (the address policy still applies to where it resolves).
    case any
    case only([HostPattern])

    public func allows<S: StringProtocol>(_ host: S) -> Bool {
        switch self {
        case .any: true
        case .only(let patterns): patterns.contains { $0.matches(host) }
        }
    }
}
