import Crypto
import EdgeCore
import EdgePrivacy
import Foundation
import Logging
import NIOConcurrencyHelpers
import HTTPTypes
import NIOCore

/// The request flow of the edge front: route, parse, negotiate, key, look up, fill on a miss, respond.
/// Steps up to the lookup run on the event loop with no I/O beyond one LMDB read; fills run on pools.
final class EdgeService: Sendable {
    let config: NodeConfig
    let router: SourceRouter
    let store: any CacheStoring
    let origin: any OriginFetching
    let imaging: any ImageProcessing
    let fetchPool: BoundedPool
    let transformPool: BoundedPool
    let decodeBudget: DecodeBudget
    /// The transforms being made now, by original (`CacheKey.original`) and registration: what a decode is shared
    /// with.
    let makingNow = NIOLockedValueBox<(last: UInt64, byOriginal: [CacheKey: [UInt64: TransformSpec]])>((0, [:]))
    let coalescer: FillCoalescer<FillResult>
    /// The originals tier (`cache.originalsBytes`; nil when 0), and the single flight of its fetches.
    let originals: (any CacheStoring)?
    let originalCoalescer: FillCoalescer<OriginalCopy>
    let resolvedMemo = ResolvedMemo()
    let hot: HotCache
    let metrics: NodeMetrics
    let logger: Logger
    let purges: PurgeService
    let keyring: AdminKeyring
    let clock: @Sendable () -> Double
    /// The access log, when `log.access` is set.
    let accessLog: AccessLog?
    /// Peer fill (`cluster.port`), once the node's gossip runs.
    let cluster = NIOLockedValueBox<ClusterService?>(nil)
    /// The shared tier (`cache.shared`), once the node has started it.
    let shared = NIOLockedValueBox<SharedTier?>(nil)
    /// Keys whose fill here is asking a peer now (and how many such fills): an ask received for one of them is
    /// not joined to that fill, which may be waiting on the very node asking.
    let askingPeers = NIOLockedValueBox<[CacheKey: Int]>([:])

    init(config: NodeConfig, store: any CacheStoring, origin: any OriginFetching, imaging: any ImageProcessing,
         metrics: NodeMetrics, logger: Logger, purges: PurgeService? = nil, accessLog: AccessLog? = nil,
         originals: (any CacheStoring)? = nil, clock: @escaping @Sendable () -> Double = WallClock.seconds) {
        self.originals = originals
        originalCoalescer = FillCoalescer(timeout: .milliseconds(Int64(config.fillTimeout * 1000)))
        self.accessLog = accessLog
        self.purges = purges ?? PurgeService(nodeID: config.nodeID, sources: config.sources.map(\.name), log: nil, tombstones: [], clock: clock)
        self.keyring = AdminKeyring(config.adminKeys)
        self.config = config
        self.router = SourceRouter(sources: config.sources, defaultSource: config.defaultSource)
        self.store = store
        self.origin = origin
        self.imaging = imaging
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        hot = HotCache(maxBytes: config.cacheMemoryBytes)
        coalescer = FillCoalescer(timeout: .milliseconds(Int64(config.fillTimeout * 1000)))
        fetchPool = BoundedPool(threads: config.maxConcurrentFetches, maxQueued: config.maxQueuedFetches)
        transformPool = BoundedPool(threads: config.maxConcurrentTransforms, maxQueued: config.maxQueuedTransforms)
        decodeBudget = DecodeBudget(capacity: config.decodeMemory, maxWaiting: config.maxQueuedTransforms)
    }

    func shutdown() async {
        await fetchPool.shutdown()
        await transformPool.shutdown()
        await purges.shutdown()
    }

    /// Either the answer now (hit, error), or the work that produces it (miss).
    enum Outcome {
        case done(EdgeAnswer)
        case pending(@Sendable () async -> EdgeAnswer)
    }

    /// Everything a fill needs, resolved from the request.
    /// Immutable and shared (the memo hands out references: a hit copies no field of it).
    final class Resolved: Sendable {
        let source: SourceConfig
        let path: SourcePath
        let spec: TransformSpec
        let format: NegotiatedFormat
        let key: CacheKey
        let variesOnAccept: Bool
        /// Client-hint headers the response varies with ("DPR, Width"), empty when the URL has no `ch`.
        let clientHints: String
        /// The URL's `expires` (Unix seconds): no response may be cached past it.
        let expires: Double?
        /// `Content-Disposition` for `dl=` (it changes no byte of the body, so it is not part of the key).
        let contentDisposition: String?
        /// The request is for the original (no parameter changes it): the origin's answer is passed on, whatever
        /// its status, with its end-to-end headers.
        let passes: Bool
        /// The source forwards `Authorization` with the fetch of an original: such requests follow RFC 9111 §3.5.
        let forwardsAuthorization: Bool

        init(source: SourceConfig, path: SourcePath, spec: TransformSpec, format: NegotiatedFormat, key: CacheKey,
             variesOnAccept: Bool, clientHints: String, expires: Double? = nil, contentDisposition: String? = nil) {
            self.source = source
            self.path = path
            self.spec = spec
            self.format = format
            self.key = key
            self.variesOnAccept = variesOnAccept
            self.clientHints = clientHints
            self.expires = expires
            self.contentDisposition = contentDisposition
            passes = spec.isIdentity(for: format)
            forwardsAuthorization = passes && source.forwardsRequestHeaders && source.forwardRequestHeaders.contains("authorization")
        }
    }

    /// What one request looks up and fills: its resolution, the key (the resolution's, or one varied by the
    /// request's values of the fields an original's `Vary` names), and, for an original, the request's fields
    /// (forwarded to the origin, and keyed when its answer varies).
    struct Target: Sendable {
        let resolved: Resolved
        let key: CacheKey
        /// The keyed Vary names the key was varied by (from the original's vary record); empty for the plain key.
        let varyNames: [String]
        /// The request's fields; read only for originals.
        let fields: RequestFields
        /// An original requested with an `Authorization` the source forwards: never coalesced with other
        /// requests, stored and served from the cache only as RFC 9111 §3.5 allows.
        let authorized: Bool
        /// The request as the key's owner needs it, when its fill may ask the owner (nil: fill here — peer fill is
        /// off, or this is an owner's fill for an ask).
        let peer: PeerRequest?

        init(_ resolved: Resolved, key: CacheKey? = nil, varyNames: [String] = [], fields: RequestFields = .none,
             authorized: Bool = false, peer: PeerRequest? = nil) {
            self.resolved = resolved
            self.key = key ?? resolved.key
            self.varyNames = varyNames
            self.fields = fields
            self.authorized = authorized
            self.peer = peer
        }

