/// S3-FIFO's queues (Yang et al., "FIFO queues are all you need for cache eviction", SOSP '23) with a TinyLFU
/// frequency filter (Einziger et al., 2017) deciding what enters the main queue, and a main queue that evicts by
/// estimated frequency per byte. Sized in bytes: a small probationary FIFO `S` (1 % of the budget) that new objects
/// enter, a main queue `M` (the rest), a ghost FIFO `G` of keys recently evicted from `S`, and a frequency sketch
/// (`FrequencySketch`: 8-bit count-min, halved periodically) that estimates how often any key, resident or not,
/// was asked for lately. The name stays: the store and its snapshots know the policy by it.
///
/// - Every miss counts in the sketch at once. A hit counts in its slot's one-byte counter only (`Entry.frequency`)
///   and reaches the sketch when the object is next weighed, so a hit costs what it cost under S3-FIFO.
/// - An object leaving `S` moves to `M` if it was hit `promotionThreshold` times in `S` (S3-FIFO's rule), or if it is
///   worth more than the object `M` would evict for it (TinyLFU's rule); otherwise its key goes to `G`. A miss on a
///   ghost key is weighed at once: into `M` if it wins, into `S` if not. A one-hit wonder is worth less than the
///   objects that were asked for again, so it passes through `S` and leaves: a scan cannot flush the popular set.
/// - Worth is the estimated frequency divided by a power of the size (`sizeWeight`, by default the cube root): hits
///   per byte favour small objects, which raises the object hit ratio, but dividing by the whole size would drop
///   large popular objects and the byte hit ratio with them (docs/BENCHMARKS.md measures the choices).
/// - `M`'s victim is the least worthy of its `victimSample` oldest objects; of the others, those asked for again
///   (estimated twice or more) go round again to its head, and so do, unweighed, objects hit since they were last
///   weighed (CLOCK's second chance, as in S3-FIFO's `M`). The rest stay where they are, to be weighed again: `M`
///   then empties roughly in the order it filled, so a store frees its pages in runs (moving every survivor to
///   the head scattered the freed pages, and LMDB's inserts under churn ran 2–3× slower: docs/BENCHMARKS.md).
///   The victim stays next in line until it is evicted or hit, so the candidates that lose to it cost no new
///   choice. There is no other aging in `M`: the sketch ages, and an object no longer asked for loses worth with it.
/// - Before the first eviction, once `S` is full, new objects go straight to `M` (libCacheSim's cold start). The
///   ghost queue is bounded by a count of keys (as many as `M` holds objects), so its memory is bounded whatever the
///   sizes.
///
/// A value type with no locking: the store keeps one behind its own lock, keyed by `DigestKey`, and carries out
/// each `Admission` in the write transaction that stores the object.
///
/// Costs: a hit changes one byte in memory and allocates nothing. Admission and removal are O(1) amortised: choosing
/// a victim weighs up to `victimSample` objects (a sketch lookup each; the second chances it gives are paid for by
/// hits), a candidate weighed against the chosen victim costs one lookup, and aging halves the sketch once per ten
/// counts per counter. Memory per tracked key (resident or ghost): one slot (the key, its size, two list links, 32
/// bits of its hash, two bytes) plus one dictionary entry; per resident object, `sketchWidth` to twice as many
/// sketch bytes (the sketch is a power of two of them, grown as objects arrive, never shrunk). Nothing here
/// persists: `snapshot` gives the queues and each object's uncounted hits, not the sketch, which is an estimate and
/// refills; a store restores a snapshot with `rebuild`, or incrementally (while serving) with `restoreOldest` and
/// `restoreOldestGhost`, which count each object once in it.
public struct S3FIFO<Key: Hashable>: EvictionPolicy {
    /// The tuning knobs, with the defaults measured in docs/BENCHMARKS.md.
    public struct Configuration: Sendable, Equatable {
        /// Share of the byte budget for the small queue `S` (the paper's 10 %; 1 % here, as W-TinyLFU's window:
        /// the filter, not the queue, now keeps one-hit wonders out of `M`).
        public var smallFraction: Double
        /// Ghost keys remembered, as a multiple of the number of objects in `M` (the paper: as many as `M` holds).
        /// 0 disables the ghost queue.
        public var ghostFraction: Double
        /// Hits while in `S` that earn a move to `M` without weighing (libCacheSim's default: 2).
        public var promotionThreshold: UInt8
        /// Largest object admitted, as a share of the budget: a larger one would evict many objects at once to be
        /// stored itself.
        public var maxObjectFraction: Double
        /// How an object's size discounts its estimated frequency when two objects are weighed.
        public var sizeWeight: SizeWeight
        /// Objects at the old end of `M` weighed to choose each victim there (at least 1; 1 is plain FIFO).
        public var victimSample: Int
        /// Sketch counters (bytes) per resident object; rounded up so the total is a power of two.
        public var sketchWidth: Int

