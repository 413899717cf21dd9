import EdgeCore
import Testing

/// The request's cache decisions, without sockets, disk or sleep: every way a lookup, a record and a fill can go.
@Suite struct DeliveryStateMachineTests {
    /// An entry received at 1000, fresh for 60 s, then servable stale for `swr` s while revalidating and `sie` s
    /// when the origin fails; `etag` is the origin's validator (nil: none).
    static func entry(fetchedAt: Double = 1000, lifetime: Double = 60, swr: Double = 0, sie: Double = 0,
                      etag: String? = "\"v1\"", lastModified: String? = nil) -> CacheEntry.Header {
        var lines: [HeaderLine] = []
        if let etag { lines.append(HeaderLine(name: "etag", value: etag)) }
        if let lastModified { lines.append(HeaderLine(name: "last-modified", value: lastModified)) }
        return CacheEntry(contentType: "image/jpeg", etag: "\"mine\"", fetchedAt: fetchedAt,
                          freshness: EntryFreshness(responseTime: fetchedAt, initialAge: 0, lifetime: lifetime,
                                                    staleWhileRevalidate: swr, staleIfError: sie),
                          source: "s", path: "/a.jpg", variesOnAccept: false, originHeaders: lines, body: []).header
    }

    static func machine(_ c: Delivery.Conditions = .init()) -> Delivery.StateMachine { Delivery.StateMachine(conditions: c) }

    /// Should fill unconditionally when nothing is cached, and label the answer by how the fill ended.
    @Test(arguments: [
        (Delivery.Filled(stored: true), Delivery.StateMachine.AnswerAction.serve(.miss, serverTiming: true)),
        (Delivery.Filled(stored: false), .serve(.bypass, serverTiming: true)),
        (Delivery.Filled(fromCache: true, stored: true), .serve(.hit, serverTiming: false)),
        (Delivery.Filled(revalidated: true, stored: true), .serve(.hit, serverTiming: true)),
        (Delivery.Filled(revalidated: true, stored: false), .serve(.bypass, serverTiming: true)),
    ])
    func missIsFilledAndLabelled(filled: Delivery.Filled, answer: Delivery.StateMachine.AnswerAction) {
        var m = Self.machine()
        #expect(m.lookedUp(nil, purged: false, now: 1000) == .fill(conditional: false))
        #expect(m.filled(filled) == answer)
    }

    /// Should serve a fresh entry, as the plain answer only when the request has no conditions of its own.
    @Test(arguments: [
        (Delivery.Conditions(), true),
        (Delivery.Conditions(ifNoneMatch: true), false),
        (Delivery.Conditions(range: true), false),
        (Delivery.Conditions(disposition: true), false),
    ])
    func freshEntryIsServed(conditions: Delivery.Conditions, plain: Bool) {
        var m = Self.machine(conditions)
        #expect(m.lookedUp(Self.entry(), purged: false, now: 1059.9) == .serve(plain: plain))
    }

    /// Should treat an entry as stale from the moment its age reaches its lifetime (RFC 9111 §4.2).
    @Test func staleAtTheLifetime() {
        var m = Self.machine()
        #expect(m.lookedUp(Self.entry(etag: nil), purged: false, now: 1060) == .fill(conditional: false))
    }

    /// Should drop a purged entry and fill without it — never serve it, even stale when the origin fails.
    @Test func purgedEntryIsNoEntry() {
        for now in [1010.0, 1100.0] {
            var m = Self.machine()
            #expect(m.lookedUp(Self.entry(swr: 600, sie: 600), purged: true, now: now) == .dropAndFill)
            #expect(m.fillFailed(status: 502, now: now) == .reject)
        }
    }

    /// Should serve a stale entry without validators while stale-while-revalidate allows, else fill unconditionally.
    @Test func staleWithoutValidators() {
        var m = Self.machine()
        #expect(m.lookedUp(Self.entry(swr: 30, etag: nil), purged: false, now: 1089) == .serveStaleAndRevalidate)
        m = Self.machine()
        #expect(m.lookedUp(Self.entry(swr: 30, etag: nil), purged: false, now: 1090) == .fill(conditional: false))
    }

    /// Should answer a failed fill with the stale entry only for a server-side failure inside stale-if-error.
    @Test(arguments: [(502, 1100.0, true), (504, 1159.0, true), (503, 1160.0, false), (404, 1100.0, false),
                      (413, 1100.0, false)])
    func staleIfError(status: Int, now: Double, servesStale: Bool) {
        var m = Self.machine()
        #expect(m.lookedUp(Self.entry(sie: 100, etag: nil), purged: false, now: 1070) == .fill(conditional: false))
        #expect(m.fillFailed(status: status, now: now) == (servesStale ? .serveStale : .reject))
    }

