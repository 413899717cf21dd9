internal import CVips
internal import CVipsLib
import EdgeCore
import Foundation

/// Applies `TransformSpec.rotation`: `flip`, then `rot` (counter-clockwise, as imgix). Quarter and half turns
/// that keep every pixel use vips_rot (exact); any other angle is one bilinear vips_affine about the centre.
enum RotationStep {
    static func apply(_ image: VImage, _ ctx: PipelineContext) throws(EdgeError) -> VImage {
        let spec = ctx.spec.rotation
        var image = image
        switch spec.flip {
        case .h?: image = try image.map { cvips_flip($0, &$1, 1) }
        case .v?: image = try image.map { cvips_flip($0, &$1, 0) }
        case .hv?: image = try image.map { cvips_rot_quarters($0, &$1, 2) }
        case nil: break
        }
        guard spec.degrees != 0 else { return image }

        if spec.degrees.truncatingRemainder(dividingBy: 90) == 0 {
            let counterClockwise = Int(spec.degrees / 90)
            if spec.mode == .pivot || counterClockwise == 2 {
                return try image.map { cvips_rot_quarters($0, &$1, Int32((4 - counterClockwise) % 4)) }
            }
        }
        let geometry = Geometry(width: image.width, height: image.height, degrees: spec.degrees, mode: spec.mode)
        let m = geometry.matrix
        switch spec.mode {
        case .pivot:
            if spec.fill.alpha < 255, !image.hasAlpha {
                image = try image.map { cvips_bandjoin_const1($0, &$1, 255) }
            }
            let bg = image.pixel(spec.fill)
            image = try image.map {
                cvips_affine_centred($0, &$1, m.a, m.b, m.c, m.d, Int32(geometry.outputWidth), Int32(geometry.outputHeight),
                                     bg, Int32(bg.count), 0)
            }
        case .straighten:
            // Edge pixels are copied outwards, so interpolation at the frame's corners never blends in a colour.
            let bg = image.pixel(spec.fill)
            image = try image.map {
                cvips_affine_centred($0, &$1, m.a, m.b, m.c, m.d, Int32(geometry.outputWidth), Int32(geometry.outputHeight),
                                     bg, Int32(bg.count), 1)
            }
        }
        return try image.map { cvips_cast_uchar($0, &$1) }
    }

    /// Where an image of `width` x `height` goes when turned by `degrees` counter-clockwise.
    struct Geometry {
        /// The forward transform (input to output pixel offsets from the centres): rotation times `scale`.
        var matrix: (a: Double, b: Double, c: Double, d: Double)
        var scale: Double
        var outputWidth: Int
        var outputHeight: Int

        init(width: Int, height: Int, degrees: Double, mode: RotationSpec.Mode) {
            let radians = degrees * .pi / 180
            // Exact zeros at quarter turns, so a 90° straighten is a pure zoom.
            let cosine = degrees.truncatingRemainder(dividingBy: 180) == 90 ? 0 : cos(radians)
            let sine = degrees.truncatingRemainder(dividingBy: 180) == 0 ? 0 : sin(radians)
            let w = Double(width), h = Double(height)
            // The rotated image's bounding box.
            let boxWidth = w * abs(cosine) + h * abs(sine)
            let boxHeight = w * abs(sine) + h * abs(cosine)
            switch mode {
            case .pivot:
                // Never beyond the output cap: a larger box is scaled down to fit, keeping its shape.
                let cap = Double(ResizePlan.maxOutputSide)
                scale = min(1, cap / boxWidth, cap / boxHeight)
                outputWidth = max(1, min(ResizePlan.maxOutputSide, Int((boxWidth * scale).rounded())))
                outputHeight = max(1, min(ResizePlan.maxOutputSide, Int((boxHeight * scale).rounded())))
            case .straighten:
                // The smallest zoom at which the w x h frame, turned the other way, lies inside the image:
                // the frame's bounding box in image space must fit inside the zoomed image.
                scale = max(boxWidth / w, boxHeight / h)
                outputWidth = width
                outputHeight = height
            }
            // Counter-clockwise on screen (y grows downwards): x' = x cos + y sin, y' = -x sin + y cos.
            matrix = (cosine * scale, sine * scale, -sine * scale, cosine * scale)
        }
    }
}
