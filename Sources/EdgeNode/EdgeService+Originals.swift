import EdgeCore
import Foundation
import NIOConcurrencyHelpers

/// The originals tier: fetched originals kept in a bounded LMDB store of their own (`cache.originalsBytes`, in
/// `<cache.path>/originals`, with the variants' eviction and crash safety), with the freshness their origin gave
/// them. Every variant of an original (and every watermark) is made from it: a new variant of a fresh original
/// costs no origin request, concurrent fills of one original's variants wait for one fetch, and a stale original
/// is revalidated once for all of them. A fill gets from it what the origin would have answered it — a 304 to the
/// validators of its stale variant when the original is that same representation — so the fill's own decisions
/// (`Fill.StateMachine`) are unchanged. Decisions: `OriginalFetch.StateMachine`.
extension EdgeService {
    /// An original as the tier hands it out: the origin's answer (headers in full), and, when the tier keeps it,
    /// the kept entry's header (its freshness and validators).
    struct OriginalCopy: Sendable {
        var contact: OriginContact
        var kept: CacheEntry.Header?
    }

    /// The original `path` of `source` for a transform (or a watermark), through the tier; `conditional`: the
    /// validators of the fill's stale variant. Folder sources read their files directly.
    func obtainOriginal(_ source: SourceConfig, _ path: SourcePath, conditional: [(name: String, value: String)])
        async throws(EdgeError) -> OriginContact {
        guard let tier = originals, source.kind != .folder else {
            metrics.countOriginal(result: "bypass")
            return try await contactOrigin(source, path, conditional: conditional)
        }
        let key = CacheKey.original(source: source.name, path: path.description)
        let copy: OriginalCopy
        if let fresh = keptOriginal(key, in: tier, freshOnly: true) {
            metrics.countOriginal(result: "hit")
            copy = fresh
        } else {
            let led = NIOLockedValueBox(false)
            do {
                copy = try await originalCoalescer.run(key) { [self] () async throws -> OriginalCopy in
                    led.withLockedValue { $0 = true }
                    return try await refreshOriginal(key, source, path, in: tier)
                }
                if !led.withLockedValue({ $0 }) { metrics.countOriginal(result: "coalesced") }
            } catch let error as EdgeError {
                throw error
            } catch {
                throw EdgeError.internalError(detail: "\(error)")
            }
        }
        return Self.answer(copy, conditional: conditional, now: clock())
    }

    /// What the origin would have answered the fill: with a kept copy, its full headers with its current `Age`
    /// (so the variant's freshness ends when the original's does) at the time of asking; 304 (no body) when
    /// `conditional` names the copy's representation.
    static func answer(_ copy: OriginalCopy, conditional: [(name: String, value: String)], now: Double) -> OriginContact {
        var contact = copy.contact
        guard contact.response.status == 200 else { return contact }
        if let kept = copy.kept {
            contact.response.headers = contact.response.headers.filter { $0.name != "age" }
                + [("age", kept.freshness.ageHeader(at: now))]
            (contact.requestTime, contact.responseTime) = (now, now)
        }
        let etag = contact.response.header("etag"), lastModified = contact.response.header("last-modified")
        if !conditional.isEmpty, OriginalFetch.answersNotModified(conditional, etag: etag, lastModified: lastModified) {
            contact.response.status = 304
            contact.response.body = []
        }
        return contact
    }

    /// The tier's copy, if it holds one that no purge covers (fresh, when `freshOnly`); one LMDB read, the body
    /// copied out.
    private func keptOriginal(_ key: CacheKey, in tier: any CacheStoring, freshOnly: Bool) -> OriginalCopy? {
        let now = clock()
        let found: OriginalCopy?? = tier.read(key) { raw -> OriginalCopy? in
            guard let h = CacheEntry.decodeHeader(raw), h.status == 200, !purges.covers(h),
                  !freshOnly || h.freshness.isFresh(at: now) else { return nil }
            let response = OriginResponse(status: 200, body: Array(raw[h.bodyOffset...]),
                                          headers: h.responseHeaders.map { ($0.name, $0.value) },
                                          startedAt: h.fetchedAt, duration: 0)
            return OriginalCopy(contact: OriginContact(response: response, requestTime: h.freshness.responseTime,
                                                       responseTime: h.freshness.responseTime,
                                                       stamp: HybridClock.micros(h.fetchedAt)),
                                kept: h)
        }
        return found ?? nil
    }

