/// Every purge a node knows, by stream. For each stream it keeps the watermark — the highest number up to which it
/// holds every purge — so the whole ledger sums up as a version vector, and what a peer lacks is what lies above
/// the peer's watermark. Purges older than the retention are trimmed: a stream's `base` is the number up to which
/// purges are forgotten, and the time before which they were made is the ledger's `floor`.
public struct PurgeLedger: Sendable {
    struct Stream: Sendable {
        var watermark: UInt64 = 0
        /// Numbers up to here are forgotten (trimmed here, or found forgotten by a peer).
        var base: UInt64 = 0
        var purges: [UInt64: GossipPurge] = [:]
    }

    /// Every purge made before this time (microseconds) was trimmed from this ledger (0: none).
    public private(set) var floor: UInt64 = 0

    private var streams: [String: Stream] = [:]
    /// Stream names in order, for range slices of the vector.
    private var names: [String] = []
    public private(set) var count = 0

    public init() {}

    /// Adds a purge; false when it was known (a duplicate changes nothing).
    @discardableResult
    public mutating func insert(_ p: GossipPurge) -> Bool {
        if streams[p.stream] == nil {
            streams[p.stream] = Stream()
            let at = names.partitioningIndex { $0 >= p.stream }
            names.insert(p.stream, at: at)
        }
        guard p.seq > streams[p.stream]!.watermark, p.seq > streams[p.stream]!.base,
              streams[p.stream]!.purges[p.seq] == nil else { return false }
        streams[p.stream]!.purges[p.seq] = p
        var s = streams[p.stream]!
        while s.purges[s.watermark + 1] != nil { s.watermark += 1 }
        streams[p.stream] = s
        count += 1
        return true
    }

    public func contains(stream: String, seq: UInt64) -> Bool {
        guard let s = streams[stream] else { return false }
        return s.purges[seq] != nil
    }

    public func purge(stream: String, seq: UInt64) -> GossipPurge? { streams[stream]?.purges[seq] }

    /// The highest number held without gaps for `stream` (0: none).
    public func watermark(_ stream: String) -> UInt64 { streams[stream]?.watermark ?? 0 }

    /// The highest number held for `stream`, gaps or not.
    public func highest(_ stream: String) -> UInt64 { streams[stream]?.purges.keys.max() ?? 0 }

    /// The vector entries of the streams in `range`, at most `limit` of them from its start, and the range they
    /// cover (up to the first stream left out, or to the end of `range`).
    public func vector(in range: KeyRange, limit: Int) -> (entries: [VectorEntry], covered: KeyRange) {
        let start = names.partitioningIndex { $0 >= range.lo }
        var entries: [VectorEntry] = []
        var i = start
        while i < names.count, range.contains(names[i]), entries.count < limit {
            let s = streams[names[i]]!
            entries.append(VectorEntry(stream: names[i], watermark: s.watermark, base: s.base))
            i += 1
        }
        let stoppedEarly = i < names.count && range.contains(names[i])
        return (entries, KeyRange(lo: range.lo, hi: stoppedEarly ? names[i] : range.hi))
    }

    /// The first stream name after `key`, to walk the vector slice by slice (nil past the last).
    public func stream(after key: String) -> String? {
        let i = names.partitioningIndex { $0 > key }
        return i < names.count ? names[i] : nil
    }

    /// The purges in streams within `range` that a peer whose vector over that range is `theirs` lacks, oldest
    /// first within each stream, up to `limit`.
    public func missing(from theirs: [VectorEntry], in range: KeyRange, limit: Int) -> [GossipPurge] {
        var known: [String: UInt64] = [:]
        for e in theirs { known[e.stream] = e.watermark }
        var out: [GossipPurge] = []
        let start = names.partitioningIndex { $0 >= range.lo }
        var i = start
        while i < names.count, range.contains(names[i]), out.count < limit {
            let s = streams[names[i]]!
            let above = known[names[i]] ?? 0
            for seq in s.purges.keys.sorted() where seq > above {
                guard out.count < limit else { break }
                out.append(s.purges[seq]!)
            }
            i += 1
        }
        return out
    }

    /// Forgets purges made before `cutoff`: each stream's oldest purges (numbers follow time within a stream) up to
    /// the first one made after it. Returns how many were forgotten.
    @discardableResult
    public mutating func trim(before cutoff: UInt64) -> Int {
        var dropped = 0
        for name in names {
            var s = streams[name]!
            for seq in s.purges.keys.sorted() {
                guard let p = s.purges[seq], p.time < cutoff else { break }
                s.purges[seq] = nil
                s.base = max(s.base, seq)
                dropped += 1
            }
            s.watermark = max(s.watermark, s.base)
            while s.purges[s.watermark + 1] != nil { s.watermark += 1 }
            streams[name] = s
        }
        count -= dropped
        floor = max(floor, cutoff)
        return dropped
    }

    /// Takes in that a peer forgot `stream` up to `base`: purges this ledger never got are gone for good. Returns
    /// true when that left a gap here (the node missed purges it can no longer learn).
    public mutating func forgotten(stream: String, upTo base: UInt64) -> Bool {
        if streams[stream] == nil {
            streams[stream] = Stream()
            names.insert(stream, at: names.partitioningIndex { $0 >= stream })
        }
        var s = streams[stream]!
        guard base > s.watermark else { return false }
        let missed = (s.watermark + 1...base).contains { s.purges[$0] == nil }
        for seq in s.purges.keys where seq <= base { s.purges[seq] = nil; count -= 1 }
        s.base = max(s.base, base)
        s.watermark = base
        while s.purges[s.watermark + 1] != nil { s.watermark += 1 }
        streams[stream] = s
        return missed
    }

    /// Whether a peer's vector shows purges this ledger lacks (a watermark above ours).
    public func lacks(comparedWith theirs: [VectorEntry]) -> Bool {
        theirs.contains { $0.watermark > watermark($0.stream) }
    }
}

/// One stream's entry in a version vector.
public struct VectorEntry: Sendable, Hashable {
    public var stream: String
    public var watermark: UInt64
    /// Numbers up to here are forgotten by the sender (trimmed after the retention).
    public var base: UInt64

    public init(stream: String, watermark: UInt64, base: UInt64 = 0) {
        self.stream = stream
        self.watermark = watermark
        self.base = base
    }
}

extension Array {
    /// The first index whose element satisfies `belongs`, for an array partitioned by it (binary search).
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var lo = 0
        var hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if belongs(self[mid]) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
