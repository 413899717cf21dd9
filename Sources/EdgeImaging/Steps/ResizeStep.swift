internal import CVips
internal import CVipsLib
import EdgeCore

/// Sizing, imgix's first stage: orientation (EXIF, or `or` instead), the source region (`rect`, then `trim`
/// inside it), the resize planned by `ResizePlan` (shrink-on-load through libvips' thumbnail), the crop —
/// directional, focal point or smart — and, once the image is sRGB, the canvas of the padding fit modes.
enum ResizeStep {
    /// Decodes, orients, cuts the region, resizes and crops. Returns the image and the plan it followed.
    static func load(_ buf: UnsafeRawBufferPointer, _ ctx: PipelineContext) throws(EdgeError) -> (VImage, ResizePlan) {
        let size = ctx.spec.size
        let override = size.orientation
        let orientation = override ?? ctx.sourceOrientation
        let swapped = orientation >= 5
        let ow = swapped ? ctx.rawHeight : ctx.rawWidth, oh = swapped ? ctx.rawWidth : ctx.rawHeight

        var region = size.rect.flatMap { $0.resolve(sourceWidth: ow, sourceHeight: oh) }
        if let trim = size.trim {
            region = try trimmedRegion(buf, ctx, trim: trim, orientedWidth: ow, orientedHeight: oh, within: region) ?? region
        }
        let r = region ?? ResizePlan.Rect(x: 0, y: 0, width: ow, height: oh)
        let plan = ResizePlan(sourceWidth: r.width, sourceHeight: r.height, size: size)

        var image: VImage
        if region == nil {
            image = try thumbnail(buf, width: plan.resizeWidth, height: plan.resizeHeight, override: override, swapped: swapped, ctx)
        } else {
            // Shrink on load as far as the region allows, cut it out, then resize it exactly.
            let s = min(1, Double(plan.resizeWidth) / Double(r.width), Double(plan.resizeHeight) / Double(r.height))
            let fw = max(1, Int((Double(ow) * s).rounded())), fh = max(1, Int((Double(oh) * s).rounded()))
            image = try thumbnail(buf, width: fw, height: fh, override: override, swapped: swapped, ctx)
            let sx = Double(fw) / Double(ow), sy = Double(fh) / Double(oh)
            let x = min(fw - 1, Int((Double(r.x) * sx).rounded(.down))), y = min(fh - 1, Int((Double(r.y) * sy).rounded(.down)))
            let w = max(1, min(fw - x, Int((Double(r.width) * sx).rounded()))), h = max(1, min(fh - y, Int((Double(r.height) * sy).rounded())))
            image = try image.map { cvips_extract_area($0, &$1, Int32(x), Int32(y), Int32(w), Int32(h)) }
            if w != plan.resizeWidth || h != plan.resizeHeight {
                let hs = Double(plan.resizeWidth) / Double(w), vs = Double(plan.resizeHeight) / Double(h)
                image = try image.map { cvips_resize($0, &$1, hs, vs) }
            }
        }
        if let c = plan.crop, let smart = plan.smartCrop {
            let at = try smartCropOrigin(buf, ctx, plan: plan, region: r, crop: c, smart: smart, orientedWidth: ow, orientedHeight: oh)
            image = try image.map { cvips_extract_area($0, &$1, Int32(at.x), Int32(at.y), Int32(c.width), Int32(c.height)) }
        } else if let c = plan.crop {
            image = try image.map { cvips_extract_area($0, &$1, Int32(c.x), Int32(c.y), Int32(c.width), Int32(c.height)) }
        }
        return (image, plan)
    }