    /// One fetch of the original for everyone waiting (coalesced per original): the tier's copy if a fill just
    /// kept one, else the origin asked (conditionally with a stale copy's validators), and the answer kept as
    /// its caching fields allow.
    private func refreshOriginal(_ key: CacheKey, _ source: SourceConfig, _ path: SourcePath,
                                 in tier: any CacheStoring) async throws -> OriginalCopy {
        // Until the copy is written (or given up), purges from now on outlive any sweep: the check after the write
        // compares the copy with them.
        let begun = purges.beginFill()
        defer { purges.endFill(begun) }
        let stored = keptOriginal(key, in: tier, freshOnly: false)
        let now = clock()
        let found: OriginalFetch.Found = switch stored?.kept {
        case nil: .none
        case let h? where h.freshness.isFresh(at: now): .fresh
        case let h?: .stale(validators: !h.conditionalHeaders.isEmpty)
        }
        var machine = OriginalFetch.StateMachine()
        var action = machine.start(found: found)
        let cachePolicy = policy(for: source)
        var contact: OriginContact?
        var made: OriginalCopy?
        var result = stored == nil ? "fetched" : "refetched"
        /// The copy is in the tier (written, and no purge covered it meanwhile).
        var kept = false
        while true {
            switch action {
            case .useStored:
                metrics.countOriginal(result: "hit")
                return stored!
            case .fetch(let conditional):
                let answer = try await contactOrigin(source, path,
                                                     conditional: conditional ? stored!.kept!.conditionalHeaders : [])
                contact = answer
                action = machine.originAnswered(status: answer.response.status)
            case .freshen:
                let notModified = contact!, old = stored!.kept!
                let decision = cachePolicy.freshen(stored: old.originHeaderLines, notModified: notModified.response.headers,
                                              requestTime: notModified.requestTime, responseTime: notModified.responseTime)
                if let decision {
                    result = "revalidated"
                    var lines = stored!.contact.response.headers.filter { line in
                        !notModified.response.headers.contains { $0.name == line.name }
                    }
                    lines += notModified.response.headers
                    let header = old.refreshed(fetchedAt: HybridClock.seconds(notModified.stamp), freshness: decision.freshness,
                                               originHeaders: decision.cacheHeaderLines, downstreamCacheControl: nil,
                                               surrogateKeys: decision.surrogateKeys,
                                               responseHeaders: lines.map { HeaderLine(name: $0.name, value: $0.value) })
                    var response = stored!.contact.response
                    response.headers = lines
                    made = OriginalCopy(contact: OriginContact(response: response, requestTime: notModified.requestTime,
                                                               responseTime: notModified.responseTime, stamp: notModified.stamp),
                                        kept: header)
                }
                action = machine.freshened(sameRepresentation: decision != nil, storable: decision?.storable ?? false)
            case .decide:
                let fetched = contact!
                let decision = cachePolicy.decide(status: 200, headers: fetched.response.headers,
                                             requestTime: fetched.requestTime, responseTime: fetched.responseTime)
                let entry = CacheEntry(contentType: fetched.response.header("content-type") ?? "", etag: "",
                                       fetchedAt: HybridClock.seconds(fetched.stamp), freshness: decision.freshness,
                                       source: source.name, path: path.description, variesOnAccept: false,
                                       surrogateKeys: decision.surrogateKeys, originHeaders: decision.cacheHeaderLines,
                                       responseHeaders: fetched.response.headers.map { HeaderLine(name: $0.name, value: $0.value) },
                                       body: [])
                made = OriginalCopy(contact: fetched, kept: entry.header)
                action = machine.decided(storable: decision.storable)
            case .store:
                let copy = made!
                do {
                    try await tier.write(key, value: CacheEntry(header: copy.kept!, body: copy.contact.response.body).encoded())
                    // A purge applied while it was fetched or written (whose sweep may have passed the key already)
                    // must not leave it behind once its tombstone expires.
                    kept = purges.ifLive(copy.kept!, {})
                    if !kept { try? await tier.remove(key) }
                } catch {
                    // Too large for the tier, or its map or disk is full: the fill goes on with the copy in hand.
                    logger.debug("original not kept", metadata: ["edge.cache_key": "\(key)", "edge.error": "\(error)"])
                }
                action = machine.stored()
            case .use(let dropStored):
                if dropStored { try? await tier.remove(key) }
                metrics.countOriginal(result: result)
                // A copy the tier does not hold is handed out as the origin sent it.
                return kept ? made! : OriginalCopy(contact: made!.contact, kept: nil)
            case .passOn(let dropStored):
                if dropStored { try? await tier.remove(key) }
                metrics.countOriginal(result: "bypass")
                return OriginalCopy(contact: contact!, kept: nil)
            }
        }
    }
}
