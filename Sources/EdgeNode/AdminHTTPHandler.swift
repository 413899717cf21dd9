import EdgeCore
import NIOCore
import NIOHTTP1

/// The admin listener: liveness, readiness, Prometheus metrics and JSON stats. Not on the image hot path.
final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let node: AdminView
    private var head: HTTPRequestHead?

    init(node: AdminView) { self.node = node }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let h = head else { return }
            head = nil
            let (status, type, body) = route(h)
            var headers = HTTPHeaders([("content-type", type), ("content-length", String(body.count)),
                                       ("cache-control", "no-store")])
            if !h.isKeepAlive { headers.add(name: "connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            if h.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            }
            let keepAlive = h.isKeepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [context] _ in
                if !keepAlive { context.close(promise: nil) }
            }
        }
    }

    private func route(_ h: HTTPRequestHead) -> (HTTPResponseStatus, String, [UInt8]) {
        let json = "application/json"
        guard h.method == .GET || h.method == .HEAD else {
            return (.methodNotAllowed, json, Array(#"{"error":"method not allowed"}"#.utf8))
        }
        let path = h.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? h.uri
        switch path {
        case "/healthz":
            return (.ok, json, Array(#"{"status":"ok"}"#.utf8))
        case "/readyz":
            return node.ready
                ? (.ok, json, Array(#"{"status":"ready"}"#.utf8))
                : (.serviceUnavailable, json, Array(#"{"status":"not ready"}"#.utf8))
        case "/metrics":
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", node.metricsText())
        case "/v1/stats":
            return (.ok, json, Array(node.statsJSON().utf8))
        default:
            return (.notFound, json, Array(#"{"error":"not found"}"#.utf8))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// What the admin listener may see of a node.
struct AdminView: Sendable {
    let service: EdgeService
    let isReady: @Sendable () -> Bool

    var ready: Bool { isReady() }

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
        "transformsRunning":\(service.transformPool.runningCount),"revalidations":{\(revalidations)}}
        """
    }
}
