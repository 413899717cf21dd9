import Crypto
import EdgeTestSupport
import Foundation
import EdgeCore
import Testing

/// Peer fill's pure parts: rendezvous ranking, the walk down a key's owners, the memory of members found down,
/// and the authenticated wire forms of asks and answers.
@Suite struct RendezvousTests {
    static func members(_ n: Int, weight: (Int) -> Double = { _ in 1 }) -> [ClusterMember] {
        (0..<n).map { ClusterMember(id: "10.0.0.\($0):7946", endpoint: "10.0.0.\($0):7947", weight: weight($0)) }
    }

    static func keys(_ n: Int) -> [[UInt8]] {
        (0..<n).map { Array(SHA256.hash(data: Array("key-\($0)".utf8))) }
    }

    /// Should rank the same way whatever order the members are listed in, and put the owner first.
    @Test func rankingIsAFunctionOfTheSetAlone() {
        let m = Self.members(6)
        for key in Self.keys(200) {
            let a = Rendezvous.rank(key, m)
            #expect(a == Rendezvous.rank(key, m.reversed()))
            #expect(a == Rendezvous.rank(key, m.shuffled()))
            #expect(a.first == Rendezvous.owner(key, m))
            #expect(Set(a.map(\.id)) == Set(m.map(\.id)))
        }
    }

    /// Should give each of 4 equal members about a quarter of the keys.
    @Test func equalMembersOwnEqualShares() {
        let m = Self.members(4)
        var owned: [String: Int] = [:]
        for key in Self.keys(40_000) { owned[Rendezvous.owner(key, m)!.id, default: 0] += 1 }
        for member in m {
            let share = Double(owned[member.id] ?? 0) / 40_000
            #expect(abs(share - 0.25) < 0.015, "\(member.id): \(share)")
        }
    }

    /// Should give a member of weight 2 twice the share of one of weight 1, and one of weight 0 none.
    @Test func weightsSetShares() {
        let m = Self.members(4) { [1, 1, 2, 0][$0] }
        var owned: [String: Int] = [:]
        for key in Self.keys(40_000) { owned[Rendezvous.owner(key, m)!.id, default: 0] += 1 }
        let shares = m.map { Double(owned[$0.id] ?? 0) / 40_000 }
        #expect(abs(shares[0] - 0.25) < 0.015 && abs(shares[1] - 0.25) < 0.015, "\(shares)")
        #expect(abs(shares[2] - 0.5) < 0.015, "\(shares)")
        #expect(shares[3] == 0)
    }

    /// Should move only the keys the removed member owned (about 1/N), and on adding a member only the keys it
    /// now owns, every one of them from another member to it.
    @Test func changingOneMemberMovesAboutOneNth() {
        let five = Self.members(5)
        let four = Array(five.prefix(4))
        let keys = Self.keys(20_000)
        var moved = 0
        for key in keys {
            let before = Rendezvous.owner(key, five)!
            let after = Rendezvous.owner(key, four)!
            if before != after {
                moved += 1
                #expect(before.id == five[4].id, "only the removed member's keys move")
            }
        }
        let share = Double(moved) / Double(keys.count)
        #expect(abs(share - 0.2) < 0.015, "\(share)")
    }
}

@Suite struct PeerFillStateMachineTests {
    let a = ClusterMember(id: "a", endpoint: "a:1"), b = ClusterMember(id: "b", endpoint: "b:1"),
        c = ClusterMember(id: "c", endpoint: "c:1"), d = ClusterMember(id: "d", endpoint: "d:1")

    /// Should fill here without asking anyone when this node ranks first.
    @Test func ownerFillsItself() {
        var m = PeerFill.StateMachine(ranking: [a, b, c], me: "a")
        #expect(m.start() == .fillLocally(.owner))
    }

    /// Should ask the owner and use its entry.
    @Test func asksTheOwner() {
        var m = PeerFill.StateMachine(ranking: [b, a, c], me: "a")
        #expect(m.start() == .ask(b))
        #expect(m.asked(.entry) == .use)
    }

