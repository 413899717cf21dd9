import EdgeCore
@testable import EdgeGossip
import EdgeSimulation
import Testing

/// The gossip state machine on a simulated network (mock clock, seeded loss): dissemination, dedup, fan-out,
/// anti-entropy, suspicion, rejoin, membership.
@Suite struct StateMachineTests {
    static let selectors: [PurgeSelector] = [.image(source: "web", path: "/a.jpg")]

    /// Should reach every node of a small cluster in one hop, one payload message per node.
    @Test func smallClusterOneHop() throws {
        var sim = GossipSimulation(count: 16)
        let p = sim.purge(on: 3, Self.selectors)
        let reached = sim.runUntilApplied(p.id, limit: 100_000)
        let took = try #require(reached)
        #expect(took <= 200)   // one simulated datagram: 100–150 µs
        #expect(sim.payloadSent == 15)
        sim.advance(100_000)
        #expect(sim.payloadSent == 15)
        #expect(sim.nodes.allSatisfy { $0.stats.duplicatePurges == 0 })
        // Acknowledged pushes measured the round trip (100–150 µs): retransmission waits the minimum.
        #expect(sim.nodes[3].timeout(sim.addresses[0]) == Gossip.Config().minRetransmit)
        #expect(sim.nodes[0].timeout(sim.addresses[3]) == Gossip.Config().retransmitAfter)   // never pushed to
    }

