/// Decides which cached objects stay within a byte budget: a pure state machine over keys and sizes that the
/// store drives. It keeps its bookkeeping in memory only; every answer is an action the store carries out in the
/// write transaction it is about to commit, so a hit never costs a disk write.
public protocol EvictionPolicy<Key> {
    associatedtype Key: Hashable

    /// The byte budget the resident objects never exceed together.
    var capacity: Int { get }
    /// Bytes of the resident objects.
    var usedBytes: Int { get }
    /// Number of resident objects.
    var count: Int { get }
    /// Whether `key` is resident.
    func contains(_ key: Key) -> Bool
    /// Notes a cache hit on `key`; false (and nothing changes) when the policy does not hold it.
    mutating func recordHit(_ key: Key) -> Bool
    /// Asks to store `size` bytes under `key` after a miss (or to replace the resident object under `key`).
    mutating func admit(_ key: Key, size: Int) -> Admission<Key>
    /// Forgets `key` (purged or corrupt); returns the bytes it occupied, or nil when it was not resident.
    @discardableResult mutating func remove(_ key: Key) -> Int?
}

/// What the store must do with an object it offered to the policy.
public enum Admission<Key> {
    /// Delete `evicting` (in the same write transaction), then store the object. Never lists the admitted key.
    case store(evicting: [Key])
    /// Do not store the object (it is larger than the policy admits); serve it and leave the store unchanged.
    case bypass
}

extension Admission: Equatable where Key: Equatable {}
extension Admission: Sendable where Key: Sendable {}

