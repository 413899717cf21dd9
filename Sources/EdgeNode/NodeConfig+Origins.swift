import EdgeCore

/// The source keys that decide where origin fetches may go (the SSRF guard's configuration).
extension ConfigReader {
    /// `allowPrivateNetwork`: `false` (the default: public addresses only), `true` (also loopback, private,
    /// link-local, CGNAT, reserved and documentation addresses), or a list of CIDR blocks (`[10.1.0.0/16,
    /// fd00::/8]`, a bare address for one) that are opened and no others. Unspecified, multicast and broadcast
    /// addresses are never reachable. Only web and proxy sources fetch over the network.
    mutating func networkPolicy(_ map: [String: Any], _ at: String, kind: SourceKind?) -> NetworkAddressPolicy {
        let key = "\(at).allowPrivateNetwork"
        guard let v = map["allowPrivateNetwork"] else { return .publicOnly }
        if kind == .folder { problem(key, "only for web and proxy sources") }
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
}
