import EdgeCore
import NIOConcurrencyHelpers
import NIOCore

/// A small in-memory tier in front of LMDB for the most recently used variants: a hit from here shares the
/// body buffer (no copy out of the map, no read transaction). Write-through and bounded in bytes (LRU).
/// LMDB stays the source of truth; anything that removes or replaces an entry there must `remove` it here too.
final class HotCache: Sendable {
    struct Item: Sendable {
        var header: CacheEntry.Header
        var body: ByteBuffer
    }

    private let state: NIOLockedValueBox<LRU>
    /// Bodies larger than this never enter (they would push out many small hot ones).
    let maxItemBytes: Int

    init(maxBytes: Int) {
        state = NIOLockedValueBox(LRU(maxBytes: maxBytes))
        maxItemBytes = maxBytes / 16
    }

    var isEnabled: Bool { maxItemBytes > 0 }

    func get(_ key: CacheKey) -> Item? {
        state.withLockedValue { $0.get(key) }
    }

    func put(_ key: CacheKey, _ item: Item) {
        guard item.body.readableBytes <= maxItemBytes else { return }
        state.withLockedValue { $0.put(key, item) }
    }

    func remove(_ key: CacheKey) {
        state.withLockedValue { $0.remove(key) }
    }

    /// Removes every item `dead` says is; returns how many.
    @discardableResult
    func removeAll(where dead: (Item) -> Bool) -> Int {
        state.withLockedValue { lru in
            let keys = lru.keys.filter { lru.peek($0).map(dead) ?? false }
            for k in keys { lru.remove(k) }
            return keys.count
        }
    }

    var usage: (entries: Int, bytes: Int) { state.withLockedValue { ($0.count, $0.bytes) } }

    /// Least-recently-used map over slots linked by index (no per-access allocation).
    struct LRU {
        private struct Slot {
            var key: CacheKey
            var item: Item
            var prev: Int
            var next: Int
        }
        private var index: [CacheKey: Int] = [:]
        private var slots: [Slot] = []
        private var free: [Int] = []
        private var head = -1  // most recent
        private var tail = -1  // least recent
        let maxBytes: Int
        private(set) var bytes = 0
        var count: Int { index.count }

        init(maxBytes: Int) { self.maxBytes = maxBytes }

        mutating func get(_ key: CacheKey) -> Item? {
            guard let i = index[key] else { return nil }
            unlink(i)
            pushFront(i)
            return slots[i].item
        }

        var keys: [CacheKey] { Array(index.keys) }

        /// The item for `key` without making it recent.
        func peek(_ key: CacheKey) -> Item? { index[key].map { slots[$0].item } }

        mutating func put(_ key: CacheKey, _ item: Item) {
            remove(key)
            let size = item.body.readableBytes
            while bytes + size > maxBytes, tail >= 0 { remove(slots[tail].key) }
            guard bytes + size <= maxBytes else { return }
            let slot = Slot(key: key, item: item, prev: -1, next: -1)
            let i: Int
            if let f = free.popLast() { slots[f] = slot; i = f } else { slots.append(slot); i = slots.count - 1 }
            index[key] = i
            pushFront(i)
            bytes += size
        }

        mutating func remove(_ key: CacheKey) {
            guard let i = index.removeValue(forKey: key) else { return }
            unlink(i)
            bytes -= slots[i].item.body.readableBytes
            slots[i].item.body = ByteBuffer()  // let the memory go now
            free.append(i)
        }

        private mutating func unlink(_ i: Int) {
            let p = slots[i].prev, n = slots[i].next
            if p >= 0 { slots[p].next = n } else { head = n }
            if n >= 0 { slots[n].prev = p } else { tail = p }
            slots[i].prev = -1
            slots[i].next = -1
        }

        private mutating func pushFront(_ i: Int) {
            slots[i].next = head
            slots[i].prev = -1
            if head >= 0 { slots[head].prev = i }
            head = i
            if tail < 0 { tail = i }
        }
    }
}
