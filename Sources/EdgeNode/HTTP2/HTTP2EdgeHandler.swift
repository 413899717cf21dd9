import EdgeCore
import EdgePrivacy
import Foundation
import HTTPTypes
import NIOCore
import NIOHPACK
import NIOHTTP2

/// The edge front's HTTP/2 connection handler, after NIO's HTTP/2 handler (which does the protocol: frames,
/// HPACK, flow control, stream states, and its own defences against floods). Streams are not channels of their
/// own: each request's HEADERS frame arrives here with its stream id, becomes an `EdgeRequest`, and the service's
/// answer goes back as a HEADERS frame and one DATA frame holding the very buffer the cache holds (NIO splits it to
/// the client's frame size and window; TLS copies it once, encrypting). Answers made while reading are flushed
/// once the read is done, so a burst of streams costs one TLS record batch, not one per stream. A request body, if
/// a client sends one, is never read (nor its flow-control window given back).
///
/// The connection's life is `StateMachine`'s: an orderly GOAWAY after `idleTimeout` with no stream open; on
/// `drain()` (the node stopping) GOAWAY at once and close when the streams in flight are answered; an answer the
/// client has not taken after `sendTimeout` (its window kept shut) ends the connection with ENHANCE_YOUR_CALM.
/// Errors NIO's handler passes on (it has already sent GOAWAY for connection errors) are counted, and close it.
final class HTTP2EdgeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    struct Settings: Sendable {
        var idleTimeout: TimeAmount
        var sendTimeout: TimeAmount
        var hsts: String?
    }

    private let service: EdgeService
    private let inFlight: InFlightCounter
    private let settings: Settings
    private var machine = StateMachine()
    private var context: ChannelHandlerContext?
    /// Timers are lazy, as the HTTP/1.1 handler's idle check is: one per connection, not set and cancelled per
    /// stream. The idle timer, when it fires, looks at `idleSince` (nil while a stream is open) and sets itself
    /// again for what is left; the stall timer looks for the oldest answer still being sent.
    private var idleTimer: Scheduled<Void>?
    private var idleSince: NIODeadline?
    private var stallTimer: Scheduled<Void>?
    /// Streams open: whether their request was taken (later frames, a body, are passed over), and since when
    /// their answer is being sent. NIO closes a stream when its last frame leaves flow control, so an answer
    /// whose stream is still open after `sendTimeout` is one the client has not let through.
    private var streams: [HTTP2StreamID: StreamState] = [:]

    private struct StreamState {
        var taken = false
        var answerSince: NIODeadline?
    }
    private var reading = false
    private var flushPending = false

    init(service: EdgeService, inFlight: InFlightCounter, settings: Settings) {
        self.service = service
        self.inFlight = inFlight
        self.settings = settings
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        run(.startIdleTimer)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    private func cancelTimers() {
        idleTimer?.cancel()
        idleTimer = nil
        idleSince = nil
        stallTimer?.cancel()
        stallTimer = nil
        streams.removeAll()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let created = event as? NIOHTTP2StreamCreatedEvent {
            // (NIO may pass the stream's first HEADERS frame on before this event: its entry may be there.)
            if streams[created.streamID] == nil { streams[created.streamID] = StreamState() }
            run(machine.streamOpened(Int(created.streamID)))
        } else if let closed = event as? StreamClosedEvent {
            if streams.removeValue(forKey: closed.streamID) != nil {
                run(machine.streamClosed())
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// NIO's handler sent GOAWAY before passing a connection error here (and any other error here means the
    /// connection is broken): counted, and the connection closed.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        service.metrics.connections.count("h2_error_" + String(describing: type(of: error)))
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard case .headers(let headers) = frame.payload, frame.streamID != .rootStream,
              streams[frame.streamID]?.taken != true
        else { return }
        streams[frame.streamID, default: StreamState()].taken = true
        reading = true
        handle(context: context, stream: frame.streamID, headers.headers)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading = false
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    private func handle(context: ChannelHandlerContext, stream: HTTP2StreamID, _ headers: HPACKHeaders) {
        let head: HTTP2RequestHead
        switch HTTP2RequestHead.parse(headers) {
        case .success(let h): head = h
        case .failure:
            // A malformed request (RFC 9113 §8.1.1): the stream is reset, the connection goes on.
            service.metrics.connections.count("h2_malformed_request")
            context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .rstStream(.protocolError))), promise: nil)
            return flush(context)
        }
        let target = head.path
        let isHead = head.method == "HEAD"
        let arrival = service.accessLog == nil ? nil : EdgeHTTPHandler.Arrival(
            start: .now, client: context.remoteAddress?.ipAddress ?? "-", method: head.method,
            host: head.authority ?? "", target: target)
        guard let request = EdgeRequest(head, fields: headers) else {
            return write(context: context, stream, EdgeService.errorResponse(.badRequest("malformed request")),
                         isHead: isHead, arrival: arrival)
        }
        guard target.utf8.count <= RequestHeadParser.maxTargetBytes else {
            return write(context: context, stream, EdgeService.errorResponse(.uriTooLong), isHead: isHead, arrival: arrival)
        }
        switch service.respond(to: request, allocator: context.channel.allocator) {
        case .done(let answer):
            write(context: context, stream, answer, isHead: isHead, arrival: arrival)
        case .pending(let work):
            inFlight.begin()
            let promise = context.eventLoop.makePromise(of: EdgeAnswer.self)
            promise.completeWithTask { await work() }
            promise.futureResult.assumeIsolated().whenComplete { result in
                self.inFlight.end()
                // The client may have reset the stream meanwhile: then nobody is listening.
                guard case .success(let answer) = result, self.streams[stream] != nil, let context = self.context else { return }
                self.write(context: context, stream, answer, isHead: isHead, arrival: arrival)
            }
        }
    }

    private func write(context: ChannelHandlerContext, _ stream: HTTP2StreamID, _ answer: EdgeAnswer, isHead: Bool,
                       arrival: EdgeHTTPHandler.Arrival?) {
        if let arrival { EdgeHTTPHandler.log(service, arrival, answer, isHead: isHead) }
        let sendsBody = answer.sendsBody(isHead: isHead)
        let headers: HPACKHeaders
        if let plain = answer.plain {
            // A plain hit's header list is the same for every such hit while its Age and max-age are: made once
            // and kept on the entry (NIO still HPACK-encodes it per connection, its table being per connection).
            if let kept = plain.item.prepared(age: plain.age, maxAge: plain.maxAge, as: HPACKHeaders.self) {
                headers = kept
            } else {
                headers = headerList(answer)
                plain.item.keepPrepared(headers, age: plain.age, maxAge: plain.maxAge)
            }
        } else {
            headers = headerList(answer)
        }
        context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: headers, endStream: !sendsBody)))),
                      promise: nil)
        if sendsBody {
            // The client has `sendTimeout` to take the answer (open its window): past that, the connection ends.
            if streams[stream] != nil {
                let now = NIODeadline.now()
                streams[stream]?.answerSince = now
                if stallTimer == nil { scheduleStallCheck(context: context, at: now + settings.sendTimeout) }
            }
            context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(answer.bodyBuffer), endStream: true)))),
                          promise: nil)
        }
        flush(context)
    }

    /// Flushes now, or at the end of the read under way (one flush for a burst of streams).
    private func flush(_ context: ChannelHandlerContext) {
        if reading { flushPending = true } else { context.flush() }
    }

    /// At `deadline`: ends the connection if an answer has been in flight for `sendTimeout`, else looks again when
    /// the oldest one would reach it (or stops looking when none is left).
    private func scheduleStallCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        stallTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            stallTimer = nil
            guard let oldest = streams.values.lazy.compactMap(\.answerSince).min() else { return }
            if oldest + settings.sendTimeout <= .now() {
                service.metrics.connections.count("h2_send_stalled")
                run(machine.streamStalled())
            } else {
                scheduleStallCheck(context: context, at: oldest + settings.sendTimeout)
            }
        }
    }

    /// An answer's HEADERS: `:status`, its fields, `content-length` where it may have a body, `server`, HSTS.
    private func headerList(_ answer: EdgeAnswer) -> HPACKHeaders {
        var headers = HPACKHeaders()
        headers.reserveCapacity(12)
        headers.add(name: ":status", value: String(answer.status.code))
        for field in answer.headerFields { headers.add(name: field.name.canonicalName, value: field.value) }
        if EdgeAnswer.allowsBody(answer.status) { headers.add(name: "content-length", value: String(answer.bodyLength)) }
        headers.add(name: "server", value: "imgedge")
        if let hsts = settings.hsts { headers.add(name: "strict-transport-security", value: hsts) }
        return headers
    }

    /// The node is stopping: GOAWAY now, close once the streams in flight are answered.
    func drain() { run(machine.drain()) }

    private func run(_ action: StateMachine.Action?) {
        guard let action, let context else { return }
        switch action {
        case .startIdleTimer:
            let now = NIODeadline.now()
            idleSince = now
            if idleTimer == nil { scheduleIdleCheck(context: context, at: now + settings.idleTimeout) }
        case .cancelIdleTimer:
            idleSince = nil
        case .goAway(let last, let code, let close):
            service.metrics.connections.count(code == .noError ? "h2_goaway_sent" : "h2_goaway_enhance_your_calm")
            let written = context.writeAndFlush(wrapOutboundOut(Self.goAway(last, code == .noError ? .noError : .enhanceYourCalm)))
            if close { written.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
        case .close(let last):
            // The last stream's frames are on their way down the pipeline: a final GOAWAY behind them, and the
            // connection closed once it is written, so that nothing ahead of it is cut off.
            context.writeAndFlush(wrapOutboundOut(Self.goAway(last, .noError))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    private func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            idleTimer = nil
            guard let since = idleSince else { return }
            if since + settings.idleTimeout <= .now() {
                idleSince = nil
                run(machine.idleTimerFired())
            } else {
                scheduleIdleCheck(context: context, at: since + settings.idleTimeout)
            }
        }
    }

    private static func goAway(_ last: Int, _ code: NIOHTTP2.HTTP2ErrorCode) -> HTTP2Frame {
        HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: HTTP2StreamID(last), errorCode: code, opaqueData: nil))
    }
}
