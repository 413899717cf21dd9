internal import CVips
internal import CVipsLib
import EdgeCore
import Foundation

/// Applies `TransformSpec.adjust` (imgix adjustment and noise reduction) to the sized image. imgix documents no
/// order, so this one follows a raw converter's: noise reduction on the cleanest signal, then the tone curve
/// (exposure, shadows and highlights, gamma, brightness, contrast — one lookup table), then colour in LCh
/// (hue, saturation, vibrance), then sharpening (`sharp`, then `usm`) so it acts on the final tones, and
/// `invert` last. Alpha is never touched. Nothing runs when the spec changes nothing.
enum AdjustStep {
    static func apply(_ image: VImage, _ ctx: PipelineContext) throws(EdgeError) -> VImage {
        let a = ctx.spec.adjust
        guard a.changesImage else { return image }
        // The unsharp mask reads each row twice: as itself, and through its blur, which needs rows ~3 sigma
        // ahead — past what a sequentially decoded source can rewind once the radius takes the shrunken path.
        // Then the image (with its alpha, read again when it is joined back) is rendered to memory first: at
        // most the 8192 x 8192 output cap at 4 bytes a pixel, and only for radii above 8 pixels.
        let wide = a.unsharpMask != 0 && a.unsharpRadius > FilterSupport.directSigma
        let input = wide ? try image.map { cvips_copy_memory($0, &$1) } : image
        return try FilterSupport.onColour(input) { (colour: VImage) throws(EdgeError) -> VImage in
            var c = colour
            if a.reducesNoise { c = try reduceNoise(c, bound: a.noiseBound, sharpen: a.noiseSharpen) }
            if a.changesTones {
                let table = toneTable(a)
                c = try c.map { cvips_maplut_uchar($0, &$1, table, 1) }
            }
            if a.changesColours {
                let chroma = 1 + Double(a.saturation) / 100
                let vibrance = Double(a.vibrance) / 100
                c = try c.map { cvips_lch_adjust($0, &$1, Double(a.hue), chroma, vibrance) }
            }
            if a.sharpen > 0 {
                // sharp=75 is vips_sharpen's default jaggy-area slope (m2 3; x1 2, y2 10, y3 20 cap the halos) at
                // sigma 1; the small flat-area slope keeps smooth skies from turning to grain.
                let k = a.sharpen / 100
                c = try c.map { cvips_sharpen_luminance($0, &$1, 1.0, 2, 10, 20, 0.5 * k, 4 * k) }
            }
            if a.unsharpMask != 0 {
                let amount = a.unsharpMask > 0 ? Double(a.unsharpMask) / 50 : Double(a.unsharpMask) / 100
                let blurred = try FilterSupport.gaussianBlur(c, sigma: a.unsharpRadius)
                c = try c.map { cvips_unsharp_combine($0, blurred.pointer, &$1, amount) }
            }
            if a.invert {
                let table = (0...255).map { UInt8(255 - $0) }
                c = try c.map { cvips_maplut_uchar($0, &$1, table, 1) }
            }
            return c
        }
    }

    /// Sigma of the neighbourhood noise reduction compares against: a fixed, small radius (noise is
    /// pixel-scale), so its cost never depends on the URL.
    static let noiseSigma = 1.2

    /// Core Image's CINoiseReduction in libvips terms: where a level differs from its neighbourhood's gaussian
    /// mean by less than the bound it is pulled towards that mean (fully at no difference, not at all at the
    /// bound); beyond the bound it is pushed away from it (edge sharpening) by the `nrs` amount.
    static func reduceNoise(_ c: VImage, bound: Int, sharpen: Int) throws(EdgeError) -> VImage {
        let threshold = Double(bound) * 0.255
        let s = sharpen > 0 ? Double(sharpen) / 50 : Double(sharpen) / 100
        let table: [Float] = (0...255).map { d in
            let w = threshold > 0 ? max(0, 1 - Double(d) / threshold) : 0
            return Float(w * (1 + s) - s)
        }
        let blurred = try c.map { cvips_gaussblur($0, &$1, noiseSigma) }
        return try c.map { cvips_noise_reduce($0, blurred.pointer, &$1, table) }
    }

