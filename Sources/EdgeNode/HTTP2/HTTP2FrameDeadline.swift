import NIOCore

/// `http.headerTimeout` on an HTTP/2 connection: what a client has begun sending — the connection preface, a
/// frame, a header block spread over HEADERS and CONTINUATION frames — must be whole within the timeout, else the
/// connection is closed (counted as `header_timeout`). A slowloris client that trickles a frame a byte at a time
/// never lets NIO's HTTP/2 handler see a frame, so neither its flood defences nor the idle timer (which counts
/// streams) would notice it. The handler sits between TLS and NIO's HTTP/2 handler and passes every read on
/// untouched; it only walks the frame headers in it.
final class HTTP2FrameDeadline: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private let events: ConnectionEvents
    private var progress = HTTP2FrameProgress()
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount, events: ConnectionEvents) {
        self.timeout = timeout
        self.events = events
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        progress.consume(bytes.readableBytesView)
        if progress.isPartial {
            if deadline == nil {
                deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
                    deadline = nil
                    events.count("header_timeout")
                    context.close(promise: nil)
                }
            }
        } else if let d = deadline {
            d.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }
}

/// Where a client's HTTP/2 byte stream stands (RFC 9113 §3.4, §4.1, §6.10): inside the preface, inside a frame,
/// or inside a header block not yet ended by END_HEADERS — or between frames, with nothing begun. Pure: bytes in,
/// a position out.
struct HTTP2FrameProgress {
    static let prefaceLength = 24
    static let frameHeaderLength = 9

    /// Preface bytes still to come.
    private(set) var prefaceLeft = Self.prefaceLength
    /// The frame header read so far (0 to 8 bytes), and the payload bytes of the current frame still to come.
    private var header: [UInt8] = []
    private(set) var payloadLeft = 0
    /// A HEADERS or PUSH_PROMISE frame without END_HEADERS was read: CONTINUATION frames follow until one has it.
    private(set) var inHeaderBlock = false
    /// Whether anything has been received at all (an open connection that sent nothing is idle, not partial).
    private var begun = false

    /// True while something the client began is not yet whole.
    var isPartial: Bool {
        guard begun else { return false }
        return prefaceLeft > 0 || !header.isEmpty || payloadLeft > 0 || inHeaderBlock
    }

    mutating func consume<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8, Bytes.Index == Int {
        var i = bytes.startIndex
        if i < bytes.endIndex { begun = true }
        while i < bytes.endIndex {
            if prefaceLeft > 0 {
                let n = min(prefaceLeft, bytes.endIndex - i)
                prefaceLeft -= n
                i += n
            } else if payloadLeft > 0 {
                let n = min(payloadLeft, bytes.endIndex - i)
                payloadLeft -= n
                i += n
            } else if header.isEmpty && bytes.endIndex - i >= Self.frameHeaderLength {
                // The common case: a whole frame header in one read.
                frameBegins(length: Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]),
                            type: bytes[i + 3], flags: bytes[i + 4])
                i += Self.frameHeaderLength
            } else {
                header.append(bytes[i])
                i += 1
                if header.count == Self.frameHeaderLength {
                    frameBegins(length: Int(header[0]) << 16 | Int(header[1]) << 8 | Int(header[2]),
                                type: header[3], flags: header[4])
                    header.removeAll(keepingCapacity: true)
                }
            }
        }
    }

    private mutating func frameBegins(length: Int, type: UInt8, flags: UInt8) {
        payloadLeft = length
        let endHeaders = flags & 0x4 != 0
        switch type {
        case 0x1, 0x5: inHeaderBlock = !endHeaders  // HEADERS, PUSH_PROMISE
        case 0x9: if endHeaders { inHeaderBlock = false }  // CONTINUATION
        default: break
        }
    }
}
