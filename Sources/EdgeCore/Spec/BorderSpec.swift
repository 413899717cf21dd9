/// imgix border and padding parameters, applied after the adjustments and stylize filters. From the inside
/// out: the image (corners rounded by `border-radius-inner`, showing the border colour), the border, the
/// stroke drawn over the border box's outer edge, the outer rounding (`border-radius`), then the padding.
/// Without `w`/`h` the output grows by the border and padding; with them, image, border and padding together
/// are scaled to fit the requested box, as imgix's `pad` page says.
public struct BorderSpec: ParameterGroup {
    /// Pixel widths of the four sides.
    public struct Sides: Sendable, Hashable {
        public var top = 0, right = 0, bottom = 0, left = 0
        public init(top: Int = 0, right: Int = 0, bottom: Int = 0, left: Int = 0) {
            self.top = top; self.right = right; self.bottom = bottom; self.left = left
        }
        public var isZero: Bool { top == 0 && right == 0 && bottom == 0 && left == 0 }
        var text: String { "\(top),\(right),\(bottom),\(left)" }
    }

    /// Radii in pixels, clockwise from the top-left corner (CSS and imgix order).
    public struct Corners: Sendable, Hashable {
        public var topLeft = 0, topRight = 0, bottomRight = 0, bottomLeft = 0
        public init(topLeft: Int = 0, topRight: Int = 0, bottomRight: Int = 0, bottomLeft: Int = 0) {
            self.topLeft = topLeft; self.topRight = topRight; self.bottomRight = bottomRight; self.bottomLeft = bottomLeft
        }
        public var isZero: Bool { topLeft == 0 && topRight == 0 && bottomRight == 0 && bottomLeft == 0 }
        public var values: [Int] { [topLeft, topRight, bottomRight, bottomLeft] }
        var text: String { values.map(String.init).joined(separator: ",") }
    }

    static let parameters: Set<String> = [
        "pad", "pad-top", "pad-right", "pad-bottom", "pad-left",
        "border", "border-top", "border-right", "border-bottom", "border-left",
        "border-radius", "border-radius-inner", "border-stroke-size", "border-stroke-color",
    ]

    /// Largest accepted width or radius: no single one can be useful beyond the 8192-pixel output side.
    /// The sum is bounded in the step: the whole result is scaled to fit 8192 x 8192.
    public static let maxWidth = 8192

    public var padding = Sides()
    public var border = Sides()
    /// Only meaningful when a border or an inner radius shows it.
    public var borderColor = RGBAColor(red: 0, green: 0, blue: 0)
    public var outerRadius = Corners()
    public var innerRadius = Corners()
    public var strokeSize = 0
    /// imgix's default stroke colour is transparent white (so a stroke without a colour draws nothing).
    public var strokeColor = BorderSpec.transparent
    /// The padding and the cut-off outer corners: `bg` when the URL gives one, else transparent (white where
    /// the output has no alpha, through the flatten step).
    public var fill = BorderSpec.transparent

    public static let transparent = RGBAColor(red: 255, green: 255, blue: 255, alpha: 0)

    public init() {}

    init(_ r: ParameterReader) throws(EdgeError) {
        let pad = try r.integer("pad", in: 0...Self.maxWidth) ?? 0
        func side(_ name: String, _ fallback: Int) throws(EdgeError) -> Int {
            try r.integer(name, in: 0...Self.maxWidth) ?? fallback
        }
        padding = Sides(top: try side("pad-top", pad), right: try side("pad-right", pad),
                        bottom: try side("pad-bottom", pad), left: try side("pad-left", pad))

        // border-top/right/bottom/left and both radii depend on `border` (imgix ignores them without it).
        if let raw = r.raw("border") {
            let items = raw.value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
            let message = "\(raw.written) must be a width from 0 to \(Self.maxWidth) and a colour, as in border=5,FF0000"
            guard items.count == 2, let w = NumberText.parse(items[0]), w == w.rounded(),
                  (0...Double(Self.maxWidth)).contains(w), let colour = ColorParser.parse(items[1])
            else { throw .badParameter(raw.written, message) }
            let width = Int(w)
            border = Sides(top: try side("border-top", width), right: try side("border-right", width),
                           bottom: try side("border-bottom", width), left: try side("border-left", width))
            borderColor = colour
            outerRadius = try Self.corners(r, "border-radius")
            innerRadius = try Self.corners(r, "border-radius-inner")
        }
        strokeSize = try r.integer("border-stroke-size", in: 0...Self.maxWidth) ?? 0
        strokeColor = try r.color("border-stroke-color") ?? Self.transparent

        // Reset what cannot show, so equal outputs compare (and key) equal.
        if border.isZero && innerRadius.isZero { borderColor = BorderSpec().borderColor }
        if strokeSize == 0 || strokeColor.alpha == 0 { strokeSize = 0; strokeColor = Self.transparent }
        if !padding.isZero || !outerRadius.isZero { fill = try r.color("bg") ?? Self.transparent }
    }

    /// One radius for every corner, or four: top-left, top-right, bottom-right, bottom-left.
    private static func corners(_ r: ParameterReader, _ name: String) throws(EdgeError) -> Corners {
        guard let raw = r.raw(name) else { return Corners() }
        let message = "\(raw.written) must be one radius or four (top-left, top-right, bottom-right, bottom-left), each from 0 to \(maxWidth)"
        var values: [Int] = []
        for item in raw.value.split(separator: ",", omittingEmptySubsequences: false) {
            guard let d = NumberText.parse(item.trimmingSpaces), d == d.rounded(), (0...Double(maxWidth)).contains(d)
            else { throw .badParameter(raw.written, message) }
            values.append(Int(d))
        }
        switch values.count {
        case 1: return Corners(topLeft: values[0], topRight: values[0], bottomRight: values[0], bottomLeft: values[0])
        case 4: return Corners(topLeft: values[0], topRight: values[1], bottomRight: values[2], bottomLeft: values[3])
        default: throw .badParameter(raw.written, message)
        }
    }

    /// Whether the step changes anything.
    public var isEmpty: Bool { self == BorderSpec() }

    func canonical(into out: inout [String]) {
        if !border.isZero || !innerRadius.isZero { out.append("border=\(border.text),\(borderColor)") }
        if !innerRadius.isZero { out.append("border-radius-inner=\(innerRadius.text)") }
        if !outerRadius.isZero { out.append("border-radius=\(outerRadius.text)") }
        if strokeSize > 0 { out.append("border-stroke=\(strokeSize),\(strokeColor)") }
        if !padding.isZero { out.append("pad=\(padding.text)") }
        if !padding.isZero || !outerRadius.isZero { out.append("border-bg=\(fill)") }
    }
}
