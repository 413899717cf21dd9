/// imgix rotation parameters `flip`, `rot`, `rot-type` (`orient` is part of sizing), applied after sizing.
/// `flip` first, then `rot`. Angles are counter-clockwise, as imgix's, normalised to [0, 360) and rounded to
/// 1/100 degree (the angle applied is the rounded one, so the cache key says exactly what is drawn).
public struct RotationSpec: ParameterGroup {
    /// imgix `flip`: mirror left-right (`h`), top-bottom (`v`) or both (`hv`).
    public enum Flip: String, Sendable, Hashable, CaseIterable {
        case h, v, hv
    }

    /// imgix `rot-type`.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// Rotate and enlarge the canvas to keep the whole image; the corners show `fill`.
        case pivot
        /// Rotate, then zoom in so the rotated image covers the pre-rotation frame (no background shows).
        case straighten
    }

    static let parameters: Set<String> = ["flip", "rot", "rot-type"]

    public var flip: Flip?
    /// Counter-clockwise degrees in [0, 360), in steps of 0.01; 0 means no rotation.
    public var degrees: Double = 0
    /// Only meaningful when `degrees` is not a multiple of 180 (a half turn is the same in both modes).
    public var mode: Mode = .straighten
    /// What `pivot` shows in the corners: `bg` when the URL gives one, else transparent (white where the
    /// output has no alpha, through the flatten step). Only meaningful when the corners show.
    public var fill: RGBAColor = RotationSpec.transparent

    /// imgix's fill when `bg` is absent: fully transparent (white once flattened onto the default `bg`).
    public static let transparent = RGBAColor(red: 255, green: 255, blue: 255, alpha: 0)

    public init() {}

    init(_ r: ParameterReader) throws(EdgeError) {
        flip = try r.choice("flip", Flip.self)
        if let raw = r.raw("rot") {
            guard let d = NumberText.parse(raw.value) else {
                throw .badParameter(raw.written, "\(raw.written) must be a number of degrees")
            }
            degrees = Self.normalise(d)
        }
        mode = try r.choice("rot-type", Mode.self) ?? .straighten
        if degrees.truncatingRemainder(dividingBy: 180) == 0 { mode = .straighten }
        if showsCorners { fill = try r.color("bg") ?? Self.transparent }
    }

    /// `d` modulo 360 in [0, 360), rounded to 1/100 degree (360 → 0, -90 → 270).
    static func normalise(_ d: Double) -> Double {
        var n = d.truncatingRemainder(dividingBy: 360)
        if n < 0 { n += 360 }
        n = (n * 100).rounded() / 100
        return n >= 360 ? 0 : n
    }

    /// Whether `pivot` leaves background in the corners (any angle but a multiple of 90).
    var showsCorners: Bool { mode == .pivot && degrees.truncatingRemainder(dividingBy: 90) != 0 }

    func canonical(into out: inout [String]) {
        if let flip { out.append("flip=\(flip.rawValue)") }
        guard degrees != 0 else { return }
        out.append("rot=\(NumberText.format(degrees))")
        if degrees.truncatingRemainder(dividingBy: 180) != 0 { out.append("rot-type=\(mode.rawValue)") }
        if showsCorners { out.append("rot-bg=\(fill)") }
    }
}
