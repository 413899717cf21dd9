extension Delivery {
    /// The decisions of one request, from the lookup to the answer: events in (what the lookup found, the origin
    /// record read for it, how the fill ended), actions out. The clock is passed in with each event.
    public struct StateMachine: Sendable {
        enum State: Sendable {
            /// Nothing looked up yet.
            case idle
            /// A stale entry whose origin gave validators was found; its origin record is being read (`recordRead`).
            case readingRecord(stale: CacheEntry.Header)
            /// A fill (this request's, or one it joined) is running; `stale` may answer if it fails.
            case filling(stale: CacheEntry.Header?)
            /// The answer is decided; no event is expected.
            case answered
        }

        private var state = State.idle
        private let conditions: Conditions

        public init(conditions: Conditions) { self.conditions = conditions }

        /// What to do with what the lookup found.
        public enum LookupAction: Sendable, Equatable {
            /// A fresh entry: answer with it (HIT); `plain`: a 200 without conditions, the answer most requests get.
            case serve(plain: Bool)
            /// A stale entry the origin could confirm: read its origin object's record, then `recordRead`.
            case readOriginRecord
            /// The record renews the stale entry: store the entry with the record's freshness, answer with it (HIT).
            case renewAndServe
            /// Answer with the stale entry (STALE) and revalidate it in the background, one fill for all.
            case serveStaleAndRevalidate
            /// Join or start the variant's fill; `conditional`: the fetch carries the stale entry's validators.
            /// Then `filled` or `fillFailed`.
            case fill(conditional: Bool)
            /// The entry is purged (no entry: not served, not even stale): remove it, then fill unconditionally.
            case dropAndFill
        }

        /// The lookup found `entry` (nil: none); `purged` when a tombstone covers it.
        public mutating func lookedUp(_ entry: CacheEntry.Header?, purged: Bool, now: Double) -> LookupAction {
            guard case .idle = state else { preconditionFailure("lookedUp twice") }
            guard let entry else {
                state = .filling(stale: nil)
                return .fill(conditional: false)
            }
            if purged {
                state = .filling(stale: nil)
                return .dropAndFill
            }
            if entry.freshness.isFresh(at: now) {
                state = .answered
                return .serve(plain: conditions.arePlain)
            }
            if !entry.conditionalHeaders.isEmpty {
                state = .readingRecord(stale: entry)
                return .readOriginRecord
            }
            return staleWithoutRenewal(entry, now: now)
        }

        /// The origin record asked for by `readOriginRecord` (nil: none); `purged` when a tombstone covers it.
        public mutating func recordRead(_ record: CacheEntry.Header?, purged: Bool, now: Double) -> LookupAction {
            guard case .readingRecord(let stale) = state else { preconditionFailure("recordRead without readOriginRecord") }
            if let record, Delivery.renews(stale, from: record, recordPurged: purged, now: now) {
                state = .answered
                return .renewAndServe
            }
            return staleWithoutRenewal(stale, now: now)
        }

        private mutating func staleWithoutRenewal(_ stale: CacheEntry.Header, now: Double) -> LookupAction {
            if stale.freshness.canServeStaleWhileRevalidating(at: now) {
                state = .answered
                return .serveStaleAndRevalidate
            }
            state = .filling(stale: stale)
            return .fill(conditional: !stale.conditionalHeaders.isEmpty)
        }

        /// How to answer once the fill has ended.
        public enum AnswerAction: Sendable, Equatable {
            /// Answer with the fill's result; `serverTiming`: it did work (origin, transform) worth reporting.
            case serve(Label, serverTiming: Bool)
            /// The fill failed and the stale entry may answer instead (stale-if-error): STALE.
            case serveStale
            /// Answer with the fill's error.
            case reject
        }

        /// The fill ended with a result.
        public mutating func filled(_ f: Filled) -> AnswerAction {
            guard case .filling = state else { preconditionFailure("filled without a fill") }
            state = .answered
            let label: Label = f.fromCache || (f.revalidated && f.stored) ? .hit : f.stored ? .miss : .bypass
            return .serve(label, serverTiming: !f.fromCache)
        }

        /// The fill failed with an error of `status`: a server-side failure (5xx) is answered with the stale entry
        /// while its stale-if-error window lasts.
        public mutating func fillFailed(status: Int, now: Double) -> AnswerAction {
            guard case .filling(let stale) = state else { preconditionFailure("fillFailed without a fill") }
            state = .answered
            if let stale, status >= 500, stale.freshness.canServeStaleOnError(at: now) { return .serveStale }
            return .reject
        }
    }
}
