/// Where an `s3` source's objects are: a bucket on AWS S3 or an S3-compatible store, an optional key prefix, and the
/// credentials that sign requests (none: the bucket is read anonymously). A request path `/a/b.jpg` is the key
/// `<prefix>/a/b.jpg`.
public struct S3Location: Sendable, Equatable {
    public var bucket: String
    public var region: String
    /// `http(s)://host[:port]` of an S3-compatible store (no trailing slash); nil: AWS
    /// (`https://<bucket>.s3.<region>.amazonaws.com`).
    public var endpoint: String?
    /// Path-style addressing (`<endpoint>/<bucket>/<key>`) rather than virtual-host (`<bucket>.<host>/<key>`).
    public var pathStyle: Bool
    /// Key prefix without slashes at either end ("" for none).
    public var prefix: String
    public var credentials: SigV4.Credentials?

    public init(bucket: String, region: String, endpoint: String? = nil, pathStyle: Bool? = nil, prefix: String = "",
                credentials: SigV4.Credentials? = nil) {
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint.map { e in e.hasSuffix("/") ? String(e.dropLast()) : e }
        // Compatibles are addressed by path unless told otherwise (a bucket name need not be a host name there).
        self.pathStyle = pathStyle ?? (endpoint != nil)
        self.prefix = prefix.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        self.credentials = credentials
    }

    /// The object key for a request path (decoded text, leading `/`).
    public func key(for path: String) -> String {
        let relative = path.hasPrefix("/") ? String(path.dropFirst()) : path
        return prefix.isEmpty ? relative : prefix + "/" + relative
    }

    /// The GET of `key`: its URL, the Host header it is sent with (as curl sends it: a non-default port
    /// included), and the decoded path SigV4 signs.
    public func request(key: String) -> (url: String, host: String, path: String) {
        let (scheme, authority) = endpointParts
        let path = pathStyle ? "/" + bucket + "/" + key : "/" + key
        let host = pathStyle ? authority : bucket + "." + authority
        return (scheme + "://" + host + SigV4.encode(path, slash: false), host, path)
    }

    /// A request on the bucket itself (a listing): its URL without query, Host and the path SigV4 signs
    /// (`/<bucket>` path-style, `/` virtual-host).
    public var bucketRequest: (url: String, host: String, path: String) {
        let (scheme, authority) = endpointParts
        let path = pathStyle ? "/" + bucket : "/"
        let host = pathStyle ? authority : bucket + "." + authority
        return (scheme + "://" + host + SigV4.encode(path, slash: false), host, path)
    }

    /// The endpoint's scheme and authority (`host[:port]`, the port left out when it is the scheme's default).
    public var endpointParts: (scheme: String, authority: String) {
        guard let endpoint else { return ("https", "s3.\(region).amazonaws.com") }
        let scheme = endpoint.lowercased().hasPrefix("http://") ? "http" : "https"
        var authority = Substring(endpoint.drop { $0 != "/" }.drop { $0 == "/" })
        if let slash = authority.firstIndex(of: "/") { authority = authority[..<slash] }
        if scheme == "http", authority.hasSuffix(":80") { authority = authority.dropLast(3) }
        if scheme == "https", authority.hasSuffix(":443") { authority = authority.dropLast(4) }
        return (scheme, String(authority))
    }
}

/// The few pieces of S3's XML answers the node reads (error codes, listings), without an XML parser.
public enum S3XML {
    /// The texts of every `<name>…</name>` in `xml`, in order, entities decoded.
    public static func elements(_ name: String, in xml: String) -> [String] {
        var out: [String] = []
        var rest = xml[...]
        while let open = rest.range(of: "<\(name)>"), let close = rest.range(of: "</\(name)>", range: open.upperBound..<rest.endIndex) {
            out.append(unescape(String(rest[open.upperBound..<close.lowerBound])))
            rest = rest[close.upperBound...]
        }
        return out
    }

    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
