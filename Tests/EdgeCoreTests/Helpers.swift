import EdgeCore

/// Parses a query string, failing the calling test on error.
func spec(_ query: String) throws -> TransformSpec {
    try TransformParser.parse(query: Substring(query))
}

/// The error parsing `query` throws, or nil when it parses.
func parseError(_ query: String) -> EdgeError? {
    do {
        _ = try TransformParser.parse(query: Substring(query))
        return nil
    } catch {
        return error
    }
}

/// The key for a query as the node would build it (no Accept header unless given).
func key(_ query: String, source: String = "demo", path: String = "/a.jpg", accept: String? = nil) throws -> CacheKey {
    let s = try spec(query)
    return CacheKey(source: source, path: path, spec: s, format: NegotiatedFormat(spec: s, accept: accept.map { Substring($0) }))
}

/// A plan for a query on a source of the given size.
func plan(_ query: String, _ width: Int, _ height: Int) throws -> ResizePlan {
    ResizePlan(sourceWidth: width, sourceHeight: height, spec: try spec(query))
}
