import EdgeCore
import EdgeStore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The LMDB store under churn (tools/bench/churn): ten times its size inserted in values of varied sizes, once as a
/// scan of one-hit wonders (several writes in flight) and once as a Zipf trace (a read per request, a write per
/// miss), sampling the data file, the pages in use and the insert rate at every 1 % of the bytes inserted; the
/// trace's hit ratio through the store against S3-FIFO and FIFO simulated on the same trace; then the open time of
/// a store of a million small entries. Prints JSON lines on stdout for the script to tabulate.
struct ChurnBenchmark {
    var maxBytes = 256 << 20
    var factor = 10
    var openEntries = 1_000_000
    var objects = 50_000
    var alpha = 0.8
    var inFlight = 16
    /// Scans run this many times (their insert rates vary with what else the machine does).
    var scanRuns = 3
    var seed: UInt64 = 20231023
    var directory = "var/bench/churn"
    var parts: Set<String> = ["scan", "trace", "open"]

    init(arguments: [String]) throws(UsageError) {
        var rest = arguments[...]
        func value(_ flag: String) throws(UsageError) -> Int { try UsageError.positive(flag, &rest) }
        while let flag = rest.popFirst() {
            switch flag {
            case "--max-mb": maxBytes = try value(flag) << 20
            case "--factor": factor = try value(flag)
            case "--open-entries": openEntries = try value(flag)
            case "--objects": objects = try value(flag)
            case "--seed": seed = UInt64(try value(flag))
            case "--dir":
                guard let d = rest.popFirst() else { throw UsageError(description: "--dir needs a folder") }
                directory = d
            case "--only":
                guard let p = rest.popFirst() else { throw UsageError(description: "--only needs scan, trace or open") }
                parts = Set(p.split(separator: ",").map(String.init))
            case "--scan-runs": scanRuns = try value(flag)
            case "--quick":
                maxBytes = 32 << 20
                openEntries = 100_000
                objects = 5_000
            default: throw UsageError(description: "unknown option \(flag)")
            }
        }
    }

