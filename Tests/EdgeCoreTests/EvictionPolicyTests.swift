import EdgeCore
import EdgeSimulation
import EdgeTestSupport
import Testing

@Suite struct EvictionPolicyTests {
    /// A 100-byte S3-FIFO filled with ten 10-byte objects: "a" in the small queue (10 bytes, full), "b"…"j" in
    /// the main queue (90 bytes, full), nothing evicted yet.
    func filledCache(_ configuration: S3FIFO<String>.Configuration = .init()) -> S3FIFO<String> {
        var p = S3FIFO<String>(capacity: 100, configuration: configuration)
        for key in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] {
            let admitted = p.admit(key, size: 10)
            #expect(admitted == .store(evicting: []))
        }
        return p
    }

    /// Should put the first object in the small queue and, until the first eviction, the rest in the main queue
    /// once the small queue is full (libCacheSim's cold-start rule).
    @Test func coldStartFillsSmallThenMain() {
        let p = filledCache()
        #expect(p.queue(of: "a") == .small)
        #expect(["b", "c", "d", "e", "f", "g", "h", "i", "j"].allSatisfy { p.queue(of: $0) == .main })
        #expect(p.usedBytes == 100)
        #expect(p.count == 10)
        #expect(p.ghostCount == 0)
    }

    /// Should evict an unhit object from the small queue into the ghost queue, and admit a ghost key straight
    /// into the main queue.
    @Test func ghostHitEntersMain() {
        var p = filledCache()
        let admittedK = p.admit("k", size: 10)
        #expect(admittedK == .store(evicting: ["a"]))
        #expect(p.isGhost("a"))
        #expect(!p.contains("a"))
        #expect(p.queue(of: "k") == .small)

        let admittedA = p.admit("a", size: 10)
        #expect(admittedA == .store(evicting: ["k"]))
        #expect(p.queue(of: "a") == .main)
        #expect(!p.isGhost("a"))
        #expect(p.isGhost("k"))

        // The main queue is now over its 90 bytes: the next victim is its oldest unhit object.
        let admittedL = p.admit("l", size: 10)
        #expect(admittedL == .store(evicting: ["b"]))
        #expect(p.queue(of: "l") == .small)
        #expect(!p.isGhost("b"))
        #expect(p.usedBytes == 100)
    }

    /// Should move an object from the small to the main queue when it was hit at least twice there, whatever it is
    /// worth (S3-FIFO's rule): here a 90-byte object that, asked for twice, is worth less than the main queue's
    /// 10-byte objects asked for once (2 / ∛90 < 1 / ∛10).
    @Test(arguments: [(0, false), (1, false), (2, true), (3, true), (5, true)])
    func promotionNeedsTwoHits(hits: Int, promoted: Bool) {
        var p = S3FIFO<String>(capacity: 1000)
        _ = p.admit("a", size: 90)
        for i in 0..<91 { _ = p.admit("b\(i)", size: 10) }
        #expect(p.queue(of: "a") == .small && p.usedBytes == 1000)
        for _ in 0..<hits {
            let hitA = p.recordHit("a")
            #expect(hitA)
        }
        let admission = p.admit("k", size: 10)
        if promoted {
            // "a" joins the main queue, which then gives up its oldest object.
            #expect(admission == .store(evicting: ["b0"]))
            #expect(p.queue(of: "a") == .main)
        } else {
            #expect(admission == .store(evicting: ["a"]))
            #expect(p.isGhost("a"))
        }
    }

    /// Should move an object hit once in the small queue to the main queue when it is worth more than the main
    /// queue's victim (TinyLFU's rule): asked for twice against once, at the same size.
    @Test func worthierObjectsEnterMainWithoutTwoHits() {
        var p = filledCache()
        let hitA = p.recordHit("a")
        #expect(hitA)
        #expect(p.estimatedFrequency(of: "a") == 2 && p.estimatedFrequency(of: "b") == 1)
        let admittedK = p.admit("k", size: 10)
        #expect(admittedK == .store(evicting: ["b"]))
        #expect(p.queue(of: "a") == .main && p.queue(of: "k") == .small)
    }

    /// Should put a returning ghost key on probation in the small queue when it is worth less than the main
    /// queue's victim, instead of straight into the main queue.
    @Test func ghostsWorthLessStayOnProbation() {
        var p = filledCache()
        for key in ["b", "c", "d", "e", "f", "g", "h", "i", "j"] {
            for _ in 0..<3 { _ = p.recordHit(key) }
        }
        let admittedK = p.admit("k", size: 10)
        #expect(admittedK == .store(evicting: ["a"]))
        #expect(p.isGhost("a"))
        let admittedA = p.admit("a", size: 10)
        #expect(admittedA == .store(evicting: ["k"]))
        #expect(p.queue(of: "a") == .small)
        #expect(["b", "c", "d", "e", "f", "g", "h", "i", "j"].allSatisfy { p.queue(of: $0) == .main })
    }

    /// Should weigh estimated frequency against size as configured when choosing the main queue's victim: a
    /// 64-byte object asked for `frequency` times against a 4-byte one asked for once.
    @Test(arguments: [
        (S3FIFO<String>.SizeWeight.ignored, 2, "small"), (.cubeRoot, 2, "big"), (.cubeRoot, 3, "small"),
        (.squareRoot, 3, "big"), (.proportional, 15, "big"), (.proportional, 17, "small"),
    ])
    func victimsWeighFrequencyAgainstSize(weight: S3FIFO<String>.SizeWeight, frequency: Int, victim: String) {
        var p = S3FIFO<String>(capacity: 100, configuration: .init(maxObjectFraction: 0.7, sizeWeight: weight,
                                                                   sketchWidth: 4096))
        // Rebuilt objects count once in the sketch; the hits an entry records count when it is weighed.
        let evicted = p.rebuild(residents: [
            .init(key: "big", size: 64, frequency: UInt8(frequency - 1)), .init(key: "small", size: 4),
        ])
        #expect(evicted.isEmpty)
        let admitted = p.admit("new", size: 34)
        #expect(admitted == .store(evicting: [victim]))
    }

    /// Should give an object hit in the main queue another round without weighing it (CLOCK's second chance), and
    /// evict the least worthy of the others.
    @Test func mainQueueReinsertsHitObjects() {
        var p = S3FIFO<String>(capacity: 300, configuration: .init(maxObjectFraction: 0.5))
        let evicted = p.rebuild(residents: [
            .init(key: "A", size: 100, frequency: 1), .init(key: "B", size: 100), .init(key: "C", size: 100),
        ])
        #expect(evicted.isEmpty)
        let admittedD = p.admit("D", size: 100)
        #expect(admittedD == .store(evicting: ["B"]))
        #expect(p.snapshot() == .init(residents: [
            .init(key: "D", size: 100, queue: .small), .init(key: "C", size: 100), .init(key: "A", size: 100),
        ], ghosts: []))
    }

    /// Should weigh newcomers against the victim the main queue chose until that victim is hit: the hit passes to
    /// the sketch and buys it a round, and the next newcomer faces another victim.
    @Test func victimStaysChosenUntilHit() {
        // A wide sketch: with the default width, a hash collision (keys hash differently in every process) can
        // lift an estimate and change the victim.
        var p = filledCache(.init(sketchWidth: 4096))
        let admittedK = p.admit("k", size: 10)
        let admittedL = p.admit("l", size: 10)
        #expect(admittedK == .store(evicting: ["a"]) && admittedL == .store(evicting: ["k"]))
        let hitB = p.recordHit("b")
        #expect(hitB)
        let admittedM = p.admit("m", size: 10)
        #expect(admittedM == .store(evicting: ["l"]))
        let main = p.snapshot().residents.filter { $0.queue == .main }
        #expect(main.map(\.key) == ["c", "d", "e", "f", "g", "h", "i", "j", "b"])
        #expect(main.allSatisfy { $0.frequency == 0 } && p.estimatedFrequency(of: "b") == 2)
        let admittedN = p.admit("n", size: 10)
        #expect(admittedN == .store(evicting: ["m"]))
    }

    /// Should count hits in the object's slot, up to 255, until the object is weighed.
    @Test func hitsCountInTheSlotUntilWeighed() {
        var p = S3FIFO<String>(capacity: 100)
        _ = p.admit("a", size: 10)
        for _ in 0..<1000 {
            let hitA = p.recordHit("a")
            #expect(hitA)
        }
        #expect(p.snapshot().residents == [.init(key: "a", size: 10, queue: .small, frequency: 255)])
        #expect(p.estimatedFrequency(of: "a") == 1 + 255)
    }

    /// Should ignore hits on keys it does not hold, ghosts included.
    @Test func hitsOnUnknownOrGhostKeysChangeNothing() {
        var p = filledCache()
        _ = p.admit("k", size: 10)
        let before = p.snapshot()
        let hitZzz = p.recordHit("zzz")
        #expect(!hitZzz)
        let hitA = p.recordHit("a")
        #expect(!hitA)
        #expect(p.snapshot() == before)
    }

    /// Should keep a hot set resident through a scan of ten times the cache in one-hit wonders, where LRU loses it.
    @Test func oneHitWondersDoNotFlushTheHotSet() {
        var s3 = S3FIFO<String>(capacity: 1000)
        var lru = LRUPolicy<String>(capacity: 1000)
        let hot = (0..<50).map { "hot\($0)" }
        for key in hot { admitAndHit(key, size: 10, hits: 2, &s3, &lru) }
        // Keys hash differently in every process, so which one-hit wonders collide with hot keys in the sketch
        // varies from run to run: a rare one may outweigh a hot object once. The whole hot set is what LRU loses.
        var hotEvicted = 0
        for i in 0..<1000 {
            guard case .store(let evicted) = s3.admit("cold\(i)", size: 10) else {
                Issue.record("cold object bypassed")
                return
            }
            hotEvicted += evicted.filter { $0.hasPrefix("hot") }.count
            _ = lru.admit("cold\(i)", size: 10)
            #expect(s3.usedBytes <= 1000)
            #expect(s3.ghostCount <= s3.count)
        }
        #expect(hotEvicted <= 2)
        #expect(hot.filter { s3.queue(of: $0) == .main }.count >= 48)
        #expect(hot.allSatisfy { !lru.contains($0) })
    }

    /// Should keep, with the default configuration, a popular set asked for now and then (each object every three
    /// cache sizes of traffic) through a scan of twenty times the cache's objects in one-hit wonders, where LRU
    /// misses it every time: the one-hit wonders' estimates, inflated where they collide in the sketch, stay below
    /// the popular objects'.
    @Test func popularSetSurvivesALongScan() {
        var s3 = S3FIFO<String>(capacity: 1_000_000)
        var lru = LRUPolicy<String>(capacity: 1_000_000)
        let popular = (0..<100).map { "popular\($0)" }
        for key in popular { admitAndHit(key, size: 1000, hits: 3, &s3, &lru) }
        var s3Misses = 0, lruMisses = 0
        for i in 0..<20_000 {
            _ = s3.admit("scan\(i)", size: 1000)
            _ = lru.admit("scan\(i)", size: 1000)
            guard i % 30 == 29 else { continue }
            let key = popular[(i / 30) % popular.count]
            if !s3.recordHit(key) {
                s3Misses += 1
                _ = s3.admit(key, size: 1000)
            }
            if !lru.recordHit(key) {
                lruMisses += 1
                _ = lru.admit(key, size: 1000)
            }
        }
        // As above: a rare collision in the sketch (keys hash differently in every process) may cost a miss or two.
        #expect(s3Misses <= 3)
        #expect(popular.filter { s3.queue(of: $0) == .main }.count >= 97)
        #expect(lruMisses > 600)
        #expect(s3.usedBytes <= 1_000_000 && s3.ghostCount <= s3.count)
    }

    /// Should bypass objects over a tenth of the budget and leave the store's current version in place.
    @Test func largeObjectsBypass() {
        var p = S3FIFO<String>(capacity: 1000)
        #expect(p.maxObjectBytes == 100)
        let admittedX = p.admit("x", size: 101)
        #expect(admittedX == .bypass)
        #expect(!p.contains("x") && p.usedBytes == 0)
        let admittedY = p.admit("y", size: 100)
        #expect(admittedY == .store(evicting: []))
        let admittedY2 = p.admit("y", size: 500)
        #expect(admittedY2 == .bypass)
        #expect(p.contains("y") && p.usedBytes == 100)

        var lru = LRUPolicy<String>(capacity: 1000)
        let lruAdmittedZ = lru.admit("z", size: 1001)
        #expect(lruAdmittedZ == .bypass)
        let lruAdmittedZ2 = lru.admit("z", size: 1000)
        #expect(lruAdmittedZ2 == .store(evicting: []))
    }

    /// Should forget a removed key entirely: its bytes are freed, and a removed ghost key re-enters on probation.
    @Test func removeForgetsTheKey() {
        var p = filledCache()
        let freedC = p.remove("c")
        #expect(freedC == 10)
        #expect(p.usedBytes == 90 && p.count == 9 && !p.contains("c"))
        let freedC2 = p.remove("c")
        #expect(freedC2 == nil)
        let admittedK = p.admit("k", size: 10)
        #expect(admittedK == .store(evicting: []))
        let admittedM = p.admit("m", size: 10)
        #expect(admittedM == .store(evicting: ["a"]))
        #expect(p.isGhost("a"))
        let freedA = p.remove("a")
        #expect(freedA == nil)
        #expect(!p.isGhost("a"))
        _ = p.admit("a", size: 10)
        #expect(p.queue(of: "a") == .small)
        #expect(p.usedBytes == 100)

        var lru = LRUPolicy<String>(capacity: 100)
        _ = lru.admit("a", size: 30)
        let lruFreedA = lru.remove("a")
        #expect(lruFreedA == 30)
        let lruFreedA2 = lru.remove("a")
        #expect(lru.usedBytes == 0 && lruFreedA2 == nil)
    }

    /// Should replace a resident object in place of the old one: same queue and frequency, new size, never
    /// evicting the key it admits.
    @Test func replacingAResidentObject() {
        var p = filledCache(.init(maxObjectFraction: 0.2))
        let hitJ = p.recordHit("j")
        #expect(hitJ)
        let admittedJ = p.admit("j", size: 20)
        #expect(admittedJ == .store(evicting: ["a"]))
        #expect(p.queue(of: "j") == .main)
        #expect(p.snapshot().residents.last == .init(key: "j", size: 20, queue: .main, frequency: 1))
        #expect(p.usedBytes == 100)
    }

    /// Should rebuild from bare (key, size) pairs: all in the main queue, oversized and excess objects returned
    /// for deletion oldest first, a repeated key counted once.
    @Test func rebuildFromKeysAndSizes() {
        var p = S3FIFO<String>(capacity: 100)
        var entries = (0..<12).map { S3FIFO<String>.Entry(key: "k\($0)", size: 10) }
        entries.insert(.init(key: "big", size: 50), at: 3)
        entries.append(.init(key: "k5", size: 10))
        let evicted = p.rebuild(residents: entries)
        #expect(evicted == ["big", "k0", "k1"])
        #expect(p.usedBytes == 100 && p.count == 10)
        #expect((2..<12).allSatisfy { p.queue(of: "k\($0)") == .main })
        // A restored cache is past its cold start: new objects go on probation.
        let admittedNew = p.admit("new", size: 10)
        #expect(admittedNew == .store(evicting: ["k2"]))
        #expect(p.queue(of: "new") == .small)
    }

    /// Should restore a snapshot's queues exactly. The frequency sketch is not in a snapshot (it refills), so the
    /// restored policy need not answer as the original did; two restored from one snapshot answer alike.
    @Test(arguments: [UInt64(11), 12, 13])
    func snapshotRoundTrip(seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        var original = S3FIFO<Int>(capacity: 2000)
        for _ in 0..<3000 { _ = randomStep(&original, &g) }
        let snapshot = original.snapshot()
        var restored = S3FIFO<Int>(capacity: 2000)
        let evicted = restored.rebuild(residents: snapshot.residents, ghosts: snapshot.ghosts)
        #expect(evicted.isEmpty)
        #expect(restored.snapshot() == snapshot)
        #expect(restored.usedBytes == original.usedBytes && restored.ghostCount == original.ghostCount)
        var twin = S3FIFO<Int>(capacity: 2000)
        _ = twin.rebuild(residents: snapshot.residents, ghosts: snapshot.ghosts)
        var g2 = g
        for _ in 0..<3000 {
            #expect(randomStep(&restored, &g) == randomStep(&twin, &g2))
        }
    }

    /// Should never exceed the budget, and account exactly the admitted minus the evicted and removed bytes, over
    /// long random sequences of admissions, hits and removals.
    @Test(arguments: [UInt64(1), 2, 3, 4])
    func randomSequencesKeepTheBudget(seed: UInt64) {
        var s3 = S3FIFO<Int>(capacity: 2000)
        checkAgainstModel(&s3, maxObjectBytes: s3.maxObjectBytes, seed: seed) { p, key in
            #expect(!(p.isGhost(key) && p.contains(key)))
        }
        var tuned = S3FIFO<Int>(capacity: 2000, configuration: .init(smallFraction: 0.2, ghostFraction: 3,
                                                                     promotionThreshold: 1, maxObjectFraction: 0.3))
        checkAgainstModel(&tuned, maxObjectBytes: tuned.maxObjectBytes, seed: seed) { _, _ in }
        var fifoMain = S3FIFO<Int>(capacity: 2000, configuration: .init(ghostFraction: 0, sizeWeight: .proportional,
                                                                        victimSample: 1, sketchWidth: 1))
        checkAgainstModel(&fifoMain, maxObjectBytes: fifoMain.maxObjectBytes, seed: seed) { _, _ in }
        var lru = LRUPolicy<Int>(capacity: 2000)
        checkAgainstModel(&lru, maxObjectBytes: 2000, seed: seed) { _, _ in }
    }

    /// Should evict the least recently used object, a hit making an object the most recent.
    @Test func lruEvictsLeastRecentlyUsed() {
        var p = LRUPolicy<String>(capacity: 30)
        for key in ["a", "b", "c"] {
            let admitted = p.admit(key, size: 10)
            #expect(admitted == .store(evicting: []))
        }
        let hitA = p.recordHit("a")
        #expect(hitA)
        let admittedD = p.admit("d", size: 20)
        #expect(admittedD == .store(evicting: ["b", "c"]))
        #expect(p.keysByRecency == ["a", "d"])
    }
}

