/// What an origin returned: the bytes of the original and the headers that decide caching.
public struct OriginResponse: Sendable {
    public var body: [UInt8]
    /// Response headers, names lower-cased, in order received.
    public var headers: [(name: String, value: String)]
    /// When the fetch started (seconds since 1970): entries are only as new as their fetch's start.
    public var startedAt: Double
    /// Seconds the fetch took.
    public var duration: Double

    public init(body: [UInt8], headers: [(name: String, value: String)], startedAt: Double, duration: Double) {
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
    func fetch(source: SourceConfig, path: SourcePath, maxBytes: Int) throws(EdgeError) -> OriginResponse
}
