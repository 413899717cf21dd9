/// How the source maps onto the requested box (imgix `fit`).
public enum FitMode: String, Sendable, Hashable, CaseIterable {
    /// Fit inside the box, keeping the shape (default).
    case clip
    /// Fill the box, cutting what overflows (see `CropSpec`).
    case crop
    /// Like clip, never enlarging.
    case max
    /// Like crop, never enlarging.
    case min
    /// Exactly the box, distorting.
    case scale
    /// Fit inside, then pad to the box (`fill`, `fill-color`).
    case fill
    /// Like fill, never enlarging the image (the canvas is still the box).
    case fillmax
    /// Fit inside, then extend the edge pixels to the box.
    case clamp
    /// Scale the area holding the faces to the box. This node has no face detector: it uses the fallback mode
    /// named after it (`fit=facearea,fill`), else `clip`, as imgix does when it finds no face.
    case facearea

    /// Modes that pad the fitted image out to the box.
    var pads: Bool { self == .fill || self == .fillmax || self == .clamp }
}

/// How `fit=fill`/`fillmax` fill the space around the image (imgix `fill`).
public enum FillStyle: String, Sendable, Hashable, CaseIterable {
    case solid, blur
}

/// Which part of the image `fit=crop` keeps (imgix `crop=top,left,...`); centre by default.
public struct CropGravity: Sendable, Hashable {
    public enum Horizontal: String, Sendable, Hashable { case left, center, right }
    public enum Vertical: String, Sendable, Hashable { case top, middle, bottom }
    public var horizontal: Horizontal
    public var vertical: Vertical
    public init(horizontal: Horizontal = .center, vertical: Vertical = .middle) {
        self.horizontal = horizontal
        self.vertical = vertical
    }
    public static let center = CropGravity()
}

/// How `fit=crop` (and `min`) chooses the part to keep: imgix's `crop` list is a fallback chain; the first
/// mode this node can apply wins (`faces` never can: there is no face detector, so it falls through).
public enum CropStrategy: Sendable, Hashable {
    /// Directional: the edges named in the list (centre otherwise).
    case gravity(CropGravity)
    /// Keep the focal point (0–1 of the image) as central as possible, zoomed in `zoom` times.
    case focalPoint(x: Double, y: Double, zoom: Double)
    /// The most detailed region (libvips smartcrop, entropy).
    case entropy
    /// The region with most edges and salient colour (libvips smartcrop, attention).
    case edges
}

/// A source region to start from (imgix `rect=x,y,w,h`): each coordinate in pixels or as a fraction of the
/// source; `x`/`y` may also be an alignment, `w`/`h` may be `full` (to the source's edge).
public struct SourceRect: Sendable, Hashable {
    public enum Position: Sendable, Hashable {
        case pixels(Int)
        case fraction(Double)
        /// 0 = left/top, 0.5 = center/middle, 1 = right/bottom: placed so the region fits.
        case align(Double)
    }
    public enum Extent: Sendable, Hashable {
        case pixels(Int)
        case fraction(Double)
        case full
    }
    public var x: Position, y: Position
    public var width: Extent, height: Extent

    /// The region in a source of `sw` x `sh` pixels, clamped to it; nil when nothing of it is inside.
    public func resolve(sourceWidth sw: Int, sourceHeight sh: Int) -> ResizePlan.Rect? {
        func extent(_ e: Extent, _ full: Int, _ start: Int) -> Int {
            switch e {
            case .pixels(let p): p
            case .fraction(let f): Int((f * Double(full)).rounded())
            case .full: full - start
            }
        }
        func start(_ p: Position, _ full: Int, _ size: Int) -> Int {
            switch p {
            case .pixels(let v): v
            case .fraction(let f): Int((f * Double(full)).rounded())
            case .align(let a): Int((a * Double(full - size)).rounded())
            }
        }
        // Sizes that depend on the start (`full`) need the start; alignments need the size.
        var w = 0, h = 0, x = 0, y = 0
        if case .align = self.x { w = extent(width, sw, 0); x = start(self.x, sw, min(w, sw)) } else { x = start(self.x, sw, 0); w = extent(width, sw, x) }
        if case .align = self.y { h = extent(height, sh, 0); y = start(self.y, sh, min(h, sh)) } else { y = start(self.y, sh, 0); h = extent(height, sh, y) }
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(sw, x + w), y1 = min(sh, y + h)
        guard x1 > x0, y1 > y0 else { return nil }
        return ResizePlan.Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }
}