/// Admits `key` into both policies, then hits it `hits` times in each.
private func admitAndHit(_ key: String, size: Int, hits: Int, _ s3: inout S3FIFO<String>,
                         _ lru: inout LRUPolicy<String>) {
    let s3Admitted = s3.admit(key, size: size), lruAdmitted = lru.admit(key, size: size)
    #expect(s3Admitted == .store(evicting: []) && lruAdmitted == .store(evicting: []))
    for _ in 0..<hits {
        let s3Hit = s3.recordHit(key), lruHit = lru.recordHit(key)
        #expect(s3Hit && lruHit)
    }
}

/// One random request: admission (60 %), hit (30 %) or removal (10 %) of one of 300 keys, sizes 1…200 bytes.
/// Returns what the policy answered, to compare two policies.
private func randomStep(_ p: inout S3FIFO<Int>, _ g: inout SeededGenerator) -> String {
    let key = Int.random(in: 0..<300, using: &g)
    switch Int.random(in: 0..<10, using: &g) {
    case 0..<6: return "\(p.admit(key, size: Int.random(in: 1...200, using: &g)))"
    case 6..<9: return "\(p.recordHit(key))"
    default: return String(describing: p.remove(key))
    }
}

/// Replays 10,000 random requests against `policy` and a plain dictionary of what the store would hold after
/// carrying out each action, checking after every step that the two agree on bytes and count, that the budget
/// holds, and that evictions name only resident keys, never the admitted one.
private func checkAgainstModel<P: EvictionPolicy>(_ policy: inout P, maxObjectBytes: Int, seed: UInt64,
                                                  extra: (P, Int) -> Void) where P.Key == Int {
    var g = SeededGenerator(seed: seed)
    var stored: [Int: Int] = [:]
    var storedBytes = 0
    for step in 0..<10_000 {
        let key = Int.random(in: 0..<400, using: &g)
        switch Int.random(in: 0..<10, using: &g) {
        case 0..<6:
            // Mostly small objects, some near or over the admission limit.
            let size = Bool.random(using: &g) ? Int.random(in: 0...80, using: &g) : Int.random(in: 0...700, using: &g)
            switch policy.admit(key, size: size) {
            case .bypass:
                #expect(size > maxObjectBytes)
            case .store(let evicting):
                #expect(size <= maxObjectBytes)
                #expect(Set(evicting).count == evicting.count)
                for victim in evicting {
                    #expect(victim != key)
                    guard let bytes = stored.removeValue(forKey: victim) else {
                        Issue.record("evicted \(victim), which the store does not hold")
                        return
                    }
                    storedBytes -= bytes
                }
                storedBytes += size - (stored.updateValue(size, forKey: key) ?? 0)
            }
        case 6..<9:
            let hit = policy.recordHit(key)
            #expect(hit == (stored[key] != nil))
        default:
            let freed = policy.remove(key)
            #expect(freed == stored.removeValue(forKey: key))
            storedBytes -= freed ?? 0
        }
        #expect(policy.usedBytes == storedBytes)
        #expect(policy.usedBytes <= policy.capacity)
        #expect(policy.count == stored.count)
        extra(policy, key)
        if step % 1000 == 999 {
            #expect((0..<400).allSatisfy { policy.contains($0) == (stored[$0] != nil) })
        }
    }
}

@Suite struct DigestKeyTests {
    /// Should hold a cache key's 32 bytes exactly and refuse any other length.
    @Test func roundTripsTheDigest() throws {
        let cacheKey = try key("w=400")
        let digest = DigestKey(cacheKey)
        #expect(digest.bytes == cacheKey.bytes)
        #expect(DigestKey(bytes: cacheKey.bytes) == digest)
        #expect(DigestKey(bytes: cacheKey.bytes.dropLast()) == nil)
        #expect(DigestKey(bytes: cacheKey.bytes + [0]) == nil)
    }

    /// Should tell apart digests that differ only past the hashed first word.
    @Test func comparesAllFourWords() throws {
        let bytes = try key("w=400").bytes
        for position in [0, 8, 17, 31] {
            var other = bytes
            other[position] ^= 1
            #expect(DigestKey(bytes: other)! != DigestKey(bytes: bytes)!)
        }
        var p = S3FIFO<DigestKey>(capacity: 100)
        var twin = bytes
        twin[31] ^= 0x80
        _ = p.admit(DigestKey(bytes: bytes)!, size: 10)
        #expect(!p.contains(DigestKey(bytes: twin)!))
    }
}
