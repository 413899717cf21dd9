/// TinyLFU's frequency sketch (Einziger et al., "TinyLFU: a highly efficient cache admission policy", 2017): a
/// count-min sketch of how often each key was asked for lately, in a fixed number of bytes whatever the number of
/// keys. Each key counts in four one-byte counters picked by its hash within one 64-byte block (Caffeine's layout:
/// one cache line per update); its estimate is the smallest of them, never below the true count since the last
/// aging, and above it only where other keys share all four counters.
///
/// Conservative update (a key's counters rise only as far as its new estimate) keeps those collisions small; counters
/// saturate at 255 instead of 15 (Caffeine's 4-bit ones) so that popular objects of different sizes stay apart.
/// Aging halves every counter once the increments since the last aging reach ten times the number of counters,
/// so the estimate follows a shifting popularity. The owner calls `ageIfDue()` on its miss path, so that `add`
/// never touches more than four counters.
///
/// An estimate, not state: it is never persisted, and a restarted cache starts with an empty one that refills.
@usableFromInline
struct FrequencySketch: Sendable {
    // Counters, a power of two of them (whole blocks of 64).
    @usableFromInline var counters: [UInt8]
    // Number of blocks - 1.
    @usableFromInline var blockMask: UInt64
    @usableFromInline var increments = 0
    @usableFromInline var agingPeriod: Int

    /// An empty sketch of `width` counters (rounded up to a power of two, at least 64).
    @inlinable init(width: Int = 64) {
        let n = Self.roundedWidth(width)
        counters = [UInt8](repeating: 0, count: n)
        blockMask = UInt64(n / 64 - 1)
        agingPeriod = 10 * n
    }

    @inlinable static func roundedWidth(_ width: Int) -> Int {
        var n = 64
        while n < width { n <<= 1 }
        return n
    }

    /// Number of counters.
    @inlinable var width: Int { counters.count }

    /// The four counter indices of `hash`: a block from the high bits of its mix, four offsets in it from the low.
    @inlinable func indices(_ hash: UInt64) -> (Int, Int, Int, Int) {
        // SplitMix64's finaliser: a 32-bit hash kept in a slot is not a full word.
        var z = hash &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let base = Int(truncatingIfNeeded: ((z >> 24) & blockMask) << 6)
        return (base | Int(z & 63), base | Int((z >> 6) & 63), base | Int((z >> 12) & 63), base | Int((z >> 18) & 63))
    }

    /// How often `hash` was counted since the last aging (an overestimate where keys collide), 0...255.
    @inlinable func estimate(_ hash: UInt64) -> UInt8 {
        let (i0, i1, i2, i3) = indices(hash)
        return counters.withUnsafeBufferPointer { c in min(min(c[i0], c[i1]), min(c[i2], c[i3])) }
    }

    /// Counts `count` more occurrences of `hash` by conservative update: each of its counters rises to at least
    /// its old estimate plus `count` (saturating at 255), none higher. Returns the new estimate.
    @inlinable @discardableResult
    mutating func add(_ hash: UInt64, count: UInt8 = 1) -> UInt8 {
        let (i0, i1, i2, i3) = indices(hash)
        increments += Int(count)
        return counters.withUnsafeMutableBufferPointer { c in
            let least = min(min(c[i0], c[i1]), min(c[i2], c[i3]))
            let raised = UInt8(min(Int(UInt8.max), Int(least) + Int(count)))
            c[i0] = max(c[i0], raised)
            c[i1] = max(c[i1], raised)
            c[i2] = max(c[i2], raised)
            c[i3] = max(c[i3], raised)
            return raised
        }
    }

    /// Halves every counter if the increments since the last aging reached the period. O(width), once per
    /// `10 × width` increments: amortised O(1).
    @inlinable mutating func ageIfDue() {
        guard increments >= agingPeriod else { return }
        counters.withUnsafeMutableBufferPointer { c in
            for i in c.indices { c[i] >>= 1 }
        }
        increments /= 2
    }

    /// Grows to at least `width` counters by doubling. A key's block is its mix masked, so with twice the blocks
    /// block `b` becomes `b` or `b + old count`: both start as copies of `b`, and no estimate is lost.
    @inlinable mutating func grow(toAtLeast width: Int) {
        guard width > counters.count else { return }
        let n = Self.roundedWidth(width)
        var grown = counters
        grown.reserveCapacity(n)
        while grown.count < n { grown += grown }
        counters = grown
        blockMask = UInt64(n / 64 - 1)
        agingPeriod = 10 * n
    }
}