        /// The key of this request's answer among an original's Vary variants.
        func varied(by names: [String], lines: [(name: String, value: String)]) -> CacheKey {
            names.isEmpty ? resolved.key : CacheKey.varied(resolved.key, by: RequestHeaderRules.varyKeyText(names: names, lines: lines))
        }
    }

    /// The entry for `key` in the memory tier or the store (which then enters the memory tier).
    func look(_ key: CacheKey, allocator: ByteBufferAllocator) -> HotCache.Item? {
        if let item = hot.get(key) {
            // The store's eviction policy must see the hits the memory tier takes, or it would evict the most
            // popular variants as never hit.
            store.recordHit(key)
            return item
        }
        let item = store.read(key) { HotCache.Item.decoding($0, allocator: allocator) } ?? nil
        if let item { hot.put(key, item) }
        return item
    }

    func respond(to request: EdgeRequest, allocator: ByteBufferAllocator) -> Outcome {
        let now = clock()
        var lookup: Resolved
        // Steps 1–6 are a pure function of the request (and, through `expires`, of the clock): a repeated request
        // reuses its resolution instead of parsing, verifying and hashing again. Preconditions are per request.
        guard request.method == .get || request.method == .head else {
            return .done(errorResponse(EdgeError.methodNotAllowed))
        }
        let memoKey = ResolvedMemo.key(request)
        if let known = resolvedMemo.get(memoKey), known.expires.map({ now <= $0 }) ?? true {
            lookup = known
        } else {
            do {
                lookup = try resolve(request)
            } catch {
                return .done(errorResponse(error))
            }
            resolvedMemo.put(memoKey, lookup)
        }
        let resolved = lookup
        // A customer switched the source off (here or on a peer): refused from that moment, memo or not.
        if purges.isDisabled(resolved.source.name) {
            return .done(errorResponse(EdgeError.forbidden("source is disabled")))
        }
        let conditions = request.preconditions
        // Look up: the memory tier (the body buffer is shared, not copied), then LMDB (the body is copied straight
        // out of the mapped page into a buffer, which the memory tier then keeps).
        var cached = look(resolved.key, allocator: allocator)
        // What an original's request looks up depends on its fields too; a variant's target is made only if a fill
        // needs it (a hit makes none).
        var original: Target?
        if resolved.passes { (original, cached) = originalTarget(resolved, request, cached, allocator: allocator) }
        /// The target of a fill, which may ask the key's owner when peer fill is on.
        func fillTarget() -> Target {
            let t = original ?? Target(resolved)
            guard cluster.withLockedValue({ $0 != nil }), Self.peerFillable(t) else { return t }
            return Target(resolved, key: t.key, varyNames: t.varyNames, fields: t.fields, authorized: t.authorized,
                          peer: PeerRequest(request))
        }
        var delivery = Delivery.StateMachine(conditions: Delivery.Conditions(
            ifNoneMatch: conditions.ifNoneMatch != nil || conditions.ifModifiedSince != nil, range: conditions.range != nil,
            disposition: resolved.contentDisposition != nil))
        var action = delivery.lookedUp(cached?.header, purged: cached.map { purges.covers($0) } ?? false, now: now)
        var record: CacheEntry.Header?
        if case .readOriginRecord = action, let item = cached {
            record = originRecord(of: item.header)
            action = delivery.recordRead(record, purged: record.map { purges.covers($0) } ?? false, now: now)
        }
        switch action {
        case .serve(plain: true) where resolved.expires == nil || cached!.header.downstreamCacheControl == nil:
            return .done(plainHit(cached!, now: now, resolved))
        case .serve:
            return .done(Self.disposed(hit(cached!, cache: .hit, now: now, resolved, conditions), resolved.contentDisposition))
        case .readOriginRecord:
            preconditionFailure("the origin record was read above")
        case .renewAndServe:
            // Another variant of the same origin object was revalidated (or refetched unchanged) since this one
            // was made: it takes that freshness without contacting the origin.
            let key = original?.key ?? resolved.key
            let renewed = renew(cached!, from: record!, key: key)
            return .pending { [self] in
                // Stored before answering, so the renewal is not lost to a restart (once per variant).
                let value = Self.encoded(renewed)
                try? await store.write(key, value: value)
                return Self.disposed(hit(renewed, cache: .hit, now: clock(), resolved, conditions), resolved.contentDisposition)
            }
        case .serveStaleAndRevalidate:
            // Serve the stale copy now; one background revalidation (coalesced with any other) refreshes it.
            let stale = cached!
            let target = fillTarget()
            Task { [self] in
                _ = try? await coalescer.run(target.key) { [self] in try await fill(target, stale: stale, allocator: allocator) }
            }
            return .done(Self.disposed(hit(stale, cache: .stale, now: now, resolved, conditions), resolved.contentDisposition))
        case .dropAndFill:
            let target = fillTarget()
            drop(target.key)
            return fillAndAnswer(target, stale: nil, delivery, conditions, allocator: allocator)
        case .fill:
            return fillAndAnswer(fillTarget(), stale: cached, delivery, conditions, allocator: allocator)
        }
    }

    /// An original's target and what it finds. An entry with Vary names under the original's key is its vary
    /// record: the answer for this request is under the key varied by the request's values of those fields (RFC
    /// 9111 §4.1). A request with an Authorization the source forwards is served a stored answer only if it said
    /// public, s-maxage or must-revalidate (§3.5).
    private func originalTarget(_ resolved: Resolved, _ request: EdgeRequest, _ found: HotCache.Item?,
                                allocator: ByteBufferAllocator) -> (Target, HotCache.Item?) {
        var cached = found
        var target = Target(resolved, fields: request.fields)
        var lines: [(name: String, value: String)]?
        if let names = cached?.header.varyNames, !names.isEmpty {
            let l = request.fields.lines
            lines = l
            let key = target.varied(by: names, lines: l)
            target = Target(resolved, key: key, varyNames: names, fields: request.fields)
            cached = look(key, allocator: allocator)
        }
        if resolved.forwardsAuthorization, (lines ?? request.fields.lines).contains(where: { $0.name.lowercased() == "authorization" }) {
            target = Target(resolved, key: target.key, varyNames: target.varyNames, fields: request.fields, authorized: true)
            if let entry = cached?.header, !Self.allowsAuthorized(entry) { cached = nil }
        }
        return (target, cached)
    }

