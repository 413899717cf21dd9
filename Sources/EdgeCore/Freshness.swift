/// How long an origin object may be served from cache, from its response headers (RFC 9111, the subset
/// a shared cache needs for a first version: `no-store`, `private`, `s-maxage`, `max-age`).
public struct Freshness: Sendable, Equatable {
    /// Whether the response may be stored at all.
    public var storable: Bool
    /// Seconds the response stays fresh.
    public var lifetime: Double

    /// `defaultTTL` applies when the origin states no lifetime; a source `ttl` overrides the origin.
    public init(cacheControl: String?, defaultTTL: Double, sourceTTL: Double? = nil) {
        var storable = true
        var maxAge: Double?
        var sMaxAge: Double?
        for directive in (cacheControl ?? "").split(separator: ",") {
            let kv = directive.split(separator: "=", maxSplits: 1)
            let name = kv.first.map { $0.trimmingSpaces.lowercased() } ?? ""
            let value = kv.count == 2 ? kv[1].trimmingSpaces.trimmingCharacters(quote: "\"") : nil
            switch name {
            case "no-store", "private": storable = false
            case "max-age": maxAge = value.flatMap { Double($0) }.map { Swift.max(0, $0) }
            case "s-maxage": sMaxAge = value.flatMap { Double($0) }.map { Swift.max(0, $0) }
            default: break
            }
        }
        self.storable = storable
        self.lifetime = sourceTTL ?? sMaxAge ?? maxAge ?? defaultTTL
        if self.lifetime <= 0 { self.storable = false }
    }
}

extension String {
    func trimmingCharacters(quote: Character) -> String {
        var s = Substring(self)
        if s.count >= 2, s.first == quote, s.last == quote { s = s.dropFirst().dropLast() }
        return String(s)
    }
}