    /// Should read the origin record of a stale entry with validators, and renew from it only when the record is
    /// newer, fresh, unpurged and of the same representation.
    @Test func renewalFromTheOriginRecord() {
        let stale = Self.entry()
        let now = 1100.0
        func outcome(_ record: CacheEntry.Header?, purged: Bool = false, staleEntry: CacheEntry.Header = stale)
            -> Delivery.StateMachine.LookupAction {
            var m = Self.machine()
            #expect(m.lookedUp(staleEntry, purged: false, now: now) == .readOriginRecord)
            return m.recordRead(record, purged: purged, now: now)
        }
        #expect(outcome(Self.entry(fetchedAt: 1090)) == .renewAndServe)
        #expect(outcome(nil) == .fill(conditional: true))
        #expect(outcome(Self.entry(fetchedAt: 1090), purged: true) == .fill(conditional: true))
        #expect(outcome(Self.entry(fetchedAt: 1000)) == .fill(conditional: true), "not newer than the entry")
        #expect(outcome(Self.entry(fetchedAt: 1030)) == .fill(conditional: true), "stale itself")
        #expect(outcome(Self.entry(fetchedAt: 1090, etag: "\"v2\"")) == .fill(conditional: true), "another representation")
        // Last-Modified alone identifies the representation when neither has an entity tag.
        let dated = Self.entry(etag: nil, lastModified: "Tue, 01 Dec 2026 10:00:00 GMT")
        #expect(outcome(Self.entry(fetchedAt: 1090, etag: nil, lastModified: "Tue, 01 Dec 2026 10:00:00 GMT"),
                        staleEntry: dated) == .renewAndServe)
        #expect(outcome(Self.entry(fetchedAt: 1090, etag: nil, lastModified: "Wed, 02 Dec 2026 10:00:00 GMT"),
                        staleEntry: dated) == .fill(conditional: true))
        // No renewal: stale-while-revalidate still applies.
        var m = Self.machine()
        #expect(m.lookedUp(Self.entry(swr: 300), purged: false, now: now) == .readOriginRecord)
        #expect(m.recordRead(nil, purged: false, now: now) == .serveStaleAndRevalidate)
    }

    /// Should keep a stale entry that went to a conditional fill for stale-if-error.
    @Test func conditionalFillKeepsTheStaleEntry() {
        var m = Self.machine()
        #expect(m.lookedUp(Self.entry(sie: 300), purged: false, now: 1100) == .readOriginRecord)
        #expect(m.recordRead(nil, purged: false, now: 1100) == .fill(conditional: true))
        #expect(m.fillFailed(status: 500, now: 1100) == .serveStale)
    }
}

/// The fill's decisions, without sockets, disk or sleep.
@Suite struct FillStateMachineTests {
    typealias Action = Fill.StateMachine.Action

    /// Should finish at once when the variant landed in the cache before the fill began.
    @Test func landed() {
        var m = Fill.StateMachine(canRevalidate: true)
        #expect(m.start(landed: true) == .finishFromCache)
    }

    /// Should fetch, transform and store a new variant, keeping it only when it is still live after the write.
    @Test(arguments: [(Fill.StoreResult.written(live: true), Action.finish(stored: true)),
                      (.written(live: false), .bypass(.incomplete, dropStored: true)),
                      (.notWritten, .finish(stored: false))])
    func fetchTransformStore(result: Fill.StoreResult, end: Action) {
        var m = Fill.StateMachine(canRevalidate: false)
        #expect(m.start(landed: false) == .fetch(conditional: false))
        #expect(m.originAnswered(status: 200, passes: false, staleOnError: false) == .transform)
        #expect(m.transformed(purged: false, storable: true, complete: true) == .store)
        #expect(m.stored(result) == end)
    }

    /// Should serve without storing what the origin forbids storing, or what lacks a part the URL asks for.
    @Test func bypasses() {
        var m = Fill.StateMachine(canRevalidate: false)
        _ = m.start(landed: false)
        _ = m.originAnswered(status: 200, passes: false, staleOnError: false)
        #expect(m.transformed(purged: false, storable: false, complete: true) == .bypass(.originForbids, dropStored: false))
        m = Fill.StateMachine(canRevalidate: false)
        _ = m.start(landed: false)
        _ = m.originAnswered(status: 200, passes: false, staleOnError: false)
        #expect(m.transformed(purged: false, storable: true, complete: false) == .bypass(.incomplete, dropStored: false))
    }

