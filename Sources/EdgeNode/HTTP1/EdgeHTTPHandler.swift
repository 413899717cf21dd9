import EdgeCore
import EdgePrivacy
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The edge front's HTTP/1.1 connection handler, the only handler on an edge connection. It runs the edge's own
/// request decoder (`EdgeRequestDecoder`) over the bytes it receives, takes one complete request head at a time
/// (bodies are skipped by the decoder), asks the service, and writes the answer's bytes itself, through no other
/// handler, one flush per answer: a plain hit's reused answer (head and body) as one buffer; otherwise the status
/// line and header block encoded into one small buffer (`ResponseHead`) and the body's buffer shared or its file.
/// Hits are answered without leaving the event loop.
///
/// What NIO's server pipeline helpers did for it, it does itself: pipelined requests are answered in order (while
/// one is worked on, the complete ones behind it wait here and reading stops), a request the decoder refuses is
/// answered with the decoder's error (400, 413, 414, 431, 505) and the connection closed, and a connection idle for
/// `idleTimeout` with no request in progress is closed.
///
/// Behind TLS (`Settings.secure`) bodies kept as files are read into buffers to be encrypted, not sent with
/// sendfile; on a plain listener that redirects to HTTPS (`http.redirectToHTTPS`) every request is answered with a
/// 301 to the same URL over HTTPS.
final class EdgeHTTPHandler: ChannelDuplexHandler, RemovableChannelHandler {
    /// What a listener's connections share.
    struct Settings: Sendable {
        var idleTimeout: TimeAmount
        var encoder = ResponseHead()
        /// The connection is TLS: no file regions (the bytes must pass through the TLS handler).
        var secure = false
        /// `http.redirectToHTTPS`: the HTTPS port to send every request to (nil: serve).
        var redirectToHTTPSPort: Int?
        /// `http.headerTimeout`: a request begun (its first byte received) must be whole within this (408 else).
        var headerTimeout: TimeAmount = .seconds(10)
    }

    typealias InboundIn = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let service: EdgeService
    private var decoder = EdgeRequestDecoder()
    /// Bytes received and not yet decoded (a partial head); nil when every byte was used.
    private var received: ByteBuffer?
    private let inFlight: InFlightCounter
    private let settings: Settings
    private var idleTimeout: TimeAmount { settings.idleTimeout }
    /// A request's answer is being worked on off the event loop; requests behind it wait in `waiting`.
    private var busy = false
    private var waiting = CircularBuffer<RequestHead>()
    /// A read the channel asked for while requests were waiting: issued once they are answered.
    private var readHeld = false
    /// An answer said `connection: close`: nothing more is read or answered.
    private var closing = false
    /// The decoder refused the bytes after the complete requests received: answer those, then this, and close.
    private var malformed: EdgeError?
    /// When the connection last did something: a request arrived, or an answer worked on off the loop was sent.
    private var lastActivity = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?
    /// When the request now arriving began (its first byte), while one is partly received; its deadline's task.
    private var requestBegan: NIODeadline?
    private var headerCheck: Scheduled<Void>?

