/// What the shared cache does with one origin response: whether to store it, for how long, and what to keep with it.
public struct CacheDecision: Sendable, Equatable {
    /// Why a response is not stored.
    public enum NotStoredReason: String, Sendable, Equatable {
        /// A status this cache does not store: 206 or not final, one that is not heuristically cacheable without
        /// explicit freshness, or a 5xx without explicit freshness.
        case status
        /// A caching header over its length cap: a policy that cannot be read whole is not trusted.
        case oversizedHeader
        /// `no-store` (or Surrogate-Control `no-store-remote`) in a field that applies to this cache.
        case noStore
        /// Unqualified `private`: only a browser may store it.
        case `private`
        /// `Vary: *`, or a Vary list too long or malformed to key variants on (RFC 9111 §4.1).
        case vary
        /// Surrogate-Key values too many or too long to keep every one: a purge by key must never miss an entry.
        case surrogateKeys
        /// Nothing makes a stored copy reusable: no freshness the origin or configuration grants (`defaultTTL` 0
        /// and no explicit freshness), or a lifetime of 0 with no validator and no stale window.
        case noFreshness
    }

    /// The header field whose directives decided freshness (RFC 9213 §2.2 order, then Surrogate-Control).
    public enum GoverningField: String, Sendable, Equatable {
        /// A valid CDN-Cache-Control: Cache-Control and Expires are ignored (RFC 9213 §2.2).
        case cdnCacheControl = "cdn-cache-control"
        /// Surrogate-Control with a max-age; Cache-Control's no-store and private still apply.
        case surrogateControl = "surrogate-control"
        /// Cache-Control and Expires.
        case cacheControl = "cache-control"
    }

    /// Where the lifetime came from, first match wins in this order.
    public enum LifetimeSource: String, Sendable, Equatable {
        /// The source's `ttl` setting, overriding the origin.
        case sourceTTL
        /// `no-cache`: storable, but stale at once and revalidated before every use.
        case noCache
        /// `s-maxage` in the governing field.
        case sMaxAge
        /// `max-age` in the governing field.
        case maxAge
        /// `Expires` minus `Date`; an invalid Expires (`0`) is already expired.
        case expires
        /// 10 % of `Date` − `Last-Modified`, capped (RFC 9111 §4.2.2).
        case heuristic
        /// `cache.defaultTTL`.
        case defaultTTL
        /// `cache.negativeTTL`: a heuristically cacheable error (404, 410…) without explicit freshness.
        case negativeTTL
        /// No freshness at all (only with `defaultTTL` 0).
        case none
    }

    /// Nil when the response may be stored.
    public var notStoredReason: NotStoredReason?
    /// Whether the response may be stored.
    public var storable: Bool { notStoredReason == nil }
    /// Timing of the stored copy.
    public var freshness: EntryFreshness
    /// Once stale, the copy must not be served before a successful revalidation (`no-cache`, `must-revalidate`,
    /// `proxy-revalidate`, or `s-maxage`, which implies `proxy-revalidate` for a shared cache, RFC 9111 §5.2.2.10).
    public var mustRevalidate: Bool
    /// The field whose directives set freshness and stale windows.
    public var governingField: GoverningField
    /// Which rule produced `freshness.lifetime`.
    public var lifetimeSource: LifetimeSource
    /// The origin's entity tag as sent (`"…"` or `W/"…"`), for `If-None-Match`; nil when absent or malformed.
    public var etag: String?
    /// The origin's `Last-Modified` as sent (a valid HTTP-date), for `If-Modified-Since`.
    public var lastModified: String?
    /// Request header names the response varies on, lower-cased, deduplicated, in the origin's order.
    public var vary: [String]
    /// `Surrogate-Key` values (space-separated in the header), deduplicated, in the origin's order.
    public var surrogateKeys: [String]
    /// Header fields (lower-cased) a qualified `private="…"` or `no-cache="…"` names: never send them from the copy.
    public var withheldFields: [String]
    /// `immutable` in the governing field (RFC 8246): nothing more for this cache, but may be passed downstream.
    public var immutable: Bool
    /// The Cache-Control to send downstream in place of the node's own `public, max-age=<remaining>`; nil to use that.
    /// Not stored: `no-store`, `private`, or `private, no-cache`. Stored under CDN-Cache-Control or Surrogate-Control:
    /// the origin's Cache-Control as sent (RFC 9213: it is for the caches after this one). Stored under an unqualified
    /// `no-cache`: `no-cache`, so browsers revalidate with the node.
    public var downstreamCacheControl: String?
    /// The origin's Cache-Control lines as sent, joined (nil when it sent none, or one too long or holding control
    /// characters): what originals and passed-through files carry downstream (`downstreamCacheControl` otherwise).
    public var originCacheControl: String? = nil
    /// The origin's caching header lines to keep with the entry (Date added when missing, Age left out), so a later
    /// 304 can be merged into them (`CachePolicy.freshen`); made whether or not the response is stored.
    public var cacheHeaders: [(name: String, value: String)]

    /// `If-None-Match` / `If-Modified-Since` for revalidating the copy (RFC 9111 §4.3.1); empty without validators.
    public var conditionalHeaders: [(name: String, value: String)] {
        Self.conditionalHeaders(etag: etag, lastModified: lastModified)
    }

    /// The conditional request lines for a stored response with these validators.
    public static func conditionalHeaders(etag: String?, lastModified: String?) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        if let etag { out.append(("if-none-match", etag)) }
        if let lastModified { out.append(("if-modified-since", lastModified)) }
        return out
    }

    /// `cacheHeaders` as an entry keeps them.
    public var cacheHeaderLines: [HeaderLine] { cacheHeaders.map { HeaderLine(name: $0.name, value: $0.value) } }

    /// Field-by-field equality (the header lines are tuples, so it cannot be synthesised).
    public static func == (a: CacheDecision, b: CacheDecision) -> Bool {
        a.notStoredReason == b.notStoredReason && a.freshness == b.freshness && a.mustRevalidate == b.mustRevalidate
            && a.governingField == b.governingField && a.lifetimeSource == b.lifetimeSource && a.etag == b.etag
            && a.lastModified == b.lastModified && a.vary == b.vary && a.surrogateKeys == b.surrogateKeys
            && a.withheldFields == b.withheldFields && a.immutable == b.immutable
            && a.downstreamCacheControl == b.downstreamCacheControl && a.originCacheControl == b.originCacheControl
            && a.cacheHeaders.elementsEqual(b.cacheHeaders) { $0.name == $1.name && $0.value == $1.value }
    }
}