    /// Should take an owner's definite error as the answer (the next owner would give the same).
    @Test func definiteErrorsAreFinal() {
        var m = PeerFill.StateMachine(ranking: [b, c, a], me: "a")
        #expect(m.start() == .ask(b))
        #expect(m.asked(.failed(status: 404)) == .fail(status: 404))
    }

    /// Should go down the ranking when an owner does not answer or declines, and stop at this node.
    @Test func failsOverByRankThenFillsHere() {
        var m = PeerFill.StateMachine(ranking: [b, c, a, d], me: "a")
        #expect(m.start() == .ask(b))
        #expect(m.asked(.unreachable) == .ask(c))
        #expect(m.asked(.declined) == .fillLocally(.fallback))
    }

    /// Should ask no more than `maxAsks` members.
    @Test func asksAtMostMaxAsks() {
        var m = PeerFill.StateMachine(ranking: [b, c, d, a], me: "a", maxAsks: 2)
        #expect(m.start() == .ask(b))
        #expect(m.asked(.unreachable) == .ask(c))
        #expect(m.asked(.unreachable) == .fillLocally(.fallback))
    }

    /// Should not ask a member known down: the next by rank is asked at once, and when that is this node it is
    /// the owner now.
    @Test func skipsMembersKnownDown() {
        var m = PeerFill.StateMachine(ranking: [b, c, a], me: "a", skip: ["b"])
        #expect(m.start() == .ask(c))
        var n = PeerFill.StateMachine(ranking: [b, a, c], me: "a", skip: ["b"])
        #expect(n.start() == .fillLocally(.owner))
    }

    /// Should keep a member that failed down until gossip hears from it after `retryAfter`.
    @Test func healthWaitsForMembershipToSayItIsBack() {
        var h = PeerFill.Health(retryAfter: 1_000)
        func down(_ id: String, _ lastHeard: UInt64?, _ now: UInt64) -> Bool { h.isDown(id, lastHeard: lastHeard, now: now) }
        #expect(!down("b", nil, 0))
        h.failed("b", now: 10_000)
        #expect(down("b", 9_000, 10_500))
        #expect(down("b", 10_200, 10_500), "heard again, but too soon after the failure")
        #expect(down("b", 9_999, 20_000), "not heard from since")
        #expect(!down("b", 10_200, 11_000))
        #expect(h.failed.isEmpty)
        h.failed("c", now: 5)
        h.answered("c")
        #expect(!down("c", nil, 6))
    }
}

@Suite struct PeerProtocolTests {
    let wire = PeerProtocol(secret: "cluster-secret-for-tests-0001")
    let ask = PeerProtocol.Ask(sender: "127.0.0.1:7946", time: 1_800_000_000_000_000, nonce: 42, key: String(repeating: "ab", count: 32),
                               clock: 7, host: "web.test", target: "/a.jpg?w=20", accept: "image/webp", hints: ["", "2", ""])

    /// Should accept an ask's own MAC and refuse it when any field or the secret differs.
    @Test func asksAreAuthenticated() {
        let mac = wire.mac(ask)
        #expect(wire.verify(ask, mac: mac))
        #expect(!PeerProtocol(secret: "another-secret-of-16+").verify(ask, mac: mac))
        var changed = ask
        changed.target = "/a.jpg?w=21"
        #expect(!wire.verify(changed, mac: mac))
        changed = ask
        changed.hints[1] = "3"
        #expect(!wire.verify(changed, mac: mac))
        changed = ask
        changed.time += 1
        #expect(!wire.verify(changed, mac: mac))
        #expect(!wire.verify(ask, mac: "00"))
        #expect(!wire.verify(ask, mac: "zz" + mac.dropFirst(2)))
    }