    /// Where a smart crop (entropy, attention) starts, in resized pixels. libvips' smartcrop looks at every pixel
    /// it is given, so it looks at a copy of the region at most 512 px on its long side — never at the resized
    /// image, whose size a request controls — and the window it picks is scaled back.
    private static func smartCropOrigin(_ buf: UnsafeRawBufferPointer, _ ctx: PipelineContext, plan: ResizePlan,
                                        region r: ResizePlan.Rect, crop c: ResizePlan.Rect, smart: ResizePlan.SmartCrop,
                                        orientedWidth ow: Int, orientedHeight oh: Int) throws(EdgeError) -> (x: Int, y: Int) {
        let k = min(1, 512 / Double(max(r.width, r.height)))
        let fw = max(1, Int((Double(ow) * k).rounded())), fh = max(1, Int((Double(oh) * k).rounded()))
        let orientation = ctx.spec.size.orientation ?? ctx.sourceOrientation
        var small = try thumbnail(buf, width: fw, height: fh, override: ctx.spec.size.orientation, swapped: orientation >= 5, ctx)
        let x0 = min(fw - 1, Int((Double(r.x) * k).rounded())), y0 = min(fh - 1, Int((Double(r.y) * k).rounded()))
        let sw = max(1, min(fw - x0, Int((Double(r.width) * k).rounded()))), sh = max(1, min(fh - y0, Int((Double(r.height) * k).rounded())))
        if sw != fw || sh != fh {
            small = try small.map { cvips_extract_area($0, &$1, Int32(x0), Int32(y0), Int32(sw), Int32(sh)) }
        }
        small = try small.map { cvips_copy_memory($0, &$1) }
        // The crop window in small-copy pixels: the same share of the image as in the resized one.
        let ww = max(1, min(sw, Int((Double(c.width) * Double(sw) / Double(plan.resizeWidth)).rounded())))
        let wh = max(1, min(sh, Int((Double(c.height) * Double(sh) / Double(plan.resizeHeight)).rounded())))
        let chosen = try small.map { cvips_smartcrop($0, &$1, Int32(ww), Int32(wh), smart == .attention ? 1 : 0) }
        let left = -Int(chosen.pointer.pointee.Xoffset), top = -Int(chosen.pointer.pointee.Yoffset)
        let x = Int((Double(left) * Double(plan.resizeWidth) / Double(sw)).rounded())
        let y = Int((Double(top) * Double(plan.resizeHeight) / Double(sh)).rounded())
        return (min(max(0, x), plan.resizeWidth - c.width), min(max(0, y), plan.resizeHeight - c.height))
    }

    /// Thumbnail to exactly `width` x `height` in oriented space; with an `or` override the stored EXIF tag is
    /// ignored and the requested orientation applied instead.
    private static func thumbnail(_ buf: UnsafeRawBufferPointer, width: Int, height: Int, override: Int?, swapped: Bool,
                                  _ ctx: PipelineContext) throws(EdgeError) -> VImage {
        // Images with an embedded profile are converted to sRGB as they load, unless cs=origin keeps their space;
        // images without one are sRGB already (libvips would otherwise run an sRGB-to-sRGB transform).
        let srgb: Int32 = ctx.sourceHasProfile && ctx.spec.output.colorSpace != .origin ? 1 : 0
        // JPEG: decode at 1/2, 1/4 or 1/8 scale as far as the target allows — baseline or progressive (whose entropy
        // decoding costs the same at any scale, but not its inverse DCT, colour conversion and resize); other
        // formats shrink inside thumbnail.
        let (sw, sh) = swapped ? (ctx.rawHeight, ctx.rawWidth) : (ctx.rawWidth, ctx.rawHeight)
        if override == nil, let shared = try sharedThumbnail(buf, width: width, height: height, srgb: srgb, ctx) {
            return shared
        }
        let shrink = ctx.sourceType == .jpeg ? jpegShrink(sourceWidth: sw, sourceHeight: sh, width: width, height: height) : 1
        guard let o = override else {
            if shrink > 1 {
                return try VImage.make { cvips_jpeg_shrink_thumbnail(buf.baseAddress, buf.count, Int32(shrink), Int32(width), Int32(height), srgb, 0, &$0) }
            }
            return try VImage.make { cvips_thumbnail_buffer(buf.baseAddress, buf.count, Int32(width), Int32(height), 1, srgb, &$0) }
        }
        let (w, h) = swapped ? (height, width) : (width, height)
        let raw = shrink > 1
            ? try VImage.make { cvips_jpeg_shrink_thumbnail(buf.baseAddress, buf.count, Int32(shrink), Int32(w), Int32(h), srgb, 1, &$0) }
            : try VImage.make { cvips_thumbnail_buffer_norotate(buf.baseAddress, buf.count, Int32(w), Int32(h), 1, srgb, &$0) }
        return o == 1 ? raw : try raw.map { cvips_autorot_as($0, &$1, Int32(o)) }
    }