    /// Joins (or starts) the variant's fill and answers with its result, or with the stale entry or the error
    /// when it fails, as `delivery` decides.
    private func fillAndAnswer(_ target: Target, stale: HotCache.Item?, _ delivery: Delivery.StateMachine,
                               _ conditions: Preconditions, allocator: ByteBufferAllocator) -> Outcome {
        let resolved = target.resolved
        return .pending { [self] in
            var delivery = delivery
            let answer: Delivery.StateMachine.AnswerAction
            let result: Result<FillResult, any Error>
            do {
                var fill = try await coalescedFill(target, stale: stale, allocator: allocator)
                // A fill this request joined found that the original varies on fields whose values this request
                // does not share: it gets an answer of its own, from a fill under its own varied key.
                if resolved.passes, !fill.varyNames.isEmpty, fill.varyNames != target.varyNames {
                    let own = target.varied(by: fill.varyNames, lines: target.fields.lines)
                    if own != fill.key {
                        let mine = Target(resolved, key: own, varyNames: fill.varyNames, fields: target.fields,
                                          authorized: target.authorized)
                        fill = try await coalescedFill(mine, stale: nil, allocator: allocator)
                    }
                }
                result = .success(fill)
                answer = delivery.filled(Delivery.Filled(fromCache: fill.fromCache, revalidated: fill.revalidated,
                                                         stored: fill.stored))
            } catch {
                result = .failure(error)
                answer = delivery.fillFailed(status: ((error as? EdgeError) ?? .internalError(detail: "")).status, now: clock())
            }
            switch (answer, result) {
            case (.serve(let label, let timing), .success(let fill)):
                var r = entryResponse(fill.item, cache: label.rawValue, now: clock(), resolved, conditions,
                                      timing: timing ? fill.serverTiming : nil)
                if let cc = fill.uncacheable { r.fields[.cacheControl] = cc }
                metrics.countRequest(status: Int(r.status.code), cache: label.rawValue)
                return Self.disposed(r, resolved.contentDisposition)
            case (.serveStale, .failure(let error)):
                logger.debug("served stale on error", metadata: ["edge.status": "\((error as? EdgeError)?.status ?? 500)"])
                return Self.disposed(hit(stale!, cache: .stale, now: clock(), resolved, conditions), resolved.contentDisposition)
            case (.reject, .failure(let error)):
                return errorResponse(error)
            default:
                preconditionFailure("an answer that does not fit how the fill ended")
            }
        }
    }

    /// A fresh hit with no conditions — the answer most requests get. Its fields depend on the entry, its `Age`
    /// and its `max-age` alone (`PlainHit`): they are made only if the protocol adapter has no encoding of them.
    private func plainHit(_ item: HotCache.Item, now: Double, _ r: Resolved) -> EdgeAnswer {
        let h = item.header
        metrics.countRequest(status: h.status, cache: "HIT")
        return EdgeAnswer(plain: PlainHit(item: item, age: h.freshness.ageSeconds(at: now),
                                          maxAge: h.downstreamCacheControl == nil ? Self.maxAge(h, now: now, r) : -1))
    }

    /// The Cache-Control an answer from `h` carries: the origin's (an original's as sent, or what the cache policy
    /// chose), else `public, max-age=<remaining>`; under a URL's `expires`, no lifetime it states outlasts the URL.
    static func cacheControl(_ h: CacheEntry.Header, now: Double, _ r: Resolved) -> String {
        guard let fixed = h.downstreamCacheControl else { return "public, max-age=\(maxAge(h, now: now, r))" }
        guard let expires = r.expires else { return fixed }
        return CacheControl.bounding(fixed, maxAge: Int(max(0, min(expires - now, Double(CacheControl.maxDeltaSeconds)))))
    }

    /// The `max-age` a hit promises downstream: the entry's remaining freshness, bounded by the URL's `expires`.
    static func maxAge(_ h: CacheEntry.Header, now: Double, _ r: Resolved) -> Int {
        Int(min(h.freshness.remainingLifetime(at: now), max(0, (r.expires ?? .infinity) - now)))
    }

    private func hit(_ item: HotCache.Item, cache: Delivery.Label, now: Double, _ r: Resolved, _ c: Preconditions) -> EdgeAnswer {
        let response = entryResponse(item, cache: cache.rawValue, now: now, r, c, timing: nil)
        metrics.countRequest(status: Int(response.status.code), cache: cache.rawValue)
        return response
    }

    /// Steps 1–6 of the request: pure functions of the request and the configuration.
    func resolve(_ request: EdgeRequest) throws(EdgeError) -> Resolved {
        guard request.method == .get || request.method == .head else { throw .methodNotAllowed }
        guard let source = router.route(host: request.host) else { throw .notFound("no source for this host") }
        // Signature and expiry over the raw request target, before any parsing or I/O.
        let verdict = try SignatureVerifier(source: source).verify(target: Substring(request.uri), now: clock())
        guard source.enabled else { throw .forbidden("source is disabled") }
        let uri = Substring(request.uri)
        let q = uri.firstIndex(of: "?")
        let path = try source.originPath(raw: q.map { uri[..<$0] } ?? uri)
        // A proxied URL on a host the source does not allow is refused before any I/O (the fetcher checks again,
        // with curl's parser, for the first request and every redirect).
        if let target = path.proxied, !source.originHosts(baseHost: nil).allows(target.host) {
            throw .forbidden("origin host not allowed", detail: "host \(target.host) is not in allowedHosts")
        }
        var spec = try TransformParser.parse(query: q.map { uri[uri.index(after: $0)...] } ?? "",
                                             defaults: source.defaultParamPairs, hints: request.hints)
        // What the source permits of metadata decides the output, so it is part of the spec (and the key).
        if !source.allowIPTC { spec.output.iptc = .block }
        spec.output.exposeLocation = source.exposeLocation
        let format = NegotiatedFormat(spec: spec, accept: request.accept)
        let key = CacheKey(source: source.name, path: path.description, spec: spec, format: format)
        return Resolved(source: source, path: path, spec: spec, format: format, key: key,
                        variesOnAccept: spec.autoFormat,
                        clientHints: spec.clientHints.map(\.header).joined(separator: ", "),
                        expires: verdict.expires,
                        contentDisposition: spec.output.contentDisposition(
                            sourcePath: path.proxied.map { String($0.urlWithoutQuery) } ?? path.description))
    }

    /// Adds `Content-Disposition` (imgix `dl`) to a 200 response.
    static func disposed(_ r: EdgeAnswer, _ disposition: String?) -> EdgeAnswer {
        guard let disposition, r.status == .ok else { return r }
        var r = r
        // The URL's `dl` wins over an original's own Content-Disposition.
        r.fields[.contentDisposition] = disposition
        return r
    }

