package import NIOHTTP2

extension NIOHTTP2Handler {
    /// NIO's HTTP/2 handler as the edge sets it up: the node's limits (its own defences against rapid reset,
    /// CONTINUATION, control-frame and empty-DATA floods and oversized header blocks come with it), and no
    /// validation of header blocks — requests are checked as they are read (`HTTP2RequestHead`), the answers are
    /// the node's own. Also the h2 floor server's (EdgeBench serve-h2-floor), so that the two differ by the node's
    /// work alone.
    package static func edge(maxConcurrentStreams: Int) -> NIOHTTP2Handler {
        NIOHTTP2Handler(
            mode: .server,
            initialSettings: [
                HTTP2Setting(parameter: .maxConcurrentStreams, value: maxConcurrentStreams),
                HTTP2Setting(parameter: .maxHeaderListSize, value: RequestHeadParser.maxHeaderBytes),
                HTTP2Setting(parameter: .initialWindowSize, value: 65535),
            ],
            headerBlockValidation: .disabled, contentLengthValidation: .disabled)
    }
}
