import AsyncHTTPClient
import Crypto
import EdgeCore
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// `cache.shared`: a bucket every node of a cluster writes its variants through to and reads from on a miss before
/// the origin, so that a new or restarted node warms from the cluster's work. An object is named by the variant's
/// key (`<prefix>/<key hex>`) and holds the entry as the node stores it (its freshness and its fetch time on the
/// hybrid clock included), with the source, path, surrogate keys and fetch time also as object metadata for sweeps.
/// What is read is checked against every purge of the horizon (`PurgeService.sharedAccepts`); a sweep deletes what
/// purges cover and what is older than the horizon. Every request is bounded by `timeout`: a slow or failing
/// bucket costs a miss that much at most, never the request.
final class SharedTier: Sendable {
    let settings: SharedTierSettings
    private let client: HTTPClient
    private let purges: PurgeService
    private let metrics: NodeMetrics
    private let logger: Logger
    private let clock: @Sendable () -> Double
    /// Writes under way (bounded: beyond `maxWrites`, a write is dropped and counted).
    private let writing = NIOLockedValueBox(0)
    private let sweeper = NIOLockedValueBox<Task<Void, Never>?>(nil)
    static let maxWrites = 32

    init(settings: SharedTierSettings, group: any EventLoopGroup, purges: PurgeService, metrics: NodeMetrics,
         logger: Logger, clock: @escaping @Sendable () -> Double) {
        self.settings = settings
        self.purges = purges
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        var configuration = HTTPClient.Configuration()
        let timeout = TimeAmount.nanoseconds(Int64(settings.timeout * 1e9))
        configuration.timeout = .init(connect: timeout, read: timeout)
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
    }

    func shutdown() async {
        let task = sweeper.withLockedValue { $0 }
        task?.cancel()
        await task?.value
        try? await client.shutdown()
    }

    private func count(_ op: String, _ result: String, by n: Int = 1) {
        metrics.countShared(op, result, by: n)
    }

    // MARK: Read and write

    /// The stored form of `key`'s entry, if the bucket holds one that may be used (fresh, within the horizon,
    /// covered by no purge, of the source and path asked for); nil otherwise, or when the bucket does not answer
    /// within the timeout.
    func read(_ key: CacheKey, source: String, path: String) async -> [UInt8]? {
        let object = settings.location.key(for: "/" + key.description)
        do {
            let response = try await send("GET", key: object)
            guard response.status == .ok else {
                count("read", response.status == .notFound ? "miss" : "error")
                if response.status != .notFound { logger.warning("shared tier read failed", metadata: ["edge.status": "\(response.status.code)"]) }
                return nil
            }
            var body = try await response.body.collect(upTo: settings.maxObjectBytes)
            let raw = body.readBytes(length: body.readableBytes) ?? []
            let usable = raw.withUnsafeBytes { buf -> Bool in
                guard let h = CacheEntry.decodeHeader(buf), h.source == source, h.path == path else { return false }
                return h.freshness.isFresh(at: clock()) && purges.sharedAccepts(h, horizon: settings.horizon)
            }
            count("read", usable ? "hit" : "refused")
            return usable ? raw : nil
        } catch {
            count("read", "error")
            logger.warning("shared tier read failed", metadata: ["edge.error": "\(error)"])
            return nil
        }
    }

    /// Writes `key`'s entry through to the bucket in the background. The write counts as a fill under way for the
    /// purges (so tombstones applied meanwhile are kept) and is checked again once it has landed: an object a
    /// purge covers by then is deleted.
    func write(_ key: CacheKey, raw: [UInt8], header h: CacheEntry.Header) {
        guard writing.withLockedValue({ w in
            guard w < Self.maxWrites else { return false }
            w += 1
            return true
        }) else { return count("write", "dropped") }
        let begun = purges.beginFill()
        Task { [self] in
            defer {
                purges.endFill(begun)
                writing.withLockedValue { $0 -= 1 }
            }
            let object = settings.location.key(for: "/" + key.description)
            let metadata: [(String, String)] = [
                ("x-amz-meta-source", SigV4.encode(h.source, slash: true)),
                ("x-amz-meta-path", SigV4.encode(h.path, slash: true)),
                ("x-amz-meta-tags", h.surrogateKeys.map { SigV4.encode($0, slash: true) }.joined(separator: ",")),
                ("x-amz-meta-fetched-at", String(h.fetchedAt)),
            ]
            do {
                let response = try await send("PUT", key: object, headers: [("content-type", "application/vnd.imgedge-entry")] + metadata,
                                              body: raw)
                guard response.status == .ok else {
                    count("write", "error")
                    logger.warning("shared tier write failed", metadata: ["edge.status": "\(response.status.code)"])
                    return
                }
                count("write", "ok")
                if !purges.sharedAccepts(h, horizon: settings.horizon) {
                    _ = try? await send("DELETE", key: object)
                }
            } catch {
                count("write", "error")
                logger.warning("shared tier write failed", metadata: ["edge.error": "\(error)"])
            }
        }
    }

