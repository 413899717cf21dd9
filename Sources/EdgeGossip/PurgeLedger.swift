/// Every purge a node knows, by stream. For each stream it keeps the watermark — the highest number up to which it
/// holds every purge — so the whole ledger sums up as a version vector, and what a peer lacks is what lies above
/// the peer's watermark.
public struct PurgeLedger: Sendable {
    struct Stream: Sendable {
        var watermark: UInt64 = 0
        var purges: [UInt64: GossipPurge] = [:]
    }

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
        guard p.seq > streams[p.stream]!.watermark, streams[p.stream]!.purges[p.seq] == nil else { return false }
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
            entries.append(VectorEntry(stream: names[i], watermark: streams[names[i]]!.watermark))
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

    /// Whether a peer's vector shows purges this ledger lacks (a watermark above ours).
    public func lacks(comparedWith theirs: [VectorEntry]) -> Bool {
        theirs.contains { $0.watermark > watermark($0.stream) }
    }
}

/// One stream's entry in a version vector.
public struct VectorEntry: Sendable, Hashable {
    public var stream: String
    public var watermark: UInt64

    public init(stream: String, watermark: UInt64) {
        self.stream = stream
        self.watermark = watermark
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