    /// Should read back what it sealed, for the ask it answers only.
    @Test func answersRoundTripForTheirAsk() throws {
        let entry = CacheEntry(contentType: "image/webp", etag: "\"x\"", fetchedAt: 1_800_000_000, freshness: EntryFreshness(
            responseTime: 1_800_000_000, initialAge: 0, lifetime: 3600), source: "web", path: "/a.jpg", variesOnAccept: true, body: [1, 2, 3])
        let answers: [PeerProtocol.Answer] = [
            .entry(entry.encoded(), storable: true, uncacheable: nil),
            .entry(entry.encoded(), storable: false, uncacheable: "private, no-cache"),
            .error(status: 404, message: "not found", declined: false),
            .error(status: 503, message: "node is overloaded", declined: true),
        ]
        for answer in answers {
            let frame = wire.seal(answer, clock: 99, nonce: 5)
            let opened = try wire.open(frame, nonce: 5)
            #expect(opened.answer == answer)
            #expect(opened.clock == 99)
            #expect(throws: PeerProtocol.Refusal.forged) { try wire.open(frame, nonce: 6) }
            #expect(throws: PeerProtocol.Refusal.forged) {
                try PeerProtocol(secret: "another-secret-of-16+").open(frame, nonce: 5)
            }
            for i in [0, 4, 5, frame.count / 2, frame.count - 1] {
                var bad = frame
                bad[i] ^= 1
                #expect(throws: PeerProtocol.Refusal.forged) { try wire.open(bad, nonce: 5) }
            }
            #expect(throws: PeerProtocol.Refusal.forged) { try wire.open(Array(frame.prefix(20)), nonce: 5) }
        }
    }

    /// Should open every seed of the PeerAnswer fuzz target (sealed with this secret for nonce 7); with
    /// IMGEDGE_WRITE_FUZZ_SEEDS set, writes them first.
    @Test func fuzzSeedsAreSealedAnswers() throws {
        let folder = Corpus.packageRoot.appendingPathComponent("Fuzz/PeerAnswer/seeds")
        if ProcessInfo.processInfo.environment["IMGEDGE_WRITE_FUZZ_SEEDS"] != nil {
            var entry = CacheEntry(contentType: "image/webp", etag: "\"x\"", fetchedAt: 1_800_000_000,
                                   freshness: EntryFreshness(responseTime: 1_800_000_000, initialAge: 0, lifetime: 3600),
                                   source: "web", path: "/a.jpg", variesOnAccept: true, surrogateKeys: ["t1", "t2"],
                                   body: Array("body bytes".utf8))
            entry.varyNames = ["accept"]
            let answers: [PeerProtocol.Answer] = [
                .entry(entry.encoded(), storable: true, uncacheable: nil),
                .entry(entry.encoded(), storable: false, uncacheable: "private, no-cache"),
                .error(status: 404, message: "not found", declined: false),
                .error(status: 503, message: "node is overloaded, retry shortly", declined: true),
            ]
            for (i, answer) in answers.enumerated() {
                try Data(wire.seal(answer, clock: 1_800_000_000_000_000 + UInt64(i), nonce: 7))
                    .write(to: folder.appendingPathComponent("seed\(i)"))
            }
        }
        let seeds = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(seeds.count >= 4)
        for name in seeds {
            let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
            #expect(throws: Never.self, "\(name)") { try wire.open(bytes, nonce: 7) }
        }
    }

    /// Should refuse replays, asks from outside the time window, and new asks once a window is full.
    @Test func replayGuard() {
        var g = PeerReplayGuard(windowMicros: 1_000, capacity: 3)
        #expect(g.check(nonce: 1, time: 10_000, now: 10_000) == .accept)
        #expect(g.check(nonce: 1, time: 10_000, now: 10_100) == .replayed)
        #expect(g.check(nonce: 2, time: 8_000, now: 10_100) == .stale)
        #expect(g.check(nonce: 3, time: 12_000, now: 10_100) == .stale)
        #expect(g.check(nonce: 4, time: 10_100, now: 10_100) == .accept)
        #expect(g.check(nonce: 5, time: 10_100, now: 10_100) == .accept)
        #expect(g.check(nonce: 6, time: 10_100, now: 10_100) == .full)
        // Windows turn: a nonce is remembered for as long as an ask carrying it could be accepted.
        #expect(g.check(nonce: 1, time: 10_000, now: 10_999) == .replayed)
        #expect(g.check(nonce: 7, time: 11_000, now: 11_000) == .accept)
        #expect(g.check(nonce: 1, time: 10_900, now: 11_800) == .replayed)
        #expect(g.check(nonce: 1, time: 12_500, now: 13_400) == .replayed)
        #expect(g.check(nonce: 8, time: 20_000, now: 20_000) == .accept)
    }
}
