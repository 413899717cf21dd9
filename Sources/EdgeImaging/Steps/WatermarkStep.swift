internal import CVips
internal import CVipsLib
import EdgeCore

/// Applies `TransformSpec.watermark` (imgix `mark*`): the watermark's bytes (fetched by the caller from the
/// same source) are decoded at the size asked for (shrink-on-load), rotated, faded, then drawn once at the
/// aligned or explicit position, or tiled over the whole image.
///
/// As imgix does, a watermark that is missing or cannot be decoded is left out and the image is drawn without
/// it. A watermark over `limits.maxSourcePixels` is refused (413) like a source would be.
enum WatermarkStep {
    static func apply(_ image: VImage, _ ctx: PipelineContext) throws(EdgeError) -> VImage {
        let spec = ctx.spec.watermark
        guard let reference = spec.reference,
              image.width >= spec.minWidth, image.height >= spec.minHeight,
              let bytes = ctx.resources.images[reference.description], !bytes.isEmpty
        else { return image }
        guard var mark = try load(bytes, spec, base: image, limits: ctx.limits) else { return image }
        mark = try mark.map { cvips_to_srgba($0, &$1) }
        if spec.rotation != 0 {
            mark = try mark.map { cvips_rotate_transparent($0, &$1, spec.rotation) }
        }
        if spec.alpha < 100 {
            mark = try mark.map { cvips_scale_alpha($0, &$1, Double(spec.alpha) / 100) }
        }
        let x = spec.x ?? OverlayAlign.offset(spec.effectiveHorizontal, extent: image.width, size: mark.width, pad: spec.pad)
        let y = spec.y ?? OverlayAlign.offset(spec.effectiveVertical, extent: image.height, size: mark.height, pad: spec.pad)
        if spec.tiled {
            // One layer the size of the image, whatever the number of tiles: the cost follows the output area.
            let w = Int32(image.width), h = Int32(image.height), pad = Int32(spec.pad)
            let layer = try mark.map { cvips_tile_grid($0, &$1, pad, pad, Int32(x), Int32(y), w, h) }
            return try image.map { cvips_overlay($0, layer.pointer, &$1, 0, 0) }
        }
        return try image.map { cvips_overlay($0, mark.pointer, &$1, Int32(x), Int32(y)) }
    }

    /// Decodes the watermark at its drawn size, or nil when the bytes are not an image this node reads.
    private static func load(_ bytes: [UInt8], _ spec: WatermarkSpec, base: VImage, limits: ImageLimits) throws(EdgeError) -> VImage? {
        let header: (width: Int, height: Int)? = bytes.withUnsafeBytes { buf -> (width: Int, height: Int)? in
            guard (try? VipsImageProcessor.identify(buf)) != nil else { return nil }
            var raw: UnsafeMutablePointer<VipsImage>?
            guard cvips_image_new_from_buffer(buf.baseAddress, buf.count, 1, &raw) == 0, let raw else {
                _ = VipsRuntime.takeError()
                return nil
            }
            let h = VImage(taking: raw)
            guard h.width > 0, h.height > 0 else { return nil }
            let swapped = cvips_orientation(h.pointer) >= 5
            return (swapped ? h.height : h.width, swapped ? h.width : h.height)
        }
        // Not an image this node reads, or damaged: drawn without the watermark, as imgix does.
        guard let dims = header else { return nil }
        let (mw, mh) = dims
        guard mw.multipliedReportingOverflow(by: mh).partialValue <= limits.maxSourcePixels, mw <= 1 << 20, mh <= 1 << 20 else {
            throw .payloadTooLarge("watermark image has too many pixels", detail: "mark \(mw)x\(mh)")
        }
        guard let plan = MarkPlan(spec, markWidth: mw, markHeight: mh, baseWidth: base.width) else { return nil }
        let decoded: VImage
        do {
            decoded = try VImage.make { out in
                bytes.withUnsafeBytes { cvips_thumbnail_buffer_copy($0.baseAddress, $0.count, Int32(plan.loadWidth), Int32(plan.loadHeight), &out) }
            }
        } catch {
            // A header that reads but pixels that do not: drawn without the watermark, as imgix does.
            return nil
        }
        var mark = decoded
        if plan.loadWidth != plan.width || plan.loadHeight != plan.height {
            mark = try mark.map { cvips_to_srgba($0, &$1) }
            if plan.pads {
                let transparent: [Double] = [0, 0, 0, 0]
                mark = try mark.map { cvips_embed_background($0, &$1, Int32((plan.width - plan.loadWidth) / 2),
                                                             Int32((plan.height - plan.loadHeight) / 2),
                                                             Int32(plan.width), Int32(plan.height), transparent, 4) }
            } else {
                mark = try mark.map { cvips_extract_area($0, &$1, Int32((plan.loadWidth - plan.width) / 2),
                                                         Int32((plan.loadHeight - plan.height) / 2),
                                                         Int32(plan.width), Int32(plan.height)) }
            }
        }
        return mark
    }
}

