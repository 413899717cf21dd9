import EdgeCore

/// The source keys that decide where origin fetches may go (the SSRF guard's configuration).
extension ConfigReader {
    /// `allowPrivateNetwork`: `false` (the default: public addresses only), `true` (also loopback, private,
    /// link-local, CGNAT, reserved and documentation addresses), or a list of CIDR blocks (`[10.1.0.0/16,
    /// fd00::/8]`, a bare address for one) that are opened and no others. Unspecified, multicast and broadcast
    /// addresses are never reachable. Only web, proxy and s3 sources fetch over the network.
    mutating func networkPolicy(_ map: [String: Any], _ at: String, kind: SourceKind?) -> NetworkAddressPolicy {
        let key = "\(at).allowPrivateNetwork"
        guard let v = map["allowPrivateNetwork"] else { return .publicOnly }
        if kind == .folder { problem(key, "only for web, proxy and s3 sources") }
        if let b = v as? Bool { return b ? .anyUnicast : .publicOnly }
        guard let list = v as? [Any] else {
            problem(key, "must be true, false or a list of CIDR blocks such as [10.0.0.0/8, fd00::/8]")
            return .publicOnly
        }
        var networks: [IPNetwork] = []
        for (i, item) in list.enumerated() {
            guard let text = string(item, "\(key)[\(i)]") else { continue }
            do {
                networks.append(try IPNetwork(text))
            } catch {
                problem("\(key)[\(i)]", error.description)
            }
        }
        return NetworkAddressPolicy(privateNetworks: .only(networks))
    }

    /// `allowedHosts`: a list of host names (`img.example.com`), IP addresses, or `*.example.com` (any name under
    /// the domain, not the domain itself). For a web source, the hosts besides its baseURL's that redirects may
    /// lead to; for a proxy source, the only hosts its URLs and their redirects may name.
    mutating func allowedHosts(_ map: [String: Any], _ at: String, kind: SourceKind?) -> [HostPattern] {
        let key = "\(at).allowedHosts"
        guard let v = map["allowedHosts"] else { return [] }
        if kind == .folder || kind == .s3 { problem(key, "only for web and proxy sources") }
        guard let list = v as? [Any] else {
            problem(key, "must be a list of host names, such as [img.example.com, '*.cdn.example.com']")
            return []
        }
        var patterns: [HostPattern] = []
        for (i, item) in list.enumerated() {
            guard let text = string(item, "\(key)[\(i)]") else { continue }
            guard let pattern = HostPattern(text) else {
                problem("\(key)[\(i)]", "must be a host name, an IP address or *. and a domain of two labels or more (\(text))")
                continue
            }
            patterns.append(pattern)
        }
        return patterns
    }

    /// What a proxy source must and must not have: no root or baseURL (each URL names its origin), and a
    /// secureToken that every URL is signed with (imgix signs every web-proxy URL; unsigned, the node would fetch
    /// any URL for anyone), so requireSignature cannot be false.
    mutating func proxySource(_ map: [String: Any], _ at: String) {
        if map["root"] != nil { problem("\(at).root", "only for folder sources") }
        if map["baseURL"] != nil { problem("\(at).baseURL", "only for web sources (a proxy source's URLs name their origin)") }
        if map["secureToken"] == nil { problem("\(at).secureToken", "required for a proxy source (its URLs must be signed)") }
        if let v = map["requireSignature"], (v as? Bool) == false || (v as? String)?.lowercased() == "false" {
            problem("\(at).requireSignature", "cannot be false for a proxy source")
        }
    }
}
