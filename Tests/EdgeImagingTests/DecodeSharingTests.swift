import EdgeCore
import EdgeImaging
import EdgeTestSupport
import Foundation
import Testing

/// Variants of one original made close together share one decode (`DecodeSharing`): each is made from a copy
/// decoded at the scale the largest of them needs, and comes out as a fresh decode makes it, within the encoder's
/// noise.
@Suite struct DecodeSharingTests {
    func spec(_ query: String) throws -> TransformSpec { try TransformParser.parse(query: Substring(query)) }

    /// PSNR of two same-sized 8-bit images, in dB (infinite when equal).
    func psnr(_ a: Pixels, _ b: Pixels) -> Double {
        precondition(a.data.count == b.data.count)
        let mse = zip(a.data, b.data).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) } / Double(a.data.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    /// Should make each width of a srcset from the shared copy the same size as a fresh decode and within the
    /// encoder's noise of it (on lossless output, a PSNR of 40 dB, or at least that of JPEG q75 on the fresh
    /// output — measured: 33.8–51 dB from the fresh decode, where q75 itself changes the same outputs by 26.8–35.5 dB),
    /// and byte for byte the same for the width the copy was decoded for; on baseline and progressive JPEGs, with
    /// EXIF orientation.
    @Test(arguments: ["orientation/Landscape_1.jpg", "orientation/Portrait_6.jpg", "basics/jpeg_progressive_kimono.jpg"])
    func sameOutputAsFreshDecode(file: String) throws {
        let bytes = try Corpus.bytes(file)
        // A processor of its own: its copies are this test's alone, and outlive a slow run.
        let processor = try VipsImageProcessor(concurrency: 1, copyLifetime: 600)
        let queries = [40, 90, 150, 300, 600].map { "w=\($0)&fm=png" }
        let specs = try queries.map(spec)
        let identity = "test/\(file)/\(UUID())"
        for (i, s) in specs.enumerated().reversed() {
            let format = NegotiatedFormat(spec: s, accept: nil)
            let fresh = try processor.process(source: bytes, spec: s, format: format, limits: generousLimits)
            var others = specs
            others.remove(at: i)
            let shared = try processor.process(source: bytes, spec: s, format: format, limits: generousLimits,
                                               resources: TransformResources(),
                                               sharing: DecodeSharing(identity: identity, siblings: others))
            #expect(shared.width == fresh.width && shared.height == fresh.height, "\(queries[i])")
            let freshPixels = try Pixels(decoding: fresh.body)
            let quality = psnr(try Pixels(decoding: shared.body), freshPixels)
            // The encoder's noise: what JPEG at imgedge's default quality (75) changes in the fresh output.
            let reencoded = try process(process(fresh.body, "fm=jpg&q=75").body, "fm=png").body
            let noise = psnr(try Pixels(decoding: reencoded), freshPixels)
            #expect(quality >= min(40, noise), "\(file) \(queries[i]): \(quality) dB, encoder noise \(noise) dB")
            // The largest width, made first, decoded the copy at its own scale: the same pixels exactly.
            if i == specs.count - 1 { #expect(shared.body == fresh.body, "\(queries[i])") }
        }
        #expect(processor.sharing.copies >= 1 && processor.sharing.decodes == 1 && processor.sharing.reuses == 4)
    }

    /// Should decode each variant at its own scale, and keep nothing, when no copy fits the bound, and still make
    /// what a fresh decode makes.
    @Test func copiesOverTheBound() throws {
        let bytes = try Corpus.bytes("orientation/Landscape_1.jpg")
        let processor = try VipsImageProcessor(concurrency: 1, copyBytes: 1024, copyLifetime: 600)
        let specs = try [60, 600].map { try spec("w=\($0)&fm=png") }
        for (i, s) in specs.enumerated() {
            let format = NegotiatedFormat(spec: s, accept: nil)
            let shared = try processor.process(source: bytes, spec: s, format: format, limits: generousLimits,
                                               resources: TransformResources(),
                                               sharing: DecodeSharing(identity: "big", siblings: [specs[1 - i]]))
            let fresh = try process(bytes, i == 0 ? "w=60&fm=png" : "w=600&fm=png")
            #expect(shared.body == fresh.body)
        }
        #expect(processor.sharing.copies == 0 && processor.sharing.bytes == 0)
    }

    /// Should not share a decode with nobody: a lone variant decodes as usual and keeps no copy.
    @Test func aloneKeepsNothing() throws {
        let bytes = try Corpus.bytes("orientation/Landscape_3.jpg")
        let s = try spec("w=120&fm=png")
        let identity = "alone/\(UUID())"
        let processor = try VipsImageProcessor(concurrency: 1, copyLifetime: 600)
        let out = try processor.process(source: bytes, spec: s, format: NegotiatedFormat(spec: s, accept: nil),
                                        limits: generousLimits, resources: TransformResources(),
                                        sharing: DecodeSharing(identity: identity, siblings: []))
        #expect(out.width == 120)
        #expect(processor.sharing == DecodeSharingUsage())
    }
}
