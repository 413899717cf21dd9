/// imgix "adjustment" parameters (`bri`, `con`, `exp`, `gam`, `high`, `hue`, `invert`/`inv`, `sat`, `shad`,
/// `sharp`, `usm`, `usmrad`, `vib`) and noise reduction (`nr`, `nrs`). Every value is clamped into imgix's
/// suggested range (imgix publishes these as suggestions, not limits); a value that is not a number, or not an
/// integer where imgix expects one, is a 400 naming the parameter. Each property is stored as the effect it
/// will have, so settings that draw the same image (hue=360 and hue=0, nr=-50 and nr=0, usm with usmrad=0 and
/// no usm) compare equal and write the same cache-key items.
public struct AdjustSpec: ParameterGroup {
    static let parameters: Set<String> = ["bri", "con", "exp", "gam", "high", "hue", "invert", "sat", "shad",
                                          "sharp", "usm", "usmrad", "vib", "nr", "nrs"]

    /// imgix's default unsharp-mask radius (Core Image's CIUnsharpMask default).
    public static let defaultUnsharpRadius = 2.5
    /// imgix's default noise-reduction bound and sharpen threshold; together they mean "no noise reduction".
    public static let defaultNoise = 20
    /// Largest `usmrad` honoured. The blur behind it costs the same at any radius (large radii are blurred on a
    /// shrunken copy), so this only keeps the number sane: far past the 8192-pixel output cap the blurred copy
    /// is the image's mean colour.
    public static let maxUnsharpRadius = 1000.0

    /// `bri`, -100...100: adds `bri`/200 of the full range (100 lifts every level by half).
    public var brightness = 0
    /// `con`, -100...100: scales levels about mid-grey by 1 + con/100 below zero (-100 is flat grey) and by
    /// 1 + 2·con/100 above it.
    public var contrast = 0
    /// `exp`, -100...100: exposure in linear light, exp/50 stops (±2).
    public var exposure = 0
    /// `gam`, -100...100: levels raised to the power 3^(-gam/100); positive brightens the mid-tones.
    public var gamma = 0
    /// `high`, -100...0: darkens the highlights, keeping white white.
    public var highlight = 0
    /// `hue`, degrees in 0..<360: rotates hues in LCh (the value is taken modulo 360).
    public var hue = 0
    /// `invert`: every colour level v becomes 255 - v (alpha untouched).
    public var invert = false
    /// `sat`, -100...100: chroma multiplied by 1 + sat/100 (-100 is grey).
    public var saturation = 0
    /// `shad`, 0...100: lifts the shadows, keeping black black.
    public var shadow = 0.0
    /// `sharp`, 0...100: luminance sharpening (libvips sharpen) of fine detail.
    public var sharpen = 0.0
    /// `usm`, -100...100: unsharp-mask amount usm/50 when positive, usm/100 when negative (-100 is a plain
    /// gaussian blur of radius `usmrad`). Zero when the radius is zero (the mask would change nothing).
    public var unsharpMask = 0
    /// `usmrad`, 0...1000: the unsharp mask's gaussian sigma in output pixels; only meaningful when
    /// `unsharpMask` is not zero, and then left at the default otherwise.
    public var unsharpRadius = AdjustSpec.defaultUnsharpRadius
    /// `vib`, -100...100: like `sat` but weighted towards muted colours (saturated ones barely move).
    public var vibrance = 0
    /// `nr`, 0...100 (negative values act as 0): levels closer than nr·0.255 to their neighbourhood's mean
    /// count as noise and are smoothed (Core Image's noise level nr/1000).
    public var noiseBound = AdjustSpec.defaultNoise
    /// `nrs`, -100...100: edges (differences above the bound) are sharpened by nrs/50, or softened by
    /// |nrs|/100 when negative.
    public var noiseSharpen = AdjustSpec.defaultNoise

    public init() {}

