/// The geometry of one transform, worked out before any pixel is decoded: resize the (oriented, rect- or
/// trim-cut) source to `resizeWidth` x `resizeHeight`, then keep `crop` of it, then place it on `canvas`.
public struct ResizePlan: Sendable, Equatable {
    /// A rectangle in pixels.
    public struct Rect: Sendable, Equatable {
        public var x: Int, y: Int, width: Int, height: Int
        public init(x: Int, y: Int, width: Int, height: Int) {
            self.x = x; self.y = y; self.width = width; self.height = height
        }
    }

    /// What fills the canvas around the image.
    public enum CanvasFill: Sendable, Equatable {
        case solid
        /// A blurred, cover-scaled copy of the image (`fill=blur`).
        case blur
        /// The edge pixels extended (`fit=clamp`).
        case extend
    }

    /// Pixel-driven crop choice, made by the imaging step once pixels exist.
    public enum SmartCrop: Sendable, Equatable {
        case entropy, attention
    }

    public var resizeWidth: Int
    public var resizeHeight: Int
    /// Part of the resized image kept (`fit=crop`, `fit=min`); with `smartCrop`, only its size is decided here.
    public var crop: Rect?
    public var smartCrop: SmartCrop?
    /// The focal point in resized-image pixels (for `fp-debug`).
    public var focalPoint: (x: Int, y: Int)?
    /// Output canvas, and where the image sits on it (`fit=fill`, `fillmax`, `clamp`).
    public var canvas: Rect?
    public var canvasFill: CanvasFill = .solid

    public static func == (a: ResizePlan, b: ResizePlan) -> Bool {
        a.resizeWidth == b.resizeWidth && a.resizeHeight == b.resizeHeight && a.crop == b.crop
            && a.smartCrop == b.smartCrop && a.focalPoint?.x == b.focalPoint?.x && a.focalPoint?.y == b.focalPoint?.y
            && a.canvas == b.canvas && a.canvasFill == b.canvasFill
    }

    /// The output image's size.
    public var outputWidth: Int { canvas?.width ?? crop?.width ?? resizeWidth }
    public var outputHeight: Int { canvas?.height ?? crop?.height ?? resizeHeight }

    /// Largest output side, as imgix: requests beyond it are scaled down to fit, keeping their shape.
    public static let maxOutputSide = 8192

    /// Plans `spec` for a source (after orientation, rect and trim) of `sourceWidth` x `sourceHeight` pixels.
    public init(sourceWidth sw: Int, sourceHeight sh: Int, spec: TransformSpec) {
        self.init(sourceWidth: sw, sourceHeight: sh, size: spec.size)
    }

    public init(sourceWidth sw: Int, sourceHeight sh: Int, size: SizeSpec) {
        precondition(sw > 0 && sh > 0, "source dimensions are checked by the caller")
        let (tw, th) = ResizePlan.box(sw: sw, sh: sh, size: size)
        var plan = ResizePlan.compute(sw: sw, sh: sh, tw: tw, th: th, size: size)
        let cap = Double(ResizePlan.maxOutputSide)
        let ow = Double(plan.outputWidth), oh = Double(plan.outputHeight)
        if ow > cap || oh > cap {
            let f = min(cap / ow, cap / oh)
            // Scale the request, not the result, so every fit mode keeps its meaning at the capped size.
            let cw = (tw ?? (th == nil ? ow : nil)).map { ($0 * f).rounded(.down) }
            let ch = (th ?? (tw == nil ? oh : nil)).map { ($0 * f).rounded(.down) }
            plan = ResizePlan.compute(sw: sw, sh: sh, tw: cw, th: ch, size: size)
            // Modes that keep source pixels unscaled (min, max, fillmax) must still shrink a source past the cap.
            if plan.outputWidth > ResizePlan.maxOutputSide || plan.outputHeight > ResizePlan.maxOutputSide {
                var forced = size
                forced.fit = .crop
                plan = ResizePlan.compute(sw: sw, sh: sh, tw: (ow * f).rounded(.down), th: (oh * f).rounded(.down), size: forced)
            }
        }
        self = plan
    }

    private init(resizeWidth: Int, resizeHeight: Int) {
        self.resizeWidth = resizeWidth
        self.resizeHeight = resizeHeight
    }

    private static func px(_ v: Double) -> Int { max(1, Int(v.rounded())) }

