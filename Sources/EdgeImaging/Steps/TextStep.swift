internal import CVips
internal import CVipsLib
import EdgeCore

/// Applies `TransformSpec.text` (imgix `txt*`): one line of plain text (never Pango markup) inside a box
/// `txt-width` wide (default: the image width less `txt-pad` on both sides), clipped at its start, middle or end
/// (optionally with an ellipsis), or shrunk to fit with `txt-fit=max`; coloured, outlined, given a soft halo,
/// and drawn at the aligned or explicit position.
///
/// Bounded cost: the font size is capped at the image height (a taller line cannot show more), the line is
/// measured at a small size before it is drawn, and only the part that fits the box (plus at most one glyph)
/// is ever drawn at full size, so the text costs about as much as the area it covers.
enum TextStep {
    /// Lines are measured at this size (pixels) and the width scaled: a measurement costs the same whatever the
    /// requested size.
    static let measureSize = 24.0

    static func apply(_ image: VImage, _ ctx: PipelineContext) throws(EdgeError) -> VImage {
        let spec = ctx.spec.text
        guard let text = spec.text, spec.size > 0 else { return image }
        let pad = Int(spec.pad.rounded())
        var size = min(spec.size, Double(image.height))
        let box = min(Int((spec.width ?? Double(image.width - 2 * pad)).rounded()), image.width)
        guard box > 0, size >= 1 else { return image }
        let pen = Pen(font: spec.font, track: spec.track)

        var content = text
        if try pen.measure(text, size: size) > box {
            if spec.fitMax {
                size = (size * Double(box) / Double(try pen.measure(text, size: size))).rounded(.down)
                guard size >= 1 else { return image }
            } else {
                content = try clip(text, to: box, size: size, spec: spec, pen: pen)
            }
        }
        guard !content.isEmpty else { return image }
        var mask = try pen.draw(content, size: size)
        if mask.width > box {
            // The measurement is approximate and clipping without an ellipsis keeps the glyph cut at the edge:
            // cut the drawn line to the box on the side that is clipped.
            let left = !spec.fitMax && spec.clip == .start ? mask.width - box : 0
            let h = Int32(mask.height)
            mask = try mask.map { cvips_extract_area($0, &$1, Int32(left), 0, Int32(box), h) }
        }
        let x = spec.x.map { Int($0.rounded()) }
            ?? OverlayAlign.offset(spec.horizontal, extent: image.width, size: mask.width, pad: pad)
        let y = spec.y.map { Int($0.rounded()) }
            ?? OverlayAlign.offset(spec.vertical, extent: image.height, size: mask.height, pad: pad)
        var margin: Int32 = 0
        let fill = rgba(spec.color), outline = rgba(spec.lineColor)
        let layer = try mask.map { cvips_text_layer($0, &$1, fill, Int32(spec.line), outline, spec.shadow, &margin) }
        return try image.map { cvips_overlay($0, layer.pointer, &$1, Int32(x) - margin, Int32(y) - margin) }
    }

    /// The part of `text` that is drawn when it is wider than `box`: the longest prefix (clip at the end),
    /// suffix (at the start) or both halves (in the middle) that fit, joined by an ellipsis when asked.
    /// Without an ellipsis one more character is kept, so the glyph cut by the box's edge shows in part.
    static func clip(_ text: String, to box: Int, size: Double, spec: TextSpec, pen: Pen) throws(EdgeError) -> String {
        let chars = Array(text)
        let n = chars.count
        let ellipsis = spec.ellipsis ? "…" : ""
        func prefix(_ k: Int) -> String { String(chars[..<k]) }
        func suffix(_ k: Int) -> String { String(chars[(n - k)...]) }
        let extra = spec.ellipsis ? 0 : 1
        switch spec.clip {
        case .end:
            let k = try longest(n) { k throws(EdgeError) in try pen.measure(prefix(k) + ellipsis, size: size) <= box }
            return prefix(min(n, k + extra)) + ellipsis
        case .start:
            let k = try longest(n) { k throws(EdgeError) in try pen.measure(ellipsis + suffix(k), size: size) <= box }
            return ellipsis + suffix(min(n, k + extra))
        case .middle:
            let half = (box - (try pen.measure(ellipsis, size: size))) / 2
            let a = try longest(n) { k throws(EdgeError) in try pen.measure(prefix(k), size: size) <= half }
            let b = try longest(n - a) { k throws(EdgeError) in try pen.measure(suffix(k), size: size) <= half }
            return prefix(a) + ellipsis + suffix(b)
        }
    }

    /// The largest k in 0...n for which `fits(k)` holds, `fits` being true at 0 and monotone (binary search:
    /// about log2(n) measurements).
    static func longest(_ n: Int, _ fits: (Int) throws(EdgeError) -> Bool) throws(EdgeError) -> Int {
        var lo = 0, hi = n
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if try fits(mid) { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    private static func rgba(_ c: RGBAColor) -> [Double] {
        [Double(c.red), Double(c.green), Double(c.blue), Double(c.alpha)]
    }

    /// Draws and measures lines in one font.
    struct Pen {
        var font: TextFont
        /// Letter spacing in pixels.
        var track: Double

        /// A one-band coverage mask of `text` at `size` pixels.
        func draw(_ text: String, size: Double) throws(EdgeError) -> VImage {
            let description = font.pango(pixels: size)
            return try VImage.make { cvips_text_mask(&$0, text, description, Int32((track * 1024).rounded()), 0) }
        }

        /// The width of `text` at `size` pixels: drawn at `measureSize` at most and scaled, letter spacing
        /// added per character rather than drawn.
        func measure(_ text: String, size: Double) throws(EdgeError) -> Int {
            guard !text.isEmpty else { return 0 }
            let at = min(size, TextStep.measureSize)
            let description = font.pango(pixels: at)
            let mask = try VImage.make { cvips_text_mask(&$0, text, description, 0, 0) }
            let width = Double(mask.width) * size / at + track * Double(text.count)
            return Int(width.rounded(.up))
        }
    }
}
