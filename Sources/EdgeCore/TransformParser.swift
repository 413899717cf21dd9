/// Turns an imgix query string into a `TransformSpec`: the generic rules (aliases, base64, first occurrence,
/// defaults) in `ParameterReader`, then each parameter's meaning, ranges and dependencies. Pure; every
/// failure names the parameter.
public enum TransformParser {
    /// Parameters read here (size and format) and by the groups; anything else imgix defines is refused with
    /// a clear 400 rather than silently ignored.
    static let implemented: Set<String> = Set(["fm", "q", "auto", "bg", "ch"]).union(SizeSpec.parameters)
        .union(AdjustSpec.parameters).union(StylizeSpec.parameters)
        .union(WatermarkSpec.parameters).union(TextSpec.parameters)
        .union(RotationSpec.parameters).union(BorderSpec.parameters).union(OutputSpec.parameters)
        // `expires` is checked (and bounds the response's max-age) in EdgePrivacy's SignatureVerifier, before
        // parsing; it never changes the output, so it adds nothing to the cache key.
        .union(["expires"])

    /// imgix parameters that only mean something for video.
    static let videoOnly: Set<String> = ["video-bitrate", "video-codec", "video-thumbnail", "video-clip-start",
                                         "video-clip-end", "fps", "frame", "interval", "loop", "reverse", "skip"]

    /// Parses a raw (still percent-encoded) query string, without the leading `?`; `defaults` (a source's
    /// `defaultParams`) apply where the query is silent.
    /// `hints` are the request's client-hint headers; they apply only where the URL opts in with `ch`.
    public static func parse(query: Substring, defaults: [(name: String, value: String)] = [],
                             hints: ClientHints = ClientHints()) throws(EdgeError) -> TransformSpec {
        var r = try ParameterReader(query: query, defaults: defaults)
        for name in r.names.sorted() where !implemented.contains(name) {
            if videoOnly.contains(name) {
                throw .badParameter(r.written(name), "\(r.written(name)) applies to video only")
            }
            throw .badParameter(r.written(name), "parameter \(r.written(name)) is not supported by this node")
        }
        var spec = TransformSpec()
        for item in r.list("ch") ?? [] {
            guard let name = ClientHints.Name(rawValue: item) else {
                throw .badParameter(r.written("ch"), "ch must be a list of width, dpr, save-data")
            }
            if !spec.clientHints.contains(name) { spec.clientHints.append(name) }
        }
        spec.clientHints.sort { $0.rawValue < $1.rawValue }
        // DPR overrides dpr everywhere it counts (sizes, text, borders), so it goes in before anything reads it.
        if spec.clientHints.contains(.dpr), let d = hints.dpr { r.set("dpr", NumberText.format(d)) }
        spec.size = try SizeSpec(r)
        // Width is the slot's width in device pixels: it replaces w (dpr already in it).
        if spec.clientHints.contains(.width), let w = hints.width { spec.size.width = .pixels(w) }
        if let fm = r.raw("fm") {
            switch fm.value.lowercased() {
            case "jxr", "mp4", "webm":
                throw .badParameter(fm.written, "fm=\(fm.value) is not supported by this node (no JPEG XR or video encoder)")
            default:
                spec.format = try r.choice("fm", OutputFormat.self)
            }
        }
        var compress = false
        for item in r.list("auto") ?? [] {
            switch item {
            case "format": spec.autoFormat = true
            // compress: q 45 below; enhance: OutputSpec.
            case "compress": compress = true
            case "enhance": break
            // Red-eye removal needs eye detection, which libvips does not have; `true` includes it.
            case "redeye", "true":
                throw .badParameter(r.written("auto"), "auto=\(item) is not supported by this node (no red-eye removal)")
            default: throw .badParameter(r.written("auto"), "auto must be a list of format, compress, enhance, redeye")
            }
        }
        // imgix: auto=compress sets q to 45 unless the URL gives q.
        if let q = try r.integer("q", in: 0...100) { spec.quality = max(1, q) } else if compress { spec.quality = 45 }
        // imgix: Save-Data lowers quality to 45.
        if spec.clientHints.contains(.saveData), hints.saveData { spec.quality = min(spec.quality, 45) }
        // A description of the image is never an AVIF or WebP: the Accept header has no say.
        if let f = spec.format, !f.isImage { spec.autoFormat = false }
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

}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
