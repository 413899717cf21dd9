/// imgix "stylize" parameters: `blur`, `px`, `htn`, `monochrome`/`mono`, `sepia`, `duotone`, `duotone-alpha`.
/// Numbers are clamped into imgix's suggested ranges; `duotone-alpha` has a strict range (outside it is a 400).
/// Each property is stored as the effect it will have (px=1 is no pixellation, a monochrome colour with zero
/// alpha is no tint, a duotone at alpha 0 is no duotone), so equivalent URLs write the same cache-key items.
public struct StylizeSpec: ParameterGroup {
    /// imgix `duotone`: the colour the darkest level becomes, and the colour the lightest becomes.
    public struct Duotone: Sendable, Hashable {
        public var dark: RGBAColor
        public var light: RGBAColor
        public init(dark: RGBAColor, light: RGBAColor) {
            self.dark = dark
            self.light = light
        }
    }

    static let parameters: Set<String> = ["blur", "px", "htn", "monochrome", "sepia", "duotone", "duotone-alpha"]

    /// Gaussian sigma in output pixels per unit of `blur`: imgix's scale (0–2000) is not a sigma; this factor
    /// is the one the imgix-compatible serverless-sharp calibrated against imgix's output (blur=100 ≈ sigma 11).
    public static let blurSigmaPerUnit = 0.11

    /// `blur`, 0...2000: gaussian blur of sigma `blur` × 0.11 output pixels (at most 220).
    public var blur = 0
    /// `px`, 0 or 2...100: square blocks of this many output pixels, each the average of what it covers.
    public var pixellate = 0
    /// `htn`, 0 or 2...100: a black-and-white round-dot halftone screen whose dots are this many output pixels
    /// apart along each axis (htn=1 draws as 2, the finest screen there is).
    public var halftone = 0
    /// `monochrome`: the tint; its alpha is the strength of the effect (a 3- or 6-digit colour is full strength).
    public var monochrome: RGBAColor?
    /// `sepia`, 0...100: strength of the classic sepia colour matrix.
    public var sepia = 0
    /// `duotone`: two opaque colours, dark first.
    public var duotone: Duotone?
    /// `duotone-alpha`, 0...100: opacity of the duotone over the image; only meaningful with `duotone`.
    public var duotoneAlpha = 100

    public init() {}

    init(_ r: ParameterReader) throws(EdgeError) {
        blur = try r.integer("blur", in: 0...2000, clamp: true) ?? 0
        let px = try r.integer("px", in: 0...100, clamp: true) ?? 0
        pixellate = px >= 2 ? px : 0
        let htn = try r.integer("htn", in: 0...100, clamp: true) ?? 0
        halftone = htn >= 1 ? max(2, htn) : 0
        if let tint = try r.color("monochrome"), tint.alpha > 0 { monochrome = tint }
        sepia = try r.integer("sepia", in: 0...100, clamp: true) ?? 0
        // Validated even without `duotone` (a value outside a strict range is a client error), only kept with it.
        let alpha = try r.integer("duotone-alpha", in: 0...100) ?? 100
        if let items = r.list("duotone") {
            let written = r.written("duotone")
            let message = "\(written) must be two colours, dark first: RGB or RRGGBB hex or colour keywords, comma-separated"
            guard items.count == 2, let dark = ColorParser.parse(items[0]), let light = ColorParser.parse(items[1]) else {
                throw .badParameter(written, message)
            }
            guard dark.alpha == 255, light.alpha == 255 else {
                throw .badParameter(written, "\(written) colours cannot carry alpha; use duotone-alpha for the opacity")
            }
            if alpha > 0 {
                duotone = Duotone(dark: dark, light: light)
                duotoneAlpha = alpha
            }
        }
    }

    /// The gaussian sigma `blur` asks for, in output pixels.
    public var blurSigma: Double { Double(blur) * Self.blurSigmaPerUnit }

    /// Whether any stylize effect changes the image.
    public var changesImage: Bool {
        blur != 0 || pixellate != 0 || halftone != 0 || monochrome != nil || sepia != 0 || duotone != nil
    }

    func canonical(into out: inout [String]) {
        if blur != 0 { out.append("blur=\(blur)") }
        if let duotone {
            out.append("duotone=\(duotone.dark),\(duotone.light)")
            if duotoneAlpha != 100 { out.append("duotone-alpha=\(duotoneAlpha)") }
        }
        if halftone != 0 { out.append("htn=\(halftone)") }
        if let monochrome { out.append("monochrome=\(monochrome)") }
        if pixellate != 0 { out.append("px=\(pixellate)") }
        if sepia != 0 { out.append("sepia=\(sepia)") }
    }
}
