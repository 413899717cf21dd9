import EdgeCore
import EdgePrivacy
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The edge front's channel handler: collects one request (ignoring any body), checks the size limits,
/// asks the service, and writes the answer. Hits are answered without leaving the event loop.
final class EdgeHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Longest request target and largest header block accepted (414 / 431 beyond them).
    static let maxURILength = 8192
    static let maxHeaderBytes = 16384

    private let service: EdgeService
    private let inFlight: InFlightCounter
    private var head: HTTPRequestHead?
    /// Requests of this connection still being worked on: an idle timeout closes the connection only when there
    /// are none (a slow fill is not an idle client).
    private var working = 0

    init(service: EdgeService, inFlight: InFlightCounter) {
        self.service = service
        self.inFlight = inFlight
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let h = head else { return }
            head = nil
            handle(context: context, head: h)
        }
    }

    /// What the access log needs of a request, noted when it arrives (only when there is an access log).
    struct Arrival {
        var start: ContinuousClock.Instant
        var client: String
        var method: String
        var host: String
        var target: String
    }

    private func handle(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let keepAlive = head.isKeepAlive
        let isHead = head.method == .HEAD
        let arrival = service.accessLog == nil ? nil : Arrival(
            start: .now, client: context.remoteAddress?.ipAddress ?? "-", method: head.method.rawValue,
            host: head.headers.first(name: "host") ?? "", target: head.uri)
        if let limitError = Self.checkLimits(head) {
            write(context: context, EdgeService.errorResponse(limitError, allocator: context.channel.allocator),
                  keepAlive: false, isHead: isHead, arrival: arrival)
            return
        }
        let request = EdgeRequest(method: head.method, uri: head.uri,
                                  host: head.headers.first(name: "host").map { Substring($0) },
                                  accept: head.headers.first(name: "accept").map { Substring($0) },
                                  ifNoneMatch: head.headers.first(name: "if-none-match").map { Substring($0) },
                                  range: head.headers.first(name: "range").map { Substring($0) },
                                  ifRange: head.headers.first(name: "if-range").map { Substring($0) },
                                  hints: Self.clientHints(head.headers))
        switch service.respond(to: request, allocator: context.channel.allocator) {
        case .done(let response):
            write(context: context, response, keepAlive: keepAlive, isHead: isHead, arrival: arrival)
        case .pending(let work):
            inFlight.begin()
            working += 1
            let promise = context.eventLoop.makePromise(of: EdgeResponse.self)
            promise.completeWithTask { await work() }
            promise.futureResult.assumeIsolated().whenComplete { result in
                self.inFlight.end()
                self.working -= 1
                switch result {
                case .success(let response):
                    self.write(context: context, response, keepAlive: keepAlive, isHead: isHead, arrival: arrival)
                case .failure:
                    context.close(promise: nil)
                }
            }
        }
    }

    /// Client hints from their current (`Sec-CH-`) or original header names; absent headers cost one lookup each.
    static func clientHints(_ h: HTTPHeaders) -> ClientHints {
        let width = h.first(name: "sec-ch-width") ?? h.first(name: "width")
        let dpr = h.first(name: "sec-ch-dpr") ?? h.first(name: "dpr")
        let save = h.first(name: "save-data")
        guard width != nil || dpr != nil || save != nil else { return ClientHints() }
        return ClientHints(width: width.map { Substring($0) }, dpr: dpr.map { Substring($0) }, saveData: save.map { Substring($0) })
    }

    static func checkLimits(_ head: HTTPRequestHead) -> EdgeError? {
        if head.uri.utf8.count > maxURILength { return .uriTooLong }
        var total = 0
        for (name, value) in head.headers { total += name.utf8.count + value.utf8.count + 4 }
        if total > maxHeaderBytes { return .headersTooLarge }
        return nil
    }

    private func write(context: ChannelHandlerContext, _ response: EdgeResponse, keepAlive: Bool, isHead: Bool,
                       arrival: Arrival?) {
        if let arrival, let log = service.accessLog {
            let elapsed = ContinuousClock.now - arrival.start
            log.record(AccessLogFormat.line(
                time: Date().timeIntervalSince1970, client: arrival.client, method: arrival.method, host: arrival.host,
                target: arrival.target, status: Int(response.status.code), bytes: isHead ? 0 : response.body.readableBytes,
                cache: response.headers.first(name: "x-cache") ?? "-",
                milliseconds: Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15))
        }
        var headers = response.headers
        headers.add(name: "server", value: "imgedge")
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !isHead && response.body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [context] _ in context.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            if working == 0 { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Requests whose answer is still being worked on; shutdown waits for them.
final class InFlightCounter: Sendable {
    private let count = NIOLockedValueBox(0)
    func begin() { count.withLockedValue { $0 += 1 } }
    func end() { count.withLockedValue { $0 -= 1 } }
    var value: Int { count.withLockedValue { $0 } }
}
