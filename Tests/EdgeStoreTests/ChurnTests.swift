import EdgeCore
import EdgeStore
import EdgeTestSupport
import Foundation
import Testing

/// Values of any size up to 1 MiB cut from 2 MiB of seeded noise, each starting with its own id: distinct, and
/// cheap to make in bulk (a debug build making 160 MB byte by byte would take minutes).
struct ValuePool {
    let noise: [UInt8]

    init(seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        var bytes = [UInt8]()
        bytes.reserveCapacity(2 << 20)
        for _ in 0..<(2 << 20) / 8 { withUnsafeBytes(of: g.next()) { bytes += $0 } }
        noise = bytes
    }

    func value(_ id: Int, count: Int) -> [UInt8] {
        let start = (id &* 7919) % (noise.count - count)
        var v = Array(noise[start..<(start + count)])
        withUnsafeBytes(of: UInt64(id)) { idBytes in
            for i in 0..<min(8, count) { v[i] = idBytes[i] }
        }
        return v
    }
}

extension SeededGenerator {
    /// Uniform in (0, 1).
    mutating func unit() -> Double { (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992 }

    /// Log-normal around a 40 KB median (σ = 1), clamped to 2 KB–1 MB: thumbnails to large photos.
    mutating func imageSize() -> Int {
        let z = (-2 * log(unit())).squareRoot() * cos(2 * Double.pi * unit())
        return min(1 << 20, max(2000, Int(40_000 * exp(z))))
    }
}

@Suite struct ChurnTests {
    /// Should keep the footprints within maxBytes and the data file within maxBytes plus the stated headroom
    /// while ten times the cache's size goes through it in values of varied sizes, with hits (so the main queue
    /// churns too, out of insertion order) and purges; and what it holds should read back intact and add up to
    /// its totals.
    @Test func boundHoldsUnderChurn() async throws {
        let dir = try TemporaryDirectory()
        let maxBytes = 16 << 20
        let store = try LMDBCacheStore(path: dir.path, maxBytes: maxBytes)
        defer { store.close() }
        let pool = ValuePool(seed: 11)
        var rng = SeededGenerator(seed: 42)
        let dataFile = dir.appending("data.mdb").path
        var sizes: [Int] = []
        var inserted = 0
        var removed = Set<Int>()
        var largestFile = 0
        while inserted < 10 * maxBytes {
            let id = sizes.count
            let size = rng.imageSize()
            sizes.append(size)
            try await store.write(key("c\(id)"), value: pool.value(id, count: size))
            inserted += size
            // Hits, skewed towards recent objects: some are hit twice while in the small queue and move to the main
            // queue, which then evicts out of insertion order.
            for _ in 0..<3 {
                let back = Int(Double(min(id, 400)) * pow(rng.unit(), 3))
                _ = store.read(key("c\(id - back)")) { $0.count }
            }
            if id % 25 == 24 {
                let victim = Int(rng.next() % UInt64(id))
                try await store.remove(key("c\(victim)"))
                removed.insert(victim)
            }
            if id % 10 == 0 {
                let stats = store.statistics
                let file = try FileManager.default.attributesOfItem(atPath: dataFile)[.size] as? Int ?? 0
                largestFile = max(largestFile, file)
                #expect(stats.chargedBytes <= maxBytes)
                #expect(stats.mappedBytesInUse <= store.fileLimit, "pages in use after \(inserted) bytes")
                #expect(file <= store.fileLimit, "data file after \(inserted) bytes")
            }
        }
        #expect(sizes.count > 1000)
        #expect(largestFile > maxBytes / 2)
        var entries = 0, bytes = 0
        for (id, size) in sizes.enumerated() {
            guard let v = store.bytes(key("c\(id)")) else { continue }
            #expect(!removed.contains(id))
            #expect(v == pool.value(id, count: size), "value \(id) damaged")
            entries += 1
            bytes += size
        }
        #expect(store.usage == CacheUsage(entries: entries, bytes: bytes))
        #expect(store.statistics.chargedBytes > maxBytes * 3 / 4)
    }
}
