import EdgeCore
import EdgeTestSupport
import Testing

@Suite struct TombstoneTests {
    func t(_ id: String, _ s: PurgeSelector, _ time: UInt64) -> Tombstone { Tombstone(id: id, selector: s, time: time) }

    /// Should cover an entry only when a matching tombstone is at or after the entry's fetch start.
    @Test func coversByKindAndTime() {
        var i = TombstoneIndex()
        i.insert(t("a", .image(source: "web", path: "/a.jpg"), 100))
        i.insert(t("b", .prefix(source: "web", prefix: "/photos/"), 200))
        i.insert(t("c", .tag("summer"), 300))
        i.insert(t("d", .source("old"), 400))
        i.insert(t("e", .sourceTag(source: "web", tag: "mine"), 500))
        #expect(i.count == 5)
        #expect(i.covers(source: "web", path: "/a.jpg", tags: [], fetchedAt: 100))
        #expect(i.covers(source: "web", path: "/a.jpg", tags: [], fetchedAt: 50))
        #expect(!i.covers(source: "web", path: "/a.jpg", tags: [], fetchedAt: 101))
        #expect(!i.covers(source: "other", path: "/a.jpg", tags: [], fetchedAt: 50))
        #expect(!i.covers(source: "web", path: "/a.jpg.png", tags: [], fetchedAt: 50))
        #expect(i.covers(source: "web", path: "/photos/x/y.jpg", tags: [], fetchedAt: 150))
        #expect(!i.covers(source: "web", path: "/photosx.jpg", tags: [], fetchedAt: 150))
        #expect(i.covers(source: "any", path: "/z", tags: ["winter", "summer"], fetchedAt: 299))
        #expect(!i.covers(source: "any", path: "/z", tags: ["winter"], fetchedAt: 299))
        #expect(i.covers(source: "old", path: "/anything", tags: [], fetchedAt: 400))
        #expect(i.covers(source: "web", path: "/q", tags: ["mine"], fetchedAt: 500))
        #expect(!i.covers(source: "other", path: "/q", tags: ["mine"], fetchedAt: 500))
        // Past every tombstone: no lookup needed, nothing covered.
        #expect(!i.covers(source: "old", path: "/anything", tags: ["summer"], fetchedAt: 501))
    }

    /// Should ignore a replayed id and only move a selector's time forward.
    @Test func idempotent() {
        var i = TombstoneIndex()
        let first = i.insert(t("a", .image(source: "w", path: "/p"), 100))
        let replay = i.insert(t("a", .image(source: "w", path: "/p"), 900))
        #expect(first && !replay)
        #expect(!i.covers(source: "w", path: "/p", tags: [], fetchedAt: 500))
        let older = i.insert(t("b", .image(source: "w", path: "/p"), 50))
        #expect(older)
        #expect(i.covers(source: "w", path: "/p", tags: [], fetchedAt: 100))
        #expect(!i.covers(source: "w", path: "/p", tags: [], fetchedAt: 101))
        #expect(i.count == 1)
        #expect(i.contains(id: "a") && i.contains(id: "b") && !i.contains(id: "c"))
    }

    /// Should expire the selectors last applied before a cutoff, of every kind, and keep later ones and the ids.
    @Test func expiry() {
        var i = TombstoneIndex()
        i.insert(t("a", .image(source: "w", path: "/a"), 100), applied: 10)
        i.insert(t("b", .prefix(source: "w", prefix: "/p/"), 100), applied: 10)
        i.insert(t("c", .tag("x"), 100), applied: 10)
        i.insert(t("d", .sourceTag(source: "w", tag: "y"), 100), applied: 10)
        i.insert(t("e", .source("s"), 100), applied: 10)
        i.insert(t("f", .image(source: "w", path: "/late"), 100), applied: 30)
        // Purged again after the cutoff: the selector stays.
        i.insert(t("g", .tag("x"), 90), applied: 25)
        let dropped = i.expire(appliedBefore: 20)
        #expect(dropped == 4)
        #expect(i.count == 2 && i.expired == 4)
        #expect(!i.covers(source: "w", path: "/a", tags: [], fetchedAt: 50))
        #expect(!i.covers(source: "w", path: "/p/q", tags: ["y"], fetchedAt: 50))
        #expect(!i.covers(source: "s", path: "/z", tags: [], fetchedAt: 50))
        #expect(i.covers(source: "w", path: "/late", tags: [], fetchedAt: 50))
        #expect(i.covers(source: "w", path: "/z", tags: ["x"], fetchedAt: 100))
        #expect(i.contains(id: "a"))
        let replay = i.insert(t("a", .image(source: "w", path: "/a"), 100), applied: 40)
        #expect(!replay)
        let rest = i.expire(appliedBefore: 100)
        #expect(rest == 2 && i.isEmpty)
    }