/// imgix `trim`: cut away a uniform border before sizing.
public struct TrimSpec: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// The border colour is taken from the corners; trimmed when they agree (`trim-md`, `trim-sd`).
        case auto
        /// A given colour (`trim-color`) within `trim-tol`.
        case color
        /// Transparent edges (alpha at most `trim-alpha`).
        case alpha
        /// `alpha` when the image has an alpha band, else `color`.
        case colorunlessalpha
    }
    public var mode: Mode
    public var color: RGBAColor?
    /// Mean difference (trim=auto): how far from the corner colour still counts as border.
    public var meanDifference = 11.0
    /// Standard deviation bound (trim=auto): corners must be this uniform for a trim to happen.
    public var standardDeviation = 10.0
    public var tolerance = 0.0
    public var alphaThreshold = 0.0
    /// Pixels kept around the trimmed content (negative: cut further).
    public var pad = 0
}

/// The imgix size parameters, resolved: what to cut from the source, and how it maps onto the output box.
public struct SizeSpec: ParameterGroup {
    static let parameters: Set<String> = ["w", "h", "fit", "crop", "dpr", "ar", "rect", "min-w", "max-w", "min-h",
                                          "max-h", "orient", "fill", "fill-color", "fp-x", "fp-y", "fp-z", "fp-debug",
                                          "trim", "trim-color", "trim-md", "trim-sd", "trim-tol", "trim-pad", "trim-alpha"]

    public var width: Dimension?
    public var height: Dimension?
    public var fit: FitMode = .clip
    public var crop: CropStrategy = .gravity(.center)
    /// Draw the focal point and crop box (imgix `fp-debug`).
    public var focalPointDebug = false
    /// Width / height ratio (`ar=16:9`), only with `fit=crop` and the fill modes, as imgix documents.
    public var aspectRatio: Double?
    public var rect: SourceRect?
    /// Bounds on the output box for `fit=crop` (pixels, dpr applied).
    public var minWidth: Double?, maxWidth: Double?, minHeight: Double?, maxHeight: Double?
    /// EXIF-style orientation (1–8) that replaces the source's own (`or`; 90/180/270 are aliases of 6/3/8).
    public var orientation: Int?
    public var fill: FillStyle = .solid
    /// Colour of `fit=fill` padding; nil: `bg` if given, else transparent where the output keeps alpha, else white.
    public var fillColor: RGBAColor?
    public var trim: TrimSpec?

    public init() {}

