/// Where a source's originals come from.
public enum SourceKind: String, Sendable, Hashable, CaseIterable {
    /// A local directory (`root`).
    case folder
    /// An HTTP(S) origin (`baseURL`); the request path is appended.
    case web
    /// imgix "web proxy": the request path is a percent-encoded absolute http(s) URL. Always signed.
    case proxy
    /// An S3 bucket, on AWS or an S3-compatible store (`s3`): the request path is the object key, under a prefix.
    case s3
}

/// A configured source: one customer's origin and the Host names that reach it.
public struct SourceConfig: Sendable, Equatable {
    public var name: String
    public var customer: String?
    public var kind: SourceKind
    /// Lower-case Host names (no port) this source answers.
    public var hosts: [String]
    /// Absolute folder path (`folder` sources).
    public var root: String?
    /// Base URL without a trailing slash (`web` sources).
    public var baseURL: String?
    /// The bucket (`s3` sources).
    public var s3: S3Location? = nil
    public var enabled: Bool
    /// Overrides the origin's freshness, in seconds.
    public var ttl: Double?
    /// `staleWhileRevalidate`, `staleIfError` (seconds): stale windows when the origin states none.
    public var staleWhileRevalidate: Double? = nil
    public var staleIfError: Double? = nil
    /// `secureToken`: the imgix secure-URL token; a URL that carries `s` is verified with it.
    public var secureToken: String? = nil
    /// `requireSignature`: refuse (403) every URL not signed with `secureToken`. Proxy sources always do.
    public var requireSignature = false
    /// `defaultParams`: imgix parameters applied where a URL is silent (the URL's own always win).
    public var defaultParams: [QueryParameter] = []
    /// `keepMetadata`: requests without transform parameters serve the origin's bytes exactly, metadata included
    /// (by default their metadata is removed losslessly). Transformed outputs never carry metadata.
    public var keepMetadata = false
    /// `allowIPTC`: honour `iptc=allow` (a JPEG source's IPTC passed into a JPEG output).
    public var allowIPTC = false
    /// `exposeLocation`: `fm=json` includes the GPS position (by default it never does).
    public var exposeLocation = false
    /// `allowPrivateNetwork`: the non-public addresses (loopback, private, link-local…) this source's origin
    /// fetches may connect to; by default none. Checked on the address each connection is really made to.
    public var networkPolicy = NetworkAddressPolicy.publicOnly
    /// `allowedHosts`: for a web source, the hosts besides its baseURL's that its origin's redirects may lead to;
    /// for a proxy source, the only hosts its URLs and their redirects may name (any host when empty).
    public var allowedHosts: [HostPattern] = []
    /// `passRedirects`: a redirect from the origin of a request for an original is passed on to the client (and
    /// cached as its headers allow) instead of followed; transform requests always follow them.
    public var passRedirects = false
    /// `passResponseHeaders`: origin response fields (lower-case names) passed on with transformed variants too.
    public var passResponseHeaders: [String] = []
    /// `stripResponseHeaders`: origin response fields (lower-case names) never passed on, not even with originals.
    public var stripResponseHeaders: [String] = []
    /// `forwardRequestHeaders`: request fields withheld by default (`Cookie`, `Authorization`, the client hints the
    /// node consumes) that the fetch of an original forwards all the same (lower-case names).
    public var forwardRequestHeaders: [String] = []

    public init(name: String, customer: String? = nil, kind: SourceKind, hosts: [String] = [], root: String? = nil,
                baseURL: String? = nil, enabled: Bool = true, ttl: Double? = nil) {
        self.name = name
        self.customer = customer
        self.kind = kind
        self.hosts = hosts.map { $0.lowercased() }
        self.root = root
        self.baseURL = baseURL
        self.enabled = enabled
        self.ttl = ttl
    }
}

extension SourceConfig {
    /// What of the origin's response fields an answer carries: all end-to-end ones for originals and
    /// passed-through files (`passAll`), those in `passResponseHeaders` for variants; never `stripResponseHeaders`.
    public func responseHeaderRules(passAll: Bool) -> ResponseHeaderRules {
        ResponseHeaderRules(passAll: passAll, listed: Set(passResponseHeaders), stripped: Set(stripResponseHeaders))
    }

    /// What of a client's request fields the fetch of an original forwards (`forwardRequestHeaders`); folder and
    /// S3 sources forward nothing (`forwardsRequestHeaders`).
    public var requestHeaderRules: RequestHeaderRules { RequestHeaderRules(forward: forwardRequestHeaders) }

    /// Whether the fetch of an original sends the client's request fields on: web and proxy sources (a folder has
    /// no one to send them to, and an S3 request is signed).
    public var forwardsRequestHeaders: Bool { kind == .web || kind == .proxy }

    /// The hosts this source's origin fetches may name, in their first request and every redirect: a web
    /// source's base URL host (`baseHost`, as the fetcher's URL parser reads it) and its `allowedHosts`; nothing
    /// for a folder source.
    public func originHosts(baseHost: String?) -> OriginHosts {
        switch kind {
        case .folder: .only([])
        case .web: .only((baseHost.flatMap { HostPattern($0) }.map { [$0] } ?? []) + allowedHosts)
        case .proxy: allowedHosts.isEmpty ? .any : .only(allowedHosts)
        case .s3: .only([s3.flatMap { HostPattern(String($0.endpointParts.authority.split(separator: ":").first ?? "")) }].compactMap { $0 })
        }
    }