    /// Should keep the latest switch per source (disabled winning a tie) and ignore older ones.
    @Test func sourceSwitches() {
        var s = SourceSwitches()
        #expect(s.isEnabled("a"))
        #expect(s.merge([SourceSwitch(source: "a", enabled: false, time: 10)]).count == 1)
        #expect(s.merge([SourceSwitch(source: "a", enabled: true, time: 5)]).isEmpty)
        #expect(s.merge([SourceSwitch(source: "a", enabled: true, time: 10)]).isEmpty)
        #expect(!s.isEnabled("a") && s.disabled == ["a"])
        #expect(s.merge([SourceSwitch(source: "a", enabled: true, time: 11), SourceSwitch(source: "b", enabled: false, time: 1)]).count == 2)
        #expect(s.isEnabled("a") && !s.isEnabled("b"))
        #expect(s.merge([SourceSwitch(source: "a", enabled: false, time: 11)]).count == 1)
        #expect(s.all.map(\.source) == ["a", "b"])
    }

    /// Should agree with a brute-force scan of all tombstones on random entries.
    @Test func matchesBruteForce() {
        var rng = SeededGenerator(seed: 42)
        var i = TombstoneIndex()
        var all: [Tombstone] = []
        let sources = ["a", "b", "c"], paths = ["/x/1", "/x/2", "/y/1", "/y", "/z/9"], tags = ["t1", "t2", "t3"]
        for n in 0..<300 {
            let s: PurgeSelector = switch Int.random(in: 0..<5, using: &rng) {
            case 0: .image(source: sources.randomElement(using: &rng)!, path: paths.randomElement(using: &rng)!)
            case 1: .prefix(source: sources.randomElement(using: &rng)!, prefix: ["/x/", "/y", "/z/"].randomElement(using: &rng)!)
            case 2: .tag(tags.randomElement(using: &rng)!)
            case 3: .sourceTag(source: sources.randomElement(using: &rng)!, tag: tags.randomElement(using: &rng)!)
            default: .source(sources.randomElement(using: &rng)!)
            }
            let tomb = t("id\(n)", s, UInt64.random(in: 1...10_000, using: &rng))
            all.append(tomb)
            i.insert(tomb)
        }
        for _ in 0..<2000 {
            let src = sources.randomElement(using: &rng)!, path = paths.randomElement(using: &rng)!
            let entryTags = tags.filter { _ in Bool.random(using: &rng) }
            let at = UInt64.random(in: 1...11_000, using: &rng)
            let expected = all.contains { tomb in
                guard at <= tomb.time else { return false }
                switch tomb.selector {
                case .image(let s, let p): return s == src && p == path
                case .prefix(let s, let p): return s == src && path.hasPrefix(p)
                case .tag(let tag): return entryTags.contains(tag)
                case .sourceTag(let s, let tag): return s == src && entryTags.contains(tag)
                case .source(let s): return s == src
                case .grantRevoked: return false
                }
            }
            #expect(i.covers(source: src, path: path, tags: entryTags, fetchedAt: at) == expected)
        }
    }

    /// Should never go backwards, always advance, and jump past remote times.
    @Test func hybridClock() {
        var c = HybridClock()
        let a = c.tick(physical: 1000)
        let b = c.tick(physical: 1000)
        let d = c.tick(physical: 999)
        #expect(a == 1_000_000_000 && b == a + 1 && d == b + 1)
        c.receive(5_000_000_000)
        #expect(c.tick(physical: 1001) == 5_000_000_001)
        #expect(HybridClock.micros(HybridClock.seconds(1_800_000_000_123_457)) == 1_800_000_000_123_457)
    }
}
