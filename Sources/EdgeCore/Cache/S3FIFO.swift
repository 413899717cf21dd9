/// S3-FIFO eviction and admission (Yang et al., "FIFO queues are all you need for cache eviction", SOSP '23),
/// sized in bytes: a small probationary FIFO `S` (10 % of the budget) that new objects enter, a main FIFO `M`
/// (the rest) for objects that proved themselves, and a ghost FIFO `G` of keys recently evicted from `S`. A
/// one-hit wonder passes through `S` and leaves without touching `M`, so a scan cannot flush the popular set.
///
/// Follows libCacheSim's `S3FIFO.c` (the authors' reference): an object moves from `S` to `M` when it was hit at
/// least `promotionThreshold` times while in `S`; `M` is a CLOCK with a 2-bit counter (a hit object goes round
/// again with its counter minus one); a miss on a ghost key enters `M` directly; before the first eviction, once
/// `S` is full, new objects go straight to `M`. One difference: the ghost queue is bounded by a count of keys (as
/// many as `M` holds objects) rather than by the bytes its objects had (libCacheSim: 90 % of the budget), so its
/// memory is bounded whatever the sizes.
///
/// A value type with no locking: the store keeps one behind its own lock, keyed by `DigestKey`, and carries out
/// each `Admission` in the write transaction that stores the object.
///
/// Costs: O(1) per hit, admission and removal (amortised over the objects an admission evicts). A hit changes one
/// byte in memory. Memory per tracked key (resident or ghost): one slot (the key, its size, two list links and two
/// bytes) plus one dictionary entry. Nothing here persists: a store saves `snapshot()` and restores it with
/// `rebuild`, or incrementally (while serving) with `restoreOldest` and `restoreOldestGhost`.
public struct S3FIFO<Key: Hashable>: EvictionPolicy {
    /// The tuning knobs, with the paper's defaults.
    public struct Configuration: Sendable, Equatable {
        /// Share of the byte budget for the small queue `S` (the paper's 10 %).
        public var smallFraction: Double
        /// Ghost keys remembered, as a multiple of the number of objects in `M` (the paper: as many as `M` holds).
        /// 0 disables the ghost queue.
        public var ghostFraction: Double
        /// Hits while in `S` that earn a move to `M` instead of eviction (libCacheSim's default: 2).
        public var promotionThreshold: UInt8
        /// Largest object admitted, as a share of the budget. The default equals `smallFraction`: a larger object
        /// would flush the whole small queue on arrival.
        public var maxObjectFraction: Double

        public init(smallFraction: Double = 0.10, ghostFraction: Double = 1.0, promotionThreshold: UInt8 = 2,
                    maxObjectFraction: Double = 0.10) {
            self.smallFraction = smallFraction
            self.ghostFraction = ghostFraction
            self.promotionThreshold = promotionThreshold
            self.maxObjectFraction = maxObjectFraction
        }
    }

    /// The queue a resident object is in.
    public enum Queue: UInt8, Sendable, Hashable {
        /// Probation: admitted, not yet proven.
        case small = 0
        /// Proven popular (or a ghost hit).
        case main = 1
    }

    /// One resident object as `snapshot` lists it and `rebuild` takes it.
    public struct Entry {
        public var key: Key
        public var size: Int
        public var queue: Queue
        /// Access frequency, 0...3.
        public var frequency: UInt8

        /// An entry as a restart without a snapshot knows it: in `M`, never hit.
        public init(key: Key, size: Int, queue: Queue = .main, frequency: UInt8 = 0) {
            self.key = key
            self.size = size
            self.queue = queue
            self.frequency = frequency
        }
    }

    /// The whole state, in the order `rebuild` restores it exactly.
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
    @usableFromInline static var maxFrequency: UInt8 { 3 }

    public let capacity: Int
    public let configuration: Configuration
    /// Byte budget of `S`; `M` gets the rest.
    public let smallCapacity: Int
    /// Largest object admitted, in bytes.
    public let maxObjectBytes: Int
    @usableFromInline var table = SlotTable<Key>(lists: 3)
    // True once anything was evicted; before that, objects arriving with `S` full go straight to `M`.
    @usableFromInline var hasEvicted = false

