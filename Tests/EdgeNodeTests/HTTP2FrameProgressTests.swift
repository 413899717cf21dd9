@testable import EdgeNode
import Testing

/// The HTTP/2 byte-stream position behind `http.headerTimeout` on h2: partial while a preface, a frame or a
/// header block is begun and not whole, however the bytes are split across reads.
@Suite struct HTTP2FrameProgressTests {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    static func frame(_ type: UInt8, _ flags: UInt8, payload: Int) -> [UInt8] {
        [UInt8(payload >> 16), UInt8(payload >> 8 & 0xFF), UInt8(payload & 0xFF), type, flags, 0, 0, 0, 1]
            + [UInt8](repeating: 0xAB, count: payload)
    }

    /// The position after every prefix of `bytes`, fed in pieces of `split` bytes.
    static func partials(_ bytes: [UInt8], split: Int) -> [Bool] {
        var p = HTTP2FrameProgress()
        var out: [Bool] = []
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + split)
            p.consume(bytes[i..<end])
            out.append(p.isPartial)
            i = end
        }
        return out
    }

    /// Should count nothing received as not partial (an idle connection is the idle timer's).
    @Test func nothingReceivedIsIdle() {
        var p = HTTP2FrameProgress()
        p.consume([UInt8]())
        #expect(!p.isPartial)
    }

    /// Should be partial inside the preface and whole after it and after whole frames, in any split.
    @Test(arguments: [1, 2, 5, 9, 10, 24, 33, 1000])
    func wholeFramesEndWhole(split: Int) {
        let bytes = Self.preface + Self.frame(0x4, 0, payload: 12) + Self.frame(0x1, 0x5, payload: 40)
            + Self.frame(0x8, 0, payload: 4) + Self.frame(0x6, 0, payload: 8)
        let steps = Self.partials(bytes, split: split)
        #expect(steps.last == false)
        if split < bytes.count { #expect(steps.dropLast().contains(true)) }
    }

    /// Should stay partial inside a frame's header, inside its payload, and ahead of its payload.
    @Test func insideAFrame() {
        var p = HTTP2FrameProgress()
        p.consume(Self.preface)
        #expect(!p.isPartial)
        let f = Self.frame(0x1, 0x5, payload: 20)
        p.consume(f[0..<4])
        #expect(p.isPartial)
        p.consume(f[4..<9])
        #expect(p.isPartial && p.payloadLeft == 20)
        p.consume(f[9..<28])
        #expect(p.isPartial && p.payloadLeft == 1)
        p.consume(f[28...])
        #expect(!p.isPartial)
    }

    /// Should stay partial from a HEADERS (or PUSH_PROMISE) frame without END_HEADERS to the CONTINUATION that ends
    /// the block, even with every frame whole.
    @Test(arguments: [UInt8(0x1), 0x5])
    func headerBlockAcrossContinuations(type: UInt8) {
        var p = HTTP2FrameProgress()
        p.consume(Self.preface + Self.frame(type, 0x1, payload: 10))
        #expect(p.isPartial && p.inHeaderBlock)
        p.consume(Self.frame(0x9, 0, payload: 10))
        #expect(p.isPartial)
        p.consume(Self.frame(0x9, 0x4, payload: 3))
        #expect(!p.isPartial)
        // Other frames do not end a block: only CONTINUATION with END_HEADERS does.
        p.consume(Self.frame(0x1, 0, payload: 1) + Self.frame(0x0, 0x4, payload: 2))
        #expect(p.isPartial)
    }

    /// Should read a frame's 24-bit length whole (a 16 KiB frame is not 0 bytes).
    @Test func longLengths() {
        var p = HTTP2FrameProgress()
        p.consume(Self.preface + Self.frame(0x0, 0, payload: 16_384).prefix(100))
        #expect(p.payloadLeft == 16_384 - 91)
    }
}
