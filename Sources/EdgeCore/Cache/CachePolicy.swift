/// The HTTP caching rules of this shared (CDN) cache: RFC 9111, RFC 9213 targeted fields, Surrogate-Control,
/// RFC 5861 stale windows. Pure: every time is a parameter (seconds since 1970), nothing here reads a clock.
///
/// Freshness comes from the first of: the source's `ttl`; then, from the governing field — `CDN-Cache-Control`
/// when valid (RFC 9213: Cache-Control and Expires are then ignored), else `Surrogate-Control` when it carries
/// `max-age`, else `Cache-Control` — `no-cache`, `s-maxage`, `max-age`; `Expires` − `Date` (Cache-Control only);
/// heuristic freshness from `Last-Modified`; `defaultTTL`. `defaultTTL` 0 means: store only what the origin marks
/// cacheable explicitly (no heuristic, no default).
///
/// Any final status but 206 may be stored with explicit freshness (RFC 9111 §3); without it only the heuristically
/// cacheable ones (§4.2.2, or any below 500 marked `public`): 2xx and 3xx take the source's `ttl`, the heuristic or
/// `defaultTTL`; 4xx take `negativeTTL` (a missing image is asked for again after it, not for a day); 5xx are never
/// stored without explicit freshness.
public struct CachePolicy: Sendable, Equatable {
    /// Per-source settings that override or supplement the origin's headers.
    public struct SourceOverrides: Sendable, Equatable {
        /// Lifetime in seconds replacing the origin's (never makes a `no-store` or `private` response storable).
        public var ttl: Double?
        /// Stale-while-revalidate window when the origin sends none.
        public var staleWhileRevalidate: Double?
        /// Stale-if-error window when the origin sends none.
        public var staleIfError: Double?

        /// Nil leaves the origin's value (or no window) in place.
        public init(ttl: Double? = nil, staleWhileRevalidate: Double? = nil, staleIfError: Double? = nil) {
            self.ttl = ttl
            self.staleWhileRevalidate = staleWhileRevalidate
            self.staleIfError = staleIfError
        }
    }

    /// `cache.defaultTTL`, seconds: lifetime of responses that state none; 0 stores only explicitly fresh ones.
    public var defaultTTL: Double
    /// `cache.negativeTTL`, seconds: lifetime of heuristically cacheable error responses (404, 410…) that state
    /// none; 0 stores them only with explicit freshness.
    public var negativeTTL: Double
    /// The source's overrides (`ttl`, stale windows).
    public var source: SourceOverrides
    /// Share of `Date` − `Last-Modified` used as heuristic lifetime (RFC 9111 §4.2.2 suggests 10 %).
    public var heuristicFraction: Double
    /// Upper bound on a heuristic lifetime.
    public var maxHeuristicLifetime: Double

    /// Most Vary names kept; a longer list is not stored (real ones name one to three fields).
    public static let maxVaryNames = 16
    /// Longest Vary value read, all lines together.
    public static let maxVaryBytes = 2_048
    /// Surrogate-Key bounds (Fastly's: 16 KiB of header, 1 KiB per key); beyond them the response is not stored.
    public static let maxSurrogateKeyBytes = 16 * 1_024
    /// Longest single surrogate key.
    public static let maxSurrogateKeyLength = 1_024
    /// Most distinct surrogate keys per response.
    public static let maxSurrogateKeys = 256
    /// Longest entity tag kept as a validator.
    public static let maxETagLength = 1_024
    /// Statuses cacheable by default, with heuristic freshness (RFC 9110 §15.1).
    public static let heuristicallyCacheable: Set<Int> = [200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]

    /// The header fields kept with an entry so a 304 can refresh it.
    public static let cacheHeaderNames: Set<String> = [
        "cache-control", "cdn-cache-control", "surrogate-control", "expires", "date", "last-modified", "etag", "vary",
        "surrogate-key",
    ]

    /// A policy for one source; the heuristic defaults are RFC 9111's suggested 10 %, capped at one day.
    public init(defaultTTL: Double, negativeTTL: Double = 60, source: SourceOverrides = SourceOverrides(),
                heuristicFraction: Double = 0.1, maxHeuristicLifetime: Double = 86_400) {
        self.defaultTTL = defaultTTL
        self.negativeTTL = negativeTTL
        self.source = source
        self.heuristicFraction = heuristicFraction
        self.maxHeuristicLifetime = maxHeuristicLifetime
    }