/// The policies' shared storage: every tracked key (resident or ghost) in one dense slot array threaded by
/// intrusive doubly linked FIFO lists, so every operation is O(1) and an entry costs one slot plus one
/// dictionary entry (no per-object allocation beyond the key itself). Inlinable, like the policies, so that a
/// policy used from another module is specialised for its key type (unspecialised, a hit costs several times more).
/// What a policy needs of it is `package`: the LRU baseline in EdgeSimulation is built on it too, so that the
/// benchmarks compare policies, not storage.
@usableFromInline
package struct SlotTable<Key: Hashable> {
    /// One tracked key. `newer`/`older` link it within its list (-1 ends a list). `hash` is the key's hash as the
    /// policy keeps it for its own use (S3FIFO: for its frequency sketch, so that a hit hashes the key only once);
    /// it fits in what would be padding after the links, so a slot is no larger for it.
    @usableFromInline
    package struct Slot {
        @usableFromInline package var key: Key
        @usableFromInline package var size: Int
        @usableFromInline var newer: Int32
        @usableFromInline var older: Int32
        @usableFromInline var hash: UInt32
        @usableFromInline var frequency: UInt8
        @usableFromInline var list: UInt8

        @inlinable
        init(key: Key, size: Int, newer: Int32, older: Int32, hash: UInt32, frequency: UInt8, list: UInt8) {
            self.key = key
            self.size = size
            self.newer = newer
            self.older = older
            self.hash = hash
            self.frequency = frequency
            self.list = list
        }
    }

    /// One FIFO list: `head` is the newest slot, `tail` the oldest.
    @usableFromInline
    package struct List {
        @usableFromInline var head: Int32 = -1
        @usableFromInline package internal(set) var tail: Int32 = -1
        @usableFromInline package internal(set) var count = 0
        @usableFromInline package internal(set) var bytes = 0

        @inlinable init() {}
    }

    // Mutated only through the methods below, which keep the lists, the index and the totals consistent.
    @usableFromInline var slots: [Slot] = []
    @usableFromInline var index: [Key: Int32] = [:]
    @usableFromInline package internal(set) var lists: [List]

    @inlinable
    package init(lists: Int) {
        self.lists = Array(repeating: List(), count: lists)
    }

    /// The slot index of `key`, if tracked.
    @inlinable package func find(_ key: Key) -> Int32? { index[key] }

    @inlinable package subscript(i: Int32) -> Slot { slots[Int(i)] }

    /// Sets the access frequency of slot `i` (in place: no copy of the key).
    @inlinable mutating func setFrequency(_ i: Int32, _ frequency: UInt8) {
        slots[Int(i)].frequency = frequency
    }

    /// Makes room for `n` more keys without rehashing.
    @inlinable mutating func reserve(_ n: Int) {
        slots.reserveCapacity(slots.count + n)
        index.reserveCapacity(index.count + n)
    }

    /// Tracks a new key at the head of `list`.
    @inlinable @discardableResult
    package mutating func insert(_ key: Key, size: Int, hash: UInt32 = 0, frequency: UInt8, list: UInt8) -> Int32 {
        let i = track(key, size: size, hash: hash, frequency: frequency, list: list)
        link(i, at: list)
        return i
    }

    /// A new, unlinked slot for `key`, indexed.
    @inlinable mutating func track(_ key: Key, size: Int, hash: UInt32, frequency: UInt8, list: UInt8) -> Int32 {
        precondition(slots.count < Int(Int32.max), "eviction policy slot table full")
        let i = Int32(slots.count)
        slots.append(Slot(key: key, size: size, newer: -1, older: -1, hash: hash, frequency: frequency, list: list))
        let previous = index.updateValue(i, forKey: key)
        precondition(previous == nil, "key tracked twice")
        return i
    }

    /// Tracks a new key at the tail of `list` (older than everything in it).
    @inlinable @discardableResult
    mutating func insertAtTail(_ key: Key, size: Int, hash: UInt32 = 0, frequency: UInt8, list: UInt8) -> Int32 {
        let i = track(key, size: size, hash: hash, frequency: frequency, list: list)
        link(i, at: list, oldest: true)
        return i
    }

    /// Moves slot `i` to the head of `list` (its own or another).
    @inlinable package mutating func moveToHead(_ i: Int32, of list: UInt8) {
        unlink(i)
        link(i, at: list)
    }

    /// Stops tracking slot `i`; the last slot moves into its place so the array stays dense.
    @inlinable package mutating func delete(_ i: Int32) {
        unlink(i)
        index.removeValue(forKey: slots[Int(i)].key)
        let last = Int32(slots.count - 1)
        if i != last {
            slots.swapAt(Int(i), Int(last))
            let moved = slots[Int(i)]
            if moved.newer >= 0 { slots[Int(moved.newer)].older = i } else { lists[Int(moved.list)].head = i }
            if moved.older >= 0 { slots[Int(moved.older)].newer = i } else { lists[Int(moved.list)].tail = i }
            index[moved.key] = i
        }
        slots.removeLast()
    }

    /// Forgets everything.
    @inlinable mutating func removeAll() {
        slots.removeAll()
        index.removeAll()
        lists = Array(repeating: List(), count: lists.count)
    }

    /// The slots of `list`, oldest first.
    @inlinable package func walk(_ list: UInt8) -> [Slot] {
        var out: [Slot] = []
        out.reserveCapacity(lists[Int(list)].count)
        var i = lists[Int(list)].tail
        while i >= 0 {
            out.append(slots[Int(i)])
            i = slots[Int(i)].newer
        }
        return out
    }

    /// Links slot `i` into `list` as its newest, or with `oldest` as its oldest.
    @inlinable mutating func link(_ i: Int32, at list: UInt8, oldest: Bool = false) {
        let l = Int(list)
        slots[Int(i)].list = list
        if oldest {
            let tail = lists[l].tail
            (slots[Int(i)].older, slots[Int(i)].newer) = (-1, tail)
            if tail >= 0 { slots[Int(tail)].older = i } else { lists[l].head = i }
            lists[l].tail = i
        } else {
            let head = lists[l].head
            (slots[Int(i)].newer, slots[Int(i)].older) = (-1, head)
            if head >= 0 { slots[Int(head)].newer = i } else { lists[l].tail = i }
            lists[l].head = i
        }
        lists[l].count += 1
        lists[l].bytes += slots[Int(i)].size
    }

    @inlinable mutating func unlink(_ i: Int32) {
        let slot = slots[Int(i)]
        let list = Int(slot.list)
        if slot.newer >= 0 { slots[Int(slot.newer)].older = slot.older } else { lists[list].head = slot.older }
        if slot.older >= 0 { slots[Int(slot.older)].newer = slot.newer } else { lists[list].tail = slot.newer }
        lists[list].count -= 1
        lists[list].bytes -= slot.size
    }
}

extension SlotTable: Sendable where Key: Sendable {}
extension SlotTable.Slot: Sendable where Key: Sendable {}
extension SlotTable.List: Sendable {}

extension DigestKey {
    /// The key for the 32 digest bytes at `raw` (an LMDB key or record), as `init(bytes:)` makes it but with four
    /// loads instead of a generic walk over a collection: what a store uses on every hit and for every key it
    /// restores after a restart. Inlinable, so that it costs nanoseconds from another module.
    @inlinable public init(digest raw: UnsafeRawBufferPointer) {
        precondition(raw.count == 32, "a digest is 32 bytes")
        w0 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        w1 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        w2 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        w3 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    /// Calls `body` with the 32 bytes, as `bytes` gives them, without making an array.
    @inlinable public func withDigest<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try withUnsafeBytes(of: (w0.littleEndian, w1.littleEndian, w2.littleEndian, w3.littleEndian)) { try body($0) }
    }
}