        public init(smallFraction: Double = 0.01, ghostFraction: Double = 1.0, promotionThreshold: UInt8 = 2,
                    maxObjectFraction: Double = 0.10, sizeWeight: SizeWeight = .cubeRoot, victimSample: Int = 32,
                    sketchWidth: Int = 32) {
            self.smallFraction = smallFraction
            self.ghostFraction = ghostFraction
            self.promotionThreshold = promotionThreshold
            self.maxObjectFraction = maxObjectFraction
            self.sizeWeight = sizeWeight
            self.victimSample = victimSample
            self.sketchWidth = sketchWidth
        }
    }

    /// How much an object's size discounts its estimated frequency: worth = frequency / size^w.
    public enum SizeWeight: Sendable, Hashable {
        /// w = 0: frequency alone (best for the byte hit ratio).
        case ignored
        /// w = 1/3: the default, a compromise between the two ratios.
        case cubeRoot
        /// w = 1/2.
        case squareRoot
        /// w = 1: hits per byte (best for the object hit ratio).
        case proportional
    }

    /// The queue a resident object is in.
    public enum Queue: UInt8, Sendable, Hashable {
        /// Probation: admitted, not yet proven.
        case small = 0
        /// Proven: hit enough in `S`, or worth more than the object it displaced.
        case main = 1
    }

    /// One resident object as `snapshot` lists it and `rebuild` takes it.
    public struct Entry {
        public var key: Key
        public var size: Int
        public var queue: Queue
        /// Hits not yet counted in the frequency sketch, 0...255: since it entered its queue or was last weighed
        /// (in `S`, what promotion counts).
        public var frequency: UInt8

        /// An entry as a restart without a snapshot knows it: in `M`, never hit.
        public init(key: Key, size: Int, queue: Queue = .main, frequency: UInt8 = 0) {
            self.key = key
            self.size = size
            self.queue = queue
            self.frequency = frequency
        }
    }

    /// The queues, in the order `rebuild` restores them exactly (not the frequency sketch: an estimate, it refills).
    public struct Snapshot {
        /// Resident objects; within each queue oldest (next to evict) first.
        public var residents: [Entry]
        /// Ghost keys, oldest first.
        public var ghosts: [Key]

        public init(residents: [Entry], ghosts: [Key]) {
            self.residents = residents
            self.ghosts = ghosts
        }
    }

    @usableFromInline static var ghostList: UInt8 { 2 }
    @usableFromInline static var maxFrequency: UInt8 { .max }

    public let capacity: Int
    public let configuration: Configuration
    /// Byte budget of `S`; `M` gets the rest.
    public let smallCapacity: Int
    /// Largest object admitted, in bytes.
    public let maxObjectBytes: Int
    @usableFromInline var table = SlotTable<Key>(lists: 3)
    @usableFromInline var sketch = FrequencySketch()
    // True once anything was evicted; before that, objects arriving with `S` full go straight to `M`.
    @usableFromInline var hasEvicted = false
    // The slot `sampleMainVictim` last chose (-1: none); still the victim while it is `M`'s oldest and unhit.
    @usableFromInline var nextVictim: Int32 = -1
    // The slots `sampleMainVictim` weighed last, with their estimates (kept to reuse its storage).
    @usableFromInline var sampledSlots: [(slot: Int32, frequency: UInt8)] = []