    /// Decides for an origin response. `headers` are the response's lines (names lower-case, as `OriginResponse`
    /// holds them); `requestTime` is when the request was sent and `responseTime` when the response arrived.
    public func decide(status: Int, headers: [(name: String, value: String)], requestTime: Double,
                       responseTime: Double) -> CacheDecision {
        let h = HeaderLines(headers)
        let cc = CacheControl(lines: h["cache-control"])
        let targeted = CacheControl.targeted(lines: h["cdn-cache-control"])
        let surrogate = targeted == nil ? CacheControl.surrogate(lines: h["surrogate-control"]) : nil

        let governing: CacheDecision.GoverningField
        let f: CacheControl
        if let targeted {
            (governing, f) = (.cdnCacheControl, targeted)
        } else if let surrogate, surrogate.maxAge != nil || surrogate.oversized {
            (governing, f) = (.surrogateControl, surrogate)
        } else {
            (governing, f) = (.cacheControl, cc)
        }
        // Cache-Control still binds this cache under Surrogate-Control (no standard says otherwise; Fastly does the
        // same with private); RFC 9213 §2.2 says to ignore it entirely under a targeted field.
        let ccBinds = governing != .cdnCacheControl

        let date = h.first("date").flatMap { HTTPDate.parse($0, now: responseTime) }
        let dateValue = date ?? responseTime // RFC 9110 §6.6.1: a missing Date is the time of receipt
        let lastModifiedRaw = h.first("last-modified").map(trimmed)
        let lastModified = lastModifiedRaw.flatMap { HTTPDate.parse($0, now: responseTime) }
        let etag = h.first("etag").map(trimmed).flatMap { CachePolicy.isEntityTag($0) ? $0 : nil }

        // What the status allows: any final status but 206 (this cache keeps no partial content) with explicit
        // freshness; without it, only heuristically cacheable ones (or `public` ones below 500).
        let final = status >= 200 && status != 206 && status <= 999
        let heuristic = final && (CachePolicy.heuristicallyCacheable.contains(status) || (f.public && status < 500))
        let error = status >= 400

        // Lifetime. The source's ttl stands in for the origin's on what the status lets it: not on errors.
        let ttl = heuristic && !error ? source.ttl.map(CachePolicy.duration) : nil
        let lifetime: Double
        let lifetimeSource: CacheDecision.LifetimeSource
        if let ttl {
            (lifetime, lifetimeSource) = (ttl, .sourceTTL)
        } else if f.noCache == .whole {
            (lifetime, lifetimeSource) = (0, .noCache)
        } else if let s = f.sMaxAge {
            (lifetime, lifetimeSource) = (Double(s), .sMaxAge)
        } else if let m = f.maxAge {
            (lifetime, lifetimeSource) = (Double(m), .maxAge)
        } else if governing == .cacheControl, let expires = h.first("expires") {
            // RFC 9111 §5.3: an invalid Expires, "0" above all, is a time in the past.
            let e = HTTPDate.parse(expires, now: responseTime).map { Swift.max(0, $0 - dateValue) } ?? 0
            (lifetime, lifetimeSource) = (Swift.min(e, Double(CacheControl.maxDeltaSeconds)), .expires)
        } else if !heuristic || status >= 500 {
            (lifetime, lifetimeSource) = (0, .none)
        } else if error {
            (lifetime, lifetimeSource) = negativeTTL > 0 ? (CachePolicy.duration(negativeTTL), .negativeTTL) : (0, .none)
        } else if defaultTTL > 0, let lastModified, lastModified <= dateValue {
            let guess = CachePolicy.duration(heuristicFraction * (dateValue - lastModified))
            (lifetime, lifetimeSource) = (Swift.min(guess, CachePolicy.duration(maxHeuristicLifetime)), .heuristic)
        } else if defaultTTL > 0 {
            (lifetime, lifetimeSource) = (CachePolicy.duration(defaultTTL), .defaultTTL)
        } else {
            (lifetime, lifetimeSource) = (0, .none)
        }

        // Stale use. Explicit prohibitions always win (RFC 9111 §4.2.4); the proxy-revalidate that s-maxage implies
        // bars the source's windows, but not stale-while-revalidate / stale-if-error the origin sent beside it.
        let explicitNoStale = f.mustRevalidate || f.proxyRevalidate || (f.noCache == .whole && ttl == nil)
        let impliedNoStale = f.sMaxAge != nil && ttl == nil
        func window(_ origin: Int?, _ configured: Double?) -> Double {
            if explicitNoStale { return 0 }
            if let origin { return Double(origin) }
            return impliedNoStale ? 0 : configured.map(CachePolicy.duration) ?? 0
        }
        let swr = window(f.staleWhileRevalidate, source.staleWhileRevalidate)
        let sie = window(f.staleIfError, source.staleIfError)

        // Age (RFC 9111 §4.2.3, §5.1): the first member of a list; a value that is not a non-negative integer is
        // ignored.
        let ageValue = h.first("age").map { trimmed($0.prefix { $0 != "," }) }
            .flatMap { CacheControl.deltaSeconds(.token($0)) } ?? 0
        let apparentAge = Swift.max(0, responseTime - dateValue)
        let responseDelay = Swift.max(0, responseTime - requestTime)
        let initialAge = Swift.max(apparentAge, Double(ageValue) + responseDelay)
        let freshness = EntryFreshness(responseTime: responseTime, initialAge: initialAge, lifetime: lifetime,
                                       staleWhileRevalidate: swr, staleIfError: sie)

        let vary = CachePolicy.varyNames(h["vary"])
        let keys = CachePolicy.surrogateKeys(h["surrogate-key"])

        var reason: CacheDecision.NotStoredReason?
        let explicit = [.noCache, .sMaxAge, .maxAge, .expires].contains(lifetimeSource)
        if !final || (!heuristic && !explicit) || (status >= 500 && !explicit) {
            reason = .status
        } else if f.oversized || (ccBinds && cc.oversized) {
            reason = .oversizedHeader
        } else if f.noStore || (ccBinds && cc.noStore) || surrogate?.noStore == true {
            reason = .noStore
        } else if f.private == .whole || (ccBinds && cc.private == .whole) {
            reason = .private
        } else if vary == nil {
            reason = .vary
        } else if keys == nil {
            reason = .surrogateKeys
        } else if lifetimeSource == .none || (lifetime <= 0 && etag == nil && lastModified == nil && swr <= 0 && sie <= 0) {
            reason = .noFreshness
        }

        var withheld: [String] = []
        for scope in [f.noCache, f.private, ccBinds && governing != .cacheControl ? cc.private : nil] {
            if case .fields(let names)? = scope { for n in names where !withheld.contains(n) { withheld.append(n) } }
        }

        let originCC = h["cache-control"].isEmpty ? nil : h["cache-control"].joined(separator: ", ")
        let cleanOriginCC = originCC.flatMap { v in
            !cc.oversized && v.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) } ? v : nil
        }
        let downstream: String?
        switch reason {
        case .noStore?, .status?, .oversizedHeader?: downstream = "no-store"
        case .private?: downstream = "private"
        case .some: downstream = "private, no-cache"
        case nil:
            if governing != .cacheControl, originCC != nil {
                downstream = cleanOriginCC ?? "private, no-cache"
            } else {
                downstream = f.noCache == .whole ? "no-cache" : nil
            }
        }

        var kept: [(name: String, value: String)] = []
        for line in h.lines where CachePolicy.cacheHeaderNames.contains(line.name) {
            if line.name == "date", date == nil { continue }
            kept.append(line)
        }
        if date == nil { kept.append(("date", HTTPDate.format(responseTime))) }

        return CacheDecision(
            notStoredReason: reason, freshness: freshness, mustRevalidate: explicitNoStale || impliedNoStale,
            governingField: governing, lifetimeSource: lifetimeSource, etag: etag,
            lastModified: lastModified == nil ? nil : lastModifiedRaw, vary: vary ?? [], surrogateKeys: keys ?? [],
            withheldFields: withheld, immutable: f.immutable, downstreamCacheControl: downstream,
            originCacheControl: cleanOriginCC, cacheHeaders: kept)
    }

    /// Freshens a stored response with a 304 to its revalidation (RFC 9111 §4.3.4): the 304's caching header lines
    /// replace the stored ones of the same name, and the result is decided again (with the stored `status`) as received at
    /// `responseTime`. The age is the 304's own (its `Date` and `Age`; a missing Date is the time of receipt).
    /// Nil when the 304 names a different representation (its validator does not match the stored one): the stored
    /// response must not be updated, and the caller fetches without conditions. A result that is not `storable`
    /// (say the 304 carried `no-store`) means: serve this once, then drop the entry.
    public func freshen(stored: [(name: String, value: String)], notModified: [(name: String, value: String)],
                        status: Int = 200, requestTime: Double, responseTime: Double) -> CacheDecision? {
        let old = HeaderLines(stored)
        let new = HeaderLines(notModified)
        if let newTag = new.first("etag").map(trimmed) {
            guard let oldTag = old.first("etag").map(trimmed), CachePolicy.isEntityTag(newTag) else { return nil }
            // Strong comparison when the 304 carries a strong validator, weak otherwise (RFC 9110 §8.8.3.2).
            if newTag.hasPrefix("W/") {
                guard CachePolicy.opaque(newTag) == CachePolicy.opaque(oldTag) else { return nil }
            } else {
                guard !oldTag.hasPrefix("W/"), oldTag == newTag else { return nil }
            }
        } else if let newLM = new.first("last-modified").flatMap({ HTTPDate.parse($0, now: responseTime) }) {
            guard let oldLM = old.first("last-modified").flatMap({ HTTPDate.parse($0, now: responseTime) }),
                  oldLM == newLM else { return nil }
        }
        var merged: [(name: String, value: String)] = []
        for line in old.lines where line.name != "age" && line.name != "date" && new[line.name].isEmpty {
            merged.append(line)
        }
        for line in new.lines where CachePolicy.cacheHeaderNames.contains(line.name) || line.name == "age" {
            merged.append(line)
        }
        return decide(status: status, headers: merged, requestTime: requestTime, responseTime: responseTime)
    }

    // MARK: - Field values

    /// A configured duration as seconds in 0...2^31 (NaN and negatives are 0).
    static func duration(_ v: Double) -> Double {
        v.isFinite ? Swift.min(Swift.max(0, v), Double(CacheControl.maxDeltaSeconds)) : (v > 0 ? Double(CacheControl.maxDeltaSeconds) : 0)
    }

    /// RFC 9110 §8.8.3: `[ "W/" ] DQUOTE *etagc DQUOTE`, etagc being visible ASCII but `"`, or obs-text.
    static func isEntityTag(_ s: String) -> Bool {
        guard s.utf8.count <= maxETagLength else { return false }
        var body = Substring(s)
        if body.hasPrefix("W/") { body = body.dropFirst(2) }
        guard body.utf8.count >= 2, body.utf8.first == UInt8(ascii: "\""), body.utf8.last == UInt8(ascii: "\"") else { return false }
        return body.utf8.dropFirst().dropLast().allSatisfy { $0 == 0x21 || ($0 >= 0x23 && $0 != 0x7F) }
    }

    /// The quoted part of an entity tag, for weak comparison.
    static func opaque(_ tag: String) -> Substring { tag.hasPrefix("W/") ? tag.dropFirst(2) : Substring(tag) }

    /// Vary names, or nil when the response must not be stored (`*`, a name that is not a token, or too many).
    static func varyNames(_ lines: [String]) -> [String]? {
        var total = 0
        var names: [String] = []
        for line in lines {
            total += line.utf8.count
            guard total <= maxVaryBytes else { return nil }
            for item in line.split(separator: ",") {
                let name = trimmed(item)
                if name.isEmpty { continue }
                guard name != "*", name.utf8.allSatisfy(isTchar) else { return nil }
                let lower = name.lowercased()
                if !names.contains(lower) { names.append(lower) }
                guard names.count <= maxVaryNames else { return nil }
            }
        }
        return names
    }

    /// Surrogate keys, or nil when they cannot all be kept (too many, too long, or holding control characters).
    static func surrogateKeys(_ lines: [String]) -> [String]? {
        var total = 0
        var keys: [String] = []
        var seen: Set<Substring> = []
        for line in lines {
            total += line.utf8.count
            guard total <= maxSurrogateKeyBytes else { return nil }
            for key in line.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                guard key.utf8.count <= maxSurrogateKeyLength,
                      !key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return nil }
                if seen.insert(key).inserted { keys.append(String(key)) }
                guard keys.count <= maxSurrogateKeys else { return nil }
            }
        }
        return keys
    }
}

/// A value without surrounding spaces and tabs.
func trimmed(_ s: some StringProtocol) -> String {
    var sub = Substring(s)
    while sub.first == " " || sub.first == "\t" { sub.removeFirst() }
    while sub.last == " " || sub.last == "\t" { sub.removeLast() }
    return String(sub)
}

/// Response header lines grouped by lower-cased name, in the order received.
struct HeaderLines {
    let lines: [(name: String, value: String)]
    private let byName: [String: [String]]

    init(_ headers: [(name: String, value: String)]) {
        var lines: [(name: String, value: String)] = []
        var byName: [String: [String]] = [:]
        lines.reserveCapacity(headers.count)
        for (name, value) in headers {
            let lower = name.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) ? name.lowercased() : name
            lines.append((lower, value))
            byName[lower, default: []].append(value)
        }
        self.lines = lines
        self.byName = byName
    }

    subscript(_ name: String) -> [String] { byName[name] ?? [] }

    /// The first line of a field (RFC 9111 §4.2.1: with several values, the first is used).
    func first(_ name: String) -> String? { byName[name]?.first }
}
