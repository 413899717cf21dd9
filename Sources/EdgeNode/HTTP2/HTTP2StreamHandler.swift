import EdgeCore
import EdgePrivacy
import Foundation
import HTTPTypes
import NIOCore
import NIOHPACK
import NIOHTTP2

/// One HTTP/2 stream of the edge front: its request headers become an `EdgeRequest`, the service's answer goes
/// back as a HEADERS frame (encoded with HPACK by NIO's HTTP/2 handler) and the body as DATA, the very buffer the
/// cache holds (NIO splits it to the client's frame size and window; TLS copies it once, encrypting). A request
/// body, if a client sends one, is never read. An answer that has not been taken by the client within
/// `sendTimeout` (its flow-control window kept shut) makes the connection end with ENHANCE_YOUR_CALM.
final class HTTP2StreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    struct Settings: Sendable {
        var hsts: String?
        var sendTimeout: TimeAmount
    }

    private let service: EdgeService
    private let inFlight: InFlightCounter
    private let settings: Settings
    private let manager: NIOLoopBound<HTTP2ConnectionManager>
    private var answered = false
    private var stallTimer: Scheduled<Void>?

    init(service: EdgeService, inFlight: InFlightCounter, settings: Settings, manager: NIOLoopBound<HTTP2ConnectionManager>) {
        self.service = service
        self.inFlight = inFlight
        self.settings = settings
        self.manager = manager
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .headers(let frame) = unwrapInboundIn(data), !answered else { return }
        answered = true
        let headers = frame.headers
        let method = headers.first(name: ":method") ?? ""
        let target = headers.first(name: ":path") ?? ""
        let isHead = method == "HEAD"
        let arrival = service.accessLog == nil ? nil : EdgeHTTPHandler.Arrival(
            start: .now, client: context.channel.parent?.remoteAddress?.ipAddress ?? "-", method: method,
            host: headers.first(name: ":authority") ?? "", target: target)
        guard let request = Self.request(headers) else {
            return write(context: context, EdgeService.errorResponse(.badRequest("malformed request")), isHead: isHead,
                         arrival: arrival)
        }
        guard target.utf8.count <= RequestHeadParser.maxTargetBytes else {
            return write(context: context, EdgeService.errorResponse(.uriTooLong), isHead: isHead, arrival: arrival)
        }
        switch service.respond(to: request, allocator: context.channel.allocator) {
        case .done(let answer):
            write(context: context, answer, isHead: isHead, arrival: arrival)
        case .pending(let work):
            inFlight.begin()
            let promise = context.eventLoop.makePromise(of: EdgeAnswer.self)
            promise.completeWithTask { await work() }
            promise.futureResult.assumeIsolated().whenComplete { result in
                self.inFlight.end()
                switch result {
                case .success(let answer):
                    self.write(context: context, answer, isHead: isHead, arrival: arrival)
                case .failure:
                    context.close(promise: nil)
                }
            }
        }
    }

    /// The request a HEADERS frame asks for; nil without `:method` or a `:path` that starts with `/`.
    static func request(_ h: HPACKHeaders) -> EdgeRequest? {
        guard let m = h.first(name: ":method"), let method = HTTPRequest.Method(m), let path = h.first(name: ":path"),
              path.hasPrefix("/")
        else { return nil }
        func field(_ name: String) -> Substring? {
            let values = h[canonicalForm: name]
            return values.isEmpty ? nil : Substring(values.joined(separator: ", "))
        }
        return EdgeRequest(method: method, uri: path, host: h.first(name: ":authority").map { Substring($0) },
                           accept: field("accept"), ifNoneMatch: field("if-none-match"), range: field("range"),
                           ifRange: field("if-range"),
                           hints: ClientHints(width: field("sec-ch-width") ?? field("width"),
                                              dpr: field("sec-ch-dpr") ?? field("dpr"), saveData: field("save-data")))
    }

    private func write(context: ChannelHandlerContext, _ answer: EdgeAnswer, isHead: Bool, arrival: EdgeHTTPHandler.Arrival?) {
        if let arrival { EdgeHTTPHandler.log(service, arrival, answer, isHead: isHead) }
        let sendsBody = !isHead && EdgeAnswer.allowsBody(answer.status) && answer.bodyLength > 0
        var headers = HPACKHeaders()
        headers.reserveCapacity(12)
        headers.add(name: ":status", value: String(answer.status.code))
        for field in answer.headerFields { headers.add(name: field.name.canonicalName, value: field.value) }
        if EdgeAnswer.allowsBody(answer.status) { headers.add(name: "content-length", value: String(answer.bodyLength)) }
        headers.add(name: "server", value: "imgedge")
        if let hsts = settings.hsts { headers.add(name: "strict-transport-security", value: hsts) }
        let head = HTTP2Frame.FramePayload.headers(.init(headers: headers, endStream: !sendsBody))
        guard sendsBody else {
            context.writeAndFlush(wrapOutboundOut(head), promise: nil)
            return
        }
        context.write(wrapOutboundOut(head), promise: nil)
        let body: ByteBuffer = switch answer.body {
        case .buffer(let b): b
        case .file(let f): f.read()
        case .entry(let item): item.buffer ?? item.file?.read() ?? ByteBuffer()
        case .empty: ByteBuffer()
        }
        let sent = context.writeAndFlush(wrapOutboundOut(.data(.init(data: .byteBuffer(body), endStream: true))))
        // The client has `sendTimeout` to take the answer (its window): past that, the connection ends.
        let manager = manager
        stallTimer = context.eventLoop.assumeIsolated().scheduleTask(in: settings.sendTimeout) {
            manager.value.streamStalled()
        }
        sent.assumeIsolated().whenComplete { _ in
            self.stallTimer?.cancel()
            self.stallTimer = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        stallTimer?.cancel()
        stallTimer = nil
        context.fireChannelInactive()
    }
}
