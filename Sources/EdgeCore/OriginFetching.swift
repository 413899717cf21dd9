/// What an origin returned: the bytes of the original and the headers that decide caching.
public struct OriginResponse: Sendable {
    /// The origin's final status: 200; 304 when a conditional fetch found the stored copy still current (the
    /// body is then empty); a redirect when the fetch passes redirects on; any other it answered (404, 410, 500…),
    /// with its body. What it means for the request is the caller's to decide.
    public var status: Int
    public var body: [UInt8]
    /// Response headers, names lower-cased, in order received.
    public var headers: [(name: String, value: String)]
    /// When the fetch started (seconds since 1970): entries are only as new as their fetch's start.
    public var startedAt: Double
    /// Seconds the fetch took.
    public var duration: Double
    /// What identifies these bytes beyond the path, when the origin tells (a file's inode, size and time): equal
    /// versions of one path are equal bytes. Web origins: nil (their validators are in the headers).
    public var version: String? = nil

    public init(status: Int = 200, body: [UInt8], headers: [(name: String, value: String)], startedAt: Double,
                duration: Double) {
        self.status = status
        self.body = body
        self.headers = headers
        self.startedAt = startedAt
        self.duration = duration
    }

    /// The last value of a header (name lower-case).
    public func header(_ name: String) -> String? { headers.last { $0.name == name }?.value }
}

/// Fetches originals. Implementations block the calling thread: callers run them on a bounded pool.
public protocol OriginFetching: Sendable {
    /// Fetches `path` from `source`, reading at most `maxBytes` (413 beyond it, checked while reading).
    /// `conditional` holds `If-None-Match` / `If-Modified-Since` lines for a revalidation (RFC 9111 §4.3.1); an
    /// origin that finds the stored copy current answers 304, returned with `status` 304 and no body. Origins
    /// without validators (folders) ignore it and answer 200. `forwarded` are the client's request lines to send
    /// with it (`RequestHeaderRules.forwarded`; web and proxy origins). Redirects are followed (each hop checked), or with
    /// `passRedirects` returned as they came. Whatever final status the origin answers is returned; errors are for
    /// what is not an answer (no connection, a timeout, a refused address, a body over the cap) and, for folders,
    /// a missing file (404).
    func fetch(source: SourceConfig, path: SourcePath, maxBytes: Int, conditional: [(name: String, value: String)],
               forwarded: [(name: String, value: String)], passRedirects: Bool) throws(EdgeError) -> OriginResponse
}

extension OriginFetching {
    /// An unconditional fetch that follows redirects.
    public func fetch(source: SourceConfig, path: SourcePath, maxBytes: Int) throws(EdgeError) -> OriginResponse {
        try fetch(source: source, path: path, maxBytes: maxBytes, conditional: [], forwarded: [], passRedirects: false)
    }

    /// A fetch that follows redirects.
    public func fetch(source: SourceConfig, path: SourcePath, maxBytes: Int,
                      conditional: [(name: String, value: String)]) throws(EdgeError) -> OriginResponse {
        try fetch(source: source, path: path, maxBytes: maxBytes, conditional: conditional, forwarded: [], passRedirects: false)
    }
}
