import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The floor of an HTTP/1.1 hit on SwiftNIO (tools/bench/hit): a server that answers every request it receives
/// with the same pre-encoded response (status line, three headers, a file's bytes), without parsing anything but
/// the blank line that ends each request head. No routing, no lookup, no header block built per answer: what a
/// hit costs on this stack with nothing of the node's own work in it. One event loop per core, as the node has.
struct FloorServer {
    var port = 0
    var file = ""
    /// Parse requests with NIO's HTTP/1.1 decoder (as the node did before it had its own) instead of only finding
    /// their ends.
    var decode = false

    init(arguments: [String]) throws(UsageError) {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            switch flag {
            case "--port": port = try UsageError.positive(flag, &rest)
            case "--decode": decode = true
            case "--file":
                guard let f = rest.popFirst() else { throw UsageError(description: "--file needs a path") }
                file = f
            default: throw UsageError(description: "unknown option \(flag)")
            }
        }
        guard port > 0, !file.isEmpty else { throw UsageError(description: "serve-floor needs --port and --file") }
    }

    func run() throws {
        guard let body = FileManager.default.contents(atPath: file) else {
            throw UsageError(description: "cannot read \(file)")
        }
        var response = ByteBuffer()
        response.writeString("HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\ncontent-length: \(body.count)\r\n"
                             + "server: floor\r\n\r\n")
        response.writeBytes(body)
        let answer = response
        try Self.serve(port: port) { [decode] channel in
            if decode {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
                try channel.pipeline.syncOperations.addHandler(DecodedAnswerer(answer: answer))
            } else {
                try channel.pipeline.syncOperations.addHandler(Answerer(answer: answer))
            }
        }
    }

    /// Serves on 127.0.0.1:`port` until the process ends, as the node listens (one event loop per core, the same
    /// socket options), each connection's pipeline made by `pipeline`.
    static func serve(port: Int, pipeline: @escaping @Sendable (any Channel) throws -> Void) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in channel.eventLoop.makeCompletedFuture { try pipeline(channel) } }
            .bind(host: "127.0.0.1", port: port).wait()
        print("serving on \(port)")
        try channel.closeFuture.wait()
    }

    /// Counts request heads by their ending CRLF CRLF (also when split across reads) and answers each.
    final class Answerer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let answer: ByteBuffer
        /// How many bytes of "\r\n\r\n" the previous read ended with.
        var matched = 0
        var pending = false

        init(answer: ByteBuffer) { self.answer = answer }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            var heads = 0
            buffer.withUnsafeReadableBytes { bytes in
                for b in bytes {
                    let want: UInt8 = (matched % 2 == 0) ? 13 : 10
                    if b == want {
                        matched += 1
                        if matched == 4 {
                            heads += 1
                            matched = 0
                        }
                    } else {
                        matched = b == 13 ? 1 : 0
                    }
                }
            }
            for _ in 0..<heads { context.write(wrapOutboundOut(answer), promise: nil) }
            if heads > 0 { pending = true }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            if pending {
                pending = false
                context.flush()
            }
        }
    }

    /// Answers each request NIO's decoder delivers, at its end.
    final class DecodedAnswerer: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = ByteBuffer
        let answer: ByteBuffer
        var pending = false

        init(answer: ByteBuffer) { self.answer = answer }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .end = unwrapInboundIn(data) {
                context.write(wrapOutboundOut(answer), promise: nil)
                pending = true
            }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            if pending {
                pending = false
                context.flush()
            }
        }
    }
}