    func run() async throws {
        let noise = Noise(seed: seed)
        if parts.contains("scan") {
            for run in 0..<scanRuns { try await scan(noise, run: run) }
        }
        if parts.contains("trace") { try await trace(noise) }
        if parts.contains("open") { try await openTime() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Workloads

    /// Distinct keys only, `inFlight` writes at a time (as concurrent fills would): everything passes through
    /// the small queue once.
    func scan(_ noise: Noise, run: Int) async throws {
        let store = try freshStore("scan", maxBytes: maxBytes)
        let sampler = Sampler(workload: "scan", run: run, store: store, path: directory + "/scan", maxBytes: maxBytes,
                              factor: factor)
        var g = SplitMix64(seed: seed ^ 0x5ca9)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0, id = 0
            while !sampler.done {
                let size = imageSize(&g)
                let k = Self.key(id), v = noise.value(id, count: size)
                if running == inFlight {
                    try await group.next()
                    running -= 1
                }
                group.addTask { try await store.write(k, value: v) }
                running += 1
                id += 1
                sampler.inserted(size)
            }
            try await group.waitForAll()
        }
        sampler.finish()
        store.close()
    }

    /// Requests drawn from Zipf(α) over `objects` objects of fixed log-normal sizes: a read each, and a write
    /// after each miss, one at a time; the same requests replayed through S3-FIFO and FIFO alone (same
    /// footprints, same budget) for comparison.
    func trace(_ noise: Noise) async throws {
        let store = try freshStore("trace", maxBytes: maxBytes)
        var g = SplitMix64(seed: seed ^ 0x21bf)
        let sizes = (0..<objects).map { _ in imageSize(&g) }
        let keys = (0..<objects).map { Self.key($0) }
        let zipf = Zipf(alpha: alpha, objects: objects)
        let sampler = Sampler(workload: "trace", run: 0, store: store, path: directory + "/trace", maxBytes: maxBytes,
                              factor: factor)
        var requests: [Int32] = []
        var hits = 0, hitBytes = 0, requestBytes = 0
        while !sampler.done {
            let object = zipf.draw(&g)
            requests.append(Int32(object))
            requestBytes += sizes[object]
            if store.read(keys[object], { $0.count }) != nil {
                hits += 1
                hitBytes += sizes[object]
                continue
            }
            let value = noise.value(object, count: sizes[object])
            let started = ContinuousClock.now
            try await store.write(keys[object], value: value)
            sampler.inserted(sizes[object], seconds: seconds(ContinuousClock.now - started))
        }
        sampler.finish()
        let footprints = sizes.map { store.footprint(ofValueBytes: $0) }
        store.close()
        var s3 = S3FIFO<Int32>(capacity: maxBytes)
        var fifo = FIFOPolicy(capacity: maxBytes)
        var s3Hits = 0, s3HitBytes = 0, fifoHits = 0, fifoHitBytes = 0
        for r in requests {
            let f = footprints[Int(r)]
            if s3.recordHit(r) {
                s3Hits += 1
                s3HitBytes += sizes[Int(r)]
            } else {
                _ = s3.admit(r, size: f)
            }
            if fifo.contains(r) {
                fifoHits += 1
                fifoHitBytes += sizes[Int(r)]
            } else {
                fifo.admit(r, size: f)
            }
        }
        emit([("kind", .text("ratio")), ("requests", .int(requests.count)), ("objects", .int(objects)),
              ("alpha", .number(alpha)), ("requestBytes", .int(requestBytes)),
              ("workingSetBytes", .int(Set(requests).reduce(0) { $0 + sizes[Int($1)] })),
              ("storeHits", .int(hits)), ("storeHitBytes", .int(hitBytes)),
              ("s3Hits", .int(s3Hits)), ("s3HitBytes", .int(s3HitBytes)),
              ("fifoHits", .int(fifoHits)), ("fifoHitBytes", .int(fifoHitBytes))])
    }

    /// A million small entries written, the store closed and its file dropped from the page cache; then how
    /// long opening takes, the first hit, ten thousand random hits, and the background restore of the policy.
    func openTime() async throws {
        let path = directory + "/open"
        let count = openEntries
        let valueSize = 200
        let budget = count * 700 + (64 << 20)
        let writeStart = ContinuousClock.now
        do {
            let store = try freshStore("open", maxBytes: budget)
            try await withThrowingTaskGroup(of: Void.self) { group in
                var running = 0
                for id in 0..<count {
                    if running == 1024 {
                        try await group.next()
                        running -= 1
                    }
                    let v = [UInt8](repeating: UInt8(truncatingIfNeeded: id), count: valueSize)
                    group.addTask { try await store.write(Self.key(id), value: v) }
                    running += 1
                }
                try await group.waitForAll()
            }
            precondition(store.usage.entries == count, "open benchmark: entries were evicted")
            store.close()
        }
        let writeSeconds = seconds(ContinuousClock.now - writeStart)
        let fileBytes = fileSize(path + "/data.mdb")
        let dropped = dropFromPageCache(path + "/data.mdb")
        var g = SplitMix64(seed: seed ^ 0x0be7)
        let probes = (0..<10_000).map { _ in Self.key(Int(g.next() % UInt64(count))) }
        let t0 = ContinuousClock.now
        let store = try LMDBCacheStore(path: path, maxBytes: budget)
        let t1 = ContinuousClock.now
        let firstHit = store.read(Self.key(count / 2), { $0.count }) != nil
        let t2 = ContinuousClock.now
        var hits = 0
        for k in probes where store.read(k, { $0.count }) != nil {
            hits += 1
        }
        let t3 = ContinuousClock.now
        let unrestoredAfterHits = store.statistics.unrestoredEntries
        while store.statistics.unrestoredEntries > 0 { usleep(1000) }
        let t4 = ContinuousClock.now
        // The same hits again, the pages now in memory.
        for k in probes where store.read(k, { $0.count }) != nil {
            hits += 1
        }
        let t5 = ContinuousClock.now
        let stats = store.statistics
        precondition(firstHit && hits == 20_000, "open benchmark: hits missing")
        emit([("kind", .text("open")), ("entries", .int(count)), ("valueBytes", .int(valueSize)),
              ("writeSeconds", .number(writeSeconds)), ("fileBytes", .int(fileBytes)),
              ("pageCacheDropped", .int(dropped ? 1 : 0)), ("recordsReadAtOpen", .int(stats.recordsReadAtOpen)),
              ("openMs", .number(seconds(t1 - t0) * 1e3)), ("firstHitMs", .number(seconds(t2 - t1) * 1e3)),
              ("hits10kMs", .number(seconds(t3 - t2) * 1e3)), ("unrestoredAfterHits", .int(unrestoredAfterHits)),
              ("restoreMs", .number(seconds(t4 - t1) * 1e3)), ("restored", .int(stats.mainQueueEntries)),
              ("warmHits10kMs", .number(seconds(t5 - t4) * 1e3))])
        store.close()
        // A process restart: the file still in the page cache.
        let w0 = ContinuousClock.now
        let again = try LMDBCacheStore(path: path, maxBytes: budget)
        let w1 = ContinuousClock.now
        while again.statistics.unrestoredEntries > 0 { usleep(1000) }
        let w2 = ContinuousClock.now
        emit([("kind", .text("reopen")), ("openMs", .number(seconds(w1 - w0) * 1e3)),
              ("restoreMs", .number(seconds(w2 - w0) * 1e3))])
        again.close()
    }

    // MARK: Helpers

    static func key(_ id: Int) -> CacheKey {
        CacheKey(source: "bench", path: "/object/\(id)", spec: TransformSpec(), format: .sourceFormat)
    }

    func freshStore(_ name: String, maxBytes: Int) throws -> LMDBCacheStore {
        let path = directory + "/" + name
        try? FileManager.default.removeItem(atPath: path)
        return try LMDBCacheStore(path: path, maxBytes: maxBytes)
    }

    /// Log-normal around a 40 KB median (σ = 1), clamped to 2 KB–1 MB: thumbnails to large photos.
    func imageSize(_ g: inout SplitMix64) -> Int {
        min(1 << 20, max(2000, Int((40_000 * exp(g.normal())).rounded())))
    }
}

/// Samples the store at every 1 % of the bytes to insert: the data file, the pages in use, the footprints, and
/// the wall, write and CPU time so far.
final class Sampler {
    let workload: String
    let run: Int
    let store: LMDBCacheStore
    let path: String
    let maxBytes: Int
    let total: Int
    private(set) var done = false
    private var bytes = 0
    private var count = 0
    private var next = 0
    private var writeSeconds = 0.0
    private let start = ContinuousClock.now
    private let cpuStart = cpuSeconds()

