import Crypto

/// AWS Signature Version 4 for S3 requests (the `AWS4-HMAC-SHA256` Authorization header), written against
/// swift-crypto: pure, the time passed in. What S3 and its compatibles require of a GET: the payload hash sent as
/// `x-amz-content-sha256` and signed (`UNSIGNED-PAYLOAD`, or the SHA-256 of the body), `x-amz-date`, and
/// `x-amz-security-token` for temporary credentials. The path is encoded once, as S3 wants (not twice, as other
/// services do). Checked byte for byte against botocore's `S3SigV4Auth` (Tests/Fixtures/sigv4).
public enum SigV4 {
    public struct Credentials: Sendable, Equatable {
        public var accessKeyID: String
        public var secretAccessKey: String
        public var sessionToken: String?
        public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }
    }

    /// The payload hash of a request without a body whose body is not signed.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// The header lines to add to a request (`x-amz-date`, `x-amz-content-sha256` unless `sendsPayloadHash` is
    /// false — S3 requires it, other services do not — `x-amz-security-token` when the credentials have one,
    /// `authorization`), signing them with `headers` (which must hold `host`). `path`: the request's path as
    /// decoded text (it is encoded here, once, and not normalised, as S3 signs it); `query`: decoded name/value
    /// pairs.
    public static func sign(method: String, path: String, query: [(name: String, value: String)] = [],
                            headers: [(name: String, value: String)], payloadHash: String = unsignedPayload,
                            sendsPayloadHash: Bool = true, credentials: Credentials, region: String,
                            service: String = "s3", time: Double) -> [(name: String, value: String)] {
        let (amzDate, day) = timestamps(time)
        var added: [(name: String, value: String)] = [("x-amz-date", amzDate)]
        if sendsPayloadHash { added.append(("x-amz-content-sha256", payloadHash)) }
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        // Canonical headers: names lower-cased, values trimmed with inner runs of spaces made one, sorted by name,
        // repeated names joined with commas.
        var byName: [String: [String]] = [:]
        for (name, value) in headers + added {
            byName[name.lowercased(), default: []].append(collapse(value))
        }
        let names = byName.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(byName[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let pairs: [(name: String, value: String)] = query.map { (encode($0.name, slash: true), encode($0.value, slash: true)) }
        let sorted = pairs.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        let canonicalQuery = sorted.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
        let canonicalRequest = [method, encode(path.isEmpty ? "/" : path, slash: false), canonicalQuery, canonicalHeaders,
                                signedHeaders, payloadHash].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, hex(SHA256.hash(data: Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        added.append(("authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return added
    }

    /// RFC 3986 percent-encoding as SigV4 wants it: every byte but `A-Z a-z 0-9 - _ . ~` (and `/` in a path).
    public static func encode(_ text: String, slash: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        let digits = Array("0123456789ABCDEF".utf8)
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case UInt8(ascii: "/") where !slash:
                out.append("/")
            default:
                out.append("%")
                out.unicodeScalars.append(Unicode.Scalar(digits[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(digits[Int(b & 0x0F)]))
            }
        }
        return out
    }

    /// `20261207T101500Z` and `20261207` for a time in seconds since 1970 (UTC).
    static func timestamps(_ time: Double) -> (String, String) {
        let seconds = Int(time.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (y, m, d) = HTTPDate.civil(fromDays: days)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let day = "\(y)\(two(m))\(two(d))"
        return (day + "T" + two(rest / 3600) + two(rest % 3600 / 60) + two(rest % 60) + "Z", day)
    }

    private static func collapse(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    private static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 { Hex.encode(Array(digest)) }
}
