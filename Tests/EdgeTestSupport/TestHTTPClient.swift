import NIOCore
public import NIOHTTP1
import NIOPosix
import Synchronization

/// One HTTP response as a test client received it.
public struct TestHTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The last value of a header (any case).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.last { $0.name == lower }?.value
    }
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A minimal HTTP/1.1 client over a real loopback connection that sends the request target exactly as given
/// (no normalisation of `..` or `%2e`), and can send several requests over one keep-alive connection.
public final class TestHTTPClient: Sendable {
    private let channel: any Channel
    private let collector: Collector

    /// Opens a connection to 127.0.0.1:`port`.
    public static func connect(port: Int) async throws -> TestHTTPClient {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseHandler(collector: collector))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return TestHTTPClient(channel: channel, collector: collector)
    }

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    /// Sends one request on this connection and waits for its response.
    public func send(_ target: String, method: HTTPMethod = .GET, headers: [(String, String)] = [],
                     body: [UInt8]? = nil) async throws -> TestHTTPResponse {
        var h = HTTPHeaders(headers)
        if !h.contains(name: "host") { h.add(name: "host", value: "localhost") }
        if let body { h.replaceOrAdd(name: "content-length", value: String(body.count)) }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: target, headers: h)
        let promise = channel.eventLoop.makePromise(of: TestHTTPResponse.self)
        collector.expect(promise, isHead: method == .HEAD)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        do {
            try await channel.writeAndFlush(HTTPClientRequestPart.end(nil))
        } catch {
            // The connection went away before the request was written: nobody will answer this promise.
            promise.fail(error)
            throw error
        }
        return try await promise.futureResult.get()
    }

    /// Whether the server has closed the connection.
    public var isClosed: Bool { !channel.isActive }

    public func close() async {
        try? await channel.close()
    }

    /// One request on a new connection.
    public static func get(port: Int, _ target: String, method: HTTPMethod = .GET,
                           headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> TestHTTPResponse {
        let client = try await connect(port: port)
        defer { Task { await client.close() } }
        return try await client.send(target, method: method, headers: headers, body: body)
    }
}

final class Collector: Sendable {
    private let waiting = Mutex<[(EventLoopPromise<TestHTTPResponse>, Bool)]>([])
    func expect(_ p: EventLoopPromise<TestHTTPResponse>, isHead: Bool) { waiting.withLock { $0.append((p, isHead)) } }
    func next() -> EventLoopPromise<TestHTTPResponse>? {
        waiting.withLock { $0.isEmpty ? nil : $0.removeFirst().0 }
    }
    func failAll(_ error: any Error) {
        let all = waiting.withLock { w in defer { w.removeAll() }; return w }
        for (p, _) in all { p.fail(error) }
    }
}

final class ResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let collector: Collector
    private var current: TestHTTPResponse?

    init(collector: Collector) { self.collector = collector }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            current = TestHTTPResponse(status: Int(h.status.code), headers: h.headers.map { ($0.name.lowercased(), $0.value) }, body: [])
        case .body(var b):
            current?.body += b.readBytes(length: b.readableBytes) ?? []
        case .end:
            if let r = current { collector.next()?.succeed(r) }
            current = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        collector.failAll(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        collector.failAll(error)
        context.close(promise: nil)
    }
}

/// Bytes written as they are to a loopback connection, and every byte the server sent until it closed the
/// connection (or `timeout` passed): for pipelining and malformed requests, which a real client does not send.
public enum RawTCPExchange {
    public static func exchange(port: Int, _ request: String, timeout: Duration = .seconds(10)) async throws -> String {
        String(decoding: try await exchangeBytes(port: port, request, timeout: timeout), as: UTF8.self)
    }

    /// As `exchange`, the request written in `pieces`, flushed one by one with `pause` between them.
    public static func exchange(port: Int, pieces: [String], pause: Duration, timeout: Duration = .seconds(10)) async throws -> String {
        String(decoding: try await exchangeBytes(port: port, pieces: pieces, pause: pause, timeout: timeout), as: UTF8.self)
    }

    /// As `exchange`, the bytes as they came (bodies need not be text).
    public static func exchangeBytes(port: Int, _ request: String, timeout: Duration = .seconds(10)) async throws -> [UInt8] {
        try await exchangeBytes(port: port, pieces: [request], pause: .zero, timeout: timeout)
    }

    static func exchangeBytes(port: Int, pieces: [String], pause: Duration, timeout: Duration) async throws -> [UInt8] {
        let collector = RawCollector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        for (n, piece) in pieces.enumerated() {
            if n > 0 { try await Task.sleep(for: pause) }
            try await channel.writeAndFlush(ByteBuffer(string: piece))
        }
        let closed = channel.closeFuture
        let deadline = ContinuousClock.now + timeout
        while channel.isActive && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        try? await channel.close()
        _ = try? await closed.get()
        return collector.received.withLock { $0 }
    }

    /// The status lines of the answers in `text` ("200 OK", …), found by their start: bodies need not end with a
    /// line break.
    public static func statusLines(_ text: String) -> [String] {
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.components(separatedBy: "\r\n")[0] }
            .filter { $0.first?.isNumber == true }
    }

    /// The answers in `bytes`, in order: each head (without the blank line ending it) and the body its
    /// Content-Length frames (none without one, and none for the n-th answer when `isHead[n]`: an answer to
    /// HEAD), up to the first answer cut short.
    public static func answers(_ bytes: [UInt8], isHead: [Bool] = []) -> [(head: String, body: [UInt8])] {
        var found: [(head: String, body: [UInt8])] = []
        var at = 0
        let end = Array("\r\n\r\n".utf8)
        while at < bytes.count {
            guard let headEnd = (at..<max(at, bytes.count - 3)).first(where: { Array(bytes[$0..<$0 + 4]) == end }) else { break }
            let head = String(decoding: bytes[at..<headEnd], as: UTF8.self)
            let framed = head.lowercased().split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            let length = found.count < isHead.count && isHead[found.count] ? 0 : framed
            guard headEnd + 4 + length <= bytes.count else { break }
            found.append((head, Array(bytes[(headEnd + 4)..<(headEnd + 4 + length)])))
            at = headEnd + 4 + length
        }
        return found
    }

    /// The bodies of the answers in `bytes` (`answers`).
    public static func bodies(_ bytes: [UInt8]) -> [[UInt8]] { answers(bytes).map(\.body) }

    final class RawCollector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex<[UInt8]>([])
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let b = unwrapInboundIn(data)
            received.withLock { $0 += b.readableBytesView }
        }
    }
}
