import EdgeCore
import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// A small in-memory tier in front of LMDB for the most recently used variants: a hit from here shares the
/// body buffer (no copy out of the map, no read transaction). Write-through and bounded in bytes (LRU).
/// LMDB stays the source of truth; anything that removes or replaces an entry there must `remove` it here too.
final class HotCache: Sendable {
    /// One cached variant as the hit path answers it: its header, its body, and the header fields that describe
    /// it, made once (they depend on the entry alone) so that a hit copies them instead of building them.
    /// Immutable and shared (but for its last plain answer, which holds the body, under a lock of its own, and the
    /// purge check's mark, an atomic): a lookup costs one reference, not a copy of every field.
    final class Item: Sendable {
        let header: CacheEntry.Header
        /// The body as a sealed memory file, sent with sendfile (large bodies kept by the memory tier); nil when
        /// the body is in memory (`buffer`).
        let file: BodyFile?
        let bodyLength: Int
        /// The memory the item holds, as the memory tier counts it against its bound: a body in a file counts its
        /// length; a body in memory counts the buffer of its plain answer (a prefix of up to `prefixAllowance`
        /// bytes, then the body), rounded up to a power of two as NIO rounds every buffer it allocates.
        let memoryCost: Int
        static let prefixAllowance = 1024
        /// `etag`, `vary`, `accept-ch` and, for what is not a raster image, `x-content-type-options` and
        /// `content-security-policy`: the fields every answer from this entry carries (200, 206 and 304).
        let describing: [HTTPField]
        /// The entry's last plain hit as a protocol adapter encoded it (`PlainHit`): the adapter's bytes, opaque
        /// here, and after them the body when that is in memory. The body lives only here (`buffer` is a view of
        /// it), so a plain hit can be one buffer and one write, and the entry keeps one copy of its body. Replaced,
        /// never changed in place: answers still being written keep theirs.
        private let plain: NIOLockedValueBox<PlainAnswer>
        /// Another adapter's own prepared form of the plain answer (HTTP/2 keeps its header list here, as HTTP/1.1
        /// keeps its encoding in `plain`), reused while `Age` and `max-age` stay the same; opaque here.
        private let prepared = NIOLockedValueBox<Prepared?>(nil)

        struct Prepared: Sendable {
            var age: Int
            var maxAge: Int
            var value: any Sendable
        }

        /// The prepared form kept for this `Age` and `max-age`, if it is one of type `T`.
        func prepared<T: Sendable>(age: Int, maxAge: Int, as type: T.Type) -> T? {
            prepared.withLockedValue { p in p.flatMap { $0.age == age && $0.maxAge == maxAge ? $0.value as? T : nil } }
        }

        func keepPrepared(_ value: any Sendable, age: Int, maxAge: Int) {
            prepared.withLockedValue { $0 = Prepared(age: age, maxAge: maxAge, value: value) }
        }

        /// `PurgeService.covers(_:)`: how many tombstone insertions the item was last found alive after (-1: never
        /// checked).
        let passedPurges = Atomic<Int>(-1)

        /// A plain hit's answer as an adapter encoded it, reused while its `Age` and `max-age` stay the same.
        struct PlainAnswer: Sendable {
            /// nil until the first plain answer is kept (`bytes` is then the body alone).
            var age: Int?
            /// -1 where the entry's Cache-Control is fixed (a source's `cacheControl`), not a counted max-age.
            var maxAge: Int
            /// The adapter's prefix, then the body when it is in memory.
            var bytes: ByteBuffer
            var prefixLength: Int

            var prefix: ByteBuffer { bytes.getSlice(at: bytes.readerIndex, length: prefixLength) ?? ByteBuffer() }
            var carriesBody: Bool { bytes.readableBytes > prefixLength }
            /// The body, when `bytes` carries it.
            var body: ByteBuffer? {
                carriesBody
                    ? bytes.getSlice(at: bytes.readerIndex + prefixLength, length: bytes.readableBytes - prefixLength) : nil
            }
        }

        /// The body in memory; nil when it is kept in `file` instead.
        var buffer: ByteBuffer? { file == nil ? plain.withLockedValue { $0.body } ?? ByteBuffer() : nil }

        /// The body's bytes (read back from `file` when that is where they are: a copy, for the rare answers
        /// that need one — the common ones send the file).
        var body: ByteBuffer { buffer ?? file?.read() ?? ByteBuffer() }

        /// The plain answer made for this `Age` and `max-age`, if the last one made was.
        func plainAnswer(age: Int, maxAge: Int) -> PlainAnswer? {
            let last = plain.withLockedValue { $0 }
            return last.age == age && last.maxAge == maxAge ? last : nil
        }