    // MARK: Sweeps

    /// Sweeps every `interval` when purges were added since the last sweep, and at least every hour (what passed
    /// the horizon goes).
    func start(interval: Duration) {
        let task = Task { [self] in
            var swept = -1
            var last = ContinuousClock.now
            while !Task.isCancelled {
                let generation = purges.generation
                if generation != swept || ContinuousClock.now - last > .seconds(3600) {
                    if await sweep() { swept = generation }
                    last = ContinuousClock.now
                }
                try? await Task.sleep(for: interval)
            }
        }
        sweeper.withLockedValue { $0 = task }
    }

    /// One pass over the bucket's objects under the prefix: each one's metadata read (HEAD) and the object deleted
    /// when a purge covers it or it is older than the horizon. Returns whether the pass went through.
    @discardableResult
    func sweep() async -> Bool {
        var token: String?
        var deleted = 0
        repeat {
            guard let (keys, next) = await list(after: token) else { return false }
            for object in keys where !Task.isCancelled {
                guard let head = try? await send("HEAD", key: object), head.status == .ok else { continue }
                func meta(_ name: String) -> String { head.headers.first(name: "x-amz-meta-" + name).flatMap { $0.removingPercentEncoding } ?? "" }
                let tags = (head.headers.first(name: "x-amz-meta-tags") ?? "").split(separator: ",")
                    .compactMap { String($0).removingPercentEncoding }
                let fetched = Double(meta("fetched-at")) ?? 0
                if purges.sharedDead(source: meta("source"), path: meta("path"), tags: tags, fetchedAt: fetched,
                                     horizon: settings.horizon) {
                    if let r = try? await send("DELETE", key: object), r.status == .noContent || r.status == .ok { deleted += 1 }
                }
            }
            token = next
        } while token != nil && !Task.isCancelled
        count("sweep", "done")
        if deleted > 0 {
            count("sweep", "deleted", by: deleted)
            logger.info("shared tier sweep", metadata: ["edge.deleted": "\(deleted)"])
        }
        return !Task.isCancelled
    }

    /// One page of ListObjectsV2 under the prefix: object keys and the continuation token (nil: last page).
    private func list(after token: String?) async -> (keys: [String], next: String?)? {
        // The prefix is one path segment (the configuration says so): no `/` goes in the query, where S3 and its
        // compatibles disagree on how to sign it. Keys beginning with the segment but not under it are left alone.
        let prefix = settings.location.prefix
        var query = [("list-type", "2"), ("max-keys", "1000")]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let token { query.append(("continuation-token", token)) }
        do {
            let response = try await send("GET", key: nil, query: query)
            guard response.status == .ok else {
                var body = (try? await response.body.collect(upTo: 64 << 10)) ?? ByteBuffer()
                let code = S3XML.elements("Code", in: body.readString(length: body.readableBytes) ?? "").first ?? "no error code"
                logger.warning("shared tier list failed", metadata: ["edge.status": "\(response.status.code)", "edge.code": "\(code)"])
                return nil
            }
            var body = try await response.body.collect(upTo: 16 << 20)
            let xml = body.readString(length: body.readableBytes) ?? ""
            let keys = S3XML.elements("Key", in: xml).filter { prefix.isEmpty || $0.hasPrefix(prefix + "/") }
            let truncated = S3XML.elements("IsTruncated", in: xml).first == "true"
            return (keys, truncated ? S3XML.elements("NextContinuationToken", in: xml).first : nil)
        } catch {
            logger.warning("shared tier list failed", metadata: ["edge.error": "\(error)"])
            return nil
        }
    }

    // MARK: Requests

    /// One signed request to the bucket (`key` nil: on the bucket itself), within the timeout.
    private func send(_ method: String, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
                      body: [UInt8]? = nil) async throws -> HTTPClientResponse {
        let location = settings.location
        let target = key.map { location.request(key: $0) } ?? location.bucketRequest
        let queryText = query.map { SigV4.encode($0.0, slash: true) + "=" + SigV4.encode($0.1, slash: true) }.joined(separator: "&")
        var request = HTTPClientRequest(url: target.url + (queryText.isEmpty ? "" : "?" + queryText))
        request.method = HTTPMethod(rawValue: method)
        let payload = body.map { Hex.encode(Array(SHA256.hash(data: $0))) } ?? Hex.encode(Array(SHA256.hash(data: [UInt8]())))
        let signed = location.credentials.map {
            SigV4.sign(method: method, path: target.path, query: query.map { (name: $0.0, value: $0.1) },
                       headers: [("host", target.host)] + headers.map { (name: $0.0, value: $0.1) }, payloadHash: payload,
                       credentials: $0, region: location.region, time: clock())
        } ?? [("x-amz-content-sha256", payload)]
        for (name, value) in headers + signed.map({ ($0.name, $0.value) }) { request.headers.add(name: name, value: value) }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return try await client.execute(request, deadline: .now() + .nanoseconds(Int64(settings.timeout * 1e9)))
    }
}