    /// Should relay through a tree in a large cluster, with about one payload message per node per purge.
    @Test func largeClusterTree() throws {
        var sim = GossipSimulation(count: 300)
        var ids: [String] = []
        for i in 0..<5 { ids.append(sim.purge(on: i * 37, [.tag("t\(i)")]).id) }
        for id in ids { let covered = sim.runUntilApplied(id, limit: 50_000)
        #expect(covered != nil) }
        sim.advance(200_000)
        let perNodePerPurge = Double(sim.payloadSent) / Double(300 * ids.count)
        #expect(perNodePerPurge <= 1.2)
        #expect(sim.nodes.allSatisfy { $0.ledger.count == ids.count })
    }

    /// Should lose no purge at 30 % datagram loss (retransmission, hand-off, anti-entropy).
    @Test func heavyLoss() throws {
        var sim = GossipSimulation(count: 40, loss: 0.3, seed: 9)
        var ids: [String] = []
        for i in 0..<20 {
            ids.append(sim.purge(on: i % 40, [.tag("t\(i)")]).id)
            sim.advance(2_000)
        }
        for id in ids { let covered = sim.runUntilApplied(id, limit: 5_000_000)
        #expect(covered != nil, "\(id)") }
        #expect(sim.nodes.allSatisfy { $0.ledger.count == 20 })
    }

    /// Should apply a retransmitted or replayed push once, and relay it once.
    @Test func duplicatesChangeNothing() throws {
        var sim = GossipSimulation(count: 3)
        let p = GossipPurge(stream: "x-1", seq: 1, time: 5, selectors: Self.selectors)
        let push = sim.envelope(from: 0, .push(id: 77, relay: KeyRange.all, purges: [p]))
        sim.inject(push, to: 1)
        let relayedOnce = sim.sent
        sim.inject(push, to: 1)   // the same datagram again: a replay
        #expect(sim.nodes[1].stats.replayed == 1)
        let again = sim.envelope(from: 0, .push(id: 77, relay: KeyRange.all, purges: [p]))   // a retransmission
        sim.inject(again, to: 1)
        #expect(sim.nodes[1].stats.duplicatePurges == 1)
        #expect(sim.sent == relayedOnce + 1)   // only the ack
        sim.advance(50_000)
        #expect(sim.coverage(p.id) == 3)   // node 0 sent it without holding it, and then pulled it by anti-entropy
    }

    /// Should hand a relay's share to the next member when the relay is down, and suspect then bury the relay.
    @Test func deadRelayHandsOff() throws {
        var sim = GossipSimulation(count: 100)
        // The relay of node 0's first share is the lowest address after its own: stop it.
        let relay = try #require(sim.addresses.indices.filter { $0 != 0 }.min { sim.addresses[$0] < sim.addresses[$1] })
        sim.stop(relay)
        let p = sim.purge(on: 0, Self.selectors)
        let covered = sim.runUntilApplied(p.id, limit: 2_000_000)
        #expect(covered != nil)
        sim.advance(600_000)   // every try of the push to the relay has run out
        #expect(sim.nodes[0].members[sim.addresses[relay]]?.status == .suspect)
        #expect(sim.nodes[0].stats.handoffs == 1)
        sim.advance(Gossip.Config().deadAfter + 100_000)
        #expect(sim.nodes[0].members[sim.addresses[relay]]?.status == .dead)
    }

    /// Should bring a partitioned side up to date by anti-entropy once the partition heals.
    @Test func partitionHeals() throws {
        var sim = GossipSimulation(count: 10)
        sim.partition(Array(0..<5), Array(5..<10))
        let p = sim.purge(on: 0, Self.selectors)
        sim.advance(3_000_000)
        #expect(sim.coverage(p.id) == 5)
        sim.partition(Array(0..<5), Array(5..<10), cut: false)
        let covered = sim.runUntilApplied(p.id, limit: 30_000_000)
        #expect(covered != nil)
    }

    /// Should let a node that was away catch up on the purges it missed, and be alive again to its peers.
    @Test func rejoinCatchesUp() throws {
        var sim = GossipSimulation(count: 8)
        sim.stop(7)
        var ids: [String] = []
        for i in 0..<150 { ids.append(sim.purge(on: i % 7, [.image(source: "web", path: "/photos/\(i).jpg")]).id) }
        sim.advance(10_000_000)
        #expect(sim.nodes[0].members[sim.addresses[7]]?.status == .dead)
        #expect(sim.nodes[7].ledger.count == 0)
        sim.start(7)
        sim.advance(10_000_000)
        #expect(sim.nodes[7].ledger.count == 150)
        #expect(sim.nodes[7].synced)
        #expect(sim.nodes[0].members[sim.addresses[7]]?.status == .alive)
    }

    /// Should tell a node that was away longer than the retention to treat its old cache as purged, and only it.
    @Test func awayLongerThanRetention() throws {
        var config = Gossip.Config()
        config.retention = 5_000_000
        var sim = GossipSimulation(count: 6, config: config)
        sim.stop(5)
        for i in 0..<10 { sim.purge(on: i % 5, [.tag("t\(i)")]) }
        sim.advance(70_000_000)   // past the retention and a trim
        #expect(sim.nodes[0].ledger.count == 0 && sim.nodes[0].ledger.floor > 0)
        sim.start(5)
        sim.advance(5_000_000)
        let floor = try #require(sim.invalidations[5])
        #expect(floor == sim.nodes[0].ledger.floor || floor > 1_000_000)
        #expect(sim.invalidations.count == 1)
        #expect(sim.nodes[5].synced)
        // Purges made after the return reach it as usual.
        let p = sim.purge(on: 2, [.tag("new")])
        let covered = sim.runUntilApplied(p.id, limit: 100_000)
        #expect(covered != nil)
    }

    /// Should spread a source switch to every node at once, and to a node that was away through anti-entropy.
    @Test func sourceSwitchesSpread() {
        var sim = GossipSimulation(count: 40)
        sim.stop(39)
        sim.switchSource(on: 3, "web", enabled: false)
        sim.advance(20_000)
        #expect(sim.nodes[0..<39].allSatisfy { !$0.switches.isEnabled("web") })
        sim.start(39)
        sim.advance(3_000_000)
        #expect(!sim.nodes[39].switches.isEnabled("web"))
        sim.switchSource(on: 7, "web", enabled: true)
        sim.advance(20_000)
        #expect(sim.nodes.allSatisfy { $0.switches.isEnabled("web") })
    }

    /// Should learn every member from a short seed list.
    @Test func membershipSpreads() throws {
        var sim = GossipSimulation(count: 30, seeds: 2)
        sim.advance(20_000_000)
        #expect(sim.nodes.allSatisfy { $0.members.count == 29 })
        let p = sim.purge(on: 4, Self.selectors)
        let covered = sim.runUntilApplied(p.id, limit: 100_000)
        #expect(covered != nil)
    }

    /// Should answer status queries from every member, applied or not.
    @Test func statusQueries() throws {
        var sim = GossipSimulation(count: 5)
        sim.stop(4)
        let p = sim.purge(on: 0, Self.selectors)
        sim.advance(50_000)
        let q = sim.queryStatus(on: 2, p.id)
        sim.advance(50_000)
        let answers = sim.statusAnswers[q] ?? []
        #expect(answers.count == 3)
        #expect(answers.allSatisfy { $0.1 })
        #expect(sim.nodes[2].holds(p.id) && !sim.nodes[4].holds(p.id))
    }
}
