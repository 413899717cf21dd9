import NIOCore
import NIOHTTP2

/// Runs an HTTP/2 connection's `StateMachine` on its channel, after NIO's HTTP/2 handler: counts the streams
/// (through the multiplexer's stream delegate), closes the connection with an orderly GOAWAY when it has had no
/// stream for `idleTimeout`, drains it on `drain()` (the node stopping: GOAWAY, then close when the streams in
/// flight are answered), and ends it with ENHANCE_YOUR_CALM when a stream's answer stalls (`streamStalled()`,
/// from the stream handler). NIO's handler itself answers the protocol's floods (rapid reset, CONTINUATION,
/// control frames, empty DATA, oversized header blocks) with GOAWAY; their errors pass here and are counted.
final class HTTP2ConnectionManager: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private var machine = StateMachine()
    private let idleTimeout: TimeAmount
    private let events: ConnectionEvents
    private var idleTimer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(idleTimeout: TimeAmount, events: ConnectionEvents) {
        self.idleTimeout = idleTimeout
        self.events = events
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        run(.startIdleTimer)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        idleTimer = nil
        context.fireChannelInactive()
    }

    /// NIO's HTTP/2 handler has sent GOAWAY for a connection error before it passes the error here (and any other
    /// error here means the connection is broken): counted, and the connection closed.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        events.count("h2_error_" + Self.kind(of: error))
        context.close(promise: nil)
    }

    /// The name an error is counted under: its type's (`ExcessiveRSTFrames`, `ExcessiveContinuationFrames`…).
    static func kind(of error: any Error) -> String {
        String(describing: type(of: error))
    }

    func streamOpened(_ id: HTTP2StreamID) { run(machine.streamOpened(Int(id))) }
    func streamClosed() { run(machine.streamClosed()) }
    func drain() { run(machine.drain()) }

    func streamStalled() {
        events.count("h2_send_stalled")
        run(machine.streamStalled())
    }

    private func run(_ action: StateMachine.Action?) {
        guard let action, let context else { return }
        switch action {
        case .startIdleTimer:
            idleTimer?.cancel()
            idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [self] in
                idleTimer = nil
                run(machine.idleTimerFired())
            }
        case .cancelIdleTimer:
            idleTimer?.cancel()
            idleTimer = nil
        case .goAway(let last, let code, let close):
            let errorCode: HTTP2ErrorCode = code == .noError ? .noError : .enhanceYourCalm
            events.count(code == .noError ? "h2_goaway_sent" : "h2_goaway_enhance_your_calm")
            let frame = HTTP2Frame(streamID: .rootStream,
                                   payload: .goAway(lastStreamID: HTTP2StreamID(last), errorCode: errorCode, opaqueData: nil))
            let written = context.writeAndFlush(wrapOutboundOut(frame))
            if close { written.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
        case .close(let last):
            // The last stream's frames are on their way down the pipeline: a final GOAWAY behind them, and the
            // connection closed once it is written, so that nothing ahead of it is cut off.
            let frame = HTTP2Frame(streamID: .rootStream,
                                   payload: .goAway(lastStreamID: HTTP2StreamID(last), errorCode: .noError, opaqueData: nil))
            context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// Tells the manager of streams opening and closing (the multiplexer calls it on the connection's loop).
    struct StreamDelegate: NIOHTTP2StreamDelegate, @unchecked Sendable {
        let manager: NIOLoopBound<HTTP2ConnectionManager>

        func streamCreated(_ id: HTTP2StreamID, channel: any Channel) {
            manager.value.streamOpened(id)
        }

        func streamClosed(_ id: HTTP2StreamID, channel: any Channel) {
            manager.value.streamClosed()
        }
    }
}