    init(_ r: ParameterReader) throws(EdgeError) {
        brightness = try r.integer("bri", in: -100...100, clamp: true) ?? 0
        contrast = try r.integer("con", in: -100...100, clamp: true) ?? 0
        exposure = try r.integer("exp", in: -100...100, clamp: true) ?? 0
        gamma = try r.integer("gam", in: -100...100, clamp: true) ?? 0
        highlight = try r.integer("high", in: -100...0, clamp: true) ?? 0
        if let raw = r.raw("hue") {
            guard let d = NumberText.parse(raw.value), d == d.rounded(), abs(d) < 1e12 else {
                throw .badParameter(raw.written, "\(raw.written) must be a whole number of degrees from 0 to 359")
            }
            let degrees = Int(d) % 360
            hue = degrees < 0 ? degrees + 360 : degrees
        }
        invert = try r.boolean("invert") ?? false
        saturation = try r.integer("sat", in: -100...100, clamp: true) ?? 0
        shadow = try r.number("shad", in: 0...100, clamp: true) ?? 0
        sharpen = try r.number("sharp", in: 0...100, clamp: true) ?? 0
        unsharpMask = try r.integer("usm", in: -100...100, clamp: true) ?? 0
        // Validated even without `usm` (a malformed value is a client error), but only kept with it.
        let radius = try r.number("usmrad", in: 0...Self.maxUnsharpRadius, clamp: true) ?? Self.defaultUnsharpRadius
        if unsharpMask != 0, radius > 0 { unsharpRadius = radius } else { unsharpMask = 0 }
        vibrance = try r.integer("vib", in: -100...100, clamp: true) ?? 0
        noiseBound = try max(0, r.integer("nr", in: -100...100, clamp: true) ?? Self.defaultNoise)
        noiseSharpen = try r.integer("nrs", in: -100...100, clamp: true) ?? Self.defaultNoise
        if !reducesNoise {
            noiseBound = Self.defaultNoise
            noiseSharpen = Self.defaultNoise
        }
    }

    /// Whether noise reduction runs: not at imgix's defaults (both 20), and not when it would do nothing
    /// (no bound and no edge sharpening).
    public var reducesNoise: Bool {
        !(noiseBound == Self.defaultNoise && noiseSharpen == Self.defaultNoise) && !(noiseBound == 0 && noiseSharpen == 0)
    }

    /// Whether the per-level tone curve (exposure, shadows, highlights, gamma, brightness, contrast) is needed.
    public var changesTones: Bool {
        exposure != 0 || shadow != 0 || highlight != 0 || gamma != 0 || brightness != 0 || contrast != 0
    }

    /// Whether the LCh pass (hue, saturation, vibrance) is needed.
    public var changesColours: Bool { hue != 0 || saturation != 0 || vibrance != 0 }

    /// Whether any adjustment changes the image.
    public var changesImage: Bool {
        changesTones || changesColours || reducesNoise || sharpen != 0 || unsharpMask != 0 || invert
    }

    func canonical(into out: inout [String]) {
        if brightness != 0 { out.append("bri=\(brightness)") }
        if contrast != 0 { out.append("con=\(contrast)") }
        if exposure != 0 { out.append("exp=\(exposure)") }
        if gamma != 0 { out.append("gam=\(gamma)") }
        if highlight != 0 { out.append("high=\(highlight)") }
        if hue != 0 { out.append("hue=\(hue)") }
        if invert { out.append("invert=true") }
        if reducesNoise {
            out.append("nr=\(noiseBound)")
            out.append("nrs=\(noiseSharpen)")
        }
        if saturation != 0 { out.append("sat=\(saturation)") }
        if shadow != 0 { out.append("shad=\(NumberText.format(shadow))") }
        if sharpen != 0 { out.append("sharp=\(NumberText.format(sharpen))") }
        if unsharpMask != 0 {
            out.append("usm=\(unsharpMask)")
            out.append("usmrad=\(NumberText.format(unsharpRadius))")
        }
        if vibrance != 0 { out.append("vib=\(vibrance)") }
    }
}
