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
final class EdgeHTTPHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let service: EdgeService
    private var decoder = EdgeRequestDecoder()
    /// Bytes received and not yet decoded (a partial head); nil when every byte was used.
    private var received: ByteBuffer?
    private let inFlight: InFlightCounter
    private let idleTimeout: TimeAmount
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

    init(service: EdgeService, inFlight: InFlightCounter, idleTimeout: TimeAmount) {
        self.service = service
        self.inFlight = inFlight
        self.idleTimeout = idleTimeout
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
        let request = EdgeRequest(head)
        switch service.respond(to: request, allocator: context.channel.allocator) {
        case .done(let response):
            write(context: context, response, keepAlive: keepAlive, isHead: isHead, arrival: arrival)
        case .pending(let work):
            inFlight.begin()
            busy = true
            let promise = context.eventLoop.makePromise(of: EdgeResponse.self)
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

    private func write(context: ChannelHandlerContext, _ response: EdgeResponse, keepAlive: Bool, isHead: Bool,
                       arrival: Arrival?) {
        if let arrival, let log = service.accessLog {
            let elapsed = ContinuousClock.now - arrival.start
            log.record(AccessLogFormat.line(
                time: Date().timeIntervalSince1970, client: arrival.client, method: arrival.method, host: arrival.host,
                target: arrival.target, status: Int(response.status.code), bytes: isHead ? 0 : response.bodyLength,
                cache: response.cacheLabel,
                milliseconds: Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15))
        }
        // A reused plain hit with its body: the whole answer is one buffer.
        if keepAlive && !isHead, let encoded = response.encoded, encoded.carriesBody {
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(encoded.bytes)), promise: nil)
            return
        }
        let head = if let encoded = response.encoded {
            keepAlive ? encoded.head : ResponseHead.closing(encoded.head, allocator: context.channel.allocator)
        } else {
            ResponseHead.encode(response, keepAlive: keepAlive, allocator: context.channel.allocator)
        }
        let sendsBody = !isHead && ResponseHead.allowsBody(response.status) && response.bodyLength > 0
        // The last write of the answer, flushed; its future only where something waits for it (the file kept
        // open until it is written, the connection closed after it).
        let last: IOData
        // The body file this answer sends from, if it does.
        var sent: BodyFile?
        if sendsBody {
            context.write(wrapOutboundOut(.byteBuffer(head)), promise: nil)
            if let file = response.file, let region = file.region(on: context.eventLoop) {
                last = .fileRegion(region)
                sent = file
            } else {
                last = .byteBuffer(response.file?.read() ?? response.body)
            }
        } else {
            last = .byteBuffer(head)
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
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

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

    /// The decoder's refusal, answered after the answers to the complete requests before it; then the
    /// connection closes (nothing more was read).
    private func answerMalformed(context: ChannelHandlerContext) {
        guard let error = malformed else { return }
        write(context: context, EdgeService.errorResponse(error, allocator: context.channel.allocator),
              keepAlive: false, isHead: false, arrival: nil)
    }
}

/// Encodes a response's status line and header block (HTTP/1.1) into one buffer — its `headers`, then its
/// `encodedLines` as they are — adding `content-length` where the response has none and may have a body, `server`, and `connection: close` when the connection ends. A
/// header whose value could split the block (CR, LF or NUL in it) is left out: values that came from an origin
/// or a URL never reach the wire raw.
enum ResponseHead {
    static func encode(_ r: EdgeResponse, keepAlive: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        var b = allocator.buffer(capacity: 384)
        b.writeStaticString("HTTP/1.1 ")
        b.writeString(String(r.status.code))
        b.writeStaticString(" ")
        b.writeString(r.status.reasonPhrase)
        b.writeStaticString("\r\n")
        var hasLength = r.encodedLinesFrame
        for (name, value) in r.headers {
            if !hasLength && name.utf8.count == 14 && name.lowercased() == "content-length" { hasLength = true }
            write(name, value, into: &b)
        }
        if let lines = r.encodedLines { b.writeImmutableBuffer(lines) }
        if !hasLength && allowsBody(r.status) {
            b.writeStaticString("content-length: ")
            b.writeString(String(r.bodyLength))
            b.writeStaticString("\r\n")
        }
        b.writeStaticString(keepAlive ? "server: imgedge\r\n\r\n" : "server: imgedge\r\nconnection: close\r\n\r\n")
        return b
    }

    /// A keep-alive head (`encode(_:keepAlive: true, …)`) as the last answer on its connection: the same lines
    /// and `connection: close`.
    static func closing(_ head: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var b = allocator.buffer(capacity: head.readableBytes + 19)
        b.writeImmutableBuffer(head.getSlice(at: head.readerIndex, length: head.readableBytes - 2) ?? head)
        b.writeStaticString("connection: close\r\n\r\n")
        return b
    }

    /// `name: value` lines, encoded once for many answers.
    static func lines(_ pairs: [(String, String)]) -> ByteBuffer {
        var b = ByteBuffer()
        b.reserveCapacity(pairs.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 })
        for (name, value) in pairs { write(name, value, into: &b) }
        return b
    }

    private static func write(_ name: String, _ value: String, into b: inout ByteBuffer) {
        guard isSafe(name) && isSafe(value) else { return }
        b.writeString(name)
        b.writeStaticString(": ")
        b.writeString(value)
        b.writeStaticString("\r\n")
    }

    /// 1xx, 204 and 304 answers have no body (RFC 9110 §6.4.1).
    static func allowsBody(_ status: HTTPResponseStatus) -> Bool {
        status.code >= 200 && status != .noContent && status != .notModified
    }

    static func isSafe(_ s: String) -> Bool {
        !s.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 }
    }
}

/// Requests whose answer is still being worked on; shutdown waits for them.
final class InFlightCounter: Sendable {
    private let count = NIOLockedValueBox(0)
    func begin() { count.withLockedValue { $0 += 1 } }
    func end() { count.withLockedValue { $0 -= 1 } }
    var value: Int { count.withLockedValue { $0 } }
}
