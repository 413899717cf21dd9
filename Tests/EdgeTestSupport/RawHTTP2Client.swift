import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import NIOSSL

/// An HTTP/2 client that writes frames as the test builds them — well-formed or not — over real TLS (ALPN h2)
/// to 127.0.0.1, and reads back the server's frames: for the flood and stall cases no real client sends. Header
/// blocks are HPACK literals without indexing or Huffman coding (`RawHTTP2Client.headerBlock`).
public final class RawHTTP2Client: Sendable {
    /// One frame the server sent.
    public struct Frame: Sendable, Equatable {
        public var type: UInt8
        public var flags: UInt8
        public var stream: UInt32
        public var payload: [UInt8]

        /// A GOAWAY's error code.
        public var goAwayCode: UInt32? {
            guard type == FrameType.goAway, payload.count >= 8 else { return nil }
            return payload[4..<8].reduce(0) { $0 << 8 | UInt32($1) }
        }
    }

    public enum FrameType {
        public static let data: UInt8 = 0, headers: UInt8 = 1, rstStream: UInt8 = 3, settings: UInt8 = 4,
                          ping: UInt8 = 6, goAway: UInt8 = 7, windowUpdate: UInt8 = 8, continuation: UInt8 = 9
    }

    public enum Flag {
        public static let endStream: UInt8 = 1, ack: UInt8 = 1, endHeaders: UInt8 = 4
    }

    public enum ErrorCode {
        public static let noError: UInt32 = 0, protocolError: UInt32 = 1, refusedStream: UInt32 = 7,
                          enhanceYourCalm: UInt32 = 0xB, compressionError: UInt32 = 9
    }

    private let channel: any Channel
    private let received: NIOLockedValueBox<[UInt8]>

    /// Connects, completes TLS with ALPN h2 (trusting the PEM CA at `caPath`, naming `serverName`), and sends the
    /// connection preface and `settings` (id, value pairs).
    public static func connect(port: Int, caPath: String, serverName: String,
                               settings: [(UInt16, UInt32)] = []) async throws -> RawHTTP2Client {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(caPath)
        tls.applicationProtocols = ["h2"]
        let context = try NIOSSLContext(configuration: tls)
        let received = NIOLockedValueBox<[UInt8]>([])
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let client = RawHTTP2Client(channel: channel, received: received)
        var preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        preface += frame(FrameType.settings, 0, 0, settings.flatMap { id, value in
            [UInt8(id >> 8), UInt8(id & 0xFF)] + withUnsafeBytes(of: value.bigEndian, Array.init)
        })
        try await client.send(preface)
        return client
    }

    private init(channel: any Channel, received: NIOLockedValueBox<[UInt8]>) {
        self.channel = channel
        self.received = received
    }

    /// Writes bytes as they are.
    public func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    public var isOpen: Bool { channel.isActive }

    public func close() async { try? await channel.close() }

    /// The frames received so far (a frame not yet whole is left for later).
    public func frames() -> [Frame] {
        let bytes = received.withLockedValue { $0 }
        var out: [Frame] = []
        var i = 0
        while i + 9 <= bytes.count {
            let length = Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
            guard i + 9 + length <= bytes.count else { break }
            let stream = (UInt32(bytes[i + 5]) << 24 | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 8
                | UInt32(bytes[i + 8])) & 0x7FFF_FFFF
            out.append(Frame(type: bytes[i + 3], flags: bytes[i + 4], stream: stream, payload: Array(bytes[(i + 9)..<(i + 9 + length)])))
            i += 9 + length
        }
        return out
    }

    /// Waits (up to `timeout`) until a frame matches, or the connection closes; returns the match.
    public func waitFor(timeout: Duration = .seconds(10), _ matches: (Frame) -> Bool) async throws -> Frame? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let f = frames().first(where: matches) { return f }
            if !channel.isActive { return frames().first(where: matches) }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// Waits (up to `timeout`) for the server to close the connection; true when it did.
    public func waitForClose(timeout: Duration = .seconds(10)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while channel.isActive && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return !channel.isActive
    }

    /// A frame: 9-byte header, then the payload.
    public static func frame(_ type: UInt8, _ flags: UInt8, _ stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
        let n = payload.count
        return [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), type, flags,
                UInt8(stream >> 24 & 0x7F), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)]
            + payload
    }

    /// A request's header block: HPACK literals, not indexed, no Huffman (RFC 7541 §6.2.2).
    public static func headerBlock(_ fields: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (name, value) in fields {
            out.append(0)
            out += integer(name.utf8.count, prefix: 7) + Array(name.utf8)
            out += integer(value.utf8.count, prefix: 7) + Array(value.utf8)
        }
        return out
    }

    /// GET `path` on `stream` as one HEADERS frame (END_STREAM, END_HEADERS).
    public static func get(_ path: String, stream: UInt32, authority: String = "web.test",
                           extra: [(String, String)] = []) -> [UInt8] {
        frame(FrameType.headers, Flag.endStream | Flag.endHeaders, stream,
              headerBlock([(":method", "GET"), (":scheme", "https"), (":authority", authority), (":path", path)] + extra))
    }

    /// An HPACK integer with an N-bit prefix (RFC 7541 §5.1); the prefix's other bits are 0.
    public static func integer(_ value: Int, prefix: Int) -> [UInt8] {
        let max = (1 << prefix) - 1
        guard value >= max else { return [UInt8(value)] }
        var out = [UInt8(max)]
        var rest = value - max
        while rest >= 128 {
            out.append(UInt8(rest % 128 + 128))
            rest /= 128
        }
        out.append(UInt8(rest))
        return out
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: NIOLockedValueBox<[UInt8]>
        init(received: NIOLockedValueBox<[UInt8]>) { self.received = received }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let b = unwrapInboundIn(data)
            received.withLockedValue { $0 += b.readableBytesView }
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            print("RawHTTP2Client: \(error)")
            context.close(promise: nil)
        }
    }
}