    /// The request path (before `?`) as this source reads it: segments under its root or base URL, or the URL a
    /// proxy source's path names.
    public func originPath(raw: Substring) throws(EdgeError) -> SourcePath {
        switch kind {
        case .folder, .web, .s3: try SourcePath(raw: raw)
        case .proxy: SourcePath(proxied: try ProxyTarget(path: raw))
        }
    }
}

/// Host → source, with `node.defaultSource` for every other Host.
public struct SourceRouter: Sendable {
    private let byHost: [String: SourceConfig]
    private let fallback: SourceConfig?

    public init(sources: [SourceConfig], defaultSource: String?) {
        var byHost: [String: SourceConfig] = [:]
        for s in sources { for h in s.hosts where byHost[h] == nil { byHost[h] = s } }
        self.byHost = byHost
        self.fallback = defaultSource.flatMap { name in sources.first { $0.name == name } }
    }

    /// The source for a Host header value (port and case ignored), or nil.
    public func route(host: Substring?) -> SourceConfig? {
        guard let host, !host.isEmpty else { return fallback }
        var name = host
        if name.hasPrefix("[") {
            if let end = name.firstIndex(of: "]") { name = name[...end] }
        } else if let colon = name.lastIndex(of: ":") {
            name = name[..<colon]
        }
        if name.hasSuffix(".") { name = name.dropLast() }
        return byHost[name.lowercased()] ?? fallback
    }
}

/// A request path made safe to hand to an origin: percent-decoded, every segment checked; or, for a proxy
/// source, the absolute URL the path names.
public struct SourcePath: Sendable, Hashable, CustomStringConvertible {
    /// Decoded segments, none empty, `.` or `..`, none containing `/`, `\` or NUL (none for a proxied URL).
    public let segments: [String]
    /// The URL a proxy source's path names; nil for folder and web sources.
    public let proxied: ProxyTarget?

    public static let maxLength = 2048

    /// Parses the path part of a request target (before `?`).
    public init(raw: Substring) throws(EdgeError) {
        guard raw.utf8.count <= SourcePath.maxLength else { throw .uriTooLong }
        guard raw.hasPrefix("/") else { throw .badRequest("path must start with /") }
        var segs: [String] = []
        for rawSeg in raw.split(separator: "/", omittingEmptySubsequences: true) {
            guard let seg = PercentDecoding.decode(rawSeg) else {
                throw .badRequest("path is not valid percent-encoded UTF-8")
            }
            if seg == "." || seg == ".." || seg.contains("/") || seg.contains("\\") || seg.contains("\u{0}") {
                throw .notFound("not found", detail: "path segment refused")
            }
            segs.append(seg)
        }
        guard !segs.isEmpty else { throw .notFound() }
        segments = segs
        proxied = nil
    }

    /// The path of a proxy source's request: the URL it names.
    public init(proxied target: ProxyTarget) {
        segments = []
        proxied = target
    }

    /// `/a/b c.jpg`, decoded, or a proxied URL (the form used in cache keys, purges and logs).
    public var description: String { proxied?.url ?? "/" + segments.joined(separator: "/") }

    /// The path re-encoded for an origin URL (RFC 3986 path characters kept, everything else escaped).
    public var urlEncoded: String {
        "/" + segments.map { seg in
            var out = ""
            for b in seg.utf8 {
                if SourcePath.pathCharacter(b) {
                    out.unicodeScalars.append(UnicodeScalar(b))
                } else {
                    PercentDecoding.appendEscaped(b, to: &out)
                }
            }
            return out
        }.joined(separator: "/")
    }

    /// RFC 3986 unreserved characters, sub-delims, `:` and `@`: what a path segment carries unescaped.
    static func pathCharacter(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "-._~!$&'()*+,;=:@".utf8.contains(b)
        }
    }
}

/// One imgix parameter, decoded (a source's `defaultParams`).
public struct QueryParameter: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

extension SourceConfig {
    /// `defaultParams` in the form `TransformParser.parse(query:defaults:)` takes.
    public var defaultParamPairs: [(name: String, value: String)] { defaultParams.map { ($0.name, $0.value) } }

    /// What is wrong with a set of default parameters, each problem with the parameter it concerns: names
    /// that are not imgix parameters, `expires` (a property of one URL, not of a source), two names for one
    /// parameter (`w` and `width`), and values the parser refuses (checked by parsing them as a URL would be).
    public static func defaultParamProblems(_ params: [QueryParameter]) -> [(param: String, message: String)] {
        var problems: [(param: String, message: String)] = []
        var seen: [String: String] = [:]
        for p in params {
            let lower = p.name.lowercased()
            var canonical = ParameterReader.canonicalName(lower)
            if canonical == nil, lower.hasSuffix("64") { canonical = ParameterReader.canonicalName(String(lower.dropLast(2))) }
            guard let canonical else {
                problems.append((p.name, "not an imgix parameter"))
                continue
            }
            if canonical == "ch" {
                problems.append((p.name, "ch cannot be a source default (imgix: it interacts with caching)"))
                continue
            }
            if canonical == "expires" {
                problems.append((p.name, "expires belongs in a URL, not in a source's defaults"))
                continue
            }
            if let other = seen[canonical] {
                problems.append((p.name, "names the same parameter as \(other)"))
                continue
            }
            seen[canonical] = p.name
        }
        guard problems.isEmpty else { return problems }
        do throws(EdgeError) {
            _ = try TransformParser.parse(query: "", defaults: params.map { ($0.name, $0.value) })
        } catch {
            problems.append((error.param ?? "defaultParams", error.publicMessage))
        }
        return problems
    }
}