    /// The requested box after `ar` and the `min-`/`max-` bounds (nil sides: not requested).
    static func box(sw: Int, sh: Int, size: SizeSpec) -> (Double?, Double?) {
        var tw = size.width?.resolve(source: sw)
        var th = size.height?.resolve(source: sh)
        let sW = Double(sw), sH = Double(sh)
        if let a = size.aspectRatio {
            switch (tw, th) {
            case let (w?, h?):
                // Both given: the largest box of that ratio inside them.
                if w / h > a { tw = h * a } else { th = w / a }
            case let (w?, nil): th = w / a
            case let (nil, h?): tw = h * a
            case (nil, nil):
                // Neither: reframe the source at its own resolution — cut to the ratio (crop) or pad to it (fill).
                let cut = size.fit == .crop
                if (sW / sH > a) == cut { tw = sH * a; th = sH } else { tw = sW; th = sW / a }
            }
        }
        let bounded = size.minWidth != nil || size.maxWidth != nil || size.minHeight != nil || size.maxHeight != nil
        if bounded {
            if tw == nil { tw = th.map { $0 * sW / sH } ?? sW }
            if th == nil { th = tw.map { $0 * sH / sW } ?? sH }
            if let m = size.maxWidth { tw = min(tw!, m) }
            if let m = size.minWidth { tw = max(tw!, m) }
            if let m = size.maxHeight { th = min(th!, m) }
            if let m = size.minHeight { th = max(th!, m) }
        }
        return (tw, th)
    }

    private static func compute(sw: Int, sh: Int, tw: Double?, th: Double?, size: SizeSpec) -> ResizePlan {
        let sW = Double(sw), sH = Double(sh)
        let fit = size.fit
        // Proportional resize to a scale factor.
        func scaled(_ s: Double) -> ResizePlan { ResizePlan(resizeWidth: px(sW * s), resizeHeight: px(sH * s)) }

        guard tw != nil || th != nil else { return ResizePlan(resizeWidth: sw, resizeHeight: sh) }
        // One dimension: every mode keeps the aspect ratio and pads nothing; max, min and fillmax never enlarge.
        guard let tw, let th else {
            let s = tw.map { $0 / sW } ?? th! / sH
            return scaled(fit == .max || fit == .min || fit == .fillmax ? min(s, 1) : s)
        }
        let fitScale = min(tw / sW, th / sH)
        let coverScale = max(tw / sW, th / sH)
        switch fit {
        case .clip, .facearea:
            return scaled(fitScale)
        case .max:
            return scaled(min(fitScale, 1))
        case .scale:
            return ResizePlan(resizeWidth: px(tw), resizeHeight: px(th))
        case .fill, .fillmax, .clamp:
            var p = scaled(fit == .fillmax ? min(fitScale, 1) : fitScale)
            let cw = max(px(tw), p.resizeWidth), ch = max(px(th), p.resizeHeight)
            p.canvas = Rect(x: (cw - p.resizeWidth) / 2, y: (ch - p.resizeHeight) / 2, width: cw, height: ch)
            p.canvasFill = fit == .clamp ? .extend : (size.fill == .blur ? .blur : .solid)
            return p
        case .crop:
            return cropped(sw: sw, sh: sh, tw: tw, th: th, scale: coverScale, strategy: size.crop)
        case .min:
            if coverScale <= 1 { return cropped(sw: sw, sh: sh, tw: tw, th: th, scale: coverScale, strategy: size.crop) }
            // Would enlarge: keep the source size and crop it to the requested aspect ratio instead.
            let aspect = tw / th
            var cw = sW, ch = sW / aspect
            if ch > sH { ch = sH; cw = sH * aspect }
            return cropped(sw: sw, sh: sh, tw: cw, th: ch, scale: 1, strategy: size.crop)
        }
    }

    private static func cropped(sw: Int, sh: Int, tw: Double, th: Double, scale: Double, strategy: CropStrategy) -> ResizePlan {
        var s = scale
        if case .focalPoint(_, _, let zoom) = strategy { s *= zoom }
        var p = ResizePlan(resizeWidth: px(Double(sw) * s), resizeHeight: px(Double(sh) * s))
        let cw = min(px(tw), p.resizeWidth), ch = min(px(th), p.resizeHeight)
        let spareX = p.resizeWidth - cw, spareY = p.resizeHeight - ch
        switch strategy {
        case .gravity(let g):
            let x: Int = switch g.horizontal { case .left: 0; case .center: spareX / 2; case .right: spareX }
            let y: Int = switch g.vertical { case .top: 0; case .middle: spareY / 2; case .bottom: spareY }
            p.crop = Rect(x: x, y: y, width: cw, height: ch)
        case .focalPoint(let fx, let fy, _):
            let cx = fx * Double(p.resizeWidth), cy = fy * Double(p.resizeHeight)
            let x = min(max(0, Int((cx - Double(cw) / 2).rounded())), spareX)
            let y = min(max(0, Int((cy - Double(ch) / 2).rounded())), spareY)
            p.crop = Rect(x: x, y: y, width: cw, height: ch)
            p.focalPoint = (Int(cx.rounded()) - x, Int(cy.rounded()) - y)
        case .entropy, .edges:
            p.crop = Rect(x: spareX / 2, y: spareY / 2, width: cw, height: ch)
            p.smartCrop = strategy == .entropy ? .entropy : .attention
        }
        return p
    }
}
