/// What a purge covers (CONTRACT.md, `POST /v1/purge`).
public enum PurgeSelector: Sendable, Hashable, CustomStringConvertible {
    /// Every variant of one image: every transform, every negotiated format.
    case image(source: String, path: String)
    /// Every image of a source whose decoded path starts with `prefix`.
    case prefix(source: String, prefix: String)
    /// Every entry whose origin response carried this `Surrogate-Key` value.
    case tag(String)
    /// A tag within one source (a customer's tag purge reaches only that customer's sources).
    case sourceTag(source: String, tag: String)
    /// Everything from a source.
    case source(String)
    /// Not a purge: the revocation of an assistance grant (by id). It covers no entry, and travels with purges
    /// so that it reaches every node the same way and survives restarts in the same log.
    case grantRevoked(String)

    /// The source the selector is confined to (nil for tags, which may span sources).
    public var source: String? {
        switch self {
        case .image(let s, _), .prefix(let s, _), .source(let s), .sourceTag(let s, _): s
        case .tag, .grantRevoked: nil
        }
    }

    public var description: String {
        switch self {
        case .image(let s, let p): "image \(s) \(p)"
        case .prefix(let s, let p): "prefix \(s) \(p)"
        case .tag(let t): "tag \(t)"
        case .sourceTag(let s, let t): "tag \(t) in \(s)"
        case .source(let s): "source \(s)"
        case .grantRevoked(let id): "grant \(id) revoked"
        }
    }
}

/// A purge as stored: what it covers, and when it was made on the node's hybrid logical clock. An entry is dead
/// when its fill's origin fetch started at or before `time` on the same clock — so a fill that began before the
/// purge and lands after it is dead too.
public struct Tombstone: Sendable, Hashable {
    public var id: String
    public var selector: PurgeSelector
    /// Hybrid logical clock reading, microseconds since 1970.
    public var time: UInt64

    public init(id: String, selector: PurgeSelector, time: UInt64) {
        self.id = id
        self.selector = selector
        self.time = time
    }
}

/// The tombstones a node holds, indexed by selector kind so that checking an entry costs a few hash lookups
/// however many there are: one per kind, one per surrogate key of the entry, and one per distinct length of the
/// source's purged path prefixes (the path cut at each such length is looked up; a storm of prefix purges adds
/// lookups only as it adds lengths). Each prefix is kept once, the latest time winning.
/// Purging again with the same selector only moves its time forward: purges are idempotent. Each slot also
/// remembers when it was last applied here, so that once a sweep of the whole cache that began after that has
/// deleted every entry it covers, it can be expired.
public struct TombstoneIndex: Sendable {
    struct Slot: Sendable {
        /// The purge time (entries fetched at or before it are dead).
        var time: UInt64
        /// When a tombstone for it was last applied on this node (the node's clock).
        var applied: UInt64
    }

    private var images: [String: Slot] = [:]
    private var sources: [String: Slot] = [:]
    private var tags: [String: Slot] = [:]
    private var sourceTags: [String: Slot] = [:]
    private var prefixes: [String: [String: Slot]] = [:]
    /// Per source, the distinct UTF-8 lengths of its purged prefixes, ascending.
    private var prefixLengths: [String: [Int]] = [:]
    private var ids: Set<String> = []
    /// The latest time of any tombstone (0 when empty): an entry fetched after it needs no lookup at all.
    public private(set) var latest: UInt64 = 0
    /// Slots in effect (distinct selectors not expired).
    public private(set) var count = 0
    /// Slots expired by sweeps so far.
    public private(set) var expired = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// Adds a tombstone applied here at `applied` (the node's clock; 0 when unknown, e.g. read back at start);
    /// false when one with the same id is known already (a replay changes nothing).
    @discardableResult
    public mutating func insert(_ t: Tombstone, applied: UInt64 = 0) -> Bool {
        guard ids.insert(t.id).inserted else { return false }
        let slot = Slot(time: t.time, applied: applied)
        switch t.selector {
        case .image(let s, let p): Self.raise(&images[Self.imageKey(s, p)], to: slot, count: &count)
        case .source(let s): Self.raise(&sources[s], to: slot, count: &count)
        case .tag(let tag): Self.raise(&tags[tag], to: slot, count: &count)
        case .sourceTag(let s, let tag): Self.raise(&sourceTags[Self.imageKey(s, tag)], to: slot, count: &count)
        case .prefix(let s, let p):
            Self.raise(&prefixes[s, default: [:]][p], to: slot, count: &count)
            let n = p.utf8.count
            var lengths = prefixLengths[s, default: []]
            if !lengths.contains(n) {
                lengths.append(n)
                lengths.sort()
            }
            prefixLengths[s] = lengths
        case .grantRevoked: return true
        }
        latest = max(latest, t.time)
        return true
    }

