import EdgeCore
@testable import EdgeImaging
import EdgeTestSupport
import Testing

@Suite struct JPEGShrinkTests {
    /// Should tell progressive from baseline JPEGs by their frame marker, without decoding.
    @Test func progressiveDetection() throws {
        func progressive(_ file: String) throws -> Bool {
            try Corpus.bytes(file).withUnsafeBytes { JPEGScan.frame($0)?.progressive ?? false }
        }
        #expect(try progressive("basics/jpeg_progressive_kimono.jpg"))
        #expect(try !progressive("basics/jpeg_baseline_testorig.jpg"))
        #expect(try !progressive("orientation/Landscape_1.jpg"))
        #expect(Array("not a jpeg".utf8).withUnsafeBytes { !(JPEGScan.frame($0)?.progressive ?? false) })
    }

    /// Should pick the largest DCT scale that leaves 1.5× the target in both directions.
    @Test func shrinkFactor() {
        #expect(ResizeStep.jpegShrink(sourceWidth: 5472, sourceHeight: 3648, width: 500, height: 333) == 4)
        #expect(ResizeStep.jpegShrink(sourceWidth: 8000, sourceHeight: 6000, width: 500, height: 375) == 8)
        #expect(ResizeStep.jpegShrink(sourceWidth: 1920, sourceHeight: 1280, width: 500, height: 333) == 2)
        #expect(ResizeStep.jpegShrink(sourceWidth: 1000, sourceHeight: 800, width: 500, height: 400) == 1)
        #expect(ResizeStep.jpegShrink(sourceWidth: 100, sourceHeight: 100, width: 200, height: 200) == 1)
    }

    /// Should give exactly the planned size and the right way up through the shrinking decoder.
    @Test func shrunkDecodeIsExactAndUpright() throws {
        let out = try process(corpus: "orientation/Landscape_6.jpg", "w=100&h=50&fit=scale&fm=png")
        #expect(out.width == 100 && out.height == 50)
        let upright = try Pixels(decoding: process(corpus: "orientation/Landscape_1.jpg", "w=90&fm=png").body).grid(4)
        let rotated = try Pixels(decoding: process(corpus: "orientation/Landscape_6.jpg", "w=90&fm=png").body).grid(4)
        #expect(maxDifference(upright, rotated) < 8)
    }
}
