package import NIOCore

/// Joins the buffers written between two flushes into one before they reach the TLS handler, which makes a TLS
/// record (and a BoringSSL call, and 21 bytes of header and tag) of every buffer it is given: an HTTP/2 answer
/// comes down as a HEADERS frame, a DATA frame header and the body, three small records where one would do, and a
/// burst of streams as dozens. Copying the small ones together into batches of up to a record's 16 KiB gives
/// whole records, as nginx's `ssl_buffer_size` does. Buffers of `copyBelow` and more (a large body's 16 KiB DATA
/// frames) are not copied: they pass as they are, in order, filling records of their own.
package final class TLSWriteCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    package typealias OutboundIn = ByteBuffer
    package typealias OutboundOut = ByteBuffer

    package init() {}

    static let copyBelow = 12 * 1024
    static let batchBytes = 16 * 1024

    private var pending: ByteBuffer?
    private var promises: [EventLoopPromise<Void>] = []

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = unwrapOutboundIn(data)
        if buffer.readableBytes >= Self.copyBelow {
            passPending(context: context)
            context.write(wrapOutboundOut(buffer), promise: promise)
            return
        }
        if let p = pending, p.readableBytes + buffer.readableBytes > Self.batchBytes { passPending(context: context) }
        if pending == nil { pending = context.channel.allocator.buffer(capacity: Self.batchBytes) }
        pending!.writeBuffer(&buffer)
        if let promise { promises.append(promise) }
    }

    package func flush(context: ChannelHandlerContext) {
        passPending(context: context)
        context.flush()
    }

    private func passPending(context: ChannelHandlerContext) {
        guard let buffer = pending else { return }
        pending = nil
        let waiting = promises
        promises = []
        if waiting.isEmpty {
            context.write(wrapOutboundOut(buffer), promise: nil)
        } else {
            context.write(wrapOutboundOut(buffer)).whenComplete { result in for p in waiting { p.completeWith(result) } }
        }
    }

    package func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        passPending(context: context)
        context.close(mode: mode, promise: promise)
    }
}
