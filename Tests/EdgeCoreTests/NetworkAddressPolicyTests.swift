import EdgeCore
import Testing

@Suite struct IPAddressTests {
    /// Should read IPv4 and IPv6 text, brackets and dotted IPv4 tails included, and print it canonically (RFC 5952).
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("::", "::"), ("[::]", "::"), ("::1", "::1"), ("[::1]", "::1"), ("1::", "1::"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1"), ("::ffff:7f00:1", "::ffff:127.0.0.1"),
        ("::FFFF:7F00:0001", "::ffff:127.0.0.1"), ("64:ff9b::a9fe:a9fe", "64:ff9b::a9fe:a9fe"),
        ("64:ff9b::169.254.169.254", "64:ff9b::a9fe:a9fe"), ("fd00::1", "fd00::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"), ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"), ("1:0:0:2:2:0:0:3", "1::2:2:0:0:3"), ("fe80::1:2:3:4:5:6", "fe80:0:1:2:3:4:5:6"),
        ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"), ("::127.0.0.1", "::7f00:1"),
    ])
    func parsesAndPrints(text: String, canonical: String) throws {
        let a = try #require(IPAddress(text))
        #expect(a.description == canonical)
        #expect(IPAddress(canonical) == a)
    }

    /// Should refuse text that is not exactly an address: short or long forms, leading zeros, zone ids, CIDRs.
    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.04", "1.2.3.-1", "1.2.3.4 ", " 1.2.3.4", "0x7f.0.0.1",
        "2130706433", "127.1", "1..2.3", ":::", "1::2::3", "::1::", ":1", "1:", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
        "12345::", "g::1", "[::1", "::1]", "[1.2.3.4]", "fe80::1%eth0", "1.2.3.4/8", "::1.2.3.4:5", "1.2.3.4::",
        "1:2:3:4:5:6:7:1.2.3.4", "localhost",
    ])
    func refusesMalformed(text: String) {
        #expect(IPAddress(text) == nil, "\(text)")
    }

    /// Should build addresses from socket bytes in network order, and only from 4 or 16 bytes.
    @Test func fromBytes() {
        #expect(IPAddress(bytes: [127, 0, 0, 1]) == IPAddress("127.0.0.1"))
        #expect(IPAddress(bytes: [UInt8](repeating: 0, count: 15) + [1]) == IPAddress("::1"))
        #expect(IPAddress(bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 169, 254, 169, 254]) == IPAddress("::ffff:169.254.169.254"))
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
        #expect(IPAddress(bytes: [UInt8]()) == nil)
    }
}

@Suite struct IPNetworkTests {
    /// Should read CIDR blocks and bare addresses, and test membership within one family.
    @Test func contains() throws {
        let loop = try IPNetwork("127.0.0.0/8")
        #expect(loop.contains(IPAddress("127.255.0.1")!))
        #expect(!loop.contains(IPAddress("128.0.0.1")!))
        #expect(!loop.contains(IPAddress("::ffff:127.0.0.1")!))
        let one = try IPNetwork("127.0.0.1")
        #expect(one.prefixLength == 32 && one.contains(IPAddress("127.0.0.1")!) && !one.contains(IPAddress("127.0.0.2")!))
        let ula = try IPNetwork("fd00::/8")
        #expect(ula.contains(IPAddress("fdff::1")!) && !ula.contains(IPAddress("fc00::1")!))
        #expect(try IPNetwork("0.0.0.0/0").contains(IPAddress("8.8.8.8")!))
        #expect(try IPNetwork("::/0").contains(IPAddress("::1")!))
        #expect(try IPNetwork("[::1]/128").description == "::1/128")
    }

