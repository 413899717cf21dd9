import EdgeCore
import EdgeSimulation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hit ratio and byte hit ratio of S3FIFO (S3-FIFO with a TinyLFU filter) and its tuning knobs against plain LRU
/// on the same synthetic Zipf traces, plus the cost of rebuilding it for a million 32-byte keys. Prints JSON lines
/// on stdout for tools/bench/eviction to tabulate.
struct EvictionBenchmark {
    var requests = 1_000_000
    var objects = 100_000
    var seed: UInt64 = 20231023  // SOSP '23 opened on 23 October 2023; any fixed value would do.
    var alphas = [0.8, 1.0]
    var cacheFractions = [0.01, 0.05, 0.10]
    var rebuildEntries = 1_000_000
    /// The variants to run, by name (all when empty; `--only default,...` for a quick look); the rebuild is
    /// measured only in a full run.
    var only: Set<String> = []

    init(arguments: [String]) throws(UsageError) {
        var rest = arguments[...]
        func value(_ flag: String) throws(UsageError) -> Int { try UsageError.positive(flag, &rest) }
        while let flag = rest.popFirst() {
            switch flag {
            case "--requests": requests = try value(flag)
            case "--objects": objects = try value(flag)
            case "--seed": seed = UInt64(try value(flag))
            case "--only":
                guard let names = rest.popFirst() else { throw UsageError(description: "--only needs names") }
                only = Set(names.split(separator: ",").map(String.init))
            case "--quick":
                requests = 100_000
                objects = 10_000
                rebuildEntries = 100_000
            default: throw UsageError(description: "unknown option \(flag)")
            }
        }
    }

    /// The S3-FIFO settings measured: the defaults first, then one knob turned at a time.
    static let variants: [(name: String, configuration: S3FIFO<Int32>.Configuration)] = [
        ("default", .init()),
        ("small 10%", .init(smallFraction: 0.10)),
        ("no hit promotion", .init(promotionThreshold: .max)),
        ("no ghost", .init(ghostFraction: 0)),
        ("size ignored", .init(sizeWeight: .ignored)),
        ("size √", .init(sizeWeight: .squareRoot)),
        ("size linear", .init(sizeWeight: .proportional)),
        ("sample 1", .init(victimSample: 1)),
        ("sample 4", .init(victimSample: 4)),
        ("sample 16", .init(victimSample: 16)),
        ("sample 64", .init(victimSample: 64)),
        ("sketch 8", .init(sketchWidth: 8)),
        ("sketch 128", .init(sketchWidth: 128)),
    ]

    func run() {
        let sizes = Self.objectSizes(count: objects, seed: seed)
        for alpha in alphas {
            let trace = Trace(alpha: alpha, objects: objects, requests: requests, sizes: sizes, seed: seed)
            emit([("kind", .text("trace")), ("alpha", .number(alpha)), ("requests", .int(requests)),
                  ("objects", .int(objects)), ("distinct", .int(trace.distinctObjects)),
                  ("workingSetBytes", .int(trace.workingSetBytes)), ("requestBytes", .int(trace.requestBytes)),
                  ("meanSize", .int(trace.workingSetBytes / max(1, trace.distinctObjects))),
                  ("medianSize", .int(trace.medianSize))])
            for fraction in cacheFractions {
                let capacity = Int(Double(trace.workingSetBytes) * fraction)
                report(staticOracle(trace, capacity: capacity), policy: "oracle", variant: "", alpha: alpha,
                       fraction: fraction, capacity: capacity)
                emit([("kind", .text("ceiling")), ("alpha", .number(alpha)), ("cacheFraction", .number(fraction)),
                      ("byteHit", .number(Self.byteHitCeiling(alpha: alpha, sizes: sizes, capacity: capacity,
                                                              requests: requests)))])
                var lru = LRUPolicy<Int32>(capacity: capacity)
                report(simulate(&lru, trace), policy: "LRU", variant: "", alpha: alpha, fraction: fraction,
                       capacity: capacity)
                for (name, configuration) in Self.variants where only.isEmpty || only.contains(name) {
                    var s3 = S3FIFO<Int32>(capacity: capacity, configuration: configuration)
                    report(simulate(&s3, trace), policy: "S3-FIFO", variant: name, alpha: alpha, fraction: fraction,
                           capacity: capacity)
                }
            }
        }
        if only.isEmpty { measureRebuild() }
    }

    // MARK: Trace

    /// Log-normal object sizes around a 40 KB median (σ = 1: the middle two thirds between 15 and 110 KB), clamped
    /// to 2 KB...2 MB: thumbnails to full-page photos. Independent of popularity.
    static func objectSizes(count: Int, seed: UInt64) -> [Int] {
        var g = SplitMix64(seed: seed ^ 0x5157_e5)
        return (0..<count).map { _ in
            let z = g.normal()
            return min(2_000_000, max(2_000, Int((40_000 * exp(z)).rounded())))
        }
    }