    /// Joins (or starts) the fill of `target`'s key; a request with a forwarded Authorization fills alone.
    private func coalescedFill(_ target: Target, stale: HotCache.Item?, allocator: ByteBufferAllocator) async throws -> FillResult {
        if target.authorized { return try await fill(target, stale: stale, allocator: allocator) }
        return try await coalescer.run(target.key) { [self] in try await fill(target, stale: stale, allocator: allocator) }
    }

    /// RFC 9111 §3.5: whether a stored response may answer a request with Authorization (its Cache-Control says
    /// public, s-maxage or must-revalidate).
    static func allowsAuthorized(_ entry: CacheEntry.Header) -> Bool {
        RequestHeaderRules.allowsAuthorized(CacheControl(lines: entry.originHeaders.filter { $0.name == "cache-control" }.map(\.value)))
    }

    /// The outcome of one fill, shared by every request that waited for it.
    struct FillResult: Sendable {
        /// The entry's header and body, shared by every waiter (and the memory tier).
        var item: HotCache.Item
        var serverTiming: String
        /// Cache-Control to send instead of the public one, when the origin forbade storing.
        var uncacheable: String?
        /// False when the result was not stored (origin forbade it, or the store refused it): X-Cache: BYPASS.
        var stored: Bool
        /// The entry was found fresh in the cache when the fill began (a fill that had just ended stored it).
        var fromCache = false
        /// The origin answered a revalidation with 304: the stored body was kept, only its freshness renewed.
        var revalidated = false
        /// The key the result is kept under, and the keyed Vary names of an original's answer (empty: none).
        var key: CacheKey
        var varyNames: [String] = []
    }

    /// The cache policy for a source: the node's default lifetime and the source's overrides.
    func policy(for source: SourceConfig) -> CachePolicy {
        CachePolicy(defaultTTL: config.defaultTTL, negativeTTL: config.negativeTTL,
                    source: .init(ttl: source.ttl, staleWhileRevalidate: source.staleWhileRevalidate,
                                  staleIfError: source.staleIfError))
    }

    /// The record of the origin response `entry`'s object was last confirmed by (any variant's fill or
    /// revalidation), if one is stored: one LMDB read, only for stale entries.
    private func originRecord(of entry: CacheEntry.Header) -> CacheEntry.Header? {
        let recordKey = CacheKey.originRecord(source: entry.source, path: entry.path)
        return store.read(recordKey, { CacheEntry.decodeHeader($0) }) ?? nil
    }

    /// `item` with the freshness of its origin `record` (`Delivery.renews` said it may), in place of it in the
    /// memory tier; the caller stores it.
    private func renew(_ item: HotCache.Item, from record: CacheEntry.Header, key: CacheKey) -> HotCache.Item {
        let header = item.header.refreshed(fetchedAt: record.fetchedAt, freshness: record.freshness,
                                           originHeaders: record.originHeaders,
                                           downstreamCacheControl: record.downstreamCacheControl,
                                           surrogateKeys: record.surrogateKeys)
        let renewed = HotCache.Item(header: header, body: item.body)
        hot.put(key, renewed)
        metrics.countRevalidation(result: "inherited")
        return renewed
    }

    /// Records the origin response a variant was made from (its freshness and validators), so that the other
    /// variants of the object can inherit a later revalidation. Only for responses with a validator. A record that
    /// cannot be stored only means that each variant revalidates for itself.
    private func recordOrigin(_ header: CacheEntry.Header) async {
        guard header.status == 200, !header.conditionalHeaders.isEmpty else { return }
        let record = CacheEntry(contentType: "", etag: "", fetchedAt: header.fetchedAt, freshness: header.freshness,
                                source: header.source, path: header.path, variesOnAccept: false,
                                downstreamCacheControl: header.downstreamCacheControl,
                                surrogateKeys: header.surrogateKeys, originHeaders: header.originHeaders, body: [])
        let key = CacheKey.originRecord(source: header.source, path: header.path)
        try? await store.write(key, value: record.encoded())
    }

    /// An original's answer placed among its Vary variants: the fields its Vary names that this source forwards
    /// (`RequestHeaderRules.keyedVary`) go into its header, and `key` becomes the key varied by this request's
    /// values of them (the original's own key when there are none). Variants of transforms never vary so.
    private func varying(_ item: HotCache.Item, _ t: Target, lines: [(name: String, value: String)], decision: CacheDecision,
                         key: inout CacheKey, varyNames: inout [String]) -> HotCache.Item {
        guard t.resolved.passes else { return item }
        let names = t.resolved.source.requestHeaderRules.keyedVary(decision.vary)
        (key, varyNames) = (t.varied(by: names, lines: lines), names)
        guard !names.isEmpty else { return item }
        var header = item.header
        header.varyNames = names
        return HotCache.Item(header: header, body: item.body)
    }

    /// Stores an original's vary record under its own key: the Vary names its answers are keyed by, with no body.
    /// A record that cannot be stored only means that the next request's fill finds the names again.
    private func recordVary(_ header: CacheEntry.Header, key: CacheKey) async {
        let record = CacheEntry(contentType: "", etag: "", fetchedAt: header.fetchedAt, freshness: header.freshness,
                                source: header.source, path: header.path, variesOnAccept: false,
                                surrogateKeys: header.surrogateKeys, body: [])
        var value = record
        value.varyNames = header.varyNames
        hot.remove(key)
        try? await store.write(key, value: value.encoded())
    }

    /// Removes a purged entry from both tiers (the store in the background).
    private func drop(_ key: CacheKey) {
        hot.remove(key)
        Task { [store] in try? await store.remove(key) }
    }

    /// A fresh entry for `key` from the memory tier or the store, if there is one.
    func freshEntry(_ key: CacheKey, allocator: ByteBufferAllocator) -> HotCache.Item? {
        let now = clock()
        if let item = hot.get(key), item.header.freshness.isFresh(at: now), !purges.covers(item) { return item }
        let stored: HotCache.Item?? = store.read(key) { raw -> HotCache.Item? in
            guard let h = CacheEntry.decodeHeader(raw), h.freshness.isFresh(at: now), !purges.covers(h) else { return nil }
            return HotCache.Item(header: h, stored: raw, allocator: allocator)
        }
        return stored ?? nil
    }

