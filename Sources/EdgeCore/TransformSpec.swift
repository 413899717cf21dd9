/// How the source maps onto the requested box (imgix `fit`).
public enum FitMode: String, Sendable, Hashable, CaseIterable {
    case clip, crop, max, min, scale, fill
}

/// A requested output dimension: absolute pixels, or a fraction (0–1] of the source's dimension.
/// Both already include `dpr`.
public enum Dimension: Sendable, Hashable {
    case pixels(Double)
    case fraction(Double)

    /// The dimension in pixels for a source dimension of `source` pixels.
    public func resolve(source: Int) -> Double {
        switch self {
        case .pixels(let p): p
        case .fraction(let f): f * Double(source)
        }
    }
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

/// An sRGB colour with alpha, as imgix writes it (`fff`, `80ff0000` = ARGB).
public struct RGBAColor: Sendable, Hashable, CustomStringConvertible {
    public var red: UInt8, green: UInt8, blue: UInt8, alpha: UInt8
    public init(red: UInt8, green: UInt8, blue: UInt8, alpha: UInt8 = 255) {
        self.red = red; self.green = green; self.blue = blue; self.alpha = alpha
    }
    public static let white = RGBAColor(red: 255, green: 255, blue: 255)
    /// Canonical spelling: 8 lower-case hex digits, AARRGGBB.
    public var description: String {
        [alpha, red, green, blue].map { b in
            let h = String(b, radix: 16); return h.count == 1 ? "0" + h : h
        }.joined()
    }
}

/// Output encodings this node writes.
public enum OutputFormat: String, Sendable, Hashable, CaseIterable {
    case jpg, pjpg, png, webp, avif, gif

    public var contentType: String {
        switch self {
        case .jpg, .pjpg: "image/jpeg"
        case .png: "image/png"
        case .webp: "image/webp"
        case .avif: "image/avif"
        case .gif: "image/gif"
        }
    }
    /// Whether `q` changes the output.
    public var usesQuality: Bool {
        switch self {
        case .jpg, .pjpg, .webp, .avif: true
        case .png, .gif: false
        }
    }
    /// Whether the format keeps an alpha channel.
    public var supportsAlpha: Bool {
        switch self {
        case .jpg, .pjpg: false
        case .png, .webp, .avif, .gif: true
        }
    }
}

/// The fully parsed and resolved transform a URL asks for: the one input of the image pipeline and,
/// through `canonical`, of the cache key. Two URLs that mean the same image produce equal specs.
public struct TransformSpec: Sendable, Hashable {
    public var width: Dimension?
    public var height: Dimension?
    public var fit: FitMode = .clip
    /// Only meaningful with `fit == .crop` or `.min`; the parser resets it otherwise.
    public var gravity: CropGravity = .center
    /// Explicit `fm`.
    public var format: OutputFormat?
    /// `auto=format`: pick AVIF/WebP from the request's Accept header.
    public var autoFormat = false
    public var quality = TransformSpec.defaultQuality
    /// Colour behind transparent pixels and `fit=fill` padding.
    public var background = RGBAColor.white
    /// Brightness, contrast, colour, sharpness, noise (imgix "adjustment").
    public var adjust = AdjustSpec()
    /// Blur, monochrome, sepia, pixellate, halftone, duotone (imgix "stylize").
    public var stylize = StylizeSpec()
    /// Flip and rotation after sizing (imgix `flip`, `rot`).
    public var rotation = RotationSpec()
    /// Padding, borders and rounded corners (imgix "border and padding").
    public var border = BorderSpec()
    /// Encoder options and output handling beyond `fm`/`q`/`auto=format` (imgix "format").
    public var output = OutputSpec()
    /// An image drawn over the output (imgix `mark*`).
    public var watermark = WatermarkSpec()
    /// Text drawn over the output (imgix `txt*`).
    public var text = TextSpec()

    public static let defaultQuality = 75
    public init() {}
}
