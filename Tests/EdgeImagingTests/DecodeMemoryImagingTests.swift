import EdgeCore
import EdgeImaging
import EdgeTestSupport
import Foundation
import Testing

/// The decode memory the processor estimates from a real source's header (`limits.decodeMemory` admits it).
@Suite struct DecodeMemoryImagingTests {
    func estimate(_ bytes: [UInt8], _ query: String) throws -> Int {
        let spec = try TransformParser.parse(query: Substring(query))
        return try processor.decodeMemory(source: bytes, spec: spec, format: NegotiatedFormat(spec: spec, accept: nil),
                                          limits: generousLimits)
    }

    /// Should charge a progressive JPEG its coefficients: more than the same pixels as a baseline JPEG.
    @Test func progressiveOverBaseline() throws {
        let progressive = try Corpus.bytes("basics/jpeg_progressive_kimono.jpg")
        let baseline = try process(progressive, "fm=jpg&q=90").body
        let p = try estimate(progressive, "w=50"), b = try estimate(baseline, "w=50")
        #expect(p > b)
        #expect(try estimate(progressive, "w=50&fm=json") == DecodeMemory.overhead)
    }

    /// Should charge an interlaced PNG its whole image and a plain one a few lines, and 16-bit samples twice.
    @Test func pngLayouts() throws {
        let interlaced = try estimate(Corpus.bytes("pngsuite/basi2c16.png"), "w=16")
        let plain = try estimate(Corpus.bytes("pngsuite/basn2c16.png"), "w=16")
        let eightBit = try estimate(Corpus.bytes("pngsuite/basi2c08.png"), "w=16")
        #expect(interlaced - plain == Int(Double(32 * 32 * 6 - 32 * 6 * 16) * 1.25))
        #expect(interlaced > eightBit)
    }

    /// Should refuse before decoding what the processor refuses: not an image (415), too many pixels (413).
    @Test func refusesAsProcessDoes() throws {
        #expect(throws: EdgeError.self) { try estimate(Array("not an image".utf8), "w=10") }
        let spec = try TransformParser.parse(query: "w=10")
        #expect(throws: EdgeError.self) {
            try processor.decodeMemory(source: try Corpus.bytes(baseline), spec: spec,
                                       format: NegotiatedFormat(spec: spec, accept: nil), limits: ImageLimits(maxSourcePixels: 100))
        }
    }
}
