/// One fill of a variant: fetch its original (conditionally when a stale copy can be revalidated), transform it,
/// store it — or renew the stale copy when the origin says it has not changed. Coalesced: every request for the
/// variant waits for the same fill. `Fill.StateMachine` makes its decisions; the node runs its actions.
public enum Fill {
    /// Why a result is served without being kept.
    public enum BypassReason: Sendable, Equatable {
        /// The origin's (or source's) caching rules forbid storing it (`no-store`, `private`…).
        case originForbids
        /// It is not what the URL asks for in full (a watermark could not be fetched), or a purge covered it while
        /// it was made (twice): served to those waiting, never kept.
        case incomplete
    }

    /// What became of a store write.
    public enum StoreResult: Sendable, Equatable {
        /// Written; `live`: no purge applied meanwhile covers it (checked after the write, so a purge whose
        /// sweep passed the key already cannot leave it behind).
        case written(live: Bool)
        /// The store does not take it (too large for the cache) or failed (a full map or disk): served all the same.
        case notWritten
    }

    /// The decisions of one fill. `attempt` counts fetches made because a purge covered the result of an earlier one.
    public struct StateMachine: Sendable {
        enum State: Sendable {
            /// Not started.
            case idle
            /// Fetching the original; `conditional`: with the stale copy's validators.
            case fetching(conditional: Bool, attempt: Int)
            /// The origin said 304 to a conditional fetch: the stale copy's fields are being merged with it.
            case freshening
            /// The original is being transformed.
            case transforming(attempt: Int)
            /// The result (or the stale copy with new freshness) is being written to the store.
            case storing
            /// The fill's result is decided.
            case finished
        }

        private var state = State.idle
        /// The fill has a stale copy whose origin gave validators: its first fetch is conditional.
        public let canRevalidate: Bool

        /// `canRevalidate`: the fill has a stale copy whose origin gave validators.
        public init(canRevalidate: Bool) { self.canRevalidate = canRevalidate }

        public enum Action: Sendable, Equatable {
            /// The variant was stored fresh (by a fill that ended just before this one began): finish with it.
            case finishFromCache
            /// Fetch the original; `conditional`: send the stale copy's validators. Then `originAnswered`.
            case fetch(conditional: Bool)
            /// Merge the 304's caching fields into the stale copy's (RFC 9111 §4.3.4). Then `freshened`.
            case freshen
            /// Transform the original. Then `transformed`.
            case transform
            /// Make the answer from the origin's as it is: its status, body and end-to-end headers (an original
            /// whose origin answered other than 200, a redirect passed on among them). Then `transformed`.
            case pass
            /// The original is missing (404 or 410): make that answer for the variant, cached by the error's
            /// freshness (negative caching). Then `transformed`.
            case missing
            /// The origin failed (a 5xx, or a status a transform cannot use): the fill fails with 502, and a stale
            /// copy may answer instead (stale-if-error).
            case fail(originStatus: Int)
            /// Write the result (or the renewed copy) to the store. Then `stored`.
            case store
            /// Serve the result without keeping it; `dropStored`: remove the stored copy too.
            case bypass(BypassReason, dropStored: Bool)
            /// Finished: the result was stored, or (`stored` false) the store could not take it.
            case finish(stored: Bool)
        }

        /// The fill begins; `landed`: the variant is in the cache, fresh and not purged.
        public mutating func start(landed: Bool) -> Action {
            guard case .idle = state else { preconditionFailure("start twice") }
            if landed {
                state = .finished
                return .finishFromCache
            }
            state = .fetching(conditional: canRevalidate, attempt: 0)
            return .fetch(conditional: canRevalidate)
        }

        /// The origin answered with `status`. `passes`: the request is for the original, whose answer is the
        /// origin's whatever its status (a 200 is still cleaned of its metadata: `transform`); `staleOnError`: a
        /// stale copy may answer if the origin fails.
        public mutating func originAnswered(status: Int, passes: Bool, staleOnError: Bool) -> Action {
            guard case .fetching(let conditional, let attempt) = state else { preconditionFailure("no fetch running") }
            if conditional && status == 304 {
                state = .freshening
                return .freshen
            }
            if status >= 500 && (staleOnError || !passes) {
                state = .finished
                return .fail(originStatus: status)
            }
            if passes && status != 200 {
                state = .transforming(attempt: attempt)
                return .pass
            }
            switch status {
            case 200:
                state = .transforming(attempt: attempt)
                return .transform
            case 404, 410:
                state = .transforming(attempt: attempt)
                return .missing
            default:
                state = .finished
                return .fail(originStatus: status)
            }
        }

        /// The 304 was merged: `sameRepresentation` false when it names another representation than the stale
        /// copy's (then the original is fetched in full); `storable` whether the merged fields allow storing.
        public mutating func freshened(sameRepresentation: Bool, storable: Bool) -> Action {
            guard case .freshening = state else { preconditionFailure("freshened without a 304") }
            guard sameRepresentation else {
                state = .fetching(conditional: false, attempt: 0)
                return .fetch(conditional: false)
            }
            if storable {
                state = .storing
                return .store
            }
            // The 304 withdrew permission to store (no-store, private): serve this once and drop the copy.
            state = .finished
            return .bypass(.originForbids, dropStored: true)
        }

        /// The result is made. `purged`: a purge covers it (its fetch began before the purge); `storable`: the
        /// origin's rules allow storing it; `complete`: everything the URL asks for is in it (a watermark was fetched).
        public mutating func transformed(purged: Bool, storable: Bool, complete: Bool) -> Action {
            guard case .transforming(let attempt) = state else { preconditionFailure("transformed without a transform") }
            if purged && attempt == 0 {
                // Made again, once, from a fetch that starts after the purge.
                state = .fetching(conditional: false, attempt: 1)
                return .fetch(conditional: false)
            }
            if purged || !complete {
                state = .finished
                return .bypass(.incomplete, dropStored: false)
            }
            guard storable else {
                state = .finished
                return .bypass(.originForbids, dropStored: false)
            }
            state = .storing
            return .store
        }

        /// The store write ended.
        public mutating func stored(_ result: StoreResult) -> Action {
            guard case .storing = state else { preconditionFailure("stored without a store") }
            state = .finished
            switch result {
            case .written(live: true):
                return .finish(stored: true)
            case .written(live: false):
                // A purge applied meanwhile covers it (a renewed copy as much as a new one): not kept.
                return .bypass(.incomplete, dropStored: true)
            case .notWritten:
                return .finish(stored: false)
            }
        }
    }
}