    /// The variant made from a decoded copy of the original shared with the other variants being made now
    /// (`DecodeSharing`): a JPEG with its own orientation, when other variants of it are being made or a copy
    /// large enough is kept. The copy is decoded at the scale the largest of them needs (each at the scale a fresh
    /// decode would use for it), so that every one of them can be made from it; nil: decode as usual.
    private static func sharedThumbnail(_ buf: UnsafeRawBufferPointer, width: Int, height: Int, srgb: Int32,
                                        _ ctx: PipelineContext) throws(EdgeError) -> VImage? {
        guard ctx.sourceType == .jpeg, let sharing = ctx.sharing, let copies = ctx.copies else { return nil }
        // With its own orientation (no `or` here), the source's size as oriented is the context's.
        let shrink = { (w: Int, h: Int) in jpegShrink(sourceWidth: ctx.sourceWidth, sourceHeight: ctx.sourceHeight, width: w, height: h) }
        let needed = shrink(width, height)
        // The siblings that decode the whole original with its own orientation, as this one does.
        let largest = sharing.siblings.filter { $0.size.rect == nil && $0.size.trim == nil && $0.size.orientation == nil }
            .map { ResizePlan(sourceWidth: ctx.sourceWidth, sourceHeight: ctx.sourceHeight, size: $0.size) }
            .map { shrink($0.resizeWidth, $0.resizeHeight) }.min() ?? needed
        guard !sharing.siblings.isEmpty || copies.has(sharing.identity, needed: needed) else { return nil }
        // The copy is decoded at the largest sibling's scale only if it can be kept (else each decodes for itself).
        let bytesAt = { (s: Int) in ((ctx.rawWidth + s - 1) / s) * ((ctx.rawHeight + s - 1) / s) * max(1, ctx.sourceBands) }
        let decodeAt = bytesAt(min(needed, largest)) <= copies.maxBytes ? min(needed, largest) : needed
        // Made from a copy at the very scale a fresh decode would use (box-shrunk from the decoded one), so that the
        // resize costs what it costs after a fresh decode.
        let copy = try copies.obtain(sharing.identity, needed: needed, shrink: decodeAt) { (s: Int) throws(EdgeError) in
            try VImage.make { cvips_jpegload_memory(buf.baseAddress, buf.count, Int32(s), &$0) }
        }
        return try copy.map { cvips_thumbnail_of($0, Int32(width), Int32(height), srgb, 0, &$1) }
    }

    /// The largest JPEG DCT scale-down (1, 2, 4, 8) leaving at least 1.5× the target in both directions: the
    /// remaining resize still has pixels to filter, and decoding costs 12–30 % less than libvips' thumbnail,
    /// which always keeps a factor of 2 (measured on 20 MP and 2.5 MP photos; PSNR 38–51 dB against a full decode).
    static func jpegShrink(sourceWidth sw: Int, sourceHeight sh: Int, width: Int, height: Int) -> Int {
        for n in [8, 4, 2] where Double(sw) / Double(n) >= 1.5 * Double(width) && Double(sh) / Double(n) >= 1.5 * Double(height) {
            return n
        }
        return 1
    }

