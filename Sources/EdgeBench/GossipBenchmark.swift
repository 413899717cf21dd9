import EdgeCore
import EdgeGossip
import EdgeSimulation

/// `EdgeBench gossip`: the gossip state machine on a simulated network of many nodes (the same code the node runs,
/// datagrams delayed 1–1.5 ms, lost at the given rates). For each loss rate, purges are made one after another
/// on random nodes; reported: hops and simulated time to full coverage (p50, p99, max), payload messages (those
/// carrying purges) and all messages per node per purge, bytes per node per purge, and purges lost.
struct GossipBenchmark {
    var nodes = 1000
    var purges = 100
    var losses: [Double] = [0, 0.1, 0.3]
    var seed: UInt64 = 1

    init(arguments: [String]) throws {
        var rest = arguments[...]
        func value(_ flag: String) throws(UsageError) -> Int { try UsageError.positive(flag, &rest) }
        while let flag = rest.popFirst() {
            switch flag {
            case "--nodes": nodes = try value(flag)
            case "--purges": purges = try value(flag)
            case "--seed": seed = UInt64(try value(flag))
            case "--losses":
                losses = (rest.popFirst() ?? "").split(separator: ",").compactMap { Double($0) }.filter { $0 >= 0 && $0 < 1 }
                guard !losses.isEmpty else { throw UsageError(description: "--losses needs rates like 0,0.1,0.3") }
            default: throw UsageError(description: "unknown option \(flag)")
            }
        }
    }

    func run() {
        for loss in losses {
            var sim = GossipSimulation(count: nodes, latency: 1_000, loss: loss, seed: seed)
            sim.advance(2_000_000)   // a first round of anti-entropy, as in a running cluster (to 3 s)
            let (sent0, payload0, bytes0) = (sim.sent, sim.payloadSent, sim.bytesSent)
            var g = SplitMix64(seed: seed ^ 0x90551)
            var times: [Double] = []
            var depth: [Int] = []
            var lost = 0
            for n in 0..<purges {
                let p = sim.purge(on: Int(g.next() % UInt64(nodes)), [.image(source: "web", path: "/p/\(n).jpg")])
                if let t = sim.runUntilApplied(p.id, limit: 30_000_000) {
                    times.append(Double(t) / 1000)
                    depth.append(sim.hops[p.id]?.values.max() ?? 0)
                } else {
                    lost += 1
                }
                sim.advance(20_000)
            }
            // Let retransmissions and anti-entropy settle, then count what the purges cost.
            sim.advance(3_000_000)
            let idle = Self.idleTraffic(nodes: nodes, seed: seed, loss: loss, duration: sim.now - 3_000_000)
            let perNodePurge = Double(nodes * purges)
            times.sort()
            depth.sort()
            func q(_ xs: [Double], _ p: Double) -> Double { xs.isEmpty ? .nan : xs[min(xs.count - 1, Int(Double(xs.count) * p))] }
            let row: [(String, String)] = [
                ("kind", "\"gossip\""), ("nodes", "\(nodes)"), ("purges", "\(purges)"), ("loss", "\(loss)"),
                ("p50_ms", fmt(q(times, 0.5))), ("p99_ms", fmt(q(times, 0.99))), ("max_ms", fmt(times.last ?? .nan)),
                ("hops_p50", "\(depth.isEmpty ? 0 : depth[depth.count / 2])"), ("hops_max", "\(depth.last ?? 0)"),
                ("payload_per_node_purge", fmt(Double(sim.payloadSent - payload0) / perNodePurge, 3)),
                ("messages_per_node_purge", fmt(Double(sim.sent - sent0 - idle.messages) / perNodePurge, 3)),
                ("bytes_per_node_purge", fmt(Double(sim.bytesSent - bytes0 - idle.bytes) / perNodePurge, 1)),
                ("lost", "\(lost)"),
            ]
            print("{" + row.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
        }
    }

    /// Messages the same cluster sends in the same time with no purges (anti-entropy and its replies), so the
    /// per-purge figure counts only what the purges cost.
    static func idleTraffic(nodes: Int, seed: UInt64, loss: Double, duration: UInt64) -> (messages: Int, bytes: Int) {
        var idle = GossipSimulation(count: nodes, latency: 1_000, loss: loss, seed: seed)
        idle.advance(2_000_000)
        let (sent, bytes) = (idle.sent, idle.bytesSent)
        idle.advance(duration)
        return (idle.sent - sent, idle.bytesSent - bytes)
    }

    func fmt(_ x: Double, _ digits: Int = 2) -> String {
        x.isFinite ? String((x * pow10(digits)).rounded() / pow10(digits)) : "null"
    }

    func pow10(_ d: Int) -> Double { (0..<d).reduce(1.0) { r, _ in r * 10 } }
}
