/// Refuses datagrams seen before, per sender, the way IPsec does: each sender numbers the messages of a run
/// (`epoch`), and the receiver keeps the highest number seen and a 64-wide window below it. A message from an
/// older run, a number already seen, or one too old for the window is a replay. A receiver that restarted has no
/// windows, so it also refuses anything sent more than `maxAge` ago by the sender's clock (clocks of a cluster
/// must agree within that), and a replayed purge changes nothing anyway: purges are applied once by id.
public struct ReplayGuard: Sendable {
    struct Window: Sendable {
        var epoch: UInt64
        var highest: UInt64
        /// Bit i: number `highest - i` was seen.
        var seen: UInt64
    }

    /// Why a datagram was refused.
    public enum Verdict: Sendable, Equatable {
        case accept
        case replayed
        case stale
    }

    private var windows: [String: Window] = [:]
    public let maxAge: UInt64
    /// Senders remembered at most; beyond it, one is forgotten for each new one (its next message is then accepted as a first).
    private let capacity: Int

    public init(maxAgeMicros: UInt64 = 300_000_000, capacity: Int = 4096) {
        maxAge = maxAgeMicros
        self.capacity = capacity
    }

    /// Checks one authenticated envelope received at `now` (microseconds) and records it when accepted.
    public mutating func check(_ e: GossipEnvelope, now: UInt64) -> Verdict {
        if e.sentAt + maxAge < now || e.sentAt > now + maxAge { return .stale }
        guard var w = windows[e.sender], w.epoch >= e.epoch else {
            if windows.count >= capacity, windows[e.sender] == nil, let victim = windows.keys.first {
                windows[victim] = nil
            }
            windows[e.sender] = Window(epoch: e.epoch, highest: e.seq, seen: 1)
            return .accept
        }
        guard w.epoch == e.epoch else { return .replayed }
        if e.seq > w.highest {
            let shift = e.seq - w.highest
            w.seen = shift >= 64 ? 1 : (w.seen << shift) | 1
            w.highest = e.seq
        } else {
            let back = w.highest - e.seq
            guard back < 64, w.seen & (1 << back) == 0 else { return .replayed }
            w.seen |= 1 << back
        }
        windows[e.sender] = w
        return .accept
    }
}
