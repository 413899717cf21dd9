/// Turns an imgix query string into a `TransformSpec`: the generic rules (aliases, base64, first occurrence,
/// defaults) in `ParameterReader`, then each parameter's meaning, ranges and dependencies. Pure; every
/// failure names the parameter.
public enum TransformParser {
    /// Parameters read here (size and format) and by the groups; anything else imgix defines is refused with
    /// a clear 400 rather than silently ignored.
    static let implemented: Set<String> = Set(["w", "h", "fit", "crop", "dpr", "fm", "q", "auto", "bg"])
        .union(AdjustSpec.parameters).union(StylizeSpec.parameters)
        .union(WatermarkSpec.parameters).union(TextSpec.parameters)
        .union(RotationSpec.parameters).union(BorderSpec.parameters).union(OutputSpec.parameters)

    /// imgix parameters that only mean something for video.
    static let videoOnly: Set<String> = ["video-bitrate", "video-codec", "video-thumbnail", "video-clip-start",
                                         "video-clip-end", "fps", "frame", "interval", "loop", "reverse", "skip"]

    /// Parses a raw (still percent-encoded) query string, without the leading `?`; `defaults` (a source's
    /// `defaultParams`) apply where the query is silent.
    public static func parse(query: Substring, defaults: [(name: String, value: String)] = []) throws(EdgeError) -> TransformSpec {
        let r = try ParameterReader(query: query, defaults: defaults)
        for name in r.names.sorted() where !implemented.contains(name) {
            if videoOnly.contains(name) {
                throw .badParameter(r.written(name), "\(r.written(name)) applies to video only")
            }
            throw .badParameter(r.written(name), "parameter \(r.written(name)) is not supported by this node")
        }
        var spec = TransformSpec()
        let dpr = try r.number("dpr", in: 0...5) ?? 1
        guard dpr > 0 else { throw .badParameter(r.written("dpr"), "dpr must be a number greater than 0 and at most 5") }
        spec.width = try dimension(r, "w", dpr: dpr)
        spec.height = try dimension(r, "h", dpr: dpr)
        if let fit = r.raw("fit") {
            switch fit.value.lowercased() {
            case "clamp", "facearea", "fillmax":
                throw .badParameter(fit.written, "fit=\(fit.value) is not supported by this node")
            default:
                spec.fit = try r.choice("fit", FitMode.self) ?? .clip
            }
        }
        if spec.fit == .crop || spec.fit == .min, let items = r.list("crop") {
            spec.gravity = try gravity(items, written: r.written("crop"))
        }
        if let fm = r.raw("fm") {
            switch fm.value.lowercased() {
            case "jp2", "json", "jxr", "mp4", "png8", "png32", "webm", "blurhash":
                throw .badParameter(fm.written, "fm=\(fm.value) is not supported by this node")
            default:
                spec.format = try r.choice("fm", OutputFormat.self)
            }
        }
        if let q = try r.integer("q", in: 0...100) { spec.quality = max(1, q) }
        for item in r.list("auto") ?? [] {
            switch item {
            case "format": spec.autoFormat = true
            case "compress", "enhance", "redeye", "true":
                throw .badParameter(r.written("auto"), "auto=\(item) is not supported by this node")
            default: throw .badParameter(r.written("auto"), "auto must be a list of format, compress, enhance, redeye")
            }
        }
        if let bg = try r.color("bg") { spec.background = bg }
        spec.adjust = try AdjustSpec(r)
        spec.stylize = try StylizeSpec(r)
        spec.rotation = try RotationSpec(r)
        spec.border = try BorderSpec(r)
        spec.output = try OutputSpec(r)
        spec.watermark = try WatermarkSpec(r)
        spec.text = try TextSpec(r)
        return spec
    }

    private static func dimension(_ r: ParameterReader, _ name: String, dpr: Double) throws(EdgeError) -> Dimension? {
        guard let raw = r.raw(name) else { return nil }
        guard let d = NumberText.parse(raw.value), d > 0 else {
            throw .badParameter(raw.written, "\(raw.written) must be a positive number of pixels or a fraction from 0 to 1")
        }
        if d <= 1 { return .fraction(d * dpr) }
        // Far beyond the 8192 output cap the value can only be a mistake; cap the arithmetic, not the meaning.
        guard d <= 1_000_000 else { throw .badParameter(raw.written, "\(raw.written) is too large") }
        return .pixels(d.rounded() * dpr)
    }

    private static func gravity(_ items: [String], written: String) throws(EdgeError) -> CropGravity {
        var g = CropGravity.center
        for item in items {
            switch item {
            case "top": g.vertical = .top
            case "bottom": g.vertical = .bottom
            case "left": g.horizontal = .left
            case "right": g.horizontal = .right
            case "faces", "entropy", "edges", "focalpoint":
                throw .badParameter(written, "crop=\(item) is not supported by this node")
            default: throw .badParameter(written, "crop must be a list of top, bottom, left, right")
            }
        }
        return g
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
