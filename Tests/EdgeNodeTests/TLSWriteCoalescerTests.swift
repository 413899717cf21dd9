@testable import EdgeNode
import NIOCore
import NIOEmbedded
import Testing

/// The writes between two flushes, joined into TLS-record-sized buffers: no sockets, an embedded channel.
@Suite struct TLSWriteCoalescerTests {
    static func buffer(_ byte: UInt8, _ count: Int) -> ByteBuffer { ByteBuffer(repeating: byte, count: count) }

    /// Should pass small writes on as one buffer at the flush, in order, and complete every write's promise.
    @Test func joinsSmallWrites() throws {
        let channel = EmbeddedChannel(handler: TLSWriteCoalescer())
        let promises = (0..<3).map { _ in channel.eventLoop.makePromise(of: Void.self) }
        for (i, size) in [60, 9, 5000].enumerated() {
            channel.write(Self.buffer(UInt8(i), size), promise: promises[i])
        }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "nothing before the flush")
        channel.flush()
        let joined = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(joined.readableBytesView) == [UInt8](repeating: 0, count: 60) + [UInt8](repeating: 1, count: 9)
            + [UInt8](repeating: 2, count: 5000))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        for p in promises { #expect(throws: Never.self) { try p.futureResult.wait() } }
        _ = try channel.finish()
    }

    /// Should pass a large buffer as it is, after the small ones before it, and start a new batch past 16 KiB.
    @Test func largeBuffersPassAsTheyAre() throws {
        let channel = EmbeddedChannel(handler: TLSWriteCoalescer())
        channel.write(Self.buffer(1, 100), promise: nil)
        channel.write(Self.buffer(2, 16384), promise: nil)
        channel.write(Self.buffer(3, 10_000), promise: nil)
        channel.write(Self.buffer(4, 10_000), promise: nil)
        channel.flush()
        let sizes = try (0..<4).map { _ in try channel.readOutbound(as: ByteBuffer.self)?.readableBytes }
        #expect(sizes == [100, 16384, 10_000, 10_000])
        _ = try channel.finish()
    }
}