    /// One origin fetch and when it happened: request and response times on the node's clock (RFC 9111 §4.2.3),
    /// read inside the pool around the fetch itself (a wait for a fetch slot is not the origin's time), and the
    /// fetch's start on the hybrid logical clock (purges made up to then cover what the fill makes).
    struct OriginContact: Sendable {
        var response: OriginResponse
        var requestTime: Double
        var responseTime: Double
        var stamp: UInt64
    }

    /// The origin's answer for a fill: an original's fetched with the request's forwarded fields; a transform's
    /// through the originals tier (`obtainOriginal`), which may answer without asking the origin.
    private func contactOrigin(_ r: Resolved, conditional: [(name: String, value: String)] = [],
                               forwarded: [(name: String, value: String)]) async throws(EdgeError) -> OriginContact {
        guard r.passes else { return try await obtainOriginal(r.source, r.path, conditional: conditional) }
        return try await contactOrigin(r.source, r.path, conditional: conditional, forwarded: forwarded,
                                       passRedirects: r.source.passRedirects)
    }

    /// One origin request, in the fetch pool.
    func contactOrigin(_ source: SourceConfig, _ path: SourcePath, conditional: [(name: String, value: String)],
                       forwarded: [(name: String, value: String)] = [], passRedirects: Bool = false)
        async throws(EdgeError) -> OriginContact {
        let maxBytes = config.maxSourceBytes
        return try await fetchPool.run { [origin, clock, purges] () throws(EdgeError) in
            let stamp = purges.tick()
            let sent = clock()
            let response = try origin.fetch(source: source, path: path, maxBytes: maxBytes, conditional: conditional,
                                            forwarded: forwarded, passRedirects: passRedirects)
            return OriginContact(response: response, requestTime: sent, responseTime: clock(), stamp: stamp)
        }
    }

    /// Fetches, transforms and stores a variant, as `Fill.StateMachine` decides. With a `stale` copy that has
    /// validators, the fetch is conditional, and a 304 renews the copy instead (no body fetched, nothing
    /// transformed). An original's fetch forwards the request's fields; when its answer varies on some of them,
    /// it is kept under the key varied by this request's values, with a vary record under the original's key.
    func fill(_ t: Target, stale: HotCache.Item?, allocator: ByteBufferAllocator) async throws -> FillResult {
        let r = t.resolved
        // Until its result is stored (or given up), purges applied from now on outlive any sweep: they are what
        // the check after the write compares it with.
        let begun = purges.beginFill()
        defer { purges.endFill(begun) }
        // A transform is among its original's variants being made now from the start, so that the first of them
        // to decode knows the others (they wait for the same original fetch).
        let making = r.passes ? nil : beginMaking(r)
        defer { if let making { endMaking(making) } }
        var machine = Fill.StateMachine(canRevalidate: !(stale?.header.conditionalHeaders.isEmpty ?? true))
        let lines = r.passes ? t.fields.lines : []
        let forwarded = r.passes && r.source.forwardsRequestHeaders ? r.source.requestHeaderRules.forwarded(lines) : []
        /// Where the result is kept, and the Vary names that put it there.
        var key = t.key
        var varyNames = t.varyNames
        // A fill that ended between this request's lookup and its joining has stored the entry: use it (through
        // the vary record it may have left under the original's key).
        var landed = freshEntry(key, allocator: allocator)
        if let names = landed?.header.varyNames, !names.isEmpty, key == r.key {
            (key, varyNames) = (t.varied(by: names, lines: lines), names)
            landed = freshEntry(key, allocator: allocator)
        }
        if t.authorized, let entry = landed?.header, !Self.allowsAuthorized(entry) { landed = nil }
        // Peer fill: the key's owner in the cluster makes it (or has it), unless this node is the owner.
        if landed == nil, let request = t.peer, let cluster = cluster.withLockedValue({ $0 }),
           let fromPeer = try await fillFromPeer(t, request, cluster, allocator: allocator) {
            return fromPeer
        }
        // The shared tier: what another node (or this one, before a restart) made, if it may still be used.
        if landed == nil, let tier = shared.withLockedValue({ $0 }), Self.peerFillable(t),
           let fromShared = await fillFromShared(t, tier, allocator: allocator) {
            return fromShared
        }
        var action = machine.start(landed: landed != nil)
        var contact: OriginContact?
        var originTime = Duration.zero
        var decision: CacheDecision?
        /// The result: the variant made (or the stale copy renewed), to serve and perhaps store.
        var made: (item: HotCache.Item, entry: CacheEntry.Header, timing: String)?
        var revalidated = false
        var countedModified = false
        while true {
            switch action {
            case .finishFromCache:
                return FillResult(item: landed!, serverTiming: "", uncacheable: nil, stored: true, fromCache: true, key: key,
                                  varyNames: varyNames)
            case .fetch(let conditional):
                let start = ContinuousClock.now
                let answer = try await contactOrigin(r, conditional: conditional ? stale!.header.conditionalHeaders : [],
                                                     forwarded: forwarded)
                originTime = ContinuousClock.now - start
                metrics.originDuration.recordNanoseconds(Int64(originTime.inSeconds * 1e9))
                contact = answer
                action = machine.originAnswered(status: answer.response.status, passes: r.passes,
                                                staleOnError: stale?.header.freshness.canServeStaleOnError(at: clock()) ?? false)
            case .freshen:
                let notModified = contact!, stale = stale!
                decision = policy(for: r.source).freshen(
                    stored: stale.header.originHeaderLines, notModified: notModified.response.headers,
                    status: stale.header.status, requestTime: notModified.requestTime, responseTime: notModified.responseTime)
                if let decision {
                    metrics.countRevalidation(result: "not-modified")
                    let rules = r.source.responseHeaderRules(passAll: r.passes)
                    let header = stale.header.refreshed(
                        fetchedAt: HybridClock.seconds(notModified.stamp), freshness: decision.freshness,
                        originHeaders: decision.cacheHeaderLines,
                        downstreamCacheControl: r.passes ? decision.originCacheControl ?? decision.downstreamCacheControl
                            : decision.downstreamCacheControl,
                        surrogateKeys: decision.surrogateKeys,
                        responseHeaders: rules.refresh(stale.header.responseHeaders, with: notModified.response.headers,
                                                       withheld: decision.withheldFields))
                    made = (HotCache.Item(header: header, body: stale.body), header,
                            String(format: "origin;dur=%.1f;desc=revalidated", originTime.inSeconds * 1000))
                    revalidated = true
                } else {
                    metrics.countRevalidation(result: "mismatch")
                }
                action = machine.freshened(sameRepresentation: decision != nil, storable: decision?.storable ?? false)
            case .fail(let status):
                throw EdgeError.badGateway(detail: "origin answered \(status)")
            case .transform, .pass, .missing:
                if machine.canRevalidate && !countedModified {
                    metrics.countRevalidation(result: "modified")
                    countedModified = true
                }
                let m = switch action {
                case .pass: passOn(r, contact!, originTime: originTime)
                case .missing: missing(r, contact!, originTime: originTime)
                default: try await transform(r, contact!, originTime: originTime)
                }
                decision = m.decision
                let item = varying(m.item, t, lines: lines, decision: m.decision, key: &key, varyNames: &varyNames)
                made = (item, item.header, m.timing)
                action = machine.transformed(purged: purges.covers(item.header),
                                             storable: m.decision.storable && (!t.authorized || Self.allowsAuthorized(item.header)),
                                             complete: m.complete)
            case .store:
                let result = made!
                let written: Fill.StoreResult
                do {
                    let value = CacheEntry(header: result.entry, body: Array(result.item.body.readableBytesView)).encoded()
                    try await store.write(key, value: value)
                    // Checked again once written: a purge applied meanwhile, whose sweep may have passed this key
                    // already, must not leave it behind when its tombstone expires.
                    let live = purges.ifLive(result.entry) { hot.put(key, result.item) }
                    if live {
                        await recordOrigin(result.entry)
                        if key != r.key { await recordVary(result.entry, key: r.key) }
                        if key == t.key, Self.peerFillable(t), let tier = shared.withLockedValue({ $0 }) {
                            tier.write(key, raw: value, header: result.entry)
                        }
                    }
                    written = .written(live: live)
                } catch is CacheWriteRefused {
                    logger.debug("variant too large to cache", metadata: ["edge.cache_key": "\(key)"])
                    written = .notWritten
                } catch {
                    // A full map or disk: the image is still served, marked BYPASS; the request never fails for it.
                    logger.error("cache write failed", metadata: ["edge.cache_key": "\(key)", "edge.error": "\(error)"])
                    written = .notWritten
                }
                action = machine.stored(written)
            case .bypass(let reason, let dropStored):
                if dropStored {
                    hot.remove(key)
                    try? await store.remove(key)
                }
                let uncacheable = switch reason {
                case .incomplete: "no-store"
                case .originForbids: made?.entry.downstreamCacheControl ?? "private, no-cache"
                }
                return FillResult(item: made!.item, serverTiming: made!.timing, uncacheable: uncacheable, stored: false,
                                  revalidated: revalidated, key: key, varyNames: varyNames)
            case .finish(let stored):
                return FillResult(item: made!.item, serverTiming: made!.timing, uncacheable: nil, stored: stored,
                                  revalidated: revalidated, key: key, varyNames: varyNames)
            }
        }
    }

