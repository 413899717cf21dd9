/// imgix watermark parameters (`mark*`): an image from the same source drawn over the output.
public struct WatermarkSpec: ParameterGroup {
    static let parameters: Set<String> = [
        "mark", "mark-base", "mark-w", "mark-h", "mark-fit", "mark-align", "mark-alpha", "mark-pad", "mark-scale",
        "mark-x", "mark-y", "mark-tile", "mark-rot", "mark-if-min-width", "mark-if-min-height",
    ]

    /// Where the watermark comes from: always the request's own source.
    public enum Reference: Sendable, Hashable, CustomStringConvertible {
        /// A path on the source (`/logo.png`; a relative `logo.png` means the same).
        case path(SourcePath)
        /// An absolute http(s) URL; fetched only when it lies under a web source's `baseURL`.
        case url(String)

        /// Canonical spelling: the decoded path, or the URL as written. Also the key of the fetched bytes in
        /// `TransformResources.images`.
        public var description: String {
            switch self {
            case .path(let p): p.description
            case .url(let u): u
            }
        }
    }

    /// A watermark dimension: pixels, or a fraction (0–1] of the watermark's own size (as imgix documents).
    public enum MarkDimension: Sendable, Hashable {
        case pixels(Int)
        case fraction(Double)

        public func resolve(source: Int) -> Double {
            switch self {
            case .pixels(let p): Double(p)
            case .fraction(let f): f * Double(source)
            }
        }
    }

    /// How the watermark fits `mark-w` × `mark-h` (imgix `mark-fit`).
    public enum Fit: String, Sendable, Hashable, CaseIterable {
        case clip, crop, fill, max, scale
    }

    /// Largest watermark side in pixels: the output cap (8192 × 8192), as imgix's strict range for mark-w/mark-h.
    public static let maxSide = 8192
    /// `mark-x`/`mark-y` are clamped here: a mark at most 8192 px wide (11 586 px rotated) placed this far
    /// outside an output of at most 8192 px is invisible, so the clamp never changes an output.
    public static let maxOffset = 16384

    /// nil: no watermark (every other `mark-*` parameter is then ignored, as imgix does).
    public var reference: Reference?
    public var width: MarkDimension?
    public var height: MarkDimension?
    public var fit = Fit.clip
    /// Percent of the base image's width (imgix `mark-scale`); overrides `width`/`height`.
    public var scale: Double?
    /// Alignment when no explicit position is given; nil means imgix's default (bottom,right; top,left tiled).
    public var vertical: OverlayAlign.Vertical?
    public var horizontal: OverlayAlign.Horizontal?
    /// 0–100.
    public var alpha = 100
    public var pad = 5
    public var x: Int?
    public var y: Int?
    public var tiled = false
    /// Degrees anticlockwise, [0, 360).
    public var rotation: Double = 0
    public var minWidth = 0
    public var minHeight = 0

    public init() {}

    init(_ r: ParameterReader) throws(EdgeError) {
        if let raw = r.raw("mark") {
            let base = r.raw("mark-base")?.value ?? ""
            reference = try Self.reference(base + raw.value, written: raw.written)
        }
        width = try Self.dimension(r, "mark-w")
        height = try Self.dimension(r, "mark-h")
        fit = try r.choice("mark-fit", Fit.self) ?? .clip
        scale = try r.number("mark-scale", in: 0...100)
        (vertical, horizontal) = try OverlayAlign.parse(r, "mark-align")
        alpha = try r.integer("mark-alpha", in: 0...100) ?? 100
        pad = try r.integer("mark-pad", in: 0...Self.maxSide) ?? 5
        x = try r.integer("mark-x", in: -Self.maxOffset...Self.maxOffset, clamp: true)
        y = try r.integer("mark-y", in: -Self.maxOffset...Self.maxOffset, clamp: true)
        if let tile = r.raw("mark-tile") {
            guard tile.value.lowercased() == "grid" else { throw .badParameter(tile.written, "mark-tile must be grid") }
            tiled = true
        }
        if let rot = try r.number("mark-rot", in: -1_000_000...1_000_000) {
            let m = rot.truncatingRemainder(dividingBy: 360)
            rotation = m < 0 ? m + 360 : (m == 0 ? 0 : m)
        }
        minWidth = try r.integer("mark-if-min-width", in: 0...1_000_000) ?? 0
        minHeight = try r.integer("mark-if-min-height", in: 0...1_000_000) ?? 0
        // Without a mark the other values were only checked: equal specs for equal outputs.
        if reference == nil { self = WatermarkSpec() }
    }