    /// A policy for a budget of `capacity` bytes.
    public init(capacity: Int, configuration: Configuration = Configuration()) {
        precondition(capacity > 0, "capacity must be positive")
        precondition(configuration.smallFraction > 0 && configuration.smallFraction < 1, "smallFraction in (0, 1)")
        precondition(configuration.ghostFraction >= 0, "ghostFraction must not be negative")
        precondition(configuration.maxObjectFraction > 0 && configuration.maxObjectFraction <= 1,
                     "maxObjectFraction in (0, 1]")
        precondition(configuration.victimSample >= 1, "victimSample must be positive")
        precondition(configuration.sketchWidth >= 1, "sketchWidth must be positive")
        self.capacity = capacity
        self.configuration = configuration
        smallCapacity = max(1, Int(Double(capacity) * configuration.smallFraction))
        maxObjectBytes = max(1, Int(Double(capacity) * configuration.maxObjectFraction))
    }

    @inlinable public var usedBytes: Int { table.lists[0].bytes + table.lists[1].bytes }
    @inlinable public var count: Int { table.lists[0].count + table.lists[1].count }
    /// Number of ghost keys remembered.
    @inlinable public var ghostCount: Int { table.lists[2].count }
    /// Number of resident objects in `queue`.
    @inlinable public func count(in queue: Queue) -> Int { table.lists[Int(queue.rawValue)].count }
    /// Bytes of the resident objects in `queue`.
    @inlinable public func usedBytes(in queue: Queue) -> Int { table.lists[Int(queue.rawValue)].bytes }
    @inlinable var mainCapacity: Int { capacity - smallCapacity }

    @inlinable public func contains(_ key: Key) -> Bool {
        guard let i = table.find(key) else { return false }
        return table[i].list != Self.ghostList
    }

    /// The queue holding `key`, nil when it is not resident.
    @inlinable public func queue(of key: Key) -> Queue? {
        guard let i = table.find(key) else { return nil }
        return Queue(rawValue: table[i].list)
    }

    /// Counts the hit in the object's slot only (one byte): the sketch learns of it when the object is next weighed.
    @inlinable public mutating func recordHit(_ key: Key) -> Bool {
        guard let i = table.find(key) else { return false }
        let slot = table[i]
        guard slot.list != Self.ghostList else { return false }
        if slot.frequency < Self.maxFrequency { table.setFrequency(i, slot.frequency + 1) }
        return true
    }

    /// Admits after a miss: into `S`, or for a ghost key into `M` if it is worth more than `M`'s victim. Replacing
    /// a resident object keeps its queue and frequency (it was wanted) but moves it to its queue's head. Objects
    /// over `maxObjectBytes` bypass; the resident version of a bypassed key, if any, stays as it was.
    @inlinable public mutating func admit(_ key: Key, size: Int) -> Admission<Key> {
        precondition(size >= 0, "negative object size")
        guard size <= maxObjectBytes else { return .bypass }
        let hash = Self.sketchHash(key)
        sketch.add(UInt64(hash))
        sketch.ageIfDue()
        var target = Queue.small
        var frequency: UInt8 = 0
        if let i = table.find(key) {
            let slot = table[i]
            if let queue = Queue(rawValue: slot.list) {
                target = queue
                frequency = slot.frequency
            } else if mainVictimIsWorthLess(than: sketch.estimate(UInt64(hash)), size: size) {
                target = .main
            }
            forget(i)
        }
        var evicted: [Key] = []
        while usedBytes + size > capacity {
            evictOne(into: &evicted)
        }
        if target == .small && !hasEvicted && table.lists[0].bytes >= smallCapacity {
            target = .main
        }
        table.insert(key, size: size, hash: hash, frequency: frequency, list: target.rawValue)
        growSketch(forObjects: count)
        return .store(evicting: evicted)
    }

    /// Forgets `key` entirely, ghost included: a purge or a corrupt entry says nothing about popularity to keep.
    /// (The sketch cannot forget one key; its estimate fades as the sketch ages.)
    @inlinable @discardableResult
    public mutating func remove(_ key: Key) -> Int? {
        guard let i = table.find(key) else { return nil }
        let slot = table[i]
        forget(i)
        return slot.list == Self.ghostList ? nil : slot.size
    }

    /// The bytes `key` occupies, nil when it is not resident.
    @inlinable public func size(of key: Key) -> Int? {
        guard let i = table.find(key), table[i].list != Self.ghostList else { return nil }
        return table[i].size
    }