    /// Should refuse bad addresses, prefix lengths out of range and bits set past the prefix, saying which.
    @Test func refusesMalformed() {
        func message(_ text: String) -> String? {
            do {
                _ = try IPNetwork(text)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(message("127.0.0.1/8")?.contains("did you mean 127.0.0.0/8") == true)
        #expect(message("10.0.0.0/33")?.contains("0 to 32") == true)
        #expect(message("fd00::/129")?.contains("0 to 128") == true)
        for bad in ["10.0.0.0/", "10.0.0.0/+8", "10.0.0.0/-1", "10.0.0.0/8/8", "ten/8", "", "/8", "10.0.0.0/0008"] {
            #expect(message(bad) != nil, "\(bad)")
        }
    }
}

@Suite struct NetworkAddressPolicyTests {
    static func scope(_ text: String) -> AddressScope? { IPAddress(text)?.scope }

    /// Should class every special-purpose IPv4 range, including both ends of each.
    @Test(arguments: [
        ("127.0.0.1", AddressScope.loopback), ("127.255.255.254", .loopback), ("127.0.0.2", .loopback),
        ("10.0.0.0", .privateUse), ("10.255.255.255", .privateUse), ("172.16.0.1", .privateUse),
        ("172.31.255.255", .privateUse), ("192.168.0.1", .privateUse), ("192.168.255.255", .privateUse),
        ("169.254.169.254", .linkLocal), ("169.254.0.0", .linkLocal), ("100.64.0.1", .sharedAddressSpace),
        ("100.127.255.255", .sharedAddressSpace), ("0.0.0.0", .unspecified), ("0.1.2.3", .reserved),
        ("255.255.255.255", .broadcast), ("224.0.0.1", .multicast), ("239.255.255.255", .multicast),
        ("240.0.0.1", .reserved), ("255.255.255.254", .reserved), ("192.0.2.1", .documentation),
        ("198.51.100.7", .documentation), ("203.0.113.9", .documentation), ("198.18.0.1", .reserved),
        ("198.19.255.255", .reserved), ("192.0.0.8", .reserved), ("192.88.99.1", .reserved),
        // Just outside each range: public.
        ("8.8.8.8", .publicUnicast), ("1.1.1.1", .publicUnicast), ("9.255.255.255", .publicUnicast),
        ("11.0.0.0", .publicUnicast), ("100.63.255.255", .publicUnicast), ("100.128.0.0", .publicUnicast),
        ("126.255.255.255", .publicUnicast), ("128.0.0.0", .publicUnicast), ("169.253.255.255", .publicUnicast),
        ("169.255.0.0", .publicUnicast), ("172.15.255.255", .publicUnicast), ("172.32.0.0", .publicUnicast),
        ("192.167.255.255", .publicUnicast), ("192.169.0.0", .publicUnicast), ("198.17.255.255", .publicUnicast),
        ("198.20.0.0", .publicUnicast), ("223.255.255.255", .publicUnicast), ("1.0.0.0", .publicUnicast),
        ("192.0.3.0", .publicUnicast), ("203.0.114.0", .publicUnicast),
    ])
    func ipv4Scopes(text: String, expected: AddressScope) {
        #expect(Self.scope(text) == expected, "\(text)")
    }

    /// Should class IPv6 ranges, and give IPv6 forms that carry an IPv4 address that address's scope.
    @Test(arguments: [
        ("::1", AddressScope.loopback), ("[::]", .unspecified), ("::", .unspecified), ("fe80::1", .linkLocal),
        ("febf:ffff::1", .linkLocal), ("fc00::1", .privateUse), ("fd00::1", .privateUse), ("fec0::1", .privateUse),
        ("ff02::1", .multicast), ("ff0e::1", .multicast), ("2001:db8::1", .documentation), ("3fff::1", .documentation),
        ("100::1", .reserved), ("2001::1", .reserved), ("2001:2::1", .reserved), ("2001:1ff::1", .reserved),
        ("4000::1", .reserved), ("1fff::1", .reserved), ("64:ff9b:1::1", .privateUse),
        // IPv4-mapped, in both spellings.
        ("::ffff:127.0.0.1", .loopback), ("::ffff:7f00:1", .loopback), ("::ffff:10.0.0.1", .privateUse),
        ("::ffff:169.254.169.254", .linkLocal), ("::ffff:0.0.0.0", .unspecified), ("::ffff:8.8.8.8", .publicUnicast),
        // IPv4-compatible (deprecated): the scope it carries, and reserved even when that is public.
        ("::127.0.0.1", .loopback), ("::a9fe:a9fe", .linkLocal), ("::8.8.8.8", .reserved), ("::2", .reserved),
        // NAT64 well-known prefix: a translator forwards to the address it carries.
        ("64:ff9b::a9fe:a9fe", .linkLocal), ("64:ff9b::127.0.0.1", .loopback), ("64:ff9b::10.1.2.3", .privateUse),
        ("64:ff9b::808:808", .publicUnicast),
        // 6to4.
        ("2002:7f00:1::1", .loopback), ("2002:a9fe:a9fe::", .linkLocal), ("2002:c0a8:101::1", .privateUse),
        ("2002:808:808::1", .publicUnicast),
        // Public.
        ("2606:4700::1111", .publicUnicast), ("2a00:1450:4001::200e", .publicUnicast), ("2001:200::1", .publicUnicast),
        ("2001:db7:ffff::1", .publicUnicast), ("3ffe::1", .publicUnicast), ("2000::1", .publicUnicast),
    ])
    func ipv6Scopes(text: String, expected: AddressScope) {
        #expect(Self.scope(text) == expected, "\(text)")
    }

    /// Should refuse everything but public unicast by default, saying why in terms of the address carried.
    @Test func publicOnly() throws {
        let policy = NetworkAddressPolicy.publicOnly
        for text in ["127.0.0.1", "::ffff:127.0.0.1", "::ffff:7f00:1", "0.0.0.0", "[::]", "169.254.169.254", "fd00::1",
                     "64:ff9b::a9fe:a9fe", "::1", "10.0.0.1", "100.64.0.1", "224.0.0.1", "255.255.255.255", "192.0.2.1"] {
            #expect(policy.refusal(for: try #require(IPAddress(text))) != nil, "\(text)")
        }
        for text in ["8.8.8.8", "::ffff:8.8.8.8", "2606:4700::1111", "64:ff9b::808:808"] {
            #expect(policy.refusal(for: try #require(IPAddress(text))) == nil, "\(text)")
        }
        #expect(policy.refusal(for: IPAddress("64:ff9b::a9fe:a9fe")!) == "64:ff9b::a9fe:a9fe is link-local (NAT64 169.254.169.254)")
        #expect(policy.refusal(for: IPAddress("::ffff:7f00:1")!) == "::ffff:127.0.0.1 is loopback (IPv4-mapped 127.0.0.1)")
        #expect(policy.refusal(for: IPAddress("10.1.2.3")!) == "10.1.2.3 is private")
    }

    /// Should allow every non-public unicast scope with allowPrivateNetwork: true, but never unspecified,
    /// multicast or broadcast addresses.
    @Test func allPrivate() throws {
        let policy = NetworkAddressPolicy.anyUnicast
        for text in ["127.0.0.1", "::1", "::ffff:127.0.0.1", "10.0.0.1", "169.254.169.254", "fd00::1", "100.64.0.1",
                     "64:ff9b::a9fe:a9fe", "192.0.2.1", "240.0.0.1", "8.8.8.8"] {
            #expect(policy.refusal(for: try #require(IPAddress(text))) == nil, "\(text)")
        }
        for text in ["0.0.0.0", "::", "::ffff:0.0.0.0", "224.0.0.1", "ff02::1", "255.255.255.255", "::ffff:255.255.255.255"] {
            #expect(policy.refusal(for: try #require(IPAddress(text))) != nil, "\(text)")
        }
    }

    /// Should allow only the listed blocks (an IPv4 block covering the IPv4-mapped form too) besides public addresses.
    @Test func listedNetworks() throws {
        let policy = NetworkAddressPolicy(privateNetworks: .only([try IPNetwork("127.0.0.1/32"), try IPNetwork("fd00::/8")]))
        for text in ["127.0.0.1", "::ffff:127.0.0.1", "fd12::1", "8.8.8.8"] {
            #expect(policy.refusal(for: try #require(IPAddress(text))) == nil, "\(text)")
        }
        for text in ["127.0.0.2", "::1", "10.0.0.1", "fc00::1", "::127.0.0.1", "64:ff9b::127.0.0.1", "2002:7f00:1::"] {
            #expect(policy.refusal(for: try #require(IPAddress(text))) != nil, "\(text)")
        }
        // Listing a never-allowed address does not open it.
        let wide = NetworkAddressPolicy(privateNetworks: .only([try IPNetwork("0.0.0.0/0")]))
        #expect(wide.refusal(for: IPAddress("0.0.0.0")!) != nil)
        #expect(wide.refusal(for: IPAddress("10.0.0.1")!) == nil)
    }
}