    /// A `mark` value (after `mark-base` is prepended): a path on the source, or an absolute http(s) URL.
    /// Parameters inside the mark (`/logo.png?w=160`, which imgix applies to the watermark) are refused.
    static func reference(_ value: String, written: String) throws(EdgeError) -> Reference {
        let v = value.trimmingSpaces
        guard !v.isEmpty else { throw .badParameter(written, "\(written) must be a path or an http(s) URL") }
        guard !v.contains("?"), !v.contains("#") else {
            throw .badParameter(written, "\(written) with its own query parameters is not supported by this node")
        }
        let lower = v.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            let afterScheme = v[v.index(v.firstIndex(of: ":")!, offsetBy: 3)...]
            guard let host = afterScheme.split(separator: "/", omittingEmptySubsequences: false).first, !host.isEmpty,
                  !v.contains(where: { $0 == " " || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } ?? false })
            else { throw .badParameter(written, "\(written) is not a valid URL") }
            return .url(v)
        }
        if lower.contains("://") || lower.hasPrefix("//") {
            throw .badParameter(written, "\(written) must be a path on this source or an http(s) URL")
        }
        do {
            return .path(try SourcePath(raw: Substring(v.hasPrefix("/") ? v : "/" + v)))
        } catch {
            throw .badParameter(written, "\(written) is not a valid path")
        }
    }

    private static func dimension(_ r: ParameterReader, _ name: String) throws(EdgeError) -> MarkDimension? {
        guard let raw = r.raw(name) else { return nil }
        let message = "\(raw.written) must be a number of pixels from 2 to \(maxSide) or a fraction from 0 to 1"
        guard let d = NumberText.parse(raw.value), d > 0 else { throw .badParameter(raw.written, message) }
        if d <= 1 { return .fraction(d) }
        guard d.rounded() <= Double(maxSide) else { throw .badParameter(raw.written, message) }
        return .pixels(max(2, Int(d.rounded())))
    }

    /// Where the mark's bytes come from for `source`: the path to fetch through the source's own fetcher, or
    /// 400 when the reference points outside the source (any host but the web source's `baseURL`, an absolute
    /// URL for a folder source, a path for a proxy source or a URL on a host outside its `allowedHosts`). nil
    /// when the spec draws no watermark.
    public func path(on source: SourceConfig) throws(EdgeError) -> SourcePath? {
        let refused = EdgeError.badParameter("mark", "mark must be a path on this source or a URL under its base URL")
        switch (reference, source.kind) {
        case (nil, _):
            return nil
        case (.path, .proxy):
            throw .badParameter("mark", "mark must be an http(s) URL on a proxy source")
        case (.path(let p), _):
            return p
        case (.url(let u), .proxy):
            // Fetched as the proxy fetches any URL: allowedHosts here, the address policy when connecting.
            guard let target = try? ProxyTarget(url: u), source.originHosts(baseHost: nil).allows(target.host) else {
                throw .badParameter("mark", "mark is not a URL this source may fetch")
            }
            return SourcePath(proxied: target)
        case (.url(let u), _):
            guard source.kind == .web, let base = source.baseURL, !base.isEmpty else { throw refused }
            let prefix = base.hasSuffix("/") ? base : base + "/"
            // Scheme and host compare case-insensitively; the path part exactly.
            guard u.count > prefix.count, u.prefix(prefix.count).lowercased() == prefix.lowercased() else { throw refused }
            do {
                return try SourcePath(raw: Substring("/" + u.dropFirst(prefix.count)))
            } catch {
                throw refused
            }
        }
    }

    /// The alignment in effect: explicit, else imgix's default (top,left when tiled, bottom,right otherwise).
    public var effectiveVertical: OverlayAlign.Vertical { vertical ?? (tiled ? .top : .bottom) }
    public var effectiveHorizontal: OverlayAlign.Horizontal { horizontal ?? (tiled ? .left : .right) }

    /// The fit in effect: with one dimension every mode but `max` keeps the aspect ratio like `clip`.
    public var effectiveFit: Fit {
        guard width != nil || height != nil, scale == nil else { return .clip }
        if width == nil || height == nil { return fit == .max ? .max : .clip }
        return fit
    }

    func canonical(into out: inout [String]) {
        guard let reference else { return }
        out.append("mark=" + CanonicalText.escape(reference.description))
        if let scale {
            out.append("mark-scale=\(NumberText.format(scale))")
        } else {
            func dim(_ name: String, _ d: MarkDimension?) {
                switch d {
                case .pixels(let p)?: out.append("\(name)=\(p)")
                case .fraction(let f)?: out.append("\(name)=\(NumberText.format(f))x")
                case nil: break
                }
            }
            dim("mark-w", width)
            dim("mark-h", height)
            if effectiveFit != .clip { out.append("mark-fit=\(effectiveFit.rawValue)") }
        }
        if x == nil || tiled { out.append("mark-align-h=\(effectiveHorizontal.rawValue)") }
        if y == nil || tiled { out.append("mark-align-v=\(effectiveVertical.rawValue)") }
        if let x { out.append("mark-x=\(x)") }
        if let y { out.append("mark-y=\(y)") }
        // Padding moves an aligned mark away from the edges it is aligned to, and spaces tiles.
        let padMatters = tiled
            || (x == nil && effectiveHorizontal != .center) || (y == nil && effectiveVertical != .middle)
        if padMatters && pad != 0 { out.append("mark-pad=\(pad)") }
        if alpha != 100 { out.append("mark-alpha=\(alpha)") }
        if tiled { out.append("mark-tile=grid") }
        if rotation != 0 { out.append("mark-rot=\(NumberText.format(rotation))") }
        if minWidth > 0 { out.append("mark-if-min-width=\(minWidth)") }
        if minHeight > 0 { out.append("mark-if-min-height=\(minHeight)") }
    }
}

