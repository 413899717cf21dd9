/// The geometry of one transform, worked out before any pixel is decoded: resize the (auto-oriented)
/// source to `resizeWidth` x `resizeHeight`, then keep `crop` of it, then place it on `canvas`.
public struct ResizePlan: Sendable, Equatable {
    /// A rectangle in pixels.
    public struct Rect: Sendable, Equatable {
        public var x: Int, y: Int, width: Int, height: Int
        public init(x: Int, y: Int, width: Int, height: Int) {
            self.x = x; self.y = y; self.width = width; self.height = height
        }
    }

    public var resizeWidth: Int
    public var resizeHeight: Int
    /// Part of the resized image kept (`fit=crop`, `fit=min`).
    public var crop: Rect?
    /// Output canvas, and where the image sits on it (`fit=fill`).
    public var canvas: Rect?

    /// The output image's size.
    public var outputWidth: Int { canvas?.width ?? crop?.width ?? resizeWidth }
    public var outputHeight: Int { canvas?.height ?? crop?.height ?? resizeHeight }

    /// Largest output side, as imgix: requests beyond it are scaled down to fit, keeping their shape.
    public static let maxOutputSide = 8192

    /// Plans `spec` for a source of `sourceWidth` x `sourceHeight` pixels (after EXIF orientation).
    public init(sourceWidth sw: Int, sourceHeight sh: Int, spec: TransformSpec) {
        precondition(sw > 0 && sh > 0, "source dimensions are checked by the caller")
        let tw = spec.width?.resolve(source: sw)
        let th = spec.height?.resolve(source: sh)
        var plan = ResizePlan.compute(sw: sw, sh: sh, tw: tw, th: th, fit: spec.fit, gravity: spec.gravity)
        let cap = Double(ResizePlan.maxOutputSide)
        let ow = Double(plan.outputWidth), oh = Double(plan.outputHeight)
        if ow > cap || oh > cap {
            let f = min(cap / ow, cap / oh)
            // Scale the request, not the result, so every fit mode keeps its meaning at the capped size.
            let cw = (tw ?? (th == nil ? ow : nil)).map { ($0 * f).rounded(.down) }
            let ch = (th ?? (tw == nil ? oh : nil)).map { ($0 * f).rounded(.down) }
            plan = ResizePlan.compute(sw: sw, sh: sh, tw: cw, th: ch, fit: spec.fit, gravity: spec.gravity)
            // fit=min keeps source pixels unscaled; a source past the cap still has to shrink.
            if plan.outputWidth > ResizePlan.maxOutputSide || plan.outputHeight > ResizePlan.maxOutputSide {
                plan = ResizePlan.compute(sw: sw, sh: sh, tw: (ow * f).rounded(.down), th: (oh * f).rounded(.down),
                                          fit: .crop, gravity: spec.gravity)
            }
        }
        self = plan
    }

    private init(resizeWidth: Int, resizeHeight: Int, crop: Rect? = nil, canvas: Rect? = nil) {
        self.resizeWidth = resizeWidth
        self.resizeHeight = resizeHeight
        self.crop = crop
        self.canvas = canvas
    }

    private static func px(_ v: Double) -> Int { max(1, Int(v.rounded())) }

    private static func compute(sw: Int, sh: Int, tw: Double?, th: Double?, fit: FitMode, gravity: CropGravity) -> ResizePlan {
        let sW = Double(sw), sH = Double(sh)
        // Proportional resize to a scale factor.
        func scaled(_ s: Double) -> ResizePlan { ResizePlan(resizeWidth: px(sW * s), resizeHeight: px(sH * s)) }

        guard tw != nil || th != nil else { return ResizePlan(resizeWidth: sw, resizeHeight: sh) }
        // One dimension: every mode keeps the aspect ratio; max and min never enlarge.
        guard let tw, let th else {
            let s = tw.map { $0 / sW } ?? th! / sH
            return scaled(fit == .max || fit == .min ? min(s, 1) : s)
        }
        let fitScale = min(tw / sW, th / sH)
        let coverScale = max(tw / sW, th / sH)
        switch fit {
        case .clip:
            return scaled(fitScale)
        case .max:
            return scaled(min(fitScale, 1))
        case .scale:
            return ResizePlan(resizeWidth: px(tw), resizeHeight: px(th))
        case .fill:
            var p = scaled(fitScale)
            let cw = px(tw), ch = px(th)
            p.canvas = Rect(x: (cw - p.resizeWidth) / 2, y: (ch - p.resizeHeight) / 2, width: cw, height: ch)
            return p
        case .crop:
            var p = scaled(coverScale)
            let cw = min(px(tw), p.resizeWidth), ch = min(px(th), p.resizeHeight)
            p.crop = place(width: cw, height: ch, in: p, gravity: gravity)
            return p
        case .min:
            if coverScale <= 1 { return compute(sw: sw, sh: sh, tw: tw, th: th, fit: .crop, gravity: gravity) }
            // Would enlarge: keep the source size and crop it to the requested aspect ratio instead.
            let aspect = tw / th
            var cw = sW, ch = sW / aspect
            if ch > sH { ch = sH; cw = sH * aspect }
            var p = ResizePlan(resizeWidth: sw, resizeHeight: sh)
            p.crop = place(width: min(px(cw), sw), height: min(px(ch), sh), in: p, gravity: gravity)
            return p
        }
    }

    private static func place(width: Int, height: Int, in p: ResizePlan, gravity: CropGravity) -> Rect {
        let spareX = p.resizeWidth - width, spareY = p.resizeHeight - height
        let x: Int = switch gravity.horizontal {
        case .left: 0
        case .center: spareX / 2
        case .right: spareX
        }
        let y: Int = switch gravity.vertical {
        case .top: 0
        case .middle: spareY / 2
        case .bottom: spareY
        }
        return Rect(x: x, y: y, width: width, height: height)
    }
}
