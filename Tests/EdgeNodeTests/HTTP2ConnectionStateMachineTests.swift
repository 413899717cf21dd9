@testable import EdgeNode
import Testing

/// An HTTP/2 connection's life without sockets or clocks: idle timer, drain, stalls.
@Suite struct HTTP2ConnectionStateMachineTests {
    typealias Machine = HTTP2EdgeHandler.StateMachine

    /// Should run the idle timer only while no stream is open, and close with an orderly GOAWAY when it fires.
    @Test func idle() {
        var m = Machine()
        #expect(m.streamOpened(1) == .cancelIdleTimer)
        #expect(m.streamOpened(3) == nil)
        #expect(m.idleTimerFired() == nil, "streams are open")
        #expect(m.streamClosed() == nil)
        #expect(m.streamClosed() == .startIdleTimer)
        #expect(m.idleTimerFired() == .goAway(lastStream: 3, code: .noError, close: true))
        #expect(m.state == .closed)
        #expect(m.streamOpened(5) == nil && m.streamClosed() == nil && m.drain() == nil)
    }

    /// Should, on a drain, send GOAWAY naming the last stream at once and close when the streams in flight end
    /// (at once when there are none).
    @Test func drain() {
        var m = Machine()
        _ = m.streamOpened(1)
        _ = m.streamOpened(7)
        #expect(m.drain() == .goAway(lastStream: 7, code: .noError, close: false))
        #expect(m.drain() == nil, "once")
        #expect(m.idleTimerFired() == nil)
        #expect(m.streamClosed() == nil)
        #expect(m.streamClosed() == .close(lastStream: 7))
        var idle = Machine()
        #expect(idle.drain() == .goAway(lastStream: 0, code: .noError, close: true))
    }

    /// Should answer a stalled stream with ENHANCE_YOUR_CALM and close, whatever else is open or draining.
    @Test func stall() {
        var m = Machine()
        _ = m.streamOpened(9)
        #expect(m.streamStalled() == .goAway(lastStream: 9, code: .enhanceYourCalm, close: true))
        var d = Machine()
        _ = d.streamOpened(1)
        _ = d.drain()
        #expect(d.streamStalled() == .goAway(lastStream: 1, code: .enhanceYourCalm, close: true))
        #expect(d.streamStalled() == nil)
    }
}
