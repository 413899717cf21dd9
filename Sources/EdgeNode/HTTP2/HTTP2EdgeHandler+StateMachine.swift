extension HTTP2EdgeHandler {
    /// An HTTP/2 connection's life after the handshake: its open streams, when it is idle, how it ends. Events in
    /// (streams opened and closed, the idle timer, a drain, a stalled stream), actions out; no sockets, no clock.
    struct StateMachine: Sendable {
        enum State: Sendable, Equatable {
            /// Taking streams; `open` of them unanswered; `lastStream` the highest stream id the client opened.
            case active(open: Int, lastStream: Int)
            /// A GOAWAY was sent: no new stream is taken; the connection closes when the last open one ends.
            case draining(open: Int, lastStream: Int)
            /// Closing or closed.
            case closed
        }

        private(set) var state = State.active(open: 0, lastStream: 0)

        enum Action: Sendable, Equatable {
            /// No stream is open: start the idle timer (its firing is `idleTimerFired`).
            case startIdleTimer
            /// A stream opened: the connection is not idle.
            case cancelIdleTimer
            /// Send GOAWAY naming `lastStream` with `code`; then close the connection if `close`.
            case goAway(lastStream: Int, code: GoAwayCode, close: Bool)
            /// Close the connection once what is on its way is written (a drain whose last stream ended, `lastStream`
            /// being the last the drain's GOAWAY named).
            case close(lastStream: Int)
        }

        enum GoAwayCode: Sendable, Equatable {
            /// An orderly end: idle, or the node stopping.
            case noError
            /// The client misbehaved (a stream that stopped taking its answer).
            case enhanceYourCalm
        }

        mutating func streamOpened(_ id: Int) -> Action? {
            switch state {
            case .active(let open, let last):
                state = .active(open: open + 1, lastStream: max(last, id))
                return open == 0 ? .cancelIdleTimer : nil
            case .draining(let open, let last):
                // A stream the client opened before it saw the GOAWAY; NIO refuses those past `last`.
                state = .draining(open: open + 1, lastStream: max(last, id))
                return nil
            case .closed:
                return nil
            }
        }

        mutating func streamClosed() -> Action? {
            switch state {
            case .active(let open, let last):
                state = .active(open: max(0, open - 1), lastStream: last)
                return open == 1 ? .startIdleTimer : nil
            case .draining(let open, let last):
                guard open > 1 else {
                    state = .closed
                    return .close(lastStream: last)
                }
                state = .draining(open: open - 1, lastStream: last)
                return nil
            case .closed:
                return nil
            }
        }

        /// The idle timer fired: an orderly GOAWAY and close if still no stream is open.
        mutating func idleTimerFired() -> Action? {
            guard case .active(0, let last) = state else { return nil }
            state = .closed
            return .goAway(lastStream: last, code: .noError, close: true)
        }

        /// The node is stopping: GOAWAY now, close once the streams in flight are answered (at once if none).
        mutating func drain() -> Action? {
            switch state {
            case .active(let open, let last):
                if open == 0 {
                    state = .closed
                    return .goAway(lastStream: last, code: .noError, close: true)
                }
                state = .draining(open: open, lastStream: last)
                return .goAway(lastStream: last, code: .noError, close: false)
            case .draining, .closed:
                return nil
            }
        }

        /// A stream's answer stopped moving (the client keeps its window shut): ENHANCE_YOUR_CALM and close.
        mutating func streamStalled() -> Action? {
            switch state {
            case .active(_, let last), .draining(_, let last):
                state = .closed
                return .goAway(lastStream: last, code: .enhanceYourCalm, close: true)
            case .closed:
                return nil
            }
        }
    }
}
