import EdgeCore
import Testing

/// The originals tier's decisions: when the origin is asked (and how), what is kept, what is dropped.
@Suite struct OriginalFetchStateMachineTests {
    /// Should use a fresh copy without asking the origin.
    @Test func freshCopyIsUsed() {
        var m = OriginalFetch.StateMachine()
        #expect(m.start(found: .fresh) == .useStored)
    }

    /// Should fetch without conditions when nothing is kept, and keep a storable 200.
    @Test func missingIsFetchedAndKept() {
        var m = OriginalFetch.StateMachine()
        #expect(m.start(found: .none) == .fetch(conditional: false))
        #expect(m.originAnswered(status: 200) == .decide)
        #expect(m.decided(storable: true) == .store)
        #expect(m.stored() == .use(dropStored: false))
    }

    /// Should revalidate a stale copy with validators, and keep it freshened on a 304.
    @Test func staleCopyIsRevalidated() {
        var m = OriginalFetch.StateMachine()
        #expect(m.start(found: .stale(validators: true)) == .fetch(conditional: true))
        #expect(m.originAnswered(status: 304) == .freshen)
        #expect(m.freshened(sameRepresentation: true, storable: true) == .store)
        #expect(m.stored() == .use(dropStored: false))
    }

    /// Should fetch again without conditions when a 304 names another representation.
    @Test func mismatchedNotModifiedRefetches() {
        var m = OriginalFetch.StateMachine()
        #expect(m.start(found: .stale(validators: true)) == .fetch(conditional: true))
        #expect(m.originAnswered(status: 304) == .freshen)
        #expect(m.freshened(sameRepresentation: false, storable: true) == .fetch(conditional: false))
        #expect(m.originAnswered(status: 200) == .decide)
        #expect(m.decided(storable: true) == .store)
    }

    /// Should fetch a stale copy without validators in full, and drop it when the new one may not be kept.
    @Test func unstorableReplacementDropsTheCopy() {
        var m = OriginalFetch.StateMachine()
        #expect(m.start(found: .stale(validators: false)) == .fetch(conditional: false))
        #expect(m.originAnswered(status: 200) == .decide)
        #expect(m.decided(storable: false) == .use(dropStored: true))
        var fresh = OriginalFetch.StateMachine()
        _ = fresh.start(found: .none)
        _ = fresh.originAnswered(status: 200)
        #expect(fresh.decided(storable: false) == .use(dropStored: false))
    }

    /// Should pass every other answer on, dropping a kept copy only when the origin says it is gone.
    @Test(arguments: [301, 403, 404, 410, 500, 503])
    func otherAnswersPassOn(status: Int) {
        for found in [OriginalFetch.Found.none, .stale(validators: true), .stale(validators: false)] {
            var m = OriginalFetch.StateMachine()
            _ = m.start(found: found)
            #expect(m.originAnswered(status: status) == .passOn(dropStored: found != .none && (status == 404 || status == 410)))
        }
    }

    /// Should end every run in a use or a pass, within a few steps, asking the origin at most twice.
    @Test func everyRunEnds() {
        for found in [OriginalFetch.Found.none, .fresh, .stale(validators: true), .stale(validators: false)] {
            for first in [200, 304, 404, 500] { for second in [200, 404] { for same in [false, true] {
            for storable in [false, true] {
                var m = OriginalFetch.StateMachine()
                var action = m.start(found: found)
                var fetches = 0, steps = 0
                loop: while true {
                    steps += 1
                    #expect(steps < 8)
                    switch action {
                    case .useStored, .use, .passOn: break loop
                    case .fetch(let conditional):
                        #expect(!conditional || found == .stale(validators: true) && fetches == 0)
                        fetches += 1
                        // The fetcher turns a 304 to an unconditional request into an error before this.
                        let status = fetches == 1 ? first : second
                        action = m.originAnswered(status: status == 304 && !conditional ? 502 : status)
                    case .freshen: action = m.freshened(sameRepresentation: same, storable: storable)
                    case .decide: action = m.decided(storable: storable)
                    case .store: action = m.stored()
                    }
                }
                #expect(fetches <= 2)
                if found == .fresh { #expect(fetches == 0) }
            } } } }
        }
    }

    /// Should answer a fill's validators 304 as the origin would: weak comparison of entity tags, If-Modified-Since
    /// only without If-None-Match, only an identical Last-Modified.
    @Test func notModifiedAnswers() {
        let lm = "Tue, 01 Dec 2026 10:00:00 GMT"
        #expect(OriginalFetch.answersNotModified([("if-none-match", "\"a\"")], etag: "\"a\"", lastModified: nil))
        #expect(OriginalFetch.answersNotModified([("if-none-match", "W/\"a\"")], etag: "\"a\"", lastModified: nil))
        #expect(OriginalFetch.answersNotModified([("if-none-match", "\"x\", \"a\"")], etag: "W/\"a\"", lastModified: nil))
        #expect(!OriginalFetch.answersNotModified([("if-none-match", "\"b\"")], etag: "\"a\"", lastModified: lm))
        #expect(!OriginalFetch.answersNotModified([("if-none-match", "\"a\""), ("if-modified-since", lm)], etag: "\"b\"",
                                                  lastModified: lm))
        #expect(!OriginalFetch.answersNotModified([("if-none-match", "\"a\"")], etag: nil, lastModified: lm))
        #expect(OriginalFetch.answersNotModified([("if-modified-since", lm)], etag: nil, lastModified: lm))
        #expect(!OriginalFetch.answersNotModified([("if-modified-since", "Tue, 01 Dec 2026 11:00:00 GMT")], etag: nil,
                                                  lastModified: lm))
        #expect(!OriginalFetch.answersNotModified([], etag: "\"a\"", lastModified: lm))
    }
}
