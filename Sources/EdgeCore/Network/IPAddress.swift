/// An IP address as a socket connects to it: the unit the SSRF guard judges, whatever host name led to it.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt128)

    /// From the raw bytes of a socket address, in network order: 4 (IPv4) or 16 (IPv6); nil for any other count.
    public init?<C: Collection<UInt8>>(bytes: C) {
        switch bytes.count {
        case 4: self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16: self = .v6(bytes.reduce(0) { $0 << 8 | UInt128($1) })
        default: return nil
        }
    }

    /// From text: IPv4 as four decimal parts without leading zeros (`010.0.0.1` is octal to some parsers and
    /// decimal to others, so it is refused), or IPv6 as RFC 4291 §2.2 writes it (`::`, a dotted IPv4 tail),
    /// optionally in brackets. Zone ids (`fe80::1%eth0`) are refused.
    public init?<S: StringProtocol>(_ text: S) {
        var bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "[") {
            guard bytes.last == UInt8(ascii: "]") else { return nil }
            bytes = Array(bytes.dropFirst().dropLast())
            guard let v6 = Self.parseV6(bytes[...]) else { return nil }
            self = .v6(v6)
        } else if let v4 = Self.parseV4(bytes[...]) {
            self = .v4(v4)
        } else if let v6 = Self.parseV6(bytes[...]) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    /// Dotted quad for IPv4; RFC 5952 for IPv6 (lower case, the longest run of two or more zero groups as `::`,
    /// IPv4-mapped addresses with a dotted tail).
    public var description: String {
        switch self {
        case .v4(let a):
            return Self.dotted(a)
        case .v6(let a):
            if a >> 32 == 0xFFFF { return "::ffff:" + Self.dotted(UInt32(truncatingIfNeeded: a)) }
            let groups = (0..<8).map { UInt16(truncatingIfNeeded: a >> (112 - 16 * $0)) }
            // The longest run of zero groups (the first of equals), if two or more long.
            var best = (start: -1, length: 1)
            var i = 0
            while i < 8 {
                guard groups[i] == 0 else {
                    i += 1
                    continue
                }
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > best.length { best = (i, j - i) }
                i = j
            }
            let hex = { (g: ArraySlice<UInt16>) in g.map { String($0, radix: 16) }.joined(separator: ":") }
            guard best.start >= 0 else { return hex(groups[...]) }
            return hex(groups[..<best.start]) + "::" + hex(groups[(best.start + best.length)...])
        }
    }

    static func dotted(_ a: UInt32) -> String {
        "\(a >> 24).\(a >> 16 & 0xFF).\(a >> 8 & 0xFF).\(a & 0xFF)"
    }

    /// Four decimal parts of 0–255, no leading zeros, nothing else.
    static func parseV4(_ s: ArraySlice<UInt8>) -> UInt32? {
        let parts = s.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for p in parts {
            guard (1...3).contains(p.count), p.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  p.count == 1 || p.first != UInt8(ascii: "0")
            else { return nil }
            let n = p.reduce(0) { $0 * 10 + UInt32($1 - UInt8(ascii: "0")) }
            guard n <= 255 else { return nil }
            value = value << 8 | n
        }
        return value
    }

    /// Eight groups of one to four hex digits; one `::` stands for one or more zero groups; the last 32 bits may
    /// be written as a dotted IPv4 address.
    static func parseV6(_ s: ArraySlice<UInt8>) -> UInt128? {
        let colon = UInt8(ascii: ":")
        // Split around a single "::", if any.
        var head = s
        var tail: ArraySlice<UInt8>?
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == colon, i + 1 < s.endIndex, s[i + 1] == colon {
                guard tail == nil else { return nil }
                head = s[s.startIndex..<i]
                tail = s[(i + 2)...]
                i += 2
                continue
            }
            i += 1
        }
        func groups(_ part: ArraySlice<UInt8>, allowV4Tail: Bool) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            let fields = part.split(separator: colon, omittingEmptySubsequences: false)
            var out: [UInt16] = []
            for (n, f) in fields.enumerated() {
                if allowV4Tail, n == fields.count - 1, f.contains(UInt8(ascii: ".")) {
                    guard let v4 = parseV4(f) else { return nil }
                    out += [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                    continue
                }
                guard (1...4).contains(f.count) else { return nil }
                var g: UInt16 = 0
                for c in f {
                    guard let d = PercentDecoding.hexValue(c) else { return nil }
                    g = g << 4 | UInt16(d)
                }
                out.append(g)
            }
            return out
        }
        guard let front = groups(head, allowV4Tail: tail == nil) else { return nil }
        let back = tail.map { groups($0, allowV4Tail: true) } ?? []
        guard let back else { return nil }
        let all: [UInt16]
        if tail == nil {
            guard front.count == 8 else { return nil }
            all = front
        } else {
            guard front.count + back.count <= 7 else { return nil }
            all = front + Array(repeating: 0, count: 8 - front.count - back.count) + back
        }
        return all.reduce(0) { $0 << 16 | UInt128($1) }
    }
}

/// A CIDR block (`10.0.0.0/8`, `fd00::/8`), as `allowPrivateNetwork` lists them.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// Why a text is not a CIDR block, for configuration errors.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// `address/length`, or a bare address (the block of that one address). An address with bits set past the
    /// prefix (`127.0.0.1/8`) is refused rather than masked: it is usually a typo for something else.
    public init<S: StringProtocol>(_ text: S) throws(ParseError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { throw ParseError(description: "not an IP address: \(parts[0])") }
        let bits = if case .v4 = address { 32 } else { 128 }
        var length = bits
        if parts.count == 2 {
            guard (1...3).contains(parts[1].count), parts[1].allSatisfy({ ("0"..."9").contains($0) }), let n = Int(parts[1]),
                  (0...bits).contains(n)
            else {
                throw ParseError(description: "the prefix length must be from 0 to \(bits)")
            }
            length = n
        }
        let network = Self.masked(address, length)
        guard network == address else {
            throw ParseError(description: "\(address) has bits set past /\(length) (did you mean \(network)/\(length)?)")
        }
        self.address = address
        self.prefixLength = length
    }

    /// `address` with every bit past the first `length` cleared.
    static func masked(_ address: IPAddress, _ length: Int) -> IPAddress {
        switch address {
        case .v4(let a): .v4(length == 0 ? 0 : a & ~UInt32(0) << (32 - length))
        case .v6(let a): .v6(length == 0 ? 0 : a & ~UInt128(0) << (128 - length))
        }
    }

    /// True for an address of the same family inside the block.
    public func contains(_ other: IPAddress) -> Bool {
        switch (address, other) {
        case (.v4, .v4), (.v6, .v6): Self.masked(other, prefixLength) == address
        default: false
        }
    }

    public var description: String { "\(address)/\(prefixLength)" }
}
