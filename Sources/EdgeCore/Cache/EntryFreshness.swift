/// The timing of one stored response: enough to answer every freshness question at a later `now` without its
/// headers (RFC 9111 §4.2). Times are seconds since 1970 on this node's clock; durations are seconds.
public struct EntryFreshness: Sendable, Equatable {
    /// When the response was received (RFC 9111 §4.2.3 `response_time`).
    public var responseTime: Double
    /// How old the response already was when received (`corrected_initial_age`, including the origin's `Age`).
    public var initialAge: Double
    /// How long the response stays fresh, counted from its origin (`freshness_lifetime`).
    public var lifetime: Double
    /// Seconds past the lifetime the response may be served while one background revalidation runs (RFC 5861 §3).
    public var staleWhileRevalidate: Double
    /// Seconds past the lifetime the response may be served when revalidation fails (RFC 5861 §4).
    public var staleIfError: Double

    /// Negative or non-finite durations are taken as 0, so no arithmetic below can see a NaN.
    public init(responseTime: Double, initialAge: Double, lifetime: Double, staleWhileRevalidate: Double = 0,
                staleIfError: Double = 0) {
        func clean(_ v: Double) -> Double { v.isFinite ? Swift.max(0, v) : 0 }
        self.responseTime = responseTime.isFinite ? responseTime : 0
        self.initialAge = clean(initialAge)
        self.lifetime = clean(lifetime)
        self.staleWhileRevalidate = clean(staleWhileRevalidate)
        self.staleIfError = clean(staleIfError)
    }

    /// `current_age` (RFC 9111 §4.2.3); a clock that went backwards adds no resident time.
    public func age(at now: Double) -> Double {
        initialAge + (now.isFinite ? Swift.max(0, now - responseTime) : 0)
    }

    /// RFC 9111 §4.2: fresh while the lifetime exceeds the current age.
    public func isFresh(at now: Double) -> Bool { lifetime > age(at: now) }

    /// Seconds of freshness left (0 once stale): what a downstream `max-age` may promise.
    public func remainingLifetime(at now: Double) -> Double { Swift.max(0, lifetime - age(at: now)) }

    /// Stale, but within the stale-while-revalidate window: serve it and revalidate in the background.
    public func canServeStaleWhileRevalidating(at now: Double) -> Bool {
        let a = age(at: now)
        return a >= lifetime && a < lifetime + staleWhileRevalidate
    }

    /// Stale, but within the stale-if-error window: serve it when the origin fails (error or 5xx).
    public func canServeStaleOnError(at now: Double) -> Bool {
        let a = age(at: now)
        return a >= lifetime && a < lifetime + staleIfError
    }

    /// The moment the entry stops being fresh (for the store's `expiresAt`).
    public var freshUntil: Double { responseTime + lifetime - initialAge }

    /// The last moment the entry can be served without an answer from the origin (fresh, or within a stale window).
    public var servableUntil: Double { freshUntil + Swift.max(staleWhileRevalidate, staleIfError) }

    /// The `Age` header value at `now` (RFC 9111 §5.1: whole seconds, at most 2^31).
    public func ageHeader(at now: Double) -> String {
        String(ageSeconds(at: now))
    }

    /// The `Age` header's value as a number: whole seconds, at most `CacheControl.maxDeltaSeconds`.
    public func ageSeconds(at now: Double) -> Int {
        Int(Swift.min(age(at: now), Double(CacheControl.maxDeltaSeconds)).rounded(.down))
    }
}
