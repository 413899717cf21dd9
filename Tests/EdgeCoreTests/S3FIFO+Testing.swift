@testable import EdgeCore

// What only the policy's tests ask of it, through its internals: whether a key is a ghost, and its estimated
// frequency.
extension S3FIFO {
    /// Whether `key` was evicted from `S` recently enough to be remembered.
    func isGhost(_ key: Key) -> Bool {
        guard let i = table.find(key) else { return false }
        return table[i].list == Self.ghostList
    }

    /// How often `key` was asked for lately, as the frequency sketch estimates it with the hits its slot has not
    /// passed on yet: an overestimate where keys collide in the sketch, halved at each aging.
    func estimatedFrequency(of key: Key) -> Int {
        guard let i = table.find(key) else { return Int(sketch.estimate(UInt64(Self.sketchHash(key)))) }
        return Int(sketch.estimate(UInt64(table[i].hash))) + Int(table[i].frequency)
    }
}