    /// Makes room for `n` more tracked keys without rehashing (before restoring that many), and sizes the sketch for
    /// them.
    @inlinable public mutating func reserveCapacity(_ n: Int) {
        table.reserve(n)
        growSketch(forObjects: count + n)
    }

    /// Ends the cold-start rule (while nothing was evicted, objects arriving with `S` full go straight to `M`): for
    /// a store that reopens full and restores its objects into the policy after it starts admitting new ones.
    @inlinable public mutating func endColdStart() {
        hasEvicted = true
    }

    /// Adds a resident object behind every other of its queue (the next in line there), without evicting: how a
    /// store restores its objects incrementally after opening, newest first, while it already serves and admits
    /// (it keeps the objects it has not restored yet within the budget itself). A ghost `key` becomes resident;
    /// returns false, changing nothing, when `key` is already resident. Ends the cold-start rule, as `rebuild` does.
    /// The sketch counts the object once; the hits its entry records stay pending in its slot.
    @inlinable @discardableResult
    public mutating func restoreOldest(_ entry: Entry) -> Bool {
        precondition(entry.size >= 0, "negative object size")
        if let i = table.find(entry.key) {
            guard table[i].list == Self.ghostList else { return false }
            forget(i)
        }
        let frequency = min(entry.frequency, Self.maxFrequency)
        let hash = Self.sketchHash(entry.key)
        table.insertAtTail(entry.key, size: entry.size, hash: hash, frequency: frequency, list: entry.queue.rawValue)
        growSketch(forObjects: count)
        sketch.add(UInt64(hash))
        hasEvicted = true
        return true
    }

    /// Adds a ghost key behind every other (the next to be forgotten), as `restoreOldest` adds residents: for
    /// restoring a snapshot's ghosts newest first. Returns false, changing nothing, when `key` is tracked. The
    /// ghost queue is not trimmed here (restored ghosts may come before the residents that bound it): the next
    /// eviction from `S` trims it.
    @inlinable @discardableResult
    public mutating func restoreOldestGhost(_ key: Key) -> Bool {
        guard table.find(key) == nil else { return false }
        // As `rebuild` does: the ghost's hash for weighing it, and one count in the sketch.
        let hash = Self.sketchHash(key)
        table.insertAtTail(key, size: 0, hash: hash, frequency: 0, list: Self.ghostList)
        sketch.add(UInt64(hash))
        return true
    }

    /// Evicts, as admissions do, until `bytes` more would fit within `capacity` (or nothing is resident); returns
    /// the keys evicted, for the store to delete. For making room ahead of a write.
    @inlinable public mutating func evict(toFit bytes: Int) -> [Key] {
        var evicted: [Key] = []
        while usedBytes + bytes > capacity && count > 0 {
            evictOne(into: &evicted)
        }
        return evicted
    }

    /// The queues to persist (at shutdown or on a timer, never per hit) so that `rebuild` restores them exactly.
    /// The frequency sketch is not part of it: it is an estimate, and refills.
    public func snapshot() -> Snapshot {
        let residents = (table.walk(Queue.small.rawValue) + table.walk(Queue.main.rawValue)).map {
            Entry(key: $0.key, size: $0.size, queue: Queue(rawValue: $0.list)!, frequency: $0.frequency)
        }
        return Snapshot(residents: residents, ghosts: table.walk(Self.ghostList).map(\.key))
    }

