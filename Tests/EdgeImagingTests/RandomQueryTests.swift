import EdgeCore
import EdgeImaging
import EdgeTestSupport
import Foundation
import Testing


@Suite struct RandomQueryTests {
    /// Parameter names to combine: every family this node implements, and a few it refuses.
    static let names = ["w", "h", "fit", "crop", "dpr", "ar", "rect", "min-w", "max-h", "or", "fill", "fill-color",
                        "fp-x", "fp-y", "fp-z", "fp-debug", "trim", "trim-color", "trim-pad", "fm", "q", "auto", "bg",
                        "bri", "con", "exp", "gam", "high", "shad", "hue", "sat", "vib", "invert", "sharp", "usm",
                        "usmrad", "nr", "nrs", "blur", "mono", "sepia", "px", "htn", "duotone", "duotone-alpha", "flip",
                        "rot", "rot-type", "pad", "pad-left", "border", "border-radius", "border-radius-inner",
                        "txt", "txt-size", "txt-color", "txt-align", "txt-font", "txt-pad", "txt-line", "txt-shad",
                        "txt-clip", "txt-fit", "txt-width", "mark", "mark-w", "mark-align", "chromasub", "colorquant",
                        "cs", "dpi", "lossless", "jpg-progressive", "dl", "blend", "palette", "page"]
    /// Values to draw from: plausible ones, edge cases, hostile ones.
    static let values = ["0", "1", "2", "0.5", "-1", "-100", "100", "400", "8192", "8193", "99999", "1e9", "0.0001",
                         "nan", "", "abc", "crop", "fill", "clip", "max", "min", "scale", "fillmax", "clamp", "facearea,fill",
                         "top,left", "entropy", "edges", "focalpoint", "faces", "auto", "color", "alpha", "png", "webp",
                         "avif", "gif", "jpg", "pjpg", "png8", "json", "blurhash", "format,compress", "enhance", "fff",
                         "80ff0000", "red", "zzz", "16:9", "0:1", "10,10,50,50", "center,middle,full,full", "h", "hv",
                         "45", "359", "pivot", "5,ff0000", "20,10,5,0", "hello world", "%F0%9F%98%80", "../etc/passwd",
                         "/logo.png", "http://example.com/x.png", "serif,bold", "ellipsis,middle", "444", "422", "origin",
                         "srgb", "true", "false", "2000", "1000", "-50"]

    /// Should answer every random combination of parameters with an image within the output cap or a 4xx/5xx
    /// error — never a crash, a hang or an oversized output.
    @Test(arguments: [("basics/jpeg_baseline_testorig.jpg", UInt64(1)), ("basics/png_rgba_transparent.png", 2),
                      ("orientation/Portrait_6.jpg", 3)])
    func randomQueriesAreSafe(file: String, seed: UInt64) throws {
        let bytes = try Corpus.bytes(file)
        var g = SeededGenerator(seed: seed)
        var images = 0, refusals = 0
        for _ in 0..<150 {
            let count = Int.random(in: 1...3, using: &g)
            let query = (0..<count).map { _ in
                "\(Self.names.randomElement(using: &g)!)=\(Self.values.randomElement(using: &g)!)"
            }.joined(separator: "&")
            do {
                let out = try process(bytes, query)
                if out.format.isImage {
                    #expect(out.width <= 8192 && out.height <= 8192, "\(query) gave \(out.width)x\(out.height)")
                    #expect(!out.body.isEmpty, "\(query)")
                }
                images += 1
            } catch let e as EdgeError {
                #expect((400..<600).contains(e.status), "\(query): \(e)")
                #expect(e.status != 500, "\(query): \(e)")
                refusals += 1
            }
        }
        // Both paths are exercised, so the test can tell a crash from a refusal.
        #expect(images > 5 && refusals > 5, "images \(images), refusals \(refusals)")
    }
}