    /// Should make a result a purge covered again, once, from a fresh fetch; a second purge leaves it unstored.
    @Test func retryAfterPurge() {
        var m = Fill.StateMachine(canRevalidate: true)
        #expect(m.start(landed: false) == .fetch(conditional: true))
        #expect(m.originAnswered(status: 200, passes: false, staleOnError: false) == .transform)
        #expect(m.transformed(purged: true, storable: true, complete: true) == .fetch(conditional: false))
        #expect(m.originAnswered(status: 200, passes: false, staleOnError: false) == .transform)
        #expect(m.transformed(purged: true, storable: true, complete: true) == .bypass(.incomplete, dropStored: false))
        var again = Fill.StateMachine(canRevalidate: false)
        _ = again.start(landed: false)
        _ = again.originAnswered(status: 200, passes: false, staleOnError: false)
        #expect(again.transformed(purged: true, storable: true, complete: true) == .fetch(conditional: false))
        _ = again.originAnswered(status: 200, passes: false, staleOnError: false)
        #expect(again.transformed(purged: false, storable: true, complete: true) == .store)
    }

    /// Should renew the stale copy on a 304, drop it when the 304 forbids storing, and fetch in full when the 304
    /// names another representation.
    @Test func revalidation() {
        var m = Fill.StateMachine(canRevalidate: true)
        #expect(m.start(landed: false) == .fetch(conditional: true))
        #expect(m.originAnswered(status: 304, passes: false, staleOnError: false) == .freshen)
        #expect(m.freshened(sameRepresentation: true, storable: true) == .store)
        #expect(m.stored(.written(live: true)) == .finish(stored: true))

        m = Fill.StateMachine(canRevalidate: true)
        _ = m.start(landed: false)
        _ = m.originAnswered(status: 304, passes: false, staleOnError: false)
        #expect(m.freshened(sameRepresentation: true, storable: false) == .bypass(.originForbids, dropStored: true))

        m = Fill.StateMachine(canRevalidate: true)
        _ = m.start(landed: false)
        _ = m.originAnswered(status: 304, passes: false, staleOnError: false)
        #expect(m.freshened(sameRepresentation: false, storable: true) == .fetch(conditional: false))
        // A 304 to an unconditional fetch is no revalidation, and nothing a transform can use.
        #expect(m.originAnswered(status: 304, passes: false, staleOnError: false) == .fail(originStatus: 304))
    }

    /// Should take a full answer to a conditional fetch as a new original.
    @Test func conditionalFetchAnsweredInFull() {
        var m = Fill.StateMachine(canRevalidate: true)
        _ = m.start(landed: false)
        #expect(m.originAnswered(status: 200, passes: false, staleOnError: false) == .transform)
    }

    /// Should, whatever the origin, the purges and the store do, end within a bounded number of steps, fetch at most
    /// three times, store at most once, and say `stored` only for a write found live.
    @Test func everyRunEnds() {
        let bools = [false, true]
        var runs = 0
        for landed in bools { for canRevalidate in bools { for status in [200, 304, 404, 503] { for same in bools {
        for storable in bools { for purgedFirst in bools { for purgedSecond in bools { for complete in bools {
        for result in [Fill.StoreResult.written(live: true), .written(live: false), .notWritten] {
        for passes in bools { for staleOnError in bools {
            runs += 1
            var m = Fill.StateMachine(canRevalidate: canRevalidate)
            var action = m.start(landed: landed)
            var fetches = 0, stores = 0, transforms = 0, steps = 0, lastStore: Fill.StoreResult?, failed = false
            loop: while true {
                steps += 1
                #expect(steps < 12)
                switch action {
                case .finishFromCache:
                    #expect(landed && fetches == 0)
                    break loop
                case .fetch:
                    fetches += 1
                    action = m.originAnswered(status: status, passes: passes, staleOnError: staleOnError)
                case .freshen:
                    action = m.freshened(sameRepresentation: same, storable: storable)
                case .fail(let originStatus):
                    // Only a failing origin fails a fill; an original's 5xx is passed unless a stale copy can answer.
                    #expect(originStatus == status && (status >= 500 || !passes))
                    #expect(!passes || staleOnError)
                    failed = true
                    break loop
                case .transform, .pass, .missing:
                    if action == .pass { #expect(passes && status != 200) }
                    if action == .missing { #expect(!passes && status == 404) }
                    transforms += 1
                    action = m.transformed(purged: transforms == 1 ? purgedFirst : purgedSecond, storable: storable,
                                           complete: complete)
                case .store:
                    stores += 1
                    lastStore = result
                    action = m.stored(result)
                case .bypass(_, let dropStored):
                    if dropStored { #expect(stores == 1 && lastStore == .written(live: false) || storable == false) }
                    break loop
                case .finish(let stored):
                    #expect(stores == 1)
                    #expect(stored == (lastStore == .written(live: true)))
                    break loop
                }
            }
            #expect(fetches <= 3 && stores <= 1)
            if !landed { #expect(fetches >= 1) }
            if failed { #expect(stores == 0) }
        }}}}}}}}}}}
        #expect(runs == 6_144)
    }
}