        /// Keeps `prefix` (an adapter's encoding of the plain answer for this `Age` and `max-age`), the body (when
        /// in memory) copied after it into a buffer allocated for the two; returns that answer.
        func keepPlainAnswer(prefix: ByteBuffer, age: Int, maxAge: Int) -> PlainAnswer {
            var bytes = prefix
            if file == nil, let body = buffer {
                bytes = ByteBufferAllocator().buffer(capacity: prefix.readableBytes + body.readableBytes)
                bytes.writeImmutableBuffer(prefix)
                bytes.writeImmutableBuffer(body)
            }
            let answer = PlainAnswer(age: age, maxAge: maxAge, bytes: bytes, prefixLength: prefix.readableBytes)
            plain.withLockedValue { $0 = answer }
            return answer
        }

        /// The bytes NIO allocates for a buffer of `capacity` bytes: the next power of two.
        static func allocationSize(_ capacity: Int) -> Int {
            capacity <= 1 ? capacity : 1 << (Int.bitWidth - (capacity - 1).leadingZeroBitCount)
        }

        /// The same entry with its body moved into a sealed memory file (its fields shared: the body's bytes and
        /// length are the same); nil when no file can be made.
        func inFile() -> Item? {
            guard file == nil, let buffer, let file = BodyFile(buffer) else { return nil }
            return Item(header: header, file: file, describing: describing)
        }

        private init(header: CacheEntry.Header, file: BodyFile, describing: [HTTPField]) {
            self.header = header
            self.file = file
            bodyLength = file.length
            memoryCost = file.length
            plain = NIOLockedValueBox(PlainAnswer(age: nil, maxAge: -1, bytes: ByteBuffer(), prefixLength: 0))
            self.describing = describing
        }

        init(header: CacheEntry.Header, body: ByteBuffer) {
            self.header = header
            file = nil
            bodyLength = body.readableBytes
            memoryCost = Self.allocationSize(body.readableBytes + Self.prefixAllowance)
            plain = NIOLockedValueBox(PlainAnswer(age: nil, maxAge: -1, bytes: body, prefixLength: 0))
            var fields = [HTTPField(name: .eTag, value: header.etag)]
            if header.clientHints.isEmpty {
                if header.variesOnAccept { fields.append(HTTPField(name: .vary, value: "Accept")) }
            } else {
                // imgix: the response names the hints it used, and caches downstream must vary on them.
                fields.append(HTTPField(name: .vary, value: header.variesOnAccept ? "Accept, " + header.clientHints : header.clientHints))
                fields.append(HTTPField(name: .acceptCH, value: header.clientHints))
            }
            // The origin response's Date and Last-Modified (refreshed with it by a revalidation), so that clients
            // and caches downstream can age the answer and revalidate it with If-Modified-Since.
            if let date = header.originDate { fields.append(HTTPField(name: .date, value: date)) }
            if let lm = header.originLastModified { fields.append(HTTPField(name: .lastModified, value: lm)) }
            // Passed-through files that are not raster images (HTML, PDF, SVG with scripts…) must not run as pages
            // of this host: no sniffing, no scripts, no plugins, a unique origin. The origin's own fields of those
            // names give way.
            let guarded = !header.contentType.hasPrefix("image/") || header.contentType.hasPrefix("image/svg")
            if guarded {
                fields.append(HTTPField(name: .xContentTypeOptions, value: "nosniff"))
                fields.append(HTTPField(name: .contentSecurityPolicy, value: "default-src 'none'; sandbox"))
            }
            for line in header.responseHeaders {
                guard let name = HTTPField.Name(line.name),
                      !(guarded && (name == .xContentTypeOptions || name == .contentSecurityPolicy)) else { continue }
                fields.append(HTTPField(name: name, value: line.value))
            }
            describing = fields
        }
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

    /// Keeps `item`; a body of `BodyFile.minimumBytes` or more is kept as a sealed memory file (the copy is
    /// made here, once, outside the lock), which hits then send with sendfile.
    func put(_ key: CacheKey, _ item: Item) {
        guard item.bodyLength <= maxItemBytes else { return }
        let kept = item.bodyLength >= BodyFile.minimumBytes ? item.inFile() ?? item : item
        state.withLockedValue { $0.put(key, kept) }
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
            var item: Item?
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
        func peek(_ key: CacheKey) -> Item? { index[key].flatMap { slots[$0].item } }

        mutating func put(_ key: CacheKey, _ item: Item) {
            remove(key)
            let size = item.memoryCost
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
            bytes -= slots[i].item?.memoryCost ?? 0
            slots[i].item = nil  // let the memory go now
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

extension HotCache.Item {
    /// An item for a stored value (an encoded `CacheEntry`, as the store and peers hold it) whose header is `h`:
    /// the body copied out of `raw` into a buffer.
    convenience init(header h: CacheEntry.Header, stored raw: UnsafeRawBufferPointer, allocator: ByteBufferAllocator) {
        self.init(header: h, body: allocator.buffer(bytes: UnsafeRawBufferPointer(rebasing: raw[h.bodyOffset...])))
    }

    /// The item a stored value holds, or nil when its header does not decode.
    static func decoding(_ raw: UnsafeRawBufferPointer, allocator: ByteBufferAllocator) -> HotCache.Item? {
        CacheEntry.decodeHeader(raw).map { HotCache.Item(header: $0, stored: raw, allocator: allocator) }
    }
}
