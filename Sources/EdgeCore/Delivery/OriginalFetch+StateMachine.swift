/// Getting an original for a transform through the originals tier: the fetched originals kept (`cache.originalsBytes`)
/// with the freshness their origin gave them, so that every variant of one original costs one origin fetch per
/// lifetime and a stale original is revalidated once for all of its variants. Coalesced per original: the
/// concurrent fills of its variants wait for one such fetch. `OriginalFetch.StateMachine` makes its decisions; the
/// node runs its actions. What the tier hands a fill is what the origin would have answered it (a 304 to a fill's
/// own validators when the original is the same representation: `answersNotModified`).
public enum OriginalFetch {
    /// What the tier holds for the original when a fetch begins.
    public enum Found: Sendable, Equatable {
        /// Nothing (or only what a purge covers).
        case none
        /// A fresh copy.
        case fresh
        /// A stale copy; `validators`: its origin gave an ETag or Last-Modified to revalidate it with.
        case stale(validators: Bool)
    }

    /// The decisions of one fetch of an original through the tier.
    public struct StateMachine: Sendable {
        enum State: Sendable {
            case idle
            /// Asking the origin; `conditional`: with the stale copy's validators.
            case fetching(conditional: Bool)
            /// The origin said 304: the stale copy's fields are being merged with it.
            case freshening
            /// The origin sent the original: deciding whether to keep it.
            case keeping
            /// Writing the copy (new, or freshened) to the tier.
            case storing
            case finished
        }

        private var state = State.idle
        private var hadCopy = false

        public init() {}

        public enum Action: Sendable, Equatable {
            /// The tier's copy is fresh: hand it out, no origin request.
            case useStored
            /// Ask the origin; `conditional`: with the stale copy's validators. Then `originAnswered`.
            case fetch(conditional: Bool)
            /// Merge the 304's caching fields into the stale copy's (RFC 9111 §4.3.4). Then `freshened`.
            case freshen
            /// Decide from the origin's caching fields whether the original may be kept. Then `decided`.
            case decide
            /// Write the copy to the tier. Then `stored`.
            case store
            /// Hand out the copy made (fetched, or freshened); `dropStored`: remove the tier's old copy (the origin
            /// forbade keeping it).
            case use(dropStored: Bool)
            /// Hand out the origin's answer as it is (not an original a transform can use: 404, 5xx…), keeping
            /// nothing; `dropStored`: the original is gone (404, 410), so the tier's stale copy goes too.
            case passOn(dropStored: Bool)
        }

        /// The fetch begins with what the tier holds.
        public mutating func start(found: Found) -> Action {
            guard case .idle = state else { preconditionFailure("start twice") }
            switch found {
            case .fresh:
                state = .finished
                return .useStored
            case .none:
                state = .fetching(conditional: false)
                return .fetch(conditional: false)
            case .stale(let validators):
                hadCopy = true
                state = .fetching(conditional: validators)
                return .fetch(conditional: validators)
            }
        }

        /// The origin answered with `status` (304 only to a conditional fetch: the fetcher turns any other into an
        /// error).
        public mutating func originAnswered(status: Int) -> Action {
            guard case .fetching(let conditional) = state else { preconditionFailure("originAnswered while not fetching") }
            switch status {
            case 304 where conditional:
                state = .freshening
                return .freshen
            case 200:
                state = .keeping
                return .decide
            default:
                state = .finished
                return .passOn(dropStored: hadCopy && (status == 404 || status == 410))
            }
        }

        /// The 304 was merged: `sameRepresentation` false when its validator names another representation (then
        /// the original is fetched again without conditions); `storable` false when it forbids keeping the copy.
        public mutating func freshened(sameRepresentation: Bool, storable: Bool) -> Action {
            guard case .freshening = state else { preconditionFailure("freshened while not freshening") }
            guard sameRepresentation else {
                state = .fetching(conditional: false)
                return .fetch(conditional: false)
            }
            return keep(storable)
        }

        /// The origin's 200 was judged: `storable` false when its caching fields forbid keeping it (no-store,
        /// private), or the tier is off.
        public mutating func decided(storable: Bool) -> Action {
            guard case .keeping = state else { preconditionFailure("decided while not keeping") }
            return keep(storable)
        }

        private mutating func keep(_ storable: Bool) -> Action {
            if storable {
                state = .storing
                return .store
            }
            state = .finished
            return .use(dropStored: hadCopy)
        }

        /// The write ended (a copy the tier cannot hold is simply not kept).
        public mutating func stored() -> Action {
            guard case .storing = state else { preconditionFailure("stored while not storing") }
            state = .finished
            return .use(dropStored: false)
        }
    }

    /// Whether a fill's conditional request (`If-None-Match`, `If-Modified-Since`: the validators its stale variant
    /// was made with) is answered 304 by an original with these validators, as the origin would answer it (RFC 9110
    /// §13.1.2: weak comparison; §13.1.3: If-Modified-Since only without If-None-Match, and only an exact
    /// Last-Modified match counts here, since the variant was made from a response with that date).
    public static func answersNotModified(_ conditional: [(name: String, value: String)], etag: String?,
                                          lastModified: String?) -> Bool {
        func opaque(_ tag: String) -> Substring {
            let t = tag.trimmingCharacters(in: .whitespaces)
            return t.hasPrefix("W/") ? Substring(t).dropFirst(2) : Substring(t)
        }
        if let inm = conditional.first(where: { $0.name == "if-none-match" })?.value {
            guard let etag else { return false }
            return inm.split(separator: ",").contains { opaque(String($0)) == opaque(etag) }
        }
        if let ims = conditional.first(where: { $0.name == "if-modified-since" })?.value, let lastModified {
            return ims.trimmingCharacters(in: .whitespaces) == lastModified.trimmingCharacters(in: .whitespaces)
        }
        return false
    }
}