    /// A policy for a budget of `capacity` bytes.
    public init(capacity: Int, configuration: Configuration = Configuration()) {
        precondition(capacity > 0, "capacity must be positive")
        precondition(configuration.smallFraction > 0 && configuration.smallFraction < 1, "smallFraction in (0, 1)")
        precondition(configuration.ghostFraction >= 0, "ghostFraction must not be negative")
        precondition(configuration.maxObjectFraction > 0 && configuration.maxObjectFraction <= 1,
                     "maxObjectFraction in (0, 1]")
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

    /// Whether `key` was evicted from `S` recently enough to be remembered.
    @inlinable public func isGhost(_ key: Key) -> Bool {
        guard let i = table.find(key) else { return false }
        return table[i].list == Self.ghostList
    }

    @inlinable public mutating func recordHit(_ key: Key) -> Bool {
        guard let i = table.find(key) else { return false }
        let slot = table[i]
        guard slot.list != Self.ghostList else { return false }
        if slot.frequency < Self.maxFrequency { table.setFrequency(i, slot.frequency + 1) }
        return true
    }

    /// Admits after a miss: into `M` for a ghost key, else into `S`. Replacing a resident object keeps its queue
    /// and frequency (it was wanted) but moves it to its queue's head. Objects over `maxObjectBytes` bypass; the
    /// resident version of a bypassed key, if any, stays as it was.
    @inlinable public mutating func admit(_ key: Key, size: Int) -> Admission<Key> {
        precondition(size >= 0, "negative object size")
        guard size <= maxObjectBytes else { return .bypass }
        var target = Queue.small
        var frequency: UInt8 = 0
        if let i = table.find(key) {
            let slot = table[i]
            if let queue = Queue(rawValue: slot.list) {
                target = queue
                frequency = slot.frequency
            } else {
                target = .main
            }
            table.delete(i)
        }
        var evicted: [Key] = []
        while usedBytes + size > capacity {
            evictOne(into: &evicted)
        }
        if target == .small && !hasEvicted && table.lists[0].bytes >= smallCapacity {
            target = .main
        }
        table.insert(key, size: size, frequency: frequency, list: target.rawValue)
        return .store(evicting: evicted)
    }

    /// Forgets `key` entirely, ghost included: a purge or a corrupt entry says nothing about popularity to keep.
    @inlinable @discardableResult
    public mutating func remove(_ key: Key) -> Int? {
        guard let i = table.find(key) else { return nil }
        let slot = table[i]
        table.delete(i)
        return slot.list == Self.ghostList ? nil : slot.size
    }

    /// The bytes `key` occupies, nil when it is not resident.
    @inlinable public func size(of key: Key) -> Int? {
        guard let i = table.find(key), table[i].list != Self.ghostList else { return nil }
        return table[i].size
    }

    /// Makes room for `n` more tracked keys without rehashing (before restoring that many).
    @inlinable public mutating func reserveCapacity(_ n: Int) {
        table.reserve(n)
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
    @inlinable @discardableResult
    public mutating func restoreOldest(_ entry: Entry) -> Bool {
        precondition(entry.size >= 0, "negative object size")
        if let i = table.find(entry.key) {
            guard table[i].list == Self.ghostList else { return false }
            table.delete(i)
        }
        table.insertAtTail(entry.key, size: entry.size, frequency: min(entry.frequency, Self.maxFrequency),
                           list: entry.queue.rawValue)
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
        table.insertAtTail(key, size: 0, frequency: 0, list: Self.ghostList)
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

    /// The state to persist (at shutdown or on a timer, never per hit) so that `rebuild` restores it exactly.
    public func snapshot() -> Snapshot {
        let residents = (table.walk(Queue.small.rawValue) + table.walk(Queue.main.rawValue)).map {
            Entry(key: $0.key, size: $0.size, queue: Queue(rawValue: $0.list)!, frequency: $0.frequency)
        }
        return Snapshot(residents: residents, ghosts: table.walk(Self.ghostList).map(\.key))
    }

    /// Replaces the state with `residents` (within each queue oldest first) and `ghosts` (oldest first), without
    /// replaying history; O(n). Returns the keys the store must delete: objects over `maxObjectBytes`, and the
    /// objects evicted to bring the total within `capacity` (after a smaller `cache.maxBytes`). A key listed twice
    /// keeps its first entry; a ghost key that is also resident is ignored.
    ///
    /// Without a snapshot, pass the store's objects as `Entry(key:size:)` oldest first: they restart in `M`
    /// unhit, and the ones that get hits survive. With a snapshot older than the store (a crash), the store passes
    /// the snapshot's entries that still exist followed by its objects the snapshot lacks, with their sizes.
    /// A non-empty rebuild ends the cold-start rule: new objects enter `S` even while it is full.
    public mutating func rebuild(residents: some Sequence<Entry>, ghosts: [Key] = []) -> [Key] {
        table.removeAll()
        hasEvicted = false
        table.reserve(residents.underestimatedCount + ghosts.count)
        var evicted: [Key] = []
        for entry in residents where table.find(entry.key) == nil {
            precondition(entry.size >= 0, "negative object size")
            if entry.size > maxObjectBytes {
                evicted.append(entry.key)
                continue
            }
            table.insert(entry.key, size: entry.size, frequency: min(entry.frequency, Self.maxFrequency),
                         list: entry.queue.rawValue)
        }
        for key in ghosts where table.find(key) == nil {
            table.insert(key, size: 0, frequency: 0, list: Self.ghostList)
        }
        trimGhosts()
        // A restored cache is past its cold start: new objects go on probation from the first one.
        hasEvicted = table.slots.count > 0
        while usedBytes > capacity {
            evictOne(into: &evicted)
        }
        return evicted
    }

    // Evicts exactly one resident object (appending its key), moving any proven ones from `S` to `M` on the way.
    @inlinable mutating func evictOne(into evicted: inout [Key]) {
        hasEvicted = true
        if table.lists[1].bytes > mainCapacity || table.lists[0].count == 0 {
            evictMain(into: &evicted)
        } else {
            evictSmall(into: &evicted)
        }
    }

    @inlinable mutating func evictSmall(into evicted: inout [Key]) {
        while true {
            let i = table.lists[0].tail
            guard i >= 0 else {
                // Everything in `S` was promoted: the victim comes from `M`.
                return evictMain(into: &evicted)
            }
            let slot = table[i]
            if slot.frequency >= configuration.promotionThreshold {
                table.setFrequency(i, 0)
                table.moveToHead(i, of: Queue.main.rawValue)
            } else {
                evicted.append(slot.key)
                table.moveToHead(i, of: Self.ghostList)
                trimGhosts()
                return
            }
        }
    }

    @inlinable mutating func evictMain(into evicted: inout [Key]) {
        while true {
            let i = table.lists[1].tail
            precondition(i >= 0, "over budget with nothing resident")
            let slot = table[i]
            if slot.frequency > 0 {
                table.setFrequency(i, slot.frequency - 1)
                table.moveToHead(i, of: Queue.main.rawValue)
            } else {
                evicted.append(slot.key)
                table.delete(i)
                return
            }
        }
    }

    // The ghost queue is bounded by a count relative to `M`, not by bytes: a ghost key costs the same whatever
    // the size of the object it stood for.
    @inlinable mutating func trimGhosts() {
        let limit = Int(Double(table.lists[1].count) * configuration.ghostFraction)
        while table.lists[2].count > limit {
            table.delete(table.lists[2].tail)
        }
    }
}

extension S3FIFO: Sendable where Key: Sendable {}
extension S3FIFO.Entry: Sendable where Key: Sendable {}
extension S3FIFO.Entry: Equatable where Key: Equatable {}
extension S3FIFO.Snapshot: Sendable where Key: Sendable {}
extension S3FIFO.Snapshot: Equatable where Key: Equatable {}
