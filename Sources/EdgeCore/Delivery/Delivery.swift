/// How one request for a variant is answered: the cache decisions of the request flow (RFC 9111 freshness,
/// RFC 5861's stale-while-revalidate and stale-if-error, purges, renewal from another variant's origin contact),
/// made by `Delivery.StateMachine` without any I/O. The node's request runner looks things up, fills and writes
/// as the machine's actions say; `Fill.StateMachine` decides the fill itself.
public enum Delivery {
    /// The `X-Cache` label of an answer.
    public enum Label: String, Sendable {
        /// From the cache (fresh, or renewed without a new body).
        case hit = "HIT"
        /// Made by this fill and stored.
        case miss = "MISS"
        /// Made by this fill and not stored (the origin forbade it, or the store could not take it).
        case bypass = "BYPASS"
        /// A stale entry, served while it is revalidated or because the origin failed.
        case stale = "STALE"
    }

    /// The request's own conditions on the answer (they change the answer, never the variant).
    public struct Conditions: Sendable, Equatable {
        public var ifNoneMatch: Bool
        public var range: Bool
        /// imgix `dl=`: a `Content-Disposition` is added to a 200.
        public var disposition: Bool

        public init(ifNoneMatch: Bool = false, range: Bool = false, disposition: Bool = false) {
            self.ifNoneMatch = ifNoneMatch
            self.range = range
            self.disposition = disposition
        }

        /// None: the answer is a plain 200, the same for every such request while its `Age` stays the same, which
        /// a protocol adapter may keep encoded.
        public var arePlain: Bool { !ifNoneMatch && !range && !disposition }
    }

    /// How a fill ended, as a request that waited for it sees it.
    public struct Filled: Sendable, Equatable {
        /// The variant was found fresh in the cache when the fill began (a fill that had just ended stored it).
        public var fromCache: Bool
        /// The origin answered a revalidation with 304: the stored body was kept, only its freshness renewed.
        public var revalidated: Bool
        /// The result was stored.
        public var stored: Bool

        public init(fromCache: Bool = false, revalidated: Bool = false, stored: Bool) {
            self.fromCache = fromCache
            self.revalidated = revalidated
            self.stored = stored
        }
    }

    /// A stale entry may take the freshness of its origin object's record — written by a later contact with the
    /// origin for another variant of it (a fill or a revalidation) — when that contact confirmed the representation
    /// the entry was made from and is still fresh: then no request to the origin is needed.
    public static func renews(_ entry: CacheEntry.Header, from record: CacheEntry.Header, recordPurged: Bool,
                              now: Double) -> Bool {
        !recordPurged && record.fetchedAt > entry.fetchedAt && record.freshness.isFresh(at: now)
            && record.sameOriginRepresentation(as: entry)
    }
}
