import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP/1.1 origin on SwiftNIO, bound to 127.0.0.1 (or another loopback address) on an ephemeral port,
/// answering routes registered by the test. Counts requests per path and accepted connections. Every instance has its own event loop,
/// so tests running in parallel never share one.
///
///     let origin = try await TestOrigin.start()
///     origin.route("/a.jpg", body: bytes, headers: [("Content-Type", "image/jpeg")])
///     origin.route("/slow", body: bytes, delay: .seconds(3))
///     ... origin.baseURL + "/a.jpg" ...
///     try await origin.shutdown()
public final class TestOrigin: Sendable {
    /// One canned response.
    public struct Route: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
        /// Wait this long after the request before answering (timeout tests).
        public var delay: Duration?
        /// Send the body with chunked transfer encoding and no Content-Length.
        public var chunked: Bool
        /// Answer a conditional GET whose `If-None-Match` names this route's `ETag` (or, without one, whose
        /// `If-Modified-Since` equals its `Last-Modified`) with 304 and these header lines instead of the body.
        public var notModifiedHeaders: [(String, String)]?

        public init(status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = [], delay: Duration? = nil,
                    chunked: Bool = false, notModifiedHeaders: [(String, String)]? = nil) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
            self.chunked = chunked
            self.notModifiedHeaders = notModifiedHeaders
        }

        /// The response to `request`: this route, or a 304 when it answers conditionals and the request's
        /// validator matches.
        func answering(_ request: Request) -> Route {
            guard let notModified = notModifiedHeaders, status == 200 else { return self }
            let own = { (name: String) in headers.last { $0.0.lowercased() == name }?.1 }
            let matches: Bool
            if let etag = own("etag") {
                matches = request.header("if-none-match")?.split(separator: ",")
                    .contains { $0.trimmingCharacters(in: .whitespaces) == etag } ?? false
            } else if let lm = own("last-modified") {
                matches = request.header("if-modified-since") == lm
            } else {
                matches = false
            }
            return matches ? Route(status: 304, headers: notModified, delay: delay) : self
        }
    }

    /// A request as the origin received it.
    public struct Request: Sendable {
        public var method: String
        /// The request target as sent, query included.
        public var uri: String
        /// Header names lower-cased.
        public var headers: [(name: String, value: String)]

        public func header(_ name: String) -> String? {
            let lower = name.lowercased()
            return headers.last { $0.name == lower }?.value
        }
    }

    private struct State {
        var routes: [String: Route] = [:]
        /// Paths answered by the value of a request header: (header name, route per value, route when absent).
        var byHeader: [String: (name: String, routes: [String: Route], absent: Route)] = [:]
        /// Paths answered by a function of the request.
        var computed: [String: @Sendable (Request) -> Route] = [:]
        var counts: [String: Int] = [:]
        var notModified: [String: Int] = [:]
        var requests: [Request] = []
        var connections = 0
        /// Paths whose answers wait for `release`, and the answers waiting.
        var held: Set<String> = []
        var waiting: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// The address the origin listens on (`127.0.0.1`, `127.0.0.2`, `::1`…) and its port.
    public let host: String
    public let port: Int

    /// `http://127.0.0.1:<port>` (no trailing slash; an IPv6 host in brackets).
    public var baseURL: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    /// Starts a new origin with no routes (every path answers 404 until routed), listening on `host` (Linux
    /// routes all of 127.0.0.0/8 to the loopback interface, so two origins can have distinct addresses).
    public static func start(host: String = "127.0.0.1") async throws -> TestOrigin {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let box = Box()
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        box.origin?.connectionAccepted()
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(Handler(box: box))
                    }
                }
                .bind(host: host, port: 0).get()
            guard let port = channel.localAddress?.port else {
                try? await channel.close()
                throw TestOriginError.noPort
            }
            let origin = TestOrigin(group: group, channel: channel, host: host, port: port)
            box.set(origin)
            return origin
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, host: String, port: Int) {
        self.group = group
        self.channel = channel
        self.host = host
        self.port = port
    }

    /// Registers (or replaces) the response for `path` (the request target without its query).
    public func route(_ path: String, _ route: Route) {
        state.withLock { $0.routes[path] = route }
    }

    /// Registers (or replaces) the response for `path`.
    public func route(_ path: String, status: Int = 200, body: [UInt8] = [], headers: [(String, String)] = [],
                      delay: Duration? = nil, chunked: Bool = false) {
        route(path, Route(status: status, headers: headers, body: body, delay: delay, chunked: chunked))
    }

    /// Registers a text body for `path`.
    public func route(_ path: String, status: Int = 200, text: String, headers: [(String, String)] = [],
                      delay: Duration? = nil, chunked: Bool = false) {
        route(path, status: status, body: Array(text.utf8), headers: headers, delay: delay, chunked: chunked)
    }

    /// Registers routes for `path` chosen by the request's `header` (its last value, as received): `routes[value]`,
    /// or `absent` for a request without it (or with a value not listed).
    public func route(_ path: String, byHeader header: String, _ routes: [String: Route], absent: Route) {
        state.withLock { $0.byHeader[path] = (header.lowercased(), routes, absent) }
    }

    /// Registers a response made for each request to `path` by `answer` (a fake peer of the node's, say).
    public func route(_ path: String, answer: @escaping @Sendable (Request) -> Route) {
        state.withLock { $0.computed[path] = answer }
    }

    /// Removes the route for `path` (it answers 404 again).
    public func unroute(_ path: String) {
        _ = state.withLock { $0.routes.removeValue(forKey: path) }
    }

    /// Makes requests for `path` (every path it begins when it ends with `*`) wait (counted, unanswered) until
    /// `release()`: a race made deterministic, where a delay would depend on how loaded the machine is.
    public func hold(_ path: String) {
        _ = state.withLock { $0.held.insert(path) }
    }

    /// Answers every held request and stops holding.
    public func release() {
        let waiting = state.withLock { s in
            s.held = []
            defer { s.waiting = [] }
            return s.waiting
        }
        for answer in waiting { answer() }
    }

    /// Requests for `path` answered with 304 (see `Route.notModifiedHeaders`).
    public func notModifiedCount(_ path: String) -> Int {
        state.withLock { $0.notModified[path] ?? 0 }
    }

    /// Requests received for `path` (without query), routed or not.
    public func count(_ path: String) -> Int {
        state.withLock { $0.counts[path] ?? 0 }
    }

    /// Requests received in all.
    public var totalRequests: Int {
        state.withLock { $0.requests.count }
    }

    /// Every request received so far, oldest first.
    public var requests: [Request] {
        state.withLock { $0.requests }
    }

    /// TCP connections accepted so far.
    public var connectionCount: Int {
        state.withLock { $0.connections }
    }

    /// Closes the listener and every open connection, and stops the event loop.
    public func shutdown() async throws {
        try? await channel.close()
        try await group.shutdownGracefully()
    }

    // MARK: - Internals

    fileprivate func connectionAccepted() {
        state.withLock { $0.connections += 1 }
    }

    /// Counts `request` and returns its route, or nil (with the answer kept in `waiting`) while its path is held.
    fileprivate func received(_ request: Request, answer: @escaping @Sendable (Route?) -> Void) -> Route?? {
        let path = String(request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        return state.withLock { s -> Route?? in
            s.counts[path, default: 0] += 1
            s.requests.append(request)
            let route = s.computed[path].map { $0(request) } ?? s.byHeader[path].map { chooser in
                request.header(chooser.name).flatMap { chooser.routes[$0] } ?? chooser.absent
            } ?? s.routes[path]?.answering(request)
            if route?.status == 304 { s.notModified[path, default: 0] += 1 }
            let held = s.held.contains(path) || s.held.contains { $0.hasSuffix("*") && path.hasPrefix($0.dropLast()) }
            guard held else { return .some(route) }
            s.waiting.append { answer(route) }
            return .none
        }
    }

    /// Lets the channel initializer, which exists before the origin does, reach it.
    fileprivate final class Box: Sendable {
        private let value = Mutex<TestOrigin?>(nil)
        var origin: TestOrigin? { value.withLock { $0 } }
        func set(_ o: TestOrigin) { value.withLock { $0 = o } }
    }

    private final class Handler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let box: Box
        private var head: HTTPRequestHead?

        init(box: Box) { self.box = box }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
            case .body:
                break
            case .end:
                guard let h = head else { return }
                head = nil
                let request = Request(method: h.method.rawValue, uri: h.uri,
                                      headers: h.headers.map { (name: $0.name.lowercased(), value: $0.value) })
                let keepAlive = h.isKeepAlive
                let isHead = h.method == .HEAD
                let loop = context.eventLoop
                let bound = NIOLoopBound((self, context), eventLoop: loop)
                let later: @Sendable (Route?) -> Void = { route in
                    loop.execute {
                        let (handler, context) = bound.value
                        handler.answer(context: context, route: route, keepAlive: keepAlive, isHead: isHead)
                    }
                }
                guard let origin = box.origin else { return answer(context: context, route: nil, keepAlive: keepAlive, isHead: isHead) }
                guard let route = origin.received(request, answer: later) else { return }
                answer(context: context, route: route, keepAlive: keepAlive, isHead: isHead)
            }
        }

        private func answer(context: ChannelHandlerContext, route: Route?, keepAlive: Bool, isHead: Bool) {
            let route = route ?? Route(status: 404, body: Array("no route\n".utf8))
            if let delay = route.delay {
                let nanos = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
                context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(nanos)) {
                    self.respond(context: context, route: route, keepAlive: keepAlive, isHead: isHead)
                }
            } else {
                respond(context: context, route: route, keepAlive: keepAlive, isHead: isHead)
            }
        }

        private func respond(context: ChannelHandlerContext, route: Route, keepAlive: Bool, isHead: Bool) {
            guard context.channel.isActive else { return }
            var headers = HTTPHeaders(route.headers)
            if route.chunked {
                headers.remove(name: "content-length")
                headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            } else if route.status != 304, !headers.contains(name: "content-length") {
                headers.add(name: "content-length", value: String(route.body.count))
            }
            if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
            let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: route.status),
                                        headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            if !isHead {
                // Several writes, so large bodies really arrive in pieces (and chunked ones in several chunks).
                let chunk = 64 * 1024
                var offset = 0
                while offset < route.body.count {
                    let end = min(offset + chunk, route.body.count)
                    let buffer = context.channel.allocator.buffer(bytes: route.body[offset..<end])
                    context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                    offset = end
                }
            }
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive {
                done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}

enum TestOriginError: Error {
    case noPort
}
