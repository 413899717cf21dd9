import EdgeCore
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Peer fill, the owner's side: the peer listener (`cluster.port`). One route, `GET /v1/fill`, for members of the
/// cluster alone: an ask whose MAC does not hold under the cluster's key, or that is replayed or too old, is
/// refused with 403 before anything in it is believed. An accepted ask gets its response head at once (what the
/// asker's `cluster.peerTimeout` waits for: the owner is alive and on it) and its answer frame when the variant
/// is ready, however long the fill takes (bounded by `limits.fillTimeout`).
final class PeerHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let service: EdgeService
    private let cluster: NIOLockedValueBox<ClusterService?>
    private let connections: PeerConnections
    private var head: HTTPRequestHead?
    private var counted = false

    init(service: EdgeService, cluster: NIOLockedValueBox<ClusterService?>, connections: PeerConnections) {
        self.service = service
        self.cluster = cluster
        self.connections = connections
    }

    func channelActive(context: ChannelHandlerContext) {
        counted = connections.open()
        if !counted { context.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted { connections.closed() }
        counted = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
        case .body:
            break
        case .end:
            guard let h = head else { return }
            head = nil
            handle(h, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    private func handle(_ h: HTTPRequestHead, context: ChannelHandlerContext) {
        guard let cluster = cluster.withLockedValue({ $0 }) else { return refuse(503, "starting", h, context) }
        guard h.uri == "/v1/fill" else { return refuse(404, "not found", h, context) }
        guard h.method == .GET else { return refuse(405, "only GET", h, context) }
        guard let (ask, mac) = PeerHeaders.ask(h.headers), cluster.wire.verify(ask, mac: mac) else {
            service.metrics.countPeerServed("refused")
            cluster.logger.warning("peer ask refused: not authenticated", metadata: ["edge.from": "\(context.remoteAddress?.description ?? "?")"])
            return refuse(403, "not a member of this cluster", h, context)
        }
        let verdict = cluster.replay.withLockedValue { $0.check(nonce: ask.nonce, time: ask.time, now: GossipService.micros()) }
        guard verdict == .accept else {
            service.metrics.countPeerServed("refused")
            cluster.logger.warning("peer ask refused", metadata: ["edge.peer": "\(ask.sender)", "edge.reason": "\(verdict)"])
            return refuse(verdict == .full ? 503 : 403, "ask \(verdict)", h, context)
        }
        service.purges.receive(clock: ask.clock)
        var headers = HTTPHeaders([("content-type", "application/vnd.imgedge-peer"), ("cache-control", "no-store")])
        if !h.isKeepAlive { headers.add(name: "connection", value: "close") }
        let request = PeerRequest(host: ask.host, target: ask.target, accept: ask.accept, hints: ask.hints)
        let keepAlive = h.isKeepAlive
        // A hit (or an error of the request) is answered at once, on the event loop, as the edge answers hits.
        let step = service.answerPeerNow(request.edgeRequest, expected: ask.key, allocator: context.channel.allocator)
        switch step {
        case .answer(let answer):
            let frame = cluster.wire.seal(answer, clock: service.purges.tick(), nonce: ask.nonce)
            service.metrics.countPeerBytes(sent: frame.count)
            headers.add(name: "content-length", value: String(frame.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .ok, headers: headers))), promise: nil)
            finish(frame, keepAlive: keepAlive, context: context)
        case .fill(let target):
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .ok, headers: headers))),
                                  promise: nil)
            fill(target, nonce: ask.nonce, cluster: cluster, keepAlive: keepAlive, context: context)
        }
    }

    /// Fills `target` off the event loop, then writes its answer frame.
    private func fill(_ target: EdgeService.Target, nonce: UInt64, cluster: ClusterService, keepAlive: Bool,
                      context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((context: context, handler: self), eventLoop: loop)
        let service = service
        let allocator = context.channel.allocator
        Task {
            let answer = await service.answerPeerByFilling(target, allocator: allocator)
            let frame = cluster.wire.seal(answer, clock: service.purges.tick(), nonce: nonce)
            service.metrics.countPeerBytes(sent: frame.count)
            loop.execute {
                let (context, handler) = bound.value
                context.write(handler.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: frame)))),
                              promise: nil)
                context.writeAndFlush(handler.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                    if !keepAlive { context.close(promise: nil) }
                }
            }
        }
    }

    /// Writes an answer frame as the body and ends the response.
    private func finish(_ frame: [UInt8], keepAlive: Bool, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: frame)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }

    private func refuse(_ status: Int, _ message: String, _ h: HTTPRequestHead, _ context: ChannelHandlerContext) {
        let body = context.channel.allocator.buffer(string: message)
        let headers = HTTPHeaders([("content-type", "text/plain"), ("content-length", String(body.readableBytes)),
                                   ("connection", "close")])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: .init(statusCode: status), headers: headers))),
                      promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

/// Connections open on the peer listener, bounded (members keep a few each; anything beyond is refused).
final class PeerConnections: Sendable {
    private let count = NIOLockedValueBox(0)
    let limit: Int

    init(limit: Int = 1024) { self.limit = limit }

    func open() -> Bool {
        count.withLockedValue { c in
            guard c < limit else { return false }
            c += 1
            return true
        }
    }

    func closed() { count.withLockedValue { $0 = max(0, $0 - 1) } }
}
