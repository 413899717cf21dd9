internal import CVips
internal import CVipsLib
import EdgeCore

/// Applies `TransformSpec.stylize` (imgix stylize) after the adjustments. imgix documents no order, so the
/// spatial effects come first — `blur`, then `px` — and then the ones that recolour: `htn` (a black-and-white
/// screen), `monochrome`, `sepia`, and `duotone` last, so a duotone can colour a halftone's ink and paper.
/// `blur` and `px` work on premultiplied colour and carry the alpha band with them (a blurred or pixellated
/// transparent image has blurred or blocky transparency, as imgix's); the recolouring effects leave alpha alone.
enum StylizeStep {
    static func apply(_ image: VImage, _ ctx: PipelineContext) throws(EdgeError) -> VImage {
        let s = ctx.spec.stylize
        guard s.changesImage else { return image }
        var image = image
        if s.blur > 0 { image = try blur(image, sigma: s.blurSigma) }
        if s.pixellate > 1 { image = try pixellate(image, block: s.pixellate) }
        guard s.halftone > 0 || s.monochrome != nil || s.sepia > 0 || s.duotone != nil else { return image }
        return try FilterSupport.onColour(image) { (colour: VImage) throws(EdgeError) -> VImage in
            var c = colour
            if s.halftone > 0 { c = try c.map { cvips_halftone($0, &$1, Int32(s.halftone)) } }
            if let tint = s.monochrome {
                let table = monochromeTable(tint)
                c = try c.map { cvips_tone_map($0, &$1, table, Double(tint.alpha) / 255) }
            }
            if s.sepia > 0 {
                let matrix = sepiaMatrix(strength: Double(s.sepia) / 100)
                c = try c.map { cvips_recomb_uchar($0, &$1, matrix) }
            }
            if let duotone = s.duotone {
                let table = duotoneTable(duotone)
                c = try c.map { cvips_tone_map($0, &$1, table, Double(s.duotoneAlpha) / 100) }
            }
            return c
        }
    }

    /// Gaussian blur; with alpha, on premultiplied colour so transparent pixels lend no colour to their
    /// neighbours. Cost is bounded whatever the sigma (see `FilterSupport.gaussianBlur`).
    static func blur(_ image: VImage, sigma: Double) throws(EdgeError) -> VImage {
        guard image.hasAlpha else { return try FilterSupport.gaussianBlur(image, sigma: sigma) }
        let premultiplied = try image.map { cvips_premultiply_alpha($0, &$1) }
        let blurred = try FilterSupport.gaussianBlur(premultiplied, sigma: sigma)
        return try blurred.map { cvips_unpremultiply_uchar($0, &$1) }
    }

    /// Blocks of `block` × `block` pixels from the top-left corner, each the average of what it covers (the
    /// last row and column of blocks are partial: the edge pixels are repeated to fill them before averaging).
    /// One box shrink and one nearest-neighbour zoom: linear in the pixels whatever the block size.
    static func pixellate(_ image: VImage, block: Int) throws(EdgeError) -> VImage {
        let width = image.width, height = image.height
        let paddedWidth = (width + block - 1) / block * block
        let paddedHeight = (height + block - 1) / block * block
        var img = image.hasAlpha ? try image.map { cvips_premultiply_alpha($0, &$1) } : image
        if paddedWidth != width || paddedHeight != height {
            img = try img.map { cvips_embed_extend($0, &$1, 0, 0, Int32(paddedWidth), Int32(paddedHeight)) }
        }
        img = try img.map { cvips_shrink_box($0, &$1, Int32(block), Int32(block)) }
        img = try img.map { cvips_zoom($0, &$1, Int32(block), Int32(block)) }
        img = try img.map { cvips_extract_area($0, &$1, 0, 0, Int32(width), Int32(height)) }
        return image.hasAlpha ? try img.map { cvips_unpremultiply_uchar($0, &$1) } : img
    }

    /// Core Image's CIColorMonochrome as GPUImage reimplements it: the luminance overlay-blended with the tint
    /// (black stays black, white stays white, mid-grey becomes the tint), as a 256-entry, 3-band table.
    static func monochromeTable(_ tint: RGBAColor) -> [UInt8] {
        let ink = [tint.red, tint.green, tint.blue].map { Double($0) / 255 }
        return (0...255).flatMap { i -> [UInt8] in
            let l = Double(i) / 255
            return ink.map { c in
                let v = l < 0.5 ? 2 * l * c : 1 - 2 * (1 - l) * (1 - c)
                return UInt8((min(1, max(0, v)) * 255).rounded())
            }
        }
    }

    /// Luminance 0 → `dark`, 255 → `light`, linearly in between; 256 entries, 3 bands.
    static func duotoneTable(_ d: StylizeSpec.Duotone) -> [UInt8] {
        let dark = [d.dark.red, d.dark.green, d.dark.blue].map(Double.init)
        let light = [d.light.red, d.light.green, d.light.blue].map(Double.init)
        return (0...255).flatMap { i -> [UInt8] in
            let t = Double(i) / 255
            return (0..<3).map { b in UInt8((dark[b] + (light[b] - dark[b]) * t).rounded()) }
        }
    }

    /// The classic sepia matrix (Microsoft's, also CSS `sepia()`), mixed with the identity by `strength` (0–1),
    /// as Core Image's CISepiaTone intensity does. Row-major 3 × 3.
    static func sepiaMatrix(strength t: Double) -> [Double] {
        let sepia: [Double] = [0.393, 0.769, 0.189,
                               0.349, 0.686, 0.168,
                               0.272, 0.534, 0.131]
        let identity: [Double] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
        return (0..<9).map { identity[$0] * (1 - t) + sepia[$0] * t }
    }
}
