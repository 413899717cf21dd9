/// The kind of range an address belongs to, after the IANA special-purpose address registries (RFC 6890 and
/// its successors). Everything but `publicUnicast` is a place an origin fetch must not reach unasked.
public enum AddressScope: String, Sendable, Hashable, CaseIterable {
    case publicUnicast = "public"
    case loopback
    /// RFC 1918, IPv6 unique-local (fc00::/7), deprecated site-local (fec0::/10), local-use NAT64 (64:ff9b:1::/48).
    case privateUse = "private"
    case linkLocal = "link-local"
    /// 100.64.0.0/10, carrier-grade NAT (RFC 6598).
    case sharedAddressSpace = "shared (CGNAT)"
    case multicast
    case broadcast
    case unspecified
    case documentation
    /// Everything else no public host can have: 0/8, 192.0.0/24, 198.18/15 (benchmarking), 240/4, IPv6 outside
    /// 2000::/3, 2001::/23 (protocol assignments, Teredo), deprecated IPv4-compatible addresses.
    case reserved
}

extension IPAddress {
    /// The scope of the address. IPv6 forms that stand for an IPv4 address take the scope of the address they
    /// carry: IPv4-mapped (`::ffff:127.0.0.1`, which a dual-stack socket connects over IPv4), NAT64
    /// (`64:ff9b::a9fe:a9fe`, which a translator forwards to 169.254.169.254), 6to4 (`2002:7f00:1::`) and the
    /// deprecated IPv4-compatible form (`::127.0.0.1`, reserved even when the address it carries is public).
    public var scope: AddressScope {
        switch self {
        case .v4(let a):
            return Self.scope(v4: a)
        case .v6(let a):
            if let carried = embeddedIPv4 {
                let inner = Self.scope(v4: carried.address)
                return carried.form == .compatible && inner == .publicUnicast ? .reserved : inner
            }
            return Self.scope(v6: a)
        }
    }

    /// How an IPv6 address carries an IPv4 one.
    public enum EmbeddingForm: String, Sendable {
        case mapped = "IPv4-mapped"
        case compatible = "IPv4-compatible"
        case nat64 = "NAT64"
        case sixToFour = "6to4"
    }

    /// The IPv4 address an IPv6 address stands for, and in which form; nil for IPv4 and other IPv6 addresses.
    /// `::` and `::1` are themselves, not IPv4-compatible forms.
    public var embeddedIPv4: (address: UInt32, form: EmbeddingForm)? {
        guard case .v6(let a) = self else { return nil }
        let low32 = UInt32(truncatingIfNeeded: a)
        if a >> 32 == 0xFFFF { return (low32, .mapped) }
        if a >> 32 == 0, a > 1 { return (low32, .compatible) }
        if a >> 32 == 0x0064_FF9B_0000_0000_0000_0000 { return (low32, .nat64) }
        if a >> 112 == 0x2002 { return (UInt32(truncatingIfNeeded: a >> 80), .sixToFour) }
        return nil
    }

    /// The IPv4 address when this is one, or its IPv4-mapped form: the same destination for a socket.
    public var sameHostIPv4: IPAddress? {
        switch self {
        case .v4: self
        case .v6(let a): a >> 32 == 0xFFFF ? .v4(UInt32(truncatingIfNeeded: a)) : nil
        }
    }

    private static func scope(v4 a: UInt32) -> AddressScope {
        func within(_ network: UInt32, _ length: Int) -> Bool { a & ~UInt32(0) << (32 - length) == network }
        if a == 0 { return .unspecified }
        if a == 0xFFFF_FFFF { return .broadcast }
        if within(0x7F00_0000, 8) { return .loopback }
        if within(0x0A00_0000, 8) || within(0xAC10_0000, 12) || within(0xC0A8_0000, 16) { return .privateUse }
        if within(0xA9FE_0000, 16) { return .linkLocal }
        if within(0x6440_0000, 10) { return .sharedAddressSpace }
        if within(0xE000_0000, 4) { return .multicast }
        if within(0xC000_0200, 24) || within(0xC633_6400, 24) || within(0xCB00_7100, 24) { return .documentation }
        // 0/8 "this network", 192.0.0/24 protocol assignments, 192.88.99/24 former 6to4 relays,
        // 198.18/15 benchmarking, 240/4 future use.
        if within(0, 8) || within(0xC000_0000, 24) || within(0xC058_6300, 24) || within(0xC612_0000, 15)
            || within(0xF000_0000, 4)
        {
            return .reserved
        }
        return .publicUnicast
    }

    private static func scope(v6 a: UInt128) -> AddressScope {
        func within(_ network: UInt128, _ length: Int) -> Bool { a & ~UInt128(0) << (128 - length) == network }
        if a == 0 { return .unspecified }
        if a == 1 { return .loopback }
        if within(0xFF00 << 112, 8) { return .multicast }
        if within(0xFE80 << 112, 10) { return .linkLocal }
        if within(0xFC00 << 112, 7) || within(0xFEC0 << 112, 10) || within(0x0064_FF9B_0001 << 80, 48) {
            return .privateUse
        }
        if within(0x2001_0DB8 << 96, 32) || within(0x3FFF << 112, 20) { return .documentation }
        // Global unicast is 2000::/3; within it, 2001::/23 holds protocol assignments (Teredo, benchmarking…).
        if !within(0x2000 << 112, 3) || within(0x2001 << 112, 23) { return .reserved }
        return .publicUnicast
    }
}

/// Which addresses an origin connection may reach: public unicast addresses always; the other scopes (loopback,
/// private, link-local, CGNAT, reserved, documentation) only where a source opens them with
/// `allowPrivateNetwork`; unspecified, multicast and broadcast addresses never (no origin lives there, and
/// Linux connects 0.0.0.0 to the local host).
public struct NetworkAddressPolicy: Sendable, Hashable {
    /// The non-public addresses a source allows.
    public enum PrivateNetworks: Sendable, Hashable {
        case none
        case all
        /// These blocks only (an IPv4 block also covers the IPv4-mapped forms of its addresses).
        case only([IPNetwork])
    }

    public let privateNetworks: PrivateNetworks

    public init(privateNetworks: PrivateNetworks) { self.privateNetworks = privateNetworks }

    /// The default: public addresses only.
    public static let publicOnly = NetworkAddressPolicy(privateNetworks: .none)
    /// `allowPrivateNetwork: true`.
    public static let anyUnicast = NetworkAddressPolicy(privateNetworks: .all)

    /// nil when a connection to `address` is allowed; else why not, for the log (`127.0.0.1 is loopback`).
    public func refusal(for address: IPAddress) -> String? {
        let scope = address.scope
        if scope == .publicUnicast { return nil }
        let never: Set<AddressScope> = [.unspecified, .multicast, .broadcast]
        if !never.contains(scope) {
            switch privateNetworks {
            case .none:
                break
            case .all:
                return nil
            case .only(let networks):
                let forms = [address] + (address.sameHostIPv4.map { [$0] } ?? [])
                if networks.contains(where: { n in forms.contains { n.contains($0) } }) { return nil }
            }
        }
        let via = address.embeddedIPv4.map { " (\($0.form.rawValue) \(IPAddress.dotted($0.address)))" } ?? ""
        return "\(address) is \(scope.rawValue)\(via)"
    }
}