    /// Registers a transform of `r`'s original as being made now.
    private func beginMaking(_ r: Resolved) -> (key: CacheKey, id: UInt64) {
        let key = CacheKey.original(source: r.source.name, path: r.path.description)
        let id = makingNow.withLockedValue { m in
            m.last += 1
            m.byOriginal[key, default: [:]][m.last] = r.spec
            return m.last
        }
        return (key, id)
    }

    private func endMaking(_ making: (key: CacheKey, id: UInt64)) {
        makingNow.withLockedValue { m in
            m.byOriginal[making.key]?[making.id] = nil
            if m.byOriginal[making.key]?.isEmpty == true { m.byOriginal[making.key] = nil }
        }
    }

    /// What a transform of `r` from `contact` shares its decode with: the other variants of the original being
    /// made now, under an identity of these very bytes (the origin's version or validator, else the fetch).
    private func sharing(_ r: Resolved, _ contact: OriginContact) -> DecodeSharing {
        let key = CacheKey.original(source: r.source.name, path: r.path.description)
        let response = contact.response
        let version = response.version ?? response.header("etag") ?? "fetch-\(contact.stamp)"
        let others = makingNow.withLockedValue { m in (m.byOriginal[key] ?? [:]).values.filter { $0 != r.spec } }
        return DecodeSharing(identity: "\(key)/\(version)", siblings: Array(others))
    }

    /// A variant made from what the origin sent: the watermark fetched (from the same source, through the same
    /// fetcher and caps), the transform run in its pool, the result's header with the origin's caching decision.
    /// What a fill made of an origin's answer: the entry, the caching decision for it, whether it is everything the
    /// URL asks for (a watermark could be fetched), and its Server-Timing.
    typealias Made = (item: HotCache.Item, decision: CacheDecision, complete: Bool, timing: String)