    /// Replaces the state with `residents` (within each queue oldest first) and `ghosts` (oldest first), without
    /// replaying history; O(n). Returns the keys the store must delete: objects over `maxObjectBytes`, and the
    /// objects evicted to bring the total within `capacity` (after a smaller `cache.maxBytes`). A key listed twice
    /// keeps its first entry; a ghost key that is also resident is ignored. The sketch starts anew, counting each
    /// resident and each ghost once (the hits an entry records stay pending in its slot, as they were).
    ///
    /// Without a snapshot, pass the store's objects as `Entry(key:size:)` oldest first: they restart in `M`
    /// unhit, and the ones that get hits survive. With a snapshot older than the store (a crash), the store passes
    /// the snapshot's entries that still exist followed by its objects the snapshot lacks, with their sizes.
    /// A non-empty rebuild ends the cold-start rule: new objects enter `S` even while it is full.
    public mutating func rebuild(residents: some Sequence<Entry>, ghosts: [Key] = []) -> [Key] {
        table.removeAll()
        hasEvicted = false
        nextVictim = -1
        table.reserve(residents.underestimatedCount + ghosts.count)
        sketch = FrequencySketch(width: residents.underestimatedCount * configuration.sketchWidth)
        var evicted: [Key] = []
        for entry in residents where table.find(entry.key) == nil {
            precondition(entry.size >= 0, "negative object size")
            if entry.size > maxObjectBytes {
                evicted.append(entry.key)
                continue
            }
            let frequency = min(entry.frequency, Self.maxFrequency)
            let hash = Self.sketchHash(entry.key)
            table.insert(entry.key, size: entry.size, hash: hash, frequency: frequency, list: entry.queue.rawValue)
            growSketch(forObjects: count)
            sketch.add(UInt64(hash))
        }
        for key in ghosts where table.find(key) == nil {
            let hash = Self.sketchHash(key)
            table.insert(key, size: 0, hash: hash, frequency: 0, list: Self.ghostList)
            sketch.add(UInt64(hash))
        }
        trimGhosts()
        // A restored cache is past its cold start: new objects go on probation from the first one.
        hasEvicted = table.slots.count > 0
        while usedBytes > capacity {
            evictOne(into: &evicted)
        }
        return evicted
    }

    // MARK: Internals

    /// The 32 bits of `key`'s hash that its slot keeps for the sketch.
    @inlinable static func sketchHash(_ key: Key) -> UInt32 { UInt32(truncatingIfNeeded: key.hashValue) }

    @inlinable mutating func growSketch(forObjects n: Int) {
        if n * configuration.sketchWidth > sketch.width {
            sketch.grow(toAtLeast: n * configuration.sketchWidth)
        }
    }

    /// Passes the hits pending in slot `i` on to the sketch and returns the slot's estimate.
    @inlinable @discardableResult
    mutating func settle(_ i: Int32) -> UInt8 {
        let slot = table[i]
        guard slot.frequency > 0 else { return sketch.estimate(UInt64(slot.hash)) }
        table.setFrequency(i, 0)
        return sketch.add(UInt64(slot.hash), count: slot.frequency)
    }

    /// Whether an object estimated `f1` times of `s1` bytes is worth less than one estimated `f2` times of `s2`
    /// bytes: f1 / s1^w < f2 / s2^w, compared as f1^n · s2 < f2^n · s1 with n = 1/w (exact in doubles: f ≤ 255).
    @inlinable func isWorthLess(_ f1: UInt8, _ s1: Int, than f2: UInt8, _ s2: Int) -> Bool {
        let a = Double(f1), b = Double(f2)
        let x = Double(max(1, s1)), y = Double(max(1, s2))
        switch configuration.sizeWeight {
        case .ignored: return f1 < f2
        case .cubeRoot: return a * a * a * y < b * b * b * x
        case .squareRoot: return a * a * y < b * b * x
        case .proportional: return a * y < b * x
        }
    }

