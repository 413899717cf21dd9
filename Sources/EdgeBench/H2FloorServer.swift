import EdgeNode
import Foundation
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL

/// The floor of an HTTP/2 hit over TLS on this stack (tools/bench/h2): the node's pipeline — swift-nio-ssl, its
/// TLS write batching (`TLSWriteCoalescer`), NIO's HTTP/2 handler as the node makes it (`.edge`) — and behind it a
/// handler that answers every request's HEADERS frame with a fixed header list and the body of the file its
/// `:path` names, both made at start. No request parsing beyond `:path`, no cache, no header list built per
/// answer: what an h2 hit costs here without the node's own work. One event loop per core, as the node has.
struct H2FloorServer {
    var port = 0
    var cert = ""
    var key = ""
    var directory = ""

    init(arguments: [String]) throws(UsageError) {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            switch flag {
            case "--port": port = try UsageError.positive(flag, &rest)
            case "--cert", "--key", "--dir":
                guard let value = rest.popFirst() else { throw UsageError(description: "\(flag) needs a path") }
                switch flag {
                case "--cert": cert = value
                case "--key": key = value
                default: directory = value
                }
            default: throw UsageError(description: "unknown option \(flag)")
            }
        }
        guard port > 0, !cert.isEmpty, !key.isEmpty, !directory.isEmpty else {
            throw UsageError(description: "serve-h2-floor needs --port, --cert, --key and --dir")
        }
    }

    func run() throws {
        // Every file of the folder, as `/name` → (header list, body).
        var answers: [String: Answer] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            guard let bytes = FileManager.default.contents(atPath: directory + "/" + name) else { continue }
            let headers = HPACKHeaders([(":status", "200"), ("content-type", "image/jpeg"),
                                        ("content-length", String(bytes.count)), ("server", "floor")])
            answers["/" + name] = Answer(headers: headers, body: ByteBuffer(bytes: bytes))
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        tls.applicationProtocols = ["h2"]
        let context = try NIOSSLContext(configuration: tls)
        let table = answers
        try FloorServer.serve(port: port) { channel in
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(NIOSSLServerHandler(context: context))
            try sync.addHandler(TLSWriteCoalescer())
            try sync.addHandler(NIOHTTP2Handler.edge(maxConcurrentStreams: HTTPSSettings().maxConcurrentStreams))
            try sync.addHandler(Answerer(answers: table))
        }
    }

    struct Answer: @unchecked Sendable {
        var headers: HPACKHeaders
        var body: ByteBuffer
    }

    /// Answers each request's HEADERS frame on the connection (as the node's `HTTP2EdgeHandler` does): the
    /// answer of its `:path`, else 404 without a body; flushed at the end of each read.
    final class Answerer: ChannelInboundHandler {
        typealias InboundIn = HTTP2Frame
        typealias OutboundOut = HTTP2Frame
        let answers: [String: Answer]
        var pending = false
        static let notFound = HPACKHeaders([(":status", "404"), ("content-length", "0"), ("server", "floor")])

        init(answers: [String: Answer]) { self.answers = answers }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            guard case .headers(let request) = frame.payload, frame.streamID != .rootStream else { return }
            pending = true
            guard let path = request.headers.first(name: ":path"), let answer = answers[path] else {
                context.write(wrapOutboundOut(HTTP2Frame(streamID: frame.streamID,
                                                         payload: .headers(.init(headers: Self.notFound, endStream: true)))),
                              promise: nil)
                return
            }
            context.write(wrapOutboundOut(HTTP2Frame(streamID: frame.streamID, payload: .headers(.init(headers: answer.headers)))),
                          promise: nil)
            context.write(wrapOutboundOut(HTTP2Frame(streamID: frame.streamID,
                                                     payload: .data(.init(data: .byteBuffer(answer.body), endStream: true)))),
                          promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            if pending {
                pending = false
                context.flush()
            }
            context.fireChannelReadComplete()
        }
    }
}
