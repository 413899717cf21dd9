import EdgeCore
import NIOCore
import NIOHTTP1

/// The admin listener: liveness, readiness, Prometheus metrics, JSON stats, and the purge API. Not on the image
/// hot path. Request bodies are read up to `maxBody` (413 beyond); purges answer once they are in effect.
final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Largest request body read (a purge is a small JSON object).
    static let maxBody = 64 * 1024

    private let node: AdminView
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(node: AdminView) { self.node = node }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
            tooLarge = false
        case .body(let chunk):
            if body.count + chunk.readableBytes > Self.maxBody { tooLarge = true } else { body += chunk.readableBytesView }
        case .end:
            guard let h = head else { return }
            head = nil
            let request = AdminRequest(method: h.method, uri: h.uri,
                                       authorization: h.headers.first(name: "authorization"), body: body)
            body = []
            if tooLarge {
                write(context: context, h, AdminResponse.error(.payloadTooLarge, "request body over 64 KiB"))
                return
            }
            switch node.route(request) {
            case .done(let response):
                write(context: context, h, response)
            case .pending(let work):
                let promise = context.eventLoop.makePromise(of: AdminResponse.self)
                promise.completeWithTask { await work() }
                promise.futureResult.assumeIsolated().whenSuccess { response in
                    self.write(context: context, h, response)
                }
            }
        }
    }

    private func write(context: ChannelHandlerContext, _ h: HTTPRequestHead, _ r: AdminResponse) {
        var headers = HTTPHeaders([("content-type", r.contentType), ("content-length", String(r.body.count)),
                                   ("cache-control", "no-store")])
        for (name, value) in r.extraHeaders { headers.add(name: name, value: value) }
        if !h.isKeepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: r.status, headers: headers))), promise: nil)
        if h.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: r.body)))), promise: nil)
        }
        let keepAlive = h.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [context] _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// One admin request, body included.
struct AdminRequest: Sendable {
    var method: HTTPMethod
    var uri: String
    var authorization: String?
    var body: [UInt8]

    var path: String { uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri }
}

/// One admin response.
struct AdminResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType = "application/json"
    var body: [UInt8]
    var extraHeaders: [(String, String)] = []

    static func json(_ status: HTTPResponseStatus, _ text: String) -> AdminResponse {
        AdminResponse(status: status, body: Array(text.utf8))
    }

    static func error(_ status: HTTPResponseStatus, _ message: String) -> AdminResponse {
        json(status, #"{"error":"\#(JSONText.escape(message))","status":\#(status.code)}"#)
    }

    static let unauthorized = AdminResponse(status: .unauthorized,
                                            body: Array(#"{"error":"a valid admin key is required (Authorization: Bearer <secret>)","status":401}"#.utf8),
                                            extraHeaders: [("www-authenticate", "Bearer")])
}

/// What the admin listener may see of a node.
struct AdminView: Sendable {
    let service: EdgeService
    let isReady: @Sendable () -> Bool

    var ready: Bool { isReady() }

    enum Outcome {
        case done(AdminResponse)
        case pending(@Sendable () async -> AdminResponse)
    }

    func route(_ r: AdminRequest) -> Outcome {
        let json = "application/json"
        switch (r.method, r.path) {
        case (.GET, "/healthz"), (.HEAD, "/healthz"):
            return .done(.json(.ok, #"{"status":"ok"}"#))
        case (.GET, "/readyz"), (.HEAD, "/readyz"):
            return .done(ready ? .json(.ok, #"{"status":"ready"}"#) : .json(.serviceUnavailable, #"{"status":"not ready"}"#))
        case (.GET, "/metrics"), (.HEAD, "/metrics"):
            return .done(AdminResponse(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metricsText()))
        case (.GET, "/v1/stats"), (.HEAD, "/v1/stats"):
            return .done(AdminResponse(status: .ok, contentType: json, body: Array(statsJSON().utf8)))
        case (.POST, "/v1/purge"):
            return purge(r)
        case (.GET, let p) where p.hasPrefix("/v1/purge/"):
            guard service.keyring.authenticate(authorization: r.authorization) != nil else { return .done(.unauthorized) }
            let id = String(p.dropFirst("/v1/purge/".count))
            guard service.purges.applied(id) else { return .done(.error(.notFound, "no such purge on this node")) }
            let nodeID = JSONText.escape(service.config.nodeID)
            return .done(.json(.ok, #"{"id":"\#(JSONText.escape(id))","nodes":{"\#(nodeID)":"applied"}}"#))
        case (_, "/healthz"), (_, "/readyz"), (_, "/metrics"), (_, "/v1/stats"), (_, "/v1/purge"):
            return .done(.error(.methodNotAllowed, "method not allowed"))
        default:
            return .done(.error(.notFound, "not found"))
        }
    }

    /// `POST /v1/purge`: authenticate, parse the selector, check the key's scope, apply; 202 once in effect.
    private func purge(_ r: AdminRequest) -> Outcome {
        guard let key = service.keyring.authenticate(authorization: r.authorization) else { return .done(.unauthorized) }
        let selectors: [PurgeSelector]
        do {
            selectors = try PurgeRequest.selectors(body: r.body, router: service.router, sources: service.config.sources,
                                                   scope: key.scope)
        } catch {
            return .done(.error(HTTPResponseStatus(statusCode: error.status), error.message))
        }
        return .pending { [service] in
            do {
                let id = try await service.purges.purge(selectors)
                service.logger.info("purge", metadata: ["edge.purge": "\(id)", "edge.key": "\(key.id)",
                                                        "edge.selectors": "\(selectors.map(\.description))"])
                let nodeID = JSONText.escape(service.config.nodeID)
                return .json(.accepted, #"{"id":"\#(JSONText.escape(id))","node":"\#(nodeID)"}"#)
            } catch {
                service.logger.error("purge not recorded", metadata: ["edge.error": "\(error)"])
                return .error(.internalServerError, "purge applied here but not recorded on disk")
            }
        }
    }

    func metricsText() -> [UInt8] {
        service.metrics.exposition(usage: service.store.usage, fills: service.coalescer.inFlight,
                                   transforms: service.transformPool.runningCount)
    }

    func statsJSON() -> String {
        let u = service.store.usage
        let c = service.metrics.cacheCounts()
        let m = service.hot.usage
        let ratio = c.hits + c.misses == 0 ? 0 : Double(c.hits) / Double(c.hits + c.misses)
        let rv = service.metrics.revalidationTotals()
        let revalidations = NodeMetrics.revalidationResults.map { "\"\($0)\":\(rv[$0] ?? 0)" }.joined(separator: ",")
        return """
        {"node":"\(JSONText.escape(service.config.nodeID))","entries":\(u.entries),"bytes":\(u.bytes),\
        "maxBytes":\(service.config.cacheMaxBytes),"memoryEntries":\(m.entries),"memoryBytes":\(m.bytes),"hits":\(c.hits),"misses":\(c.misses),\
        "hitRatio":\((ratio * 10000).rounded() / 10000),"fillsInFlight":\(service.coalescer.inFlight),\
        "transformsRunning":\(service.transformPool.runningCount),"revalidations":{\(revalidations)},\
        "tombstones":\(service.purges.tombstoneCount)}
        """
    }
}