/// The watermark's geometry: the size it is decoded at (`load*`) and the size it is drawn at, which differ
/// for `mark-fit=crop` (decoded to cover the box, then cut) and `fill` (decoded to fit, then padded).
struct MarkPlan: Equatable {
    var loadWidth: Int, loadHeight: Int
    var width: Int, height: Int
    var pads: Bool

    /// nil when the watermark would be drawn with no pixels (`mark-scale=0`).
    init?(_ spec: WatermarkSpec, markWidth mw: Int, markHeight mh: Int, baseWidth: Int) {
        let cap = Double(WatermarkSpec.maxSide)
        let aspect = Double(mw) / Double(mh)
        func side(_ d: Double) -> Int { Int(min(max(d.rounded(), 1), cap)) }
        pads = false
        if let scale = spec.scale {
            // Percent of the base image's width, aspect kept.
            let w = Double(baseWidth) * scale / 100
            guard w >= 0.5 else { return nil }
            (width, height) = (side(w), side(w / aspect))
            (loadWidth, loadHeight) = (width, height)
            return
        }
        let bw = spec.width?.resolve(source: mw), bh = spec.height?.resolve(source: mh)
        switch (bw, bh) {
        case (nil, nil):
            (width, height) = (side(Double(mw)), side(Double(mh)))
        case (let w?, nil):
            let w2 = spec.effectiveFit == .max ? min(w, Double(mw)) : w
            (width, height) = (side(w2), side(w2 / aspect))
        case (nil, let h?):
            let h2 = spec.effectiveFit == .max ? min(h, Double(mh)) : h
            (width, height) = (side(h2 * aspect), side(h2))
        case (let w?, let h?):
            let fitScale = min(w / Double(mw), h / Double(mh))
            switch spec.effectiveFit {
            case .scale:
                (width, height) = (side(w), side(h))
            case .clip, .fill:
                (width, height) = (side(Double(mw) * fitScale), side(Double(mh) * fitScale))
            case .max:
                let s = min(fitScale, 1)
                (width, height) = (side(Double(mw) * s), side(Double(mh) * s))
            case .crop:
                // Cover the box, then cut its centre. The decoded size is capped too (vips evaluates only the
                // part that is cut out, but the image's declared size must stay within bounds).
                let cover = max(w / Double(mw), h / Double(mh))
                (width, height) = (side(w), side(h))
                (loadWidth, loadHeight) = (max(side(Double(mw) * cover), width), max(side(Double(mh) * cover), height))
                return
            }
            if spec.effectiveFit == .fill {
                // Fit inside the box, then pad it with transparency to the box.
                (loadWidth, loadHeight) = (width, height)
                (width, height) = (side(w), side(h))
                pads = (loadWidth, loadHeight) != (width, height)
                return
            }
        }
        (loadWidth, loadHeight) = (width, height)
    }
}