    /// The padding fit modes' canvas (solid colour, blurred image or extended edges) and the focal-point marker.
    static func finish(_ image: VImage, plan: ResizePlan, _ ctx: PipelineContext) throws(EdgeError) -> VImage {
        var image = image
        if let canvas = plan.canvas, canvas.width != image.width || canvas.height != image.height {
            switch plan.canvasFill {
            case .extend:
                image = try image.map { cvips_embed_extend($0, &$1, Int32(canvas.x), Int32(canvas.y), Int32(canvas.width), Int32(canvas.height)) }
            case .blur:
                image = try blurredCanvas(image, canvas: canvas)
            case .solid:
                // imgix: fill-color, else `bg`, else transparent where the output keeps alpha, else white.
                let fill = ctx.spec.size.fillColor
                    ?? (ctx.output.supportsAlpha ? RGBAColor(red: 255, green: 255, blue: 255, alpha: 0) : .white)
                if fill.alpha < 255, ctx.output.supportsAlpha, !image.hasAlpha {
                    image = try image.map { cvips_bandjoin_const1($0, &$1, 255) }
                }
                let bg = image.pixel(fill)
                image = try image.map {
                    cvips_embed_background($0, &$1, Int32(canvas.x), Int32(canvas.y), Int32(canvas.width), Int32(canvas.height), bg, Int32(bg.count))
                }
            }
        }
        if ctx.spec.size.focalPointDebug, let fp = plan.focalPoint {
            let ink = image.pixel(RGBAColor(red: 255, green: 0, blue: 0))
            let x = min(max(0, fp.x), image.width - 1), y = min(max(0, fp.y), image.height - 1)
            image = try image.map { cvips_draw_cross($0, &$1, Int32(x), Int32(y), ink, Int32(ink.count)) }
        }
        return image
    }

    /// The image over a blurred copy of itself scaled to cover the canvas (imgix `fill=blur`).
    private static func blurredCanvas(_ image: VImage, canvas: ResizePlan.Rect) throws(EdgeError) -> VImage {
        let cover = max(Double(canvas.width) / Double(image.width), Double(canvas.height) / Double(image.height))
        // Blur a small copy and enlarge it: the same look for a fraction of the cost of blurring at full size.
        let small = min(1, 256 / Double(max(canvas.width, canvas.height)))
        var back = try image.map { cvips_resize($0, &$1, cover * small, cover * small) }
        let bw = max(1, Int((Double(canvas.width) * small).rounded())), bh = max(1, Int((Double(canvas.height) * small).rounded()))
        let bx = max(0, (back.width - bw) / 2), by = max(0, (back.height - bh) / 2)
        let ew = Int32(min(bw, back.width - bx)), eh = Int32(min(bh, back.height - by))
        back = try back.map { cvips_extract_area($0, &$1, Int32(bx), Int32(by), ew, eh) }
        back = try back.map { cvips_gaussblur($0, &$1, 8) }
        back = try back.map { cvips_resize($0, &$1, Double(canvas.width) / Double(back.width), Double(canvas.height) / Double(back.height)) }
        if back.width != canvas.width || back.height != canvas.height {
            let bg = back.pixel(.white)
            back = try back.map { cvips_embed_background($0, &$1, 0, 0, Int32(canvas.width), Int32(canvas.height), bg, Int32(bg.count)) }
            back = try back.map { cvips_extract_area($0, &$1, 0, 0, Int32(canvas.width), Int32(canvas.height)) }
        }
        return try back.map { cvips_insert($0, image.pointer, &$1, Int32(canvas.x), Int32(canvas.y)) }
    }