    /// `M`'s victim, with its estimated frequency: the one chosen before while it is still `M`'s oldest and unhit,
    /// or else the least worthy of `M`'s `victimSample` oldest objects not hit since they were last weighed, left at
    /// `M`'s tail; of the others, those estimated twice or more move to `M`'s head (they survived this round), the
    /// rest keep their places. An object hit since passes its hits on to the sketch and goes round again unweighed:
    /// CLOCK's second chance, paid for by its hits. Nil when `M` is empty.
    @inlinable mutating func sampleMainVictim() -> (slot: Int32, frequency: UInt8)? {
        if nextVictim >= 0 && nextVictim == table.lists[1].tail && table[nextVictim].frequency == 0 {
            return (nextVictim, sketch.estimate(UInt64(table[nextVictim].hash)))
        }
        var best: Int32 = -1
        var bestFrequency: UInt8 = 0
        var bestSize = 0
        var sampled = 0
        var i = table.lists[1].tail
        var restarted = false
        sampledSlots.removeAll(keepingCapacity: true)
        while sampled < configuration.victimSample {
            if i < 0 {
                // Objects hit since move ahead of the walk, which meets them again, settled; it ends with nothing
                // sampled only when `M` holds one object, hit since: once more, now that it is settled.
                guard sampled == 0 && !restarted && table.lists[1].count > 0 else { break }
                restarted = true
                i = table.lists[1].tail
            }
            let slot = table[i]
            let next = slot.newer
            if slot.frequency > 0 {
                settle(i)
                table.moveToHead(i, of: Queue.main.rawValue)
            } else {
                let f = sketch.estimate(UInt64(slot.hash))
                if best < 0 || isWorthLess(f, slot.size, than: bestFrequency, bestSize) {
                    (best, bestFrequency, bestSize) = (i, f, slot.size)
                }
                sampledSlots.append((i, f))
                sampled += 1
            }
            i = next
        }
        guard best >= 0 else { return nil }
        for s in sampledSlots where s.slot != best && s.frequency >= 2 {
            table.moveToHead(s.slot, of: Queue.main.rawValue)
        }
        if best != table.lists[1].tail {
            table.unlink(best)
            table.link(best, at: Queue.main.rawValue, oldest: true)
        }
        nextVictim = best
        return (best, bestFrequency)
    }

    /// Whether `M`'s victim is worth less than an object estimated `frequency` times of `size` bytes (true when
    /// `M` is empty).
    @inlinable mutating func mainVictimIsWorthLess(than frequency: UInt8, size: Int) -> Bool {
        guard let victim = sampleMainVictim() else { return true }
        return isWorthLess(victim.frequency, table[victim.slot].size, than: frequency, size)
    }

    // Evicts exactly one resident object (appending its key), moving objects from `S` to `M` on the way when they
    // were hit enough there or outweigh `M`'s victim.
    @inlinable mutating func evictOne(into evicted: inout [Key]) {
        hasEvicted = true
        while true {
            if table.lists[1].bytes > mainCapacity || table.lists[0].count == 0 {
                return evictMain(into: &evicted)
            }
            let i = table.lists[0].tail
            let slot = table[i]
            let frequency = settle(i)
            if slot.frequency >= configuration.promotionThreshold {
                promote(i)
                continue
            }
            guard let victim = sampleMainVictim() else {
                promote(i)
                continue
            }
            if isWorthLess(victim.frequency, table[victim.slot].size, than: frequency, slot.size) {
                promote(i)
                if table.lists[1].bytes > mainCapacity {
                    // The victim it outweighed, still `M`'s oldest, makes room.
                    evicted.append(table[victim.slot].key)
                    forget(victim.slot)
                    return
                }
            } else {
                evicted.append(slot.key)
                table.moveToHead(i, of: Self.ghostList)
                trimGhosts()
                return
            }
        }
    }

    /// Stops tracking slot `i`; the last slot moves into its place, `nextVictim` with it.
    @inlinable mutating func forget(_ i: Int32) {
        if i == nextVictim {
            nextVictim = -1
        } else if nextVictim == Int32(table.slots.count - 1) {
            nextVictim = i
        }
        table.delete(i)
    }

    @inlinable mutating func promote(_ i: Int32) {
        table.setFrequency(i, 0)
        table.moveToHead(i, of: Queue.main.rawValue)
    }

    @inlinable mutating func evictMain(into evicted: inout [Key]) {
        guard let victim = sampleMainVictim() else { preconditionFailure("over budget with nothing resident") }
        evicted.append(table[victim.slot].key)
        forget(victim.slot)
    }

    // The ghost queue is bounded by a count relative to `M`, not by bytes: a ghost key costs the same whatever
    // the size of the object it stood for.
    @inlinable mutating func trimGhosts() {
        let limit = Int(Double(table.lists[1].count) * configuration.ghostFraction)
        while table.lists[2].count > limit {
            forget(table.lists[2].tail)
        }
    }
}

extension S3FIFO: Sendable where Key: Sendable {}
extension S3FIFO.Entry: Sendable where Key: Sendable {}
extension S3FIFO.Entry: Equatable where Key: Equatable {}
extension S3FIFO.Snapshot: Sendable where Key: Sendable {}
extension S3FIFO.Snapshot: Equatable where Key: Equatable {}
