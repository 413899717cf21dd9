import Crypto

/// The identity of one cached variant: SHA-256 over the source, the decoded path, the canonical transform
/// and the negotiated format. Built from parsed values, never from the raw query, so equivalent URLs share it.
public struct CacheKey: Sendable, Hashable, CustomStringConvertible {
    /// The 32 digest bytes (the LMDB key).
    public let bytes: [UInt8]

    public init(source: String, path: String, spec: TransformSpec, format: NegotiatedFormat) {
        let text = CacheKey.canonical(source: source, path: path, spec: spec, format: format)
        bytes = Array(SHA256.hash(data: Array(text.utf8)))
    }

    /// The text hashed: versioned, unambiguous (NUL-separated), and free of anything that does not change the output.
    public static func canonical(source: String, path: String, spec: TransformSpec, format: NegotiatedFormat) -> String {
        let parts = ["imgedge-key-v1", source, path, spec.canonical(for: format), format.description]
        return parts.joined(separator: "\u{0}")
    }

    /// The key of an origin object's record: the freshness and validators of the origin response that its variants
    /// were made from, shared by all of them so that one revalidation refreshes every variant (a different
    /// prefix, so no variant key can equal it).
    public static func originRecord(source: String, path: String) -> CacheKey {
        CacheKey(text: ["imgedge-origin-v1", source, path].joined(separator: "\u{0}"))
    }

    /// The key of an original kept in the originals tier (the origin's 200 for `path`, fetched without any
    /// request field), from which any variant of it can be made.
    public static func original(source: String, path: String) -> CacheKey {
        CacheKey(text: ["imgedge-original-v1", source, path].joined(separator: "\u{0}"))
    }

    /// The key of one response among those an original's `Vary` separates: `base` (the original's key) with the
    /// request's normalised values of the keyed fields (`RequestHeaderRules.varyKeyText`).
    public static func varied(_ base: CacheKey, by varyText: String) -> CacheKey {
        CacheKey(text: "imgedge-vary-v1\u{0}" + Hex.encode(base.bytes) + "\u{0}" + varyText)
    }

    /// A key read back from the store (32 digest bytes); nil for anything else.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    private init(text: String) {
        bytes = Array(SHA256.hash(data: Array(text.utf8)))
    }

    /// Lower-case hex, for logs.
    public var description: String { Hex.encode(bytes) }

    /// The digest as four words rather than 32 bytes one by one (the hit path hashes a key several times). The
    /// bytes are a SHA-256 digest and the hasher is seeded per process, so no bucket can be aimed at.
    public func hash(into hasher: inout Hasher) {
        guard bytes.count == 32 else { return hasher.combine(bytes) }
        bytes.withUnsafeBytes { p in
            for word in 0..<4 { hasher.combine(p.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self)) }
        }
    }
}

extension TransformSpec {
    /// The canonical form of a request without parameters.
    private static let identityCanonical: String = {
        let none = try? TransformParser.parse(query: "")
        return none?.canonical(for: .sourceFormat) ?? ""
    }()

    /// True when the spec, with `format`, changes nothing: the request serves the original (imgix serves the
    /// source as it is when no parameter changes it). `dl`, `s` and `expires` do not count; `fm`, `q`, `auto`… do.
    public func isIdentity(for format: NegotiatedFormat) -> Bool {
        guard case .sourceFormat = format, !autoFormat else { return false }
        return canonical(for: format) == Self.identityCanonical
    }

    /// The spec as a canonical string: fixed order, normalised numbers, defaults and no-ops omitted.
    public func canonical(for format: NegotiatedFormat) -> String {
        var out: [String] = []
        // The hints' values are in the spec already; the list itself decides the response's Vary.
        if !clientHints.isEmpty { out.append("ch=" + clientHints.map(\.rawValue).joined(separator: ",")) }
        size.canonical(into: &out)
        let concrete: OutputFormat? = if case .format(let f) = format { f } else { nil }
        // Quality matters for lossy outputs, and for "source format" whose output may be lossy.
        if concrete?.usesQuality ?? true { out.append("q=\(quality)") }
        // The background shows in fill padding and behind transparency flattened into JPEG.
        let flattens = concrete.map { !$0.supportsAlpha } ?? true
        let pads = (width != nil || height != nil || size.aspectRatio != nil) && size.fit.pads
        if pads || flattens || border != BorderSpec() { out.append("bg=\(background)") }
        rotation.canonical(into: &out)
        adjust.canonical(into: &out)
        stylize.canonical(into: &out)
        border.canonical(into: &out)
        output.canonical(into: &out)
        watermark.canonical(into: &out)
        text.canonical(into: &out)
        return out.joined(separator: "&")
    }
}

enum Canonical {
    /// Shortest decimal that round-trips: 400 → "400", 0.5 → "0.5".
    static func number(_ d: Double) -> String { NumberText.format(d) }
}

/// Lower-case hexadecimal.
public enum Hex {
    public static func encode<C: Collection<UInt8>>(_ bytes: C) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of an even run of hex digits (either case); nil for anything else.
    public static func decode<S: StringProtocol>(_ text: S) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let hi = PercentDecoding.hexValue(digits[i]), let lo = PercentDecoding.hexValue(digits[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
        }
        return out
    }
}