    private func transform(_ r: Resolved, _ contact: OriginContact, originTime: Duration) async throws -> Made {
        let fetched = contact.response
        // As imgix does, a watermark that cannot be fetched (missing, origin down) is left out; that rendering is
        // then served but not stored.
        var resources = TransformResources()
        var markMissing = false
        if let markPath = try r.spec.watermark.path(on: r.source), let reference = r.spec.watermark.reference {
            do throws(EdgeError) {
                let mark = try await obtainOriginal(r.source, markPath, conditional: []).response
                guard mark.status == 200 else { throw EdgeError.badGateway(detail: "watermark origin answered \(mark.status)") }
                resources.images[reference.description] = mark.body
            } catch {
                // Over the size caps, or the node is overloaded: the request fails as it would for the source.
                guard error.status != 413 && error.status != 503 else { throw error }
                markMissing = true
                logger.debug("watermark left out", metadata: ["edge.status": "\(error.status)", "edge.detail": "\(error.detail ?? error.publicMessage)"])
            }
        }

        let decision = policy(for: r.source).decide(status: 200, headers: fetched.headers, requestTime: contact.requestTime,
                                                    responseTime: contact.responseTime)
        let limits = ImageLimits(maxSourcePixels: config.maxSourcePixels)
        let identity = r.spec.isIdentity(for: r.format)
        let keepMetadata = r.source.keepMetadata
        let originType = Self.mediaType(fetched.header("content-type"))
        // The decode's memory, from the source's header, is admitted against limits.decodeMemory first (a wait
        // holds no thread). An original whose metadata is removed without decoding needs none; a source that is
        // not an image is passed through.
        let queuedAt = ContinuousClock.now
        let sharing = config.decodeCopies > 0 ? sharing(r, contact) : nil
        let needed = try await transformPool.run { [imaging] () throws(EdgeError) -> Int in
            if identity && (keepMetadata || LosslessMetadata.container(fetched.body) != nil) { return 0 }
            do throws(EdgeError) {
                return try imaging.decodeMemory(source: fetched.body, spec: r.spec, format: r.format, limits: limits)
            } catch {
                guard identity || error.status == 415 else { throw error }
                return 0
            }
        }
        if needed > 0 { try await decodeBudget.admit(needed) }
        defer { if needed > 0 { decodeBudget.release(needed) } }
        // Timed inside the pool: Server-Timing shows the work and the wait for a transform slot apart.
        /// What the pool made: the body, its type, and whether it is the origin's representation (an original or
        /// a passed-through file: its headers go on) and its very bytes.
        typealias Output = (body: [UInt8], contentType: String, original: Bool, sameBytes: Bool)
        let (image, transformTime) = try await transformPool.run {
            [imaging, resources] () throws(EdgeError) -> (Output, Duration) in
            let start = ContinuousClock.now
            // No parameter changes anything: the original, its metadata removed losslessly (kept with keepMetadata).
            // Formats that cannot be cleaned without decoding (TIFF, HEIF…) go through the pipeline instead.
            if identity {
                if keepMetadata {
                    let type = LosslessMetadata.container(fetched.body)?.contentType ?? originType
                    return ((fetched.body, type, true, true), ContinuousClock.now - start)
                }
                if let clean = LosslessMetadata.strip(fetched.body) {
                    return ((clean.body, clean.container.contentType, true, clean.body == fetched.body), ContinuousClock.now - start)
                }
            }
            do throws(EdgeError) {
                let image = try imaging.process(source: fetched.body, spec: r.spec, format: r.format, limits: limits,
                                                resources: resources, sharing: sharing)
                return ((image.body, image.format.contentType, identity, false), ContinuousClock.now - start)
            } catch {
                // Not an image this node reads (PDF, JSON, video…): served as the origin sent it, as imgix does.
                guard error.status == 415 else { throw error }
                return ((fetched.body, originType, true, true), ContinuousClock.now - start)
            }
        }
        let queueTime = max(.zero, ContinuousClock.now - queuedAt - transformTime)
        metrics.transformDuration.recordNanoseconds(Int64(transformTime.inSeconds * 1e9))

        let entry = Self.entry(r, contact, decision: decision, status: 200, body: image.body, contentType: image.contentType,
                               original: image.original, sameBytes: image.sameBytes)
        let timing = String(format: "origin;dur=%.1f, queue;dur=%.1f, transform;dur=%.1f", originTime.inSeconds * 1000,
                            queueTime.inSeconds * 1000, transformTime.inSeconds * 1000)
        return (HotCache.Item(header: entry.header, body: ByteBuffer(bytes: entry.body)), decision, !markMissing, timing)
    }

    /// The origin's answer to a request for an original, passed on as it came: its status, body and end-to-end
    /// headers (a redirect with its Location), cached as its status and headers allow.
    private func passOn(_ r: Resolved, _ contact: OriginContact, originTime: Duration) -> Made {
        let fetched = contact.response
        let decision = policy(for: r.source).decide(status: fetched.status, headers: fetched.headers,
                                                    requestTime: contact.requestTime, responseTime: contact.responseTime)
        let type = fetched.header("content-type").map { Self.mediaType($0) } ?? ""
        let entry = Self.entry(r, contact, decision: decision, status: fetched.status, body: fetched.body, contentType: type,
                               original: true, sameBytes: true)
        return (HotCache.Item(header: entry.header, body: ByteBuffer(bytes: entry.body)), decision, true,
                String(format: "origin;dur=%.1f", originTime.inSeconds * 1000))
    }

    /// A transform's answer when its original is missing (the origin said 404 or 410): that status with the
    /// node's own error body, cached for the origin's freshness or `cache.negativeTTL`, so that a flood of requests
    /// for a missing image costs one origin fetch per lifetime.
    private func missing(_ r: Resolved, _ contact: OriginContact, originTime: Duration) -> Made {
        let fetched = contact.response
        let decision = policy(for: r.source).decide(status: fetched.status, headers: fetched.headers,
                                                    requestTime: contact.requestTime, responseTime: contact.responseTime)
        let error = fetched.status == 410 ? EdgeError.gone : EdgeError.notFound()
        let entry = Self.entry(r, contact, decision: decision, status: fetched.status, body: Array(error.jsonBody.utf8),
                               contentType: "application/json", original: false, sameBytes: false)
        return (HotCache.Item(header: entry.header, body: ByteBuffer(bytes: entry.body)), decision, true,
                String(format: "origin;dur=%.1f", originTime.inSeconds * 1000))
    }

    /// An entry made from an origin contact. `original`: the body is the origin's representation (an original or
    /// a passed-through file), which keeps the origin's end-to-end headers, its Cache-Control as sent and its
    /// entity tag (weak when the bytes are not the origin's: metadata was removed); a variant keeps the fields the
    /// source lists in `passResponseHeaders` and an entity tag of its own bytes.
    private static func entry(_ r: Resolved, _ contact: OriginContact, decision: CacheDecision, status: Int, body: [UInt8],
                              contentType: String, original: Bool, sameBytes: Bool) -> CacheEntry {
        let rules = r.source.responseHeaderRules(passAll: original)
        var etag = "\"" + Hex.encode(Array(SHA256.hash(data: body)).prefix(16)) + "\""
        if original, let tag = decision.etag {
            etag = sameBytes || tag.hasPrefix("W/") ? tag : "W/" + tag
        }
        return CacheEntry(contentType: contentType, etag: etag, fetchedAt: HybridClock.seconds(contact.stamp),
                          freshness: decision.freshness, source: r.source.name, path: r.path.description,
                          variesOnAccept: r.variesOnAccept, clientHints: r.clientHints,
                          downstreamCacheControl: original ? decision.originCacheControl ?? decision.downstreamCacheControl
                              : decision.downstreamCacheControl,
                          surrogateKeys: decision.surrogateKeys, originHeaders: decision.cacheHeaderLines, status: status,
                          responseHeaders: rules.select(contact.response.headers, withheld: decision.withheldFields,
                                                        sameBytes: sameBytes),
                          body: body)
    }

