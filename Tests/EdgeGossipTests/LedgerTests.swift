import EdgeCore
@testable import EdgeGossip
import Testing

/// Purge ids, the tombstones of a purge, the ledger's watermarks, and the replay guard.
@Suite struct LedgerTests {
    static func purge(_ stream: String, _ seq: UInt64) -> GossipPurge {
        GossipPurge(stream: stream, seq: seq, time: seq * 10, selectors: [.tag("t\(seq)")])
    }

    /// Should parse ids back into stream and number, from the last dash (node ids may contain dashes and dots).
    @Test func ids() {
        let p = GossipPurge(stream: GossipPurge.stream(nodeID: "edge-1.example.com", epoch: 5), seq: 12, time: 1, selectors: [.source("s")])
        #expect(p.id == "edge-1.example.com-5-12")
        #expect(GossipPurge.parse(id: Substring(p.id))! == ("edge-1.example.com-5", 12))
        for bad in ["", "12", "-12", "a-0", "a-x", "a-"] { #expect(GossipPurge.parse(id: Substring(bad)) == nil, "\(bad)") }
    }

    /// Should rebuild purges from their tombstones, selectors in order, and skip tombstones of other id forms.
    @Test func regroup() {
        let two = GossipPurge(stream: "n.x-1", seq: 2, time: 77, selectors: [.source("a"), .tag("b"), .prefix(source: "a", prefix: "/p")])
        let one = GossipPurge(stream: "n.x-1", seq: 3, time: 78, selectors: [.image(source: "a", path: "/i.jpg")])
        let stones = (one.tombstones + two.tombstones.reversed()) + [Tombstone(id: "legacy", selector: .tag("z"), time: 1)]
        #expect(GossipPurge.regroup(stones) == [one, two])
    }

    /// Should keep a watermark that stops at the first gap and moves past it when the gap fills.
    @Test func watermarks() {
        var l = PurgeLedger()
        let added1 = l.insert(Self.purge("a", 1))
        #expect(added1)
        let added2 = l.insert(Self.purge("a", 3))
        #expect(added2)
        let added3 = l.insert(Self.purge("a", 3))
        #expect(!added3)
        #expect(l.watermark("a") == 1 && l.highest("a") == 3)
        let added4 = l.insert(Self.purge("a", 2))
        #expect(added4)
        #expect(l.watermark("a") == 3 && l.count == 3)
        let added5 = l.insert(Self.purge("a", 1))
        #expect(!added5)
    }

    /// Should forget the oldest purges of each stream, refuse them afterwards, and report gaps a peer's base reveals.
    @Test func trimAndForgotten() {
        var l = PurgeLedger()
        for n in 1...5 { l.insert(Self.purge("a", UInt64(n))) }   // times 10…50
        let dropped = l.trim(before: 35)
        #expect(dropped == 3 && l.count == 2 && l.floor == 35)
        #expect(l.vector(in: .all, limit: 10).entries == [VectorEntry(stream: "a", watermark: 5, base: 3)])
        let old = l.insert(Self.purge("a", 2))
        #expect(!old)
        var behind = PurgeLedger()
        behind.insert(Self.purge("a", 1))
        let missed = behind.forgotten(stream: "a", upTo: 3)
        #expect(missed && behind.watermark("a") == 3 && behind.count == 0)
        var upToDate = PurgeLedger()
        for n in 1...3 { upToDate.insert(Self.purge("a", UInt64(n))) }
        let none = upToDate.forgotten(stream: "a", upTo: 3)
        #expect(!none)
    }

    /// Should list what a peer lacks from its vector, and slice the vector by stream ranges.
    @Test func missingAndSlices() {
        var l = PurgeLedger()
        for s in ["a", "b", "c", "d"] { for n in 1...3 { l.insert(Self.purge(s, UInt64(n))) } }
        let theirs = [VectorEntry(stream: "a", watermark: 3), VectorEntry(stream: "b", watermark: 1)]
        #expect(l.missing(from: theirs, in: .all, limit: 100).map(\.id) == ["b-2", "b-3", "c-1", "c-2", "c-3", "d-1", "d-2", "d-3"])
        #expect(l.missing(from: theirs, in: KeyRange(lo: "b", hi: "c"), limit: 100).map(\.id) == ["b-2", "b-3"])
        #expect(l.missing(from: theirs, in: .all, limit: 2).count == 2)
        let (first, covered) = l.vector(in: .all, limit: 2)
        #expect(first.map(\.stream) == ["a", "b"] && covered == KeyRange(lo: "", hi: "c"))
        let (rest, end) = l.vector(in: KeyRange(lo: "c"), limit: 2)
        #expect(rest.map(\.stream) == ["c", "d"] && end.hi == nil)
        #expect(l.lacks(comparedWith: [VectorEntry(stream: "e", watermark: 1)]))
        #expect(!l.lacks(comparedWith: theirs))
    }

    /// Should accept each message once, out of order within the window, and refuse replays, older runs and stale times.
    @Test func replayGuard() {
        var g = ReplayGuard(maxAgeMicros: 1_000_000)
        func e(_ epoch: UInt64, _ seq: UInt64, at: UInt64 = 5_000_000) -> GossipEnvelope {
            GossipEnvelope(sender: "p", epoch: epoch, seq: seq, sentAt: at, clock: 0, message: .ack(id: 1))
        }
        let now: UInt64 = 5_000_000
        #expect(g.check(e(1, 10), now: now) == .accept)
        #expect(g.check(e(1, 10), now: now) == .replayed)
        #expect(g.check(e(1, 8), now: now) == .accept)
        #expect(g.check(e(1, 8), now: now) == .replayed)
        #expect(g.check(e(1, 100), now: now) == .accept)
        #expect(g.check(e(1, 20), now: now) == .replayed)   // fell out of the window
        #expect(g.check(e(2, 1), now: now) == .accept)      // a new run of the sender
        #expect(g.check(e(1, 101), now: now) == .replayed)  // the old run is over
        #expect(g.check(e(2, 2, at: 3_000_000), now: now) == .stale)
        #expect(g.check(e(2, 3, at: 7_000_000), now: now) == .stale)
    }
}
