internal import CVips
internal import CVipsLib
import EdgeCore

/// Decodes at (close to) the planned size with libvips' thumbnail, which shrinks on load, applies the EXIF
/// orientation and colour-manages; then crops (`fit=crop`/`min`) and pads (`fit=fill`) as planned.
enum ResizeStep {
    static func load(_ buf: UnsafeRawBufferPointer, plan: ResizePlan) throws(EdgeError) -> VImage {
        try VImage.make { out in
            cvips_thumbnail_buffer(buf.baseAddress, buf.count, Int32(plan.resizeWidth), Int32(plan.resizeHeight), 1, &out)
        }
    }

    static func crop(_ image: VImage, plan: ResizePlan) throws(EdgeError) -> VImage {
        guard let c = plan.crop else { return image }
        return try image.map { cvips_extract_area($0, &$1, Int32(c.x), Int32(c.y), Int32(c.width), Int32(c.height)) }
    }

    /// Places the image on the planned canvas, filled with `fill` (adding alpha when the colour is translucent
    /// and the output keeps alpha).
    static func pad(_ image: VImage, plan: ResizePlan, fill: RGBAColor, output: OutputFormat) throws(EdgeError) -> VImage {
        guard let canvas = plan.canvas else { return image }
        var image = image
        if fill.alpha < 255, output.supportsAlpha, !image.hasAlpha {
            image = try image.map { cvips_bandjoin_const1($0, &$1, 255) }
        }
        let bg = image.pixel(fill)
        return try image.map {
            cvips_embed_background($0, &$1, Int32(canvas.x), Int32(canvas.y), Int32(canvas.width), Int32(canvas.height), bg, Int32(bg.count))
        }
    }
}