    init(_ r: ParameterReader) throws(EdgeError) {
        let dpr = try r.number("dpr", in: 0...5) ?? 1
        guard dpr > 0 else { throw .badParameter(r.written("dpr"), "dpr must be a number greater than 0 and at most 5") }
        width = try Self.dimension(r, "w", dpr: dpr)
        height = try Self.dimension(r, "h", dpr: dpr)
        if let items = r.list("fit"), let first = items.first {
            guard let mode = FitMode(rawValue: first) else {
                throw .badParameter(r.written("fit"), "fit must be one of \(FitMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            fit = mode
            if mode == .facearea {
                // No face is ever found here: imgix then uses the fallback listed after facearea, else clip.
                let fallback = items.dropFirst().first.map { FitMode(rawValue: $0) } ?? .clip
                guard let fallback, fallback != .facearea else {
                    throw .badParameter(r.written("fit"), "the fallback after fit=facearea must be another fit mode")
                }
                fit = fallback
            } else if items.count > 1 {
                throw .badParameter(r.written("fit"), "only fit=facearea takes a fallback mode")
            }
        }
        if fit == .crop || fit == .min, let items = r.list("crop") {
            crop = try Self.cropStrategy(items, r)
            focalPointDebug = try r.boolean("fp-debug") ?? false
            if case .focalPoint = crop {} else { focalPointDebug = false }
        }
        if let raw = r.raw("ar"), fit == .crop || fit.pads {
            aspectRatio = try Self.ratio(raw.value, written: raw.written)
        }
        if fit == .crop {
            func bound(_ name: String) throws(EdgeError) -> Double? { try r.integer(name, in: 1...8192).map { Double($0) * dpr } }
            minWidth = try bound("min-w"); maxWidth = try bound("max-w")
            minHeight = try bound("min-h"); maxHeight = try bound("max-h")
        }
        if let raw = r.raw("rect") { rect = try Self.sourceRect(raw.value, written: raw.written) }
        if let o = try r.integer("orient", in: 0...270) {
            switch o {
            case 0, 1: orientation = 1        // 0 (no orientation) and 1 (upright) both mean: as stored
            case 2...8: orientation = o
            case 90: orientation = 6
            case 180: orientation = 3
            case 270: orientation = 8
            default: throw .badParameter(r.written("orient"), "orient must be 0–8, 90, 180 or 270")
            }
        }
        if fit == .fill || fit == .fillmax {
            if let f = r.raw("fill") {
                switch f.value.lowercased() {
                case "gen", "generative", "gradient":
                    throw .badParameter(f.written, "fill=\(f.value) is not supported by this node")
                default: fill = try r.choice("fill", FillStyle.self) ?? .solid
                }
            }
            // imgix pads with fill-color, else with bg ("the background of padded images").
            if fill == .solid {
                let explicit = try r.color("fill-color")
                let background = try r.color("bg")
                fillColor = explicit ?? background
            }
        }
        trim = try Self.trim(r)
    }

    static func dimension(_ r: ParameterReader, _ name: String, dpr: Double) throws(EdgeError) -> Dimension? {
        guard let raw = r.raw(name) else { return nil }
        guard let d = NumberText.parse(raw.value), d > 0 else {
            throw .badParameter(raw.written, "\(raw.written) must be a positive number of pixels or a fraction from 0 to 1")
        }
        if d <= 1 { return .fraction(d * dpr) }
        // Far beyond the 8192 output cap the value can only be a mistake; cap the arithmetic, not the meaning.
        guard d <= 1_000_000 else { throw .badParameter(raw.written, "\(raw.written) is too large") }
        return .pixels(d.rounded() * dpr)
    }

    static func cropStrategy(_ items: [String], _ r: ParameterReader) throws(EdgeError) -> CropStrategy {
        var g = CropGravity.center
        var chosen: CropStrategy?
        for item in items {
            switch item {
            case "top": g.vertical = .top
            case "bottom": g.vertical = .bottom
            case "left": g.horizontal = .left
            case "right": g.horizontal = .right
            case "faces": break  // no face detector: fall through to the rest of the chain
            case "focalpoint":
                let x = try r.number("fp-x", in: 0...1) ?? 0.5
                let y = try r.number("fp-y", in: 0...1) ?? 0.5
                let z = try r.number("fp-z", in: 1...100) ?? 1
                if chosen == nil { chosen = .focalPoint(x: x, y: y, zoom: z) }
            case "entropy": if chosen == nil { chosen = .entropy }
            case "edges": if chosen == nil { chosen = .edges }
            default:
                throw .badParameter(r.written("crop"), "crop must be a list of top, bottom, left, right, faces, focalpoint, entropy, edges")
            }
        }
        return chosen ?? .gravity(g)
    }

    /// `16:9`, `1.5:1`, `2` (a bare ratio).
    static func ratio(_ value: String, written: String) throws(EdgeError) -> Double {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let n = parts.compactMap(NumberText.parse)
        guard n.count == parts.count, (1...2).contains(n.count), n.allSatisfy({ $0 > 0 }) else {
            throw .badParameter(written, "ar must be a ratio W:H of positive numbers, such as 16:9")
        }
        let r = n.count == 2 ? n[0] / n[1] : n[0]
        guard r >= 1.0 / 8192, r <= 8192 else { throw .badParameter(written, "ar must be between 1:8192 and 8192:1") }
        return r
    }

    static func sourceRect(_ value: String, written: String) throws(EdgeError) -> SourceRect {
        let parts = value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces.lowercased() }
        let message = "rect must be x,y,w,h: pixels or fractions; x may be left/center/right, y top/middle/bottom, w/h full"
        guard parts.count == 4 else { throw .badParameter(written, message) }
        func position(_ s: String, _ names: [String]) throws(EdgeError) -> SourceRect.Position {
            if let i = names.firstIndex(of: s) { return .align(Double(i) / 2) }
            guard let d = NumberText.parse(s), d >= 0 else { throw .badParameter(written, message) }
            if d < 1, d != d.rounded() { return .fraction(d) }
            guard d == d.rounded(), d < 1e9 else { throw .badParameter(written, message) }
            return .pixels(Int(d))
        }
        func extent(_ s: String) throws(EdgeError) -> SourceRect.Extent {
            if s == "full" { return .full }
            guard let d = NumberText.parse(s), d > 0 else { throw .badParameter(written, message) }
            if d < 1 { return .fraction(d) }
            guard d == d.rounded(), d < 1e9 else { throw .badParameter(written, message) }
            return .pixels(Int(d))
        }
        return SourceRect(x: try position(parts[0], ["left", "center", "right"]),
                          y: try position(parts[1], ["top", "middle", "bottom"]),
                          width: try extent(parts[2]), height: try extent(parts[3]))
    }

    static func trim(_ r: ParameterReader) throws(EdgeError) -> TrimSpec? {
        guard let mode = try r.choice("trim", TrimSpec.Mode.self) else { return nil }
        var t = TrimSpec(mode: mode)
        if mode == .color || mode == .colorunlessalpha {
            t.color = try r.color("trim-color")
            t.tolerance = try r.number("trim-tol", in: 0...255, clamp: true) ?? 0
        }
        if mode == .auto {
            t.meanDifference = try r.number("trim-md", in: 0...255, clamp: true) ?? 11
            t.standardDeviation = try r.number("trim-sd", in: 0...255, clamp: true) ?? 10
        }
        if mode == .alpha || mode == .colorunlessalpha {
            t.alphaThreshold = try r.number("trim-alpha", in: 0...255, clamp: true) ?? 0
        }
        // Bounded like the output: padding beyond the cap could only make an image no node may return.
        t.pad = try r.integer("trim-pad", in: -8192...8192, clamp: true) ?? 0
        return t
    }

    func canonical(into out: inout [String]) {
        func dim(_ name: String, _ d: Dimension?) {
            switch d {
            case .pixels(let p)?: out.append("\(name)=\(NumberText.format(p))")
            case .fraction(let f)?: out.append("\(name)=\(NumberText.format(f))x")
            case nil: break
            }
        }
        if let o = orientation { out.append("or=\(o)") }
        if let rect { out.append("rect=\(Self.text(rect))") }
        if let t = trim { out.append("trim=\(Self.text(t))") }
        dim("w", width)
        dim("h", height)
        let boxed = width != nil || height != nil || aspectRatio != nil || minWidth != nil || maxWidth != nil
            || minHeight != nil || maxHeight != nil
        guard boxed else { return }  // without a box every fit mode leaves the size alone
        if fit != .clip { out.append("fit=\(fit.rawValue)") }
        if let a = aspectRatio { out.append("ar=\(NumberText.format(a))") }
        for (n, v) in [("min-w", minWidth), ("max-w", maxWidth), ("min-h", minHeight), ("max-h", maxHeight)] {
            if let v { out.append("\(n)=\(NumberText.format(v))") }
        }
        if fit == .crop || fit == .min {
            switch crop {
            case .gravity(let g) where g == .center: break
            case .gravity(let g): out.append("crop=\(g.horizontal.rawValue),\(g.vertical.rawValue)")
            case .focalPoint(let x, let y, let z):
                out.append("crop=fp:\(NumberText.format(x)),\(NumberText.format(y)),\(NumberText.format(z))")
            case .entropy: out.append("crop=entropy")
            case .edges: out.append("crop=edges")
            }
            if focalPointDebug { out.append("fp-debug") }
        }
        if fit == .fill || fit == .fillmax {
            if fill == .blur { out.append("fill=blur") } else if let c = fillColor { out.append("fill-color=\(c)") }
        }
    }

    static func text(_ r: SourceRect) -> String {
        func p(_ v: SourceRect.Position) -> String {
            switch v {
            case .pixels(let n): "\(n)"
            case .fraction(let f): NumberText.format(f) + "x"
            case .align(let a): "a" + NumberText.format(a)
            }
        }
        func e(_ v: SourceRect.Extent) -> String {
            switch v {
            case .pixels(let n): "\(n)"
            case .fraction(let f): NumberText.format(f) + "x"
            case .full: "full"
            }
        }
        return [p(r.x), p(r.y), e(r.width), e(r.height)].joined(separator: ",")
    }

    static func text(_ t: TrimSpec) -> String {
        var s = t.mode.rawValue
        if let c = t.color { s += ",c\(c)" }
        switch t.mode {
        case .auto: s += ",md\(NumberText.format(t.meanDifference)),sd\(NumberText.format(t.standardDeviation))"
        case .color: s += ",tol\(NumberText.format(t.tolerance))"
        case .alpha: s += ",a\(NumberText.format(t.alphaThreshold))"
        case .colorunlessalpha: s += ",tol\(NumberText.format(t.tolerance)),a\(NumberText.format(t.alphaThreshold))"
        }
        if t.pad != 0 { s += ",pad\(t.pad)" }
        return s
    }
}