    /// Whether a tombstone with this id was applied (expired ones included).
    public func contains(id: String) -> Bool { ids.contains(id) }

    private static func raise(_ slot: inout Slot?, to new: Slot, count: inout Int) {
        if let old = slot {
            slot = Slot(time: max(old.time, new.time), applied: max(old.applied, new.applied))
        } else {
            slot = new
            count += 1
        }
    }

    /// Drops every slot last applied before `cutoff`: a sweep that began at `cutoff` has deleted every stored
    /// entry they cover, and a fill that lands later is checked against them before it is stored — so they can
    /// no longer match anything. Returns how many were dropped.
    @discardableResult
    public mutating func expire(appliedBefore cutoff: UInt64) -> Int {
        var dropped = 0
        func sweep(_ d: inout [String: Slot]) {
            let before = d.count
            d = d.filter { $0.value.applied >= cutoff }
            dropped += before - d.count
        }
        sweep(&images)
        sweep(&sources)
        sweep(&tags)
        sweep(&sourceTags)
        for s in Array(prefixes.keys) {
            sweep(&prefixes[s]!)
            if prefixes[s]!.isEmpty {
                prefixes[s] = nil
                prefixLengths[s] = nil
            } else {
                prefixLengths[s] = Set(prefixes[s]!.keys.map(\.utf8.count)).sorted()
            }
        }
        count -= dropped
        expired += dropped
        return dropped
    }

    static func imageKey(_ source: String, _ path: String) -> String { source + "\u{0}" + path }

    /// The latest purge time that covers an entry of `source` / `path` tagged `tags`, or nil when none does.
    public func coveringTime(source: String, path: String, tags entryTags: [String]) -> UInt64? {
        var t: UInt64?
        func consider(_ v: Slot?) { if let v { t = max(t ?? 0, v.time) } }
        consider(sources[source])
        consider(images[Self.imageKey(source, path)])
        for tag in entryTags {
            consider(tags[tag])
            if !sourceTags.isEmpty { consider(sourceTags[Self.imageKey(source, tag)]) }
        }
        if let list = prefixes[source], let lengths = prefixLengths[source] {
            let utf8 = path.utf8
            for n in lengths {
                guard n <= utf8.count else { break }
                if let cut = String(utf8.prefix(n)) { consider(list[cut]) }
            }
        }
        return t
    }

    /// True when an entry whose origin fetch started at `fetchedAt` (microseconds on the same clock) is purged.
    public func covers(source: String, path: String, tags: [String], fetchedAt: UInt64) -> Bool {
        guard count > 0, fetchedAt <= latest else { return false }
        guard let t = coveringTime(source: source, path: path, tags: tags) else { return false }
        return fetchedAt <= t
    }
}

/// A hybrid logical clock folded into one number: microseconds since 1970 that never go backwards and always
/// move forward by at least one per reading, and that jump past any remote time received. Readings order every
/// purge before every fetch that started after the purge was known here, whatever the wall clocks say.
public struct HybridClock: Sendable {
    public private(set) var last: UInt64 = 0

    public init() {}

    /// A new reading at wall time `physical` (seconds since 1970).
    public mutating func tick(physical: Double) -> UInt64 {
        let wall = physical.isFinite && physical > 0 ? UInt64(physical * 1_000_000) : 0
        last = max(wall, last &+ 1)
        return last
    }

    /// Takes in a time seen from elsewhere (a peer's purge), so later readings come after it.
    public mutating func receive(_ remote: UInt64) {
        last = max(last, remote)
    }

    /// Microseconds to seconds, as entries store times.
    public static func seconds(_ micros: UInt64) -> Double { Double(micros) / 1_000_000 }
    /// Seconds (as entries store them) to microseconds, exact for readings of this clock.
    public static func micros(_ seconds: Double) -> UInt64 {
        seconds.isFinite && seconds > 0 ? UInt64((seconds * 1_000_000).rounded()) : 0
    }
}