    /// The content box `trim` leaves, in oriented source pixels, found on a preview (at most 1024 px on its long
    /// side) and mapped back; nil when there is nothing to trim or the corners disagree (trim=auto).
    private static func trimmedRegion(_ buf: UnsafeRawBufferPointer, _ ctx: PipelineContext, trim: TrimSpec,
                                      orientedWidth ow: Int, orientedHeight oh: Int,
                                      within rect: ResizePlan.Rect?) throws(EdgeError) -> ResizePlan.Rect? {
        let scale = min(1, 1024 / Double(max(ow, oh)))
        let pw = max(1, Int((Double(ow) * scale).rounded())), ph = max(1, Int((Double(oh) * scale).rounded()))
        var preview = try thumbnail(buf, width: pw, height: ph, override: ctx.spec.size.orientation,
                                    swapped: (ctx.spec.size.orientation ?? ctx.sourceOrientation) >= 5, ctx)
        preview = try ColourStep.apply(preview).map { cvips_copy_memory($0, &$1) }
        var offX = 0, offY = 0
        if let r = rect {
            offX = Int((Double(r.x) * scale).rounded(.down)); offY = Int((Double(r.y) * scale).rounded(.down))
            let w = max(1, min(pw - offX, Int((Double(r.width) * scale).rounded()))), h = max(1, min(ph - offY, Int((Double(r.height) * scale).rounded())))
            preview = try preview.map { cvips_extract_area($0, &$1, Int32(offX), Int32(offY), Int32(w), Int32(h)) }
        }
        let mode: TrimSpec.Mode = trim.mode == .colorunlessalpha ? (preview.hasAlpha ? .alpha : .color) : trim.mode
        var box = (left: Int32(0), top: Int32(0), width: Int32(0), height: Int32(0))
        switch mode {
        case .alpha:
            guard preview.hasAlpha else { return nil }
            let band = Int32(preview.bands - 1)
            let alpha = try preview.map { cvips_extract_band($0, &$1, band) }
            let bg = [0.0]
            guard cvips_find_trim(alpha.pointer, trim.alphaThreshold, bg, 1, &box.left, &box.top, &box.width, &box.height) == 0 else {
                throw .unprocessable(detail: VipsRuntime.takeError())
            }
        case .color, .auto, .colorunlessalpha:
            var corner = try pixel(preview, 0, 0)
            if mode == .auto {
                // imgix trims automatically only when opposite corners agree.
                let other = try pixel(preview, preview.width - 1, preview.height - 1)
                let diff = zip(corner, other).map { abs($0 - $1) }.reduce(0, +) / Double(max(1, corner.count))
                guard diff <= trim.meanDifference else { return nil }
            }
            if mode == .color, let c = trim.color { corner = [Double(c.red), Double(c.green), Double(c.blue)] }
            let ink = Array(corner.prefix(3)) + [Double](repeating: 0, count: max(0, 3 - corner.count))
            let flat = preview.hasAlpha ? try preview.map { cvips_flatten($0, &$1, ink, 3) } : preview
            let threshold = mode == .auto ? trim.meanDifference : max(trim.tolerance, 0.5)
            let bg = Array(corner.prefix(3))
            guard cvips_find_trim(flat.pointer, threshold, bg, Int32(bg.count), &box.left, &box.top, &box.width, &box.height) == 0 else {
                throw .unprocessable(detail: VipsRuntime.takeError())
            }
        }
        guard box.width > 0, box.height > 0 else { return nil }
        // Back to oriented source pixels, rounding outwards so no content is lost, then the trim padding.
        let x0 = Int((Double(Int(box.left) + offX) / scale).rounded(.down)) - trim.pad
        let y0 = Int((Double(Int(box.top) + offY) / scale).rounded(.down)) - trim.pad
        let x1 = Int((Double(Int(box.left + box.width) + offX) / scale).rounded(.up)) + trim.pad
        let y1 = Int((Double(Int(box.top + box.height) + offY) / scale).rounded(.up)) + trim.pad
        let cx0 = max(0, x0), cy0 = max(0, y0), cx1 = min(ow, x1), cy1 = min(oh, y1)
        guard cx1 > cx0, cy1 > cy0 else { return nil }
        return ResizePlan.Rect(x: cx0, y: cy0, width: cx1 - cx0, height: cy1 - cy0)
    }

    private static func pixel(_ image: VImage, _ x: Int, _ y: Int) throws(EdgeError) -> [Double] {
        var values = [Double](repeating: 0, count: 4)
        var n: Int32 = 0
        guard cvips_getpoint(image.pointer, Int32(x), Int32(y), &values, &n) == 0 else {
            throw .unprocessable(detail: VipsRuntime.takeError())
        }
        return Array(values.prefix(Int(min(n, 3))))
    }
}