    init(workload: String, run: Int, store: LMDBCacheStore, path: String, maxBytes: Int, factor: Int) {
        self.workload = workload
        self.run = run
        self.store = store
        self.path = path
        self.maxBytes = maxBytes
        total = factor * maxBytes
        sample(percent: 0)
        next = 1
    }

    /// Notes an insert of `size` bytes, and how long the write took when the workload does more than write.
    func inserted(_ size: Int, seconds: Double = 0) {
        bytes += size
        count += 1
        writeSeconds += seconds
        while !done && bytes >= next * total / 100 {
            sample(percent: next)
            next += 1
            done = next > 100
        }
    }

    func finish() {
        let s = store.statistics
        emit([("kind", .text("end")), ("workload", .text(workload)), ("run", .int(run)), ("maxBytes", .int(maxBytes)),
              ("fileLimit", .int(store.fileLimit)), ("writeTransactions", .int(s.writeTransactions)),
              ("smallQueue", .int(s.smallQueueEntries)), ("mainQueue", .int(s.mainQueueEntries)),
              ("ghosts", .int(s.ghostKeys))])
    }

    private func sample(percent: Int) {
        let s = store.statistics
        emit([("kind", .text("sample")), ("workload", .text(workload)), ("run", .int(run)), ("percent", .int(percent)),
              ("insertedBytes", .int(bytes)), ("inserts", .int(count)),
              ("seconds", .number(seconds(ContinuousClock.now - start))), ("writeSeconds", .number(writeSeconds)),
              ("cpuSeconds", .number(cpuSeconds() - cpuStart)),
              ("fileBytes", .int(fileSize(path + "/data.mdb"))), ("pagesInUseBytes", .int(s.mappedBytesInUse)),
              ("chargedBytes", .int(s.chargedBytes)), ("valueBytes", .int(s.valueBytes)), ("entries", .int(s.entries)),
              ("maxBytes", .int(maxBytes)), ("fileLimit", .int(store.fileLimit))])
    }
}

/// Plain FIFO in bytes, as the store evicted before S3-FIFO: hits change nothing, the oldest object goes first.
struct FIFOPolicy {
    let capacity: Int
    private var queue: [(key: Int32, size: Int)] = []
    private var head = 0
    private var resident: Set<Int32> = []
    private var used = 0

    init(capacity: Int) { self.capacity = capacity }

    func contains(_ key: Int32) -> Bool { resident.contains(key) }

    mutating func admit(_ key: Int32, size: Int) {
        guard size <= capacity / 2 else { return }
        while used + size > capacity {
            let victim = queue[head]
            head += 1
            resident.remove(victim.key)
            used -= victim.size
        }
        queue.append((key, size))
        resident.insert(key)
        used += size
        if head > 1 << 16 {
            queue.removeFirst(head)
            head = 0
        }
    }
}

/// Ranks 0..<objects with P(rank k) ∝ 1/(k+1)^alpha, by binary search of the cumulative distribution.
struct Zipf {
    let cdf: [Double]

    init(alpha: Double, objects: Int) {
        var total = 0.0
        cdf = (0..<objects).map { k in
            total += 1 / pow(Double(k + 1), alpha)
            return total
        }
    }

    func draw(_ g: inout SplitMix64) -> Int {
        let u = g.unit() * cdf[cdf.count - 1]
        var lo = 0, hi = cdf.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cdf[mid] < u { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// Values of any size up to 1 MiB cut from 4 MiB of seeded noise (so they do not compress or repeat), each
/// starting with its id.
struct Noise: Sendable {
    let bytes: [UInt8]

    init(seed: UInt64) {
        var g = SplitMix64(seed: seed ^ 0x7015e)
        var out = [UInt8]()
        out.reserveCapacity(4 << 20)
        for _ in 0..<(4 << 20) / 8 { withUnsafeBytes(of: g.next()) { out += $0 } }
        bytes = out
    }

    func value(_ id: Int, count: Int) -> [UInt8] {
        let start = (id &* 7919) % (bytes.count - count)
        var v = Array(bytes[start..<(start + count)])
        withUnsafeBytes(of: UInt64(id)) { idBytes in
            for i in 0..<min(8, count) { v[i] = idBytes[i] }
        }
        return v
    }
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// User and system CPU time of this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(0, &usage)  // RUSAGE_SELF (imported as an enum on Glibc)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

func fileSize(_ path: String) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
}

/// Asks the kernel to drop the file's cached pages (they are clean after a sync), so that opening reads from disk.
func dropFromPageCache(_ path: String) -> Bool {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    fdatasync(fd)
    return posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED)) == 0
}