    init(service: EdgeService, inFlight: InFlightCounter, settings: Settings) {
        self.service = service
        self.inFlight = inFlight
        self.settings = settings
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { scheduleIdleCheck(context: context, at: lastActivity + idleTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        lastActivity = .now()
        scheduleIdleCheck(context: context, at: lastActivity + idleTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        headerCheck?.cancel()
        headerCheck = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        lastActivity = .now()
        var bytes = unwrapInboundIn(data)
        if var earlier = received {
            received = nil
            earlier.writeBuffer(&bytes)
            bytes = earlier
        }
        while !closing, let message = decoder.next(&bytes) {
            switch message {
            case .request(let h):
                if busy {
                    waiting.append(h)
                } else {
                    handle(context: context, head: h)
                }
            case .invalid(let error):
                malformed = error
                if !busy && waiting.isEmpty { answerMalformed(context: context) }
            }
        }
        if !closing && bytes.readableBytes > 0 {
            bytes.discardReadBytes()
            received = bytes
        }
        watchRequestDeadline(context: context)
    }

    /// A slow client (slowloris: a byte at a time, each keeping the connection from being idle) gets
    /// `headerTimeout` from the first byte of a request to its last (head, and any body the node skips): then 408
    /// and the connection closes. A request the node itself holds back (reading stops behind one being answered)
    /// is not the client's delay.
    private func watchRequestDeadline(context: ChannelHandlerContext) {
        guard !closing, received != nil || decoder.isSkippingBody else {
            requestBegan = nil
            headerCheck?.cancel()
            headerCheck = nil
            return
        }
        guard requestBegan == nil else { return }
        let began = NIODeadline.now()
        requestBegan = began
        scheduleHeaderCheck(context: context, at: began + settings.headerTimeout)
    }

    private func scheduleHeaderCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        headerCheck?.cancel()
        headerCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            headerCheck = nil
            guard requestBegan != nil, !closing else { return }
            if busy || !waiting.isEmpty {
                scheduleHeaderCheck(context: context, at: .now() + settings.headerTimeout)
                return
            }
            service.metrics.connections.count("header_timeout")
            write(context: context, EdgeService.errorResponse(.requestTimeout), keepAlive: false, isHead: false, arrival: nil)
        }
    }

    /// Reading stops while complete requests wait for an earlier one's answer (the pipelining client is held
    /// back by TCP, not by memory here).
    func read(context: ChannelHandlerContext) {
        if waiting.isEmpty {
            context.read()
        } else {
            readHeld = true
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

    private func handle(context: ChannelHandlerContext, head: RequestHead) {
        let keepAlive = head.keepAlive
        let isHead = head.method == .HEAD
        let arrival = service.accessLog == nil ? nil : Arrival(
            start: .now, client: context.remoteAddress?.ipAddress ?? "-", method: head.method.rawValue,
            host: head.host ?? "", target: head.target)
        if let port = settings.redirectToHTTPSPort {
            return write(context: context, Self.redirect(head, toPort: port), keepAlive: keepAlive, isHead: isHead,
                         arrival: arrival)
        }
        let request = EdgeRequest(head)
        switch service.respond(to: request, allocator: context.channel.allocator) {
        case .done(let response):
            write(context: context, response, keepAlive: keepAlive, isHead: isHead, arrival: arrival)
        case .pending(let work):
            inFlight.begin()
            busy = true
            let promise = context.eventLoop.makePromise(of: EdgeAnswer.self)
            promise.completeWithTask { await work() }
            promise.futureResult.assumeIsolated().whenComplete { result in
                self.inFlight.end()
                self.busy = false
                // Idle from now: the time the answer took was not the client's.
                self.lastActivity = .now()
                switch result {
                case .success(let response):
                    self.write(context: context, response, keepAlive: keepAlive, isHead: isHead, arrival: arrival)
                    self.answerWaiting(context: context)
                case .failure(let error):
                    self.service.logger.debug("closing a connection: its answer failed", metadata: ["edge.error": "\(error)"])
                    self.closing = true
                    context.close(promise: nil)
                }
            }
        }
    }

    /// Answers the requests that arrived while an earlier one was worked on, in order, then reads again.
    private func answerWaiting(context: ChannelHandlerContext) {
        while !busy && !closing, let next = waiting.popFirst() {
            handle(context: context, head: next)
        }
        if malformed != nil && !busy && !closing {
            answerMalformed(context: context)
        }
        if waiting.isEmpty && readHeld && !closing {
            readHeld = false
            context.read()
        }
    }

    private func write(context: ChannelHandlerContext, _ answer: EdgeAnswer, keepAlive: Bool, isHead: Bool,
                       arrival: Arrival?) {
        if let arrival { Self.log(service, arrival, answer, isHead: isHead) }
        let head: ByteBuffer
        var body = answer.body
        if let plain = answer.plain {
            // A plain hit: this adapter's encoding of it (head and body in one buffer) is kept on the entry and
            // reused while its `Age` and `max-age` stay the same, instead of being made and encoded on every hit.
            let encoded = plain.item.plainAnswer(age: plain.age, maxAge: plain.maxAge)
                ?? plain.item.keepPlainAnswer(prefix: settings.encoder.encode(answer, keepAlive: true, allocator: context.channel.allocator),
                                              age: plain.age, maxAge: plain.maxAge)
            if keepAlive && !isHead && encoded.carriesBody {
                context.writeAndFlush(wrapOutboundOut(.byteBuffer(encoded.bytes)), promise: nil)
                return
            }
            head = keepAlive ? encoded.prefix : ResponseHead.closing(encoded.prefix, allocator: context.channel.allocator)
            if let inMemory = encoded.body { body = .buffer(inMemory) }
        } else {
            head = settings.encoder.encode(answer, keepAlive: keepAlive, allocator: context.channel.allocator)
        }
        let sendsBody = answer.sendsBody(isHead: isHead)
        // The last write of the answer, flushed; its future only where something waits for it (the file kept
        // open until it is written, the connection closed after it).
        var last = IOData.byteBuffer(head)
        // The body file this answer sends from, if it does.
        var sent: BodyFile?
        if sendsBody {
            context.write(wrapOutboundOut(.byteBuffer(head)), promise: nil)
            switch body.resolved {
            case .file(let file):
                if !settings.secure, let region = file.region(on: context.eventLoop) {
                    last = .fileRegion(region)
                    sent = file
                } else {
                    last = .byteBuffer(file.read())
                }
            case .buffer(let buffer):
                last = .byteBuffer(buffer)
            case .empty, .entry:
                last = .byteBuffer(ByteBuffer())
            }
        }
        if keepAlive && sent == nil {
            context.writeAndFlush(wrapOutboundOut(last), promise: nil)
            return
        }
        let written = context.writeAndFlush(wrapOutboundOut(last))
        if let sent {
            // The file stays open until this write is done or failed, whatever the memory tier does meanwhile.
            written.assumeIsolated().whenComplete { _ in withExtendedLifetime(sent) {} }
        }
        if !keepAlive {
            closing = true
            waiting.removeAll()
            written.assumeIsolated().whenComplete { [settings] _ in Self.lingeringClose(context: context, secure: settings.secure) }
        }
    }

    /// Closes after a last answer without losing it: a client still sending (a slow head cut off with 408, a body
    /// refused with 413) would have its unread bytes make this side's kernel reset the connection, and a reset
    /// discards the answer before the client reads it. So, as nginx's lingering close: this side's output is shut
    /// (the client sees the answer, then the end), what still arrives is read and dropped (`closing`), and the
    /// connection closes when the client closes it or `lingerTime` has passed. Behind TLS it simply closes.
    static func lingeringClose(context: ChannelHandlerContext, secure: Bool) {
        guard !secure else { return context.close(promise: nil) }
        context.close(mode: .output, promise: nil)
        context.eventLoop.assumeIsolated().scheduleTask(in: lingerTime) { context.close(promise: nil) }
    }

    static let lingerTime = TimeAmount.seconds(2)

    private func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        idleCheck?.cancel()
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            idleCheck = nil
            let now = NIODeadline.now()
            if busy || !waiting.isEmpty {
                // A request is being answered: a slow fill is not an idle client.
                scheduleIdleCheck(context: context, at: now + idleTimeout)
            } else if lastActivity + idleTimeout > now {
                scheduleIdleCheck(context: context, at: lastActivity + idleTimeout)
            } else {
                service.logger.debug("closing an idle connection")
                closing = true
                context.close(promise: nil)
            }
        }
    }

    /// Any error closes the connection (requests the decoder refuses arrive as `.invalid`, not as errors).
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !closing else { return }
        service.logger.debug("closing a connection after an error", metadata: ["edge.error": "\(error)"])
        closing = true
        context.close(promise: nil)
    }