    /// The answer for an entry: for a 200, 304 when If-None-Match matches (or, without it, If-Modified-Since is
    /// no earlier than the entry's Last-Modified), 206 / 416 for a Range, else 200; any other status as stored,
    /// its conditions ignored (RFC 9110 §13.2.1).
    func entryResponse(_ item: HotCache.Item, cache: String, now: Double, _ r: Resolved,
                       _ c: Preconditions, timing: String?) -> EdgeAnswer {
        let h = item.header
        var fields = HTTPFields()
        fields.reserveCapacity(12)
        // A URL's `expires` bounds the lifetime it may be cached for downstream.
        fields.append(HTTPField(name: .cacheControl, value: Self.cacheControl(h, now: now, r)))
        fields.append(HTTPField(name: .age, value: h.freshness.ageHeader(at: now)))
        fields.append(HTTPField(name: .xCache, value: cache))
        if let timing { fields.append(HTTPField(name: .serverTiming, value: timing)) }
        // The entry's own fields (etag, vary…) were made when it was read or filled.
        fields.append(contentsOf: item.describing)
        guard h.status == 200 else {
            if !h.contentType.isEmpty { fields.append(HTTPField(name: .contentType, value: h.contentType)) }
            return EdgeAnswer(status: HTTPResponse.Status(code: h.status), fields: fields,
                              body: item.file.map { .file($0) } ?? .buffer(item.buffer ?? ByteBuffer()))
        }
        if let inm = c.ifNoneMatch {
            if Self.matches(ifNoneMatch: inm, etag: h.etag) { return EdgeAnswer(status: .notModified, fields: fields) }
        } else if let ims = c.ifModifiedSince, Self.notModified(since: ims, lastModified: h.originLastModified, now: now) {
            return EdgeAnswer(status: .notModified, fields: fields)
        }
        if let range = c.range {
            let length = item.bodyLength
            switch ByteRange.decide(range: range, ifRange: c.ifRange, length: length, etag: h.etag) {
            case .whole:
                break
            case .partial(let bounds):
                // A slice of the shared buffer: no copy (a body kept as a file is read back first).
                let body = item.body
                let part = body.getSlice(at: body.readerIndex + bounds.lowerBound, length: bounds.count) ?? ByteBuffer()
                fields.append(HTTPField(name: .acceptRanges, value: "bytes"))
                fields.append(HTTPField(name: .contentType, value: h.contentType))
                fields.append(HTTPField(name: .contentRange, value: "bytes \(bounds.lowerBound)-\(bounds.upperBound)/\(length)"))
                return EdgeAnswer(status: .partialContent, fields: fields, body: .buffer(part))
            case .unsatisfiable:
                var e = Self.errorResponse(.rangeNotSatisfiable)
                e.fields.append(HTTPField(name: .contentRange, value: "bytes */\(length)"))
                return e
            }
        }
        fields.append(HTTPField(name: .acceptRanges, value: "bytes"))
        fields.append(HTTPField(name: .contentType, value: h.contentType))
        return EdgeAnswer(status: .ok, fields: fields, body: item.file.map { .file($0) } ?? .buffer(item.buffer ?? ByteBuffer()))
    }

    /// The origin's Content-Type when it is a well-formed media type (parameters kept), else
    /// `application/octet-stream`: it is served again to every client, so nothing odd may pass.
    static func mediaType(_ value: String?) -> String {
        guard let v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty, v.utf8.count <= 256,
              v.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
        else { return "application/octet-stream" }
        let essence = v.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces)
        let parts = essence.split(separator: "/", omittingEmptySubsequences: false)
        let token = { (p: Substring) in
            !p.isEmpty && p.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || "!#$&^_.+-".utf8.contains(c)
            }
        }
        guard parts.count == 2, token(parts[0]), token(parts[1]) else { return "application/octet-stream" }
        return v
    }

    /// RFC 9110 §13.1.3 If-Modified-Since: true when the entry's Last-Modified is no later than the date (an
    /// invalid date, one in the future, or an entry without Last-Modified: false, the whole answer is sent).
    static func notModified(since ims: Substring, lastModified: String?, now: Double) -> Bool {
        guard let lastModified, let since = HTTPDate.parse(ims, now: now), since <= now,
              let modified = HTTPDate.parse(lastModified, now: now) else { return false }
        return modified <= since
    }

    /// RFC 9110 If-None-Match: weak comparison, `*`, comma-separated lists.
    static func matches(ifNoneMatch: Substring, etag: String) -> Bool {
        let bare = etag.hasPrefix("W/") ? String(etag.dropFirst(2)) : etag
        for item in ifNoneMatch.split(separator: ",") {
            var t = item.trimmingCharacters(in: .whitespaces)
            if t == "*" { return true }
            if t.hasPrefix("W/") { t.removeFirst(2) }
            if t == bare { return true }
        }
        return false
    }

    func errorResponse(_ error: any Error) -> EdgeAnswer {
        let e = (error as? EdgeError) ?? .internalError(detail: "\(error)")
        if e.status >= 500 {
            logger.error("request failed", metadata: ["edge.status": "\(e.status)", "edge.detail": "\(e.detail ?? e.publicMessage)"])
        } else {
            logger.debug("request refused", metadata: ["edge.status": "\(e.status)", "edge.detail": "\(e.detail ?? e.publicMessage)"])
        }
        metrics.countRequest(status: e.status, cache: "ERROR")
        return Self.errorResponse(e)
    }

    /// An error's answer: its short public message as JSON, never cached.
    static func errorResponse(_ e: EdgeError) -> EdgeAnswer {
        var fields: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        if e.status == 503 { fields[.retryAfter] = "1" }
        // RFC 9110 §15.5.6: a 405 names the methods the resource has.
        if e.status == 405 { fields[.allow] = "GET, HEAD" }
        return EdgeAnswer(status: HTTPResponse.Status(code: e.status), fields: fields, body: .buffer(ByteBuffer(string: e.jsonBody)))
    }
}

extension Duration {
    /// The duration in (fractional) seconds.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Recently resolved requests, by everything the resolution depends on (Host, request target, Accept, client
/// hints). Bounded: when full it starts over, so a flood of distinct URLs costs no more than resolving them.
final class ResolvedMemo: Sendable {
    static let capacity = 4096
    private let entries = NIOLockedValueBox<[Key: EdgeService.Resolved]>([:])

    /// Everything a resolution depends on, as the request carried it (no string is built to make the key).
    struct Key: Hashable, Sendable {
        var host: Substring?
        var uri: String
        var accept: Substring?
        var hints: ClientHints
    }

    static func key(_ r: EdgeRequest) -> Key {
        Key(host: r.host, uri: r.uri, accept: r.accept, hints: r.hints)
    }

    func get(_ key: Key) -> EdgeService.Resolved? { entries.withLockedValue { $0[key] } }

    func put(_ key: Key, _ resolved: EdgeService.Resolved) {
        entries.withLockedValue { e in
            if e.count >= Self.capacity { e.removeAll(keepingCapacity: true) }
            e[key] = resolved
        }
    }
}