/// Free text inside a canonical item (a text string, a URL): `%`, `&` and NUL percent-escaped, so no value
/// can forge the separators between items.
enum CanonicalText {
    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "%": out += "%25"
            case "&": out += "%26"
            case "\u{0}": out += "%00"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}

/// Where an overlay (watermark, text) sits when no explicit position is given (imgix `mark-align`, `txt-align`).
public enum OverlayAlign {
    public enum Horizontal: String, Sendable, Hashable { case left, center, right }
    public enum Vertical: String, Sendable, Hashable { case top, middle, bottom }

    /// Parses an imgix alignment list (`top`, `middle`, `bottom`, `left`, `center`, `right`; later items win).
    static func parse(_ r: ParameterReader, _ name: String) throws(EdgeError) -> (Vertical?, Horizontal?) {
        var v: Vertical?, h: Horizontal?
        for item in r.list(name) ?? [] {
            if let x = Vertical(rawValue: item) { v = x } else if let x = Horizontal(rawValue: item) { h = x } else {
                throw .badParameter(r.written(name), "\(r.written(name)) must be a list of top, middle, bottom, left, center, right")
            }
        }
        return (v, h)
    }

    /// The offset of an item `size` long along a side `extent` long, `pad` away from the edge it is aligned to.
    public static func offset(_ h: Horizontal, extent: Int, size: Int, pad: Int) -> Int {
        switch h {
        case .left: pad
        case .center: (extent - size) / 2
        case .right: extent - size - pad
        }
    }

    public static func offset(_ v: Vertical, extent: Int, size: Int, pad: Int) -> Int {
        switch v {
        case .top: pad
        case .middle: (extent - size) / 2
        case .bottom: extent - size - pad
        }
    }
}