    /// Writes the access log's line for an answer (when there is an access log).
    static func log(_ service: EdgeService, _ arrival: Arrival, _ answer: EdgeAnswer, isHead: Bool) {
        guard let log = service.accessLog else { return }
        let elapsed = ContinuousClock.now - arrival.start
        log.record(AccessLogFormat.line(
            time: Date().timeIntervalSince1970, client: arrival.client, method: arrival.method, host: arrival.host,
            target: arrival.target, status: answer.status.code, bytes: isHead ? 0 : answer.bodyLength,
            cache: answer.cacheLabel,
            milliseconds: Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15))
    }

    /// `http.redirectToHTTPS`: 301 to the same host (its port replaced) and target over HTTPS; 400 without a Host.
    static func redirect(_ head: RequestHead, toPort port: Int) -> EdgeAnswer {
        guard let host = head.host.map(Self.hostWithoutPort), !host.isEmpty else {
            return EdgeService.errorResponse(.badRequest("a Host header is required"))
        }
        let location = "https://" + host + (port == 443 ? "" : ":\(port)") + head.target
        return EdgeAnswer(status: .movedPermanently, fields: [.location: location, .cacheControl: "max-age=3600"])
    }

    /// `images.example.com` of `images.example.com:8080`, `[::1]` of `[::1]:8080`.
    static func hostWithoutPort(_ host: String) -> String {
        if host.hasPrefix("[") { return host.firstIndex(of: "]").map { String(host[...$0]) } ?? host }
        return host.split(separator: ":", maxSplits: 1).first.map(String.init) ?? host
    }

    /// The decoder's refusal, answered after the answers to the complete requests before it; then the
    /// connection closes (nothing more was read).
    private func answerMalformed(context: ChannelHandlerContext) {
        guard let error = malformed else { return }
        write(context: context, EdgeService.errorResponse(error),
              keepAlive: false, isHead: false, arrival: nil)
    }
}

/// Requests whose answer is still being worked on; shutdown waits for them.
final class InFlightCounter: Sendable {
    private let count = NIOLockedValueBox(0)
    func begin() { count.withLockedValue { $0 += 1 } }
    func end() { count.withLockedValue { $0 -= 1 } }
    var value: Int { count.withLockedValue { $0 } }
}
