public import EdgeCore

/// One purge as nodes exchange it. Every node numbers the purges it makes in its own stream (1, 2, 3…), so what a
/// node holds is summed up by one number per stream (a version vector) and a gap is visible at once.
public struct GossipPurge: Sendable, Hashable {
    /// The stream of the node that made it: `<node id>-<epoch>`, the epoch being when that node's purge history
    /// began (a node whose state was wiped starts a new stream, so its new numbers never collide with old ones).
    public var stream: String
    /// Its number in the stream, from 1.
    public var seq: UInt64
    /// When it was made, on the maker's hybrid logical clock (microseconds).
    public var time: UInt64
    public var selectors: [PurgeSelector]

    public init(stream: String, seq: UInt64, time: UInt64, selectors: [PurgeSelector]) {
        self.stream = stream
        self.seq = seq
        self.time = time
        self.selectors = selectors
    }

    /// The purge's id as the admin API reports it: `<stream>-<seq>`.
    public var id: String { Self.id(stream: stream, seq: seq) }

    public static func id(stream: String, seq: UInt64) -> String { "\(stream)-\(seq)" }

    /// A stream name for `nodeID` whose history begins at `epoch`.
    public static func stream(nodeID: String, epoch: UInt64) -> String { "\(nodeID)-\(epoch)" }

    /// The stream and number of a purge id (`<stream>-<seq>`), or nil for anything else.
    public static func parse(id: Substring) -> (stream: String, seq: UInt64)? {
        guard let dash = id.lastIndex(of: "-"), let seq = UInt64(id[id.index(after: dash)...]), seq > 0,
              dash > id.startIndex else { return nil }
        return (String(id[..<dash]), seq)
    }

    /// The tombstones that apply it: one per selector, ids `<id>` (one selector) or `<id>.<n>`.
    public var tombstones: [Tombstone] {
        selectors.enumerated().map { i, s in
            Tombstone(id: selectors.count == 1 ? id : "\(id).\(i)", selector: s, time: time)
        }
    }

    /// Purges rebuilt from stored tombstones (the inverse of `tombstones`); tombstones whose ids are not purge ids
    /// are left out.
    public static func regroup(_ tombstones: [Tombstone]) -> [GossipPurge] {
        var byID: [String: (stream: String, seq: UInt64, time: UInt64, parts: [(Int, PurgeSelector)])] = [:]
        var order: [String] = []
        for t in tombstones {
            var base = Substring(t.id)
            var part = 0
            if let dot = base.lastIndex(of: "."), let n = Int(base[base.index(after: dot)...]),
               parse(id: base[..<dot]) != nil {
                part = n
                base = base[..<dot]
            }
            guard let (stream, seq) = parse(id: base) else { continue }
            let key = String(base)
            if byID[key] == nil {
                byID[key] = (stream, seq, t.time, [])
                order.append(key)
            }
            byID[key]!.parts.append((part, t.selector))
        }
        return order.map { key in
            let g = byID[key]!
            return GossipPurge(stream: g.stream, seq: g.seq, time: g.time,
                               selectors: g.parts.sorted { $0.0 < $1.0 }.map(\.1))
        }
    }
}

/// A half-open range of keys (`lo` ≤ key < `hi`; no `hi`: to the end), over member addresses or stream names.
public struct KeyRange: Sendable, Hashable, CustomStringConvertible {
    public var lo: String
    public var hi: String?

    public init(lo: String = "", hi: String? = nil) {
        self.lo = lo
        self.hi = hi
    }

    /// Every key.
    public static let all = KeyRange()

    public func contains(_ key: String) -> Bool { key >= lo && (hi.map { key < $0 } ?? true) }

    public var description: String { "[\(lo), \(hi ?? "∞"))" }
}
