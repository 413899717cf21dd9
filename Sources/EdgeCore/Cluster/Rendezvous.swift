import Crypto
import Foundation

/// A member of the cluster as peer fill sees it: its gossip address (its name everywhere in the cluster), where
/// its peer port answers, and its weight (`cluster.weight`).
public struct ClusterMember: Sendable, Hashable, CustomStringConvertible {
    public var id: String
    /// `host:port` of its peer listener.
    public var endpoint: String
    public var weight: Double
    /// A 64-bit hash of `id`, made once: what the key's hash is mixed with.
    public let seed: UInt64

    public init(id: String, endpoint: String, weight: Double = 1) {
        self.id = id
        self.endpoint = endpoint
        self.weight = weight
        seed = Array(SHA256.hash(data: Array(id.utf8))).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    public var description: String { id }
}

/// Rendezvous (highest-random-weight) hashing: every node ranks the members for a key the same way from the
/// same member list, with no table to agree on. Adding or removing one of N equal members moves about 1/N of the
/// keys (only those it now owns, or owned). Weights use the logarithmic method (Schindelhauer and Schomaker 2005,
/// as in Resch's "weighted rendezvous"): a member of weight w owns a share w / Σw of the keys.
public enum Rendezvous {
    /// The members best first for a key given by its digest (at least 8 bytes; `CacheKey.bytes`).
    public static func rank(_ key: [UInt8], _ members: [ClusterMember]) -> [ClusterMember] {
        let h = keyHash(key)
        return members.map { (m: $0, s: score(h, $0)) }
            .sorted { $0.s != $1.s ? $0.s > $1.s : $0.m.id < $1.m.id }
            .map(\.m)
    }

    /// The best-ranked member alone.
    public static func owner(_ key: [UInt8], _ members: [ClusterMember]) -> ClusterMember? {
        let h = keyHash(key)
        var best: (m: ClusterMember, s: Double)?
        for m in members {
            let s = score(h, m)
            if best == nil || s > best!.s || (s == best!.s && m.id < best!.m.id) { best = (m, s) }
        }
        return best?.m
    }

    static func keyHash(_ key: [UInt8]) -> UInt64 {
        key.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// −w / ln(u), u uniform in (0, 1) from the mixed hashes: the largest score wins.
    static func score(_ keyHash: UInt64, _ m: ClusterMember) -> Double {
        guard m.weight > 0 else { return -.infinity }
        let mixed = mix(keyHash ^ m.seed)
        let u = (Double(mixed >> 11) + 0.5) / 9_007_199_254_740_992.0
        return -m.weight / log(u)
    }

    /// MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
    static func mix(_ x: UInt64) -> UInt64 {
        var k = x
        k ^= k >> 33
        k &*= 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k &*= 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
}