    /// The tone adjustments as one 256-entry curve, applied to each colour band alike. Each stage clips to the
    /// 0–1 range, as an 8-bit pipeline would between operations.
    static func toneTable(_ a: AdjustSpec) -> [UInt8] {
        func clip(_ v: Double) -> Double { min(1, max(0, v)) }
        func linear(_ v: Double) -> Double { v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4) }
        func encoded(_ v: Double) -> Double { v <= 0.0031308 ? v * 12.92 : 1.055 * pow(v, 1 / 2.4) - 0.055 }
        let stops = Double(a.exposure) / 50
        let shadow = a.shadow / 100
        let highlight = -Double(a.highlight) / 100
        let power = pow(3, -Double(a.gamma) / 100)
        let offset = Double(a.brightness) / 200
        let slope = a.contrast > 0 ? 1 + 2 * Double(a.contrast) / 100 : 1 + Double(a.contrast) / 100
        return (0...255).map { i in
            var v = Double(i) / 255
            if stops != 0 { v = clip(encoded(clip(linear(v) * pow(2, stops)))) }
            // v(1-v)⁴ peaks at v = 0.2 (lifted by up to 0.2) and is ~0 above 0.75, and 0 at black; v⁴(1-v)
            // mirrors it for the highlights. Both stay monotonic at full strength (slopes no lower than 0.46),
            // so no two levels swap, and black and white stay where they are.
            if shadow != 0 { v = clip(v + 2.5 * shadow * v * pow(1 - v, 4)) }
            if highlight != 0 { v = clip(v - 2.5 * highlight * pow(v, 4) * (1 - v)) }
            if power != 1 { v = pow(v, power) }
            if offset != 0 { v = clip(v + offset) }
            if slope != 1 { v = clip((v - 0.5) * slope + 0.5) }
            return UInt8((v * 255).rounded())
        }
    }
}

/// Helpers the adjust and stylize steps share.
enum FilterSupport {
    /// Runs `body` on the three colour bands and puts the alpha band (if any) back untouched.
    static func onColour(_ image: VImage, _ body: (VImage) throws(EdgeError) -> VImage) throws(EdgeError) -> VImage {
        guard image.bands == 4 else { return try body(image) }
        let colour = try image.map { cvips_extract_bands($0, &$1, 0, 3) }
        let alpha = try image.map { cvips_extract_band($0, &$1, 3) }
        let done = try body(colour)
        return try done.map { cvips_bandjoin_pair($0, alpha.pointer, &$1) }
    }

    /// Largest sigma blurred directly. Above it the image is box-shrunk by a whole factor, blurred with the
    /// remaining sigma (4–8 pixels) and enlarged back, so a blur costs about the same at any sigma: a few passes
    /// over the pixels plus a kernel of at most ~50 taps on the shrunken copy.
    static let directSigma = 8.0

    /// A gaussian blur of `sigma` pixels (any format, any bands) with bounded cost; same size out.
    static func gaussianBlur(_ image: VImage, sigma: Double) throws(EdgeError) -> VImage {
        guard sigma > directSigma else { return try image.map { cvips_gaussblur($0, &$1, sigma) } }
        let width = image.width, height = image.height
        let factor = max(1, min(Int(sigma / (directSigma / 2)), width, height))
        let small = try image.map { cvips_shrink_box($0, &$1, Int32(factor), Int32(factor)) }
        // The box average already blurred by a variance of (f² - 1) / 12 full-size pixels.
        let variance = max(sigma * sigma - Double(factor * factor - 1) / 12, 0.25)
        let blurred = try small.map { cvips_gaussblur($0, &$1, variance.squareRoot() / Double(factor)) }
        let hs = Double(width) / Double(blurred.width), vs = Double(height) / Double(blurred.height)
        var big = try blurred.map { cvips_resize($0, &$1, hs, vs) }
        if big.width > width || big.height > height {
            big = try big.map { cvips_extract_area($0, &$1, 0, 0, Int32(min(width, big.width)), Int32(min(height, big.height))) }
        }
        if big.width < width || big.height < height {
            big = try big.map { cvips_embed_extend($0, &$1, 0, 0, Int32(width), Int32(height)) }
        }
        return big
    }
}
