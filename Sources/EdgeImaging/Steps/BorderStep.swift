internal import CVips
internal import CVipsLib
import EdgeCore
import Foundation

/// Applies `TransformSpec.border` (imgix border and padding), from the inside out: inner rounding, border,
/// stroke, outer rounding, padding. Rounding needs an alpha band, which is added; where the output has no
/// alpha the flatten step fills the cut corners with `bg`.
enum BorderStep {
    static func apply(_ image: VImage, _ ctx: PipelineContext) throws(EdgeError) -> VImage {
        let spec = ctx.spec.border
        guard !spec.isEmpty else { return image }
        let layout = Layout(spec: spec, width: image.width, height: image.height, box: box(ctx))
        var image = image
        if layout.imageWidth != image.width || layout.imageHeight != image.height {
            let h = Double(layout.imageWidth) / Double(image.width), v = Double(layout.imageHeight) / Double(image.height)
            image = try image.map { cvips_resize($0, &$1, h, v) }
        }

        // The image with its inner corners rounded, on the border colour.
        let border = layout.border
        if !border.isZero || !layout.innerRadius.isZero {
            let colour = spec.borderColor
            let boxWidth = image.width + border.left + border.right, boxHeight = image.height + border.top + border.bottom
            if layout.innerRadius.isZero, !image.hasAlpha, colour.alpha == 255 {
                let ink = image.pixel(colour)
                image = try image.map {
                    cvips_embed_background($0, &$1, Int32(border.left), Int32(border.top), Int32(boxWidth), Int32(boxHeight), ink, Int32(ink.count))
                }
            } else {
                if !layout.innerRadius.isZero {
                    image = try masked(try withAlpha(image), radii: layout.innerRadius)
                }
                image = try framed(image, width: boxWidth, height: boxHeight, x: border.left, y: border.top,
                                   radii: layout.innerRadius, colour: colour)
            }
        }

        // The stroke, just inside the outer edge (following the outer rounding).
        if layout.strokeSize > 0 {
            let radii = layout.outerRadius.values.map(Double.init)
            let ring = try VImage.make { cvips_rounded_ring_mask(&$0, Int32(image.width), Int32(image.height), radii, Double(layout.strokeSize)) }
            let c = spec.strokeColor
            let ink = [Double(c.red), Double(c.green), Double(c.blue)]
            let layer = try ring.map { cvips_coloured_layer($0, &$1, ink, Double(c.alpha)) }
            image = try image.map { cvips_composite2_over($0, layer.pointer, &$1, 0, 0) }
        }

        if !layout.outerRadius.isZero {
            image = try masked(try withAlpha(image), radii: layout.outerRadius)
        }

        // Padding (and, behind rounded corners, the same colour).
        let pad = layout.padding
        let fill = spec.fill
        let paddedWidth = image.width + pad.left + pad.right, paddedHeight = image.height + pad.top + pad.bottom
        if !layout.outerRadius.isZero, fill.alpha > 0 {
            image = try framed(image, width: paddedWidth, height: paddedHeight, x: pad.left, y: pad.top,
                               radii: layout.outerRadius, colour: fill)
        } else if !pad.isZero {
            if fill.alpha < 255 { image = try withAlpha(image) }
            let ink = image.pixel(fill)
            image = try image.map {
                cvips_embed_background($0, &$1, Int32(pad.left), Int32(pad.top), Int32(paddedWidth), Int32(paddedHeight), ink, Int32(ink.count))
            }
        }
        return image
    }

    /// The box the request asked for (nil sides: not requested), which image, border and padding must fit.
    static func box(_ ctx: PipelineContext) -> (width: Double?, height: Double?) {
        (ctx.spec.width?.resolve(source: ctx.sourceWidth), ctx.spec.height?.resolve(source: ctx.sourceHeight))
    }

    private static func withAlpha(_ image: VImage) throws(EdgeError) -> VImage {
        image.hasAlpha ? image : try image.map { cvips_bandjoin_const1($0, &$1, 255) }
    }