    struct Trace {
        let requests: [Int32]
        let sizes: [Int]
        let distinctObjects: Int
        let workingSetBytes: Int
        let requestBytes: Int
        let medianSize: Int

        /// `requests` draws of object ranks 0..<objects with P(rank k) ∝ 1/(k+1)^alpha.
        init(alpha: Double, objects: Int, requests count: Int, sizes: [Int], seed: UInt64) {
            var cdf = [Double](repeating: 0, count: objects)
            var total = 0.0
            for k in 0..<objects {
                total += 1 / pow(Double(k + 1), alpha)
                cdf[k] = total
            }
            var g = SplitMix64(seed: seed ^ alpha.bitPattern)
            var seen = [Bool](repeating: false, count: objects)
            var out = [Int32]()
            out.reserveCapacity(count)
            var requestBytes = 0
            for _ in 0..<count {
                let u = g.unit() * total
                var lo = 0, hi = objects - 1
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if cdf[mid] < u { lo = mid + 1 } else { hi = mid }
                }
                out.append(Int32(lo))
                seen[lo] = true
                requestBytes += sizes[lo]
            }
            let distinct = (0..<objects).filter { seen[$0] }
            self.requests = out
            self.sizes = sizes
            distinctObjects = distinct.count
            workingSetBytes = distinct.reduce(0) { $0 + sizes[$1] }
            self.requestBytes = requestBytes
            medianSize = distinct.map { sizes[$0] }.sorted()[distinct.count / 2]
        }
    }

    // MARK: Simulation

    struct Outcome {
        var hits = 0
        var hitBytes = 0
        var bypasses = 0
        var evictions = 0
        var maxUsed = 0
        var seconds = 0.0
    }

    /// Replays the trace as the store would: a hit is recorded, a miss is offered for admission.
    func simulate<P: EvictionPolicy>(_ policy: inout P, _ trace: Trace) -> Outcome where P.Key == Int32 {
        var o = Outcome()
        let start = ContinuousClock.now
        for key in trace.requests {
            let size = trace.sizes[Int(key)]
            if policy.recordHit(key) {
                o.hits += 1
                o.hitBytes += size
                continue
            }
            switch policy.admit(key, size: size) {
            case .store(let evicting): o.evictions += evicting.count
            case .bypass: o.bypasses += 1
            }
            o.maxUsed = max(o.maxUsed, policy.usedBytes)
        }
        let elapsed = ContinuousClock.now - start
        o.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        precondition(o.maxUsed <= policy.capacity, "policy exceeded its capacity")
        return o
    }

    /// A yardstick, not a policy: knowing the whole trace in advance, keep for good the objects with the most
    /// requests per byte that fit (each still misses once). Online policies rarely come near it on IRM traces.
    func staticOracle(_ trace: Trace, capacity: Int) -> Outcome {
        var counts = [Int](repeating: 0, count: trace.sizes.count)
        for key in trace.requests { counts[Int(key)] += 1 }
        let ranked = counts.indices.filter { counts[$0] > 1 }.sorted {
            Double(counts[$0]) / Double(trace.sizes[$0]) > Double(counts[$1]) / Double(trace.sizes[$1])
        }
        var o = Outcome()
        for object in ranked where o.maxUsed + trace.sizes[object] <= capacity {
            o.maxUsed += trace.sizes[object]
            o.hits += counts[object] - 1
            o.hitBytes += (counts[object] - 1) * trace.sizes[object]
        }
        return o
    }

    /// The highest expected byte hit ratio any online policy can have on this trace's model. Requests are drawn
    /// independently (P(object k) ∝ 1/(k+1)^alpha), so what a policy holds when request t comes is independent of
    /// which object it asks for, and it can hold object k only if k was asked for before (each object's first
    /// request misses): the expected bytes hit at t are Σ p_k·s_k·y_k with Σ s_k·y_k ≤ capacity and
    /// 0 ≤ y_k ≤ 1 − (1 − p_k)^(t−1) — at most a fractional knapsack whose value per byte is p_k, filled in rank
    /// order. Summed over the requests in blocks, each block at its last request's (larger) bounds: an upper bound.
    static func byteHitCeiling(alpha: Double, sizes: [Int], capacity: Int, requests: Int) -> Double {
        let p: [Double] = {
            let w = sizes.indices.map { 1 / pow(Double($0 + 1), alpha) }
            let total = w.reduce(0, +)
            return w.map { $0 / total }
        }()
        let meanBytes = sizes.indices.reduce(0.0) { $0 + p[$1] * Double(sizes[$1]) }
        let blocks = 1000
        var hitBytes = 0.0
        for block in 1...blocks {
            let t = Double(requests) * Double(block) / Double(blocks)
            var room = Double(capacity), held = 0.0
            for k in sizes.indices where room > 0 {
                let seen = -expm1((t - 1) * log1p(-p[k]))  // 1 − (1 − p_k)^(t−1)
                let part = min(seen, room / Double(sizes[k]))
                held += part * p[k] * Double(sizes[k])
                room -= part * Double(sizes[k])
            }
            hitBytes += held * Double(requests) / Double(blocks)
        }
        return hitBytes / (meanBytes * Double(requests))
    }

    func report(_ o: Outcome, policy: String, variant: String, alpha: Double, fraction: Double, capacity: Int) {
        emit([("kind", .text("ratio")), ("policy", .text(policy)), ("variant", .text(variant)),
              ("alpha", .number(alpha)), ("cacheFraction", .number(fraction)), ("capacity", .int(capacity)),
              ("hits", .int(o.hits)), ("hitBytes", .int(o.hitBytes)), ("bypasses", .int(o.bypasses)),
              ("evictions", .int(o.evictions)), ("maxUsed", .int(o.maxUsed)),
              ("nsPerRequest", .number(o.seconds * 1e9 / Double(requests)))])
    }

    // MARK: Restart

    /// Rebuilds S3-FIFO from `rebuildEntries` random 32-byte keys, as a restart without a snapshot would, then
    /// times a snapshot and one hit per entry; once with DigestKey, once with heap arrays like CacheKey.bytes.
    func measureRebuild() {
        var g = SplitMix64(seed: seed ^ 0x4ebd)
        let arrays: [[UInt8]] = (0..<rebuildEntries).map { _ in
            (0..<4).flatMap { _ in withUnsafeBytes(of: g.next()) { Array($0) } }
        }
        measureRebuild(keyType: "DigestKey", keys: arrays.map { DigestKey(bytes: $0)! }, g: &g)
        measureRebuild(keyType: "[UInt8]", keys: arrays, g: &g)
    }

    func measureRebuild<K: Hashable>(keyType: String, keys: [K], g: inout SplitMix64) {
        let entries = keys.map { S3FIFO<K>.Entry(key: $0, size: 40_000) }
        var policy = S3FIFO<K>(capacity: keys.count * 40_000)
        let rss0 = residentBytes()
        let t0 = ContinuousClock.now
        let evicted = policy.rebuild(residents: entries)
        let t1 = ContinuousClock.now
        let rss1 = residentBytes()
        let snapshot = policy.snapshot()
        let t2 = ContinuousClock.now
        var hits = 0
        for _ in 0..<keys.count where policy.recordHit(keys[Int(g.next() % UInt64(keys.count))]) {
            hits += 1
        }
        let t3 = ContinuousClock.now
        precondition(evicted.isEmpty && snapshot.residents.count == keys.count && hits == keys.count)
        func ms(_ d: Duration) -> Double {
            Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15
        }
        emit([("kind", .text("rebuild")), ("keyType", .text(keyType)), ("entries", .int(keys.count)),
              ("rebuildMs", .number(ms(t1 - t0))), ("snapshotMs", .number(ms(t2 - t1))),
              ("nsPerHit", .number(ms(t3 - t2) * 1e6 / Double(keys.count))),
              ("bytesPerEntry", .int(max(0, rss1 - rss0) / keys.count))])
    }

    /// This process's resident set size, from /proc/self/statm (Linux; 0 elsewhere).
    func residentBytes() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        guard fgets(&line, Int32(line.count), file) != nil else { return 0 }
        let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .split(separator: " ")
        guard fields.count >= 2, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

struct UsageError: Error, CustomStringConvertible {
    let description: String

    /// The positive integer after `flag`, taken from `rest`.
    static func positive(_ flag: String, _ rest: inout ArraySlice<String>) throws(UsageError) -> Int {
        guard let text = rest.popFirst(), let v = Int(text), v > 0 else {
            throw UsageError(description: "\(flag) needs a positive integer")
        }
        return v
    }
}


enum JSONValue {
    case text(String)
    case int(Int)
    case number(Double)
}

/// Prints one JSON object on a line. Keys and texts here contain no quotes, backslashes or control characters.
func emit(_ fields: [(String, JSONValue)]) {
    let body = fields.map { name, value in
        let v = switch value {
        case .text(let s): "\"\(s)\""
        case .int(let i): "\(i)"
        case .number(let d): "\(d)"
        }
        return "\"\(name)\": \(v)"
    }.joined(separator: ", ")
    print("{\(body)}")
}

extension SplitMix64 {
    /// Standard normal (Box–Muller).
    mutating func normal() -> Double { sqrt(-2 * log(unit())) * cos(2 * Double.pi * unit()) }
}