    private static func masked(_ image: VImage, radii: BorderSpec.Corners) throws(EdgeError) -> VImage {
        let r = radii.values.map(Double.init)
        let mask = try VImage.make { cvips_rounded_rect_mask(&$0, Int32(image.width), Int32(image.height), r, 0) }
        return try image.map { cvips_multiply_alpha($0, mask.pointer, &$1) }
    }

    /// `image` at (x, y) on a width x height canvas whose frame around it (the complement of the image's
    /// rectangle rounded by `radii`) is `colour`. The image's own transparent pixels stay transparent.
    private static func framed(_ image: VImage, width: Int, height: Int, x: Int, y: Int, radii: BorderSpec.Corners,
                               colour: RGBAColor) throws(EdgeError) -> VImage {
        let placedInk = [Double(colour.red), Double(colour.green), Double(colour.blue), 0]
        let placed = try withAlpha(image).map {
            cvips_embed_background($0, &$1, Int32(x), Int32(y), Int32(width), Int32(height), placedInk, 4)
        }
        let r = radii.values.map(Double.init)
        let mask = try VImage.make {
            cvips_frame_mask(&$0, Int32(width), Int32(height), Int32(x), Int32(y), Int32(image.width), Int32(image.height), r)
        }
        let ink = [Double(colour.red), Double(colour.green), Double(colour.blue)]
        let frame = try mask.map { cvips_coloured_layer($0, &$1, ink, Double(colour.alpha)) }
        return try placed.map { cvips_composite2_over($0, frame.pointer, &$1, 0, 0) }
    }

    /// Sizes after fitting: every width and radius scaled by one factor (at most 1) so the result fits the
    /// requested box and the 8192 x 8192 output cap; that cap is what bounds the cost of any pad or border.
    struct Layout {
        var imageWidth: Int, imageHeight: Int
        var border: BorderSpec.Sides
        var padding: BorderSpec.Sides
        var innerRadius: BorderSpec.Corners
        var outerRadius: BorderSpec.Corners
        var strokeSize: Int

        init(spec: BorderSpec, width: Int, height: Int, box: (width: Double?, height: Double?)) {
            let cap = Double(ResizePlan.maxOutputSide)
            let limitWidth = min(cap, box.width.map { max(1, $0.rounded()) } ?? cap)
            let limitHeight = min(cap, box.height.map { max(1, $0.rounded()) } ?? cap)
            let b = spec.border, p = spec.padding
            let extraWidth = Double(b.left + b.right + p.left + p.right)
            let extraHeight = Double(b.top + b.bottom + p.top + p.bottom)
            let s = min(1, limitWidth / (Double(width) + extraWidth), limitHeight / (Double(height) + extraHeight))
            func px(_ v: Int) -> Int { s == 1 ? v : Int((Double(v) * s).rounded()) }
            func sides(_ x: BorderSpec.Sides) -> BorderSpec.Sides {
                BorderSpec.Sides(top: px(x.top), right: px(x.right), bottom: px(x.bottom), left: px(x.left))
            }
            func corners(_ x: BorderSpec.Corners) -> BorderSpec.Corners {
                BorderSpec.Corners(topLeft: px(x.topLeft), topRight: px(x.topRight), bottomRight: px(x.bottomRight), bottomLeft: px(x.bottomLeft))
            }
            border = sides(b)
            padding = sides(p)
            innerRadius = corners(spec.innerRadius)
            outerRadius = corners(spec.outerRadius)
            strokeSize = px(spec.strokeSize)
            let extraW = border.left + border.right + padding.left + padding.right
            let extraH = border.top + border.bottom + padding.top + padding.bottom
            // Rounding must not push the total past the limit; the image gives way (never below 1 pixel).
            imageWidth = max(1, min(Int((Double(width) * s).rounded()), Int(limitWidth) - extraW))
            imageHeight = max(1, min(Int((Double(height) * s).rounded()), Int(limitHeight) - extraH))
        }
    }
}
