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

/// Output encodings this node writes: images, and two descriptions of an image (`json`, `blurhash`).
public enum OutputFormat: String, Sendable, Hashable, CaseIterable {
    case jpg, pjpg, png, webp, avif, gif
    /// Palette PNG (at most 256 colours, `colorquant` fewer), and PNG that always carries an alpha channel.
    case png8, png32
    /// JPEG 2000.
    case jp2
    /// The source's technical metadata (imgix's `fm=json` shape); no pixels are processed.
    case json
    /// The BlurHash string of the output image.
    case blurhash

    public var contentType: String {
        switch self {
        case .jpg, .pjpg: "image/jpeg"
        case .png, .png8, .png32: "image/png"
        case .webp: "image/webp"
        case .avif: "image/avif"
        case .gif: "image/gif"
        case .jp2: "image/jp2"
        case .json: "application/json"
        case .blurhash: "text/plain; charset=utf-8"
        }
    }
    /// Whether `q` changes the output.
    public var usesQuality: Bool {
        switch self {
        case .jpg, .pjpg, .webp, .avif, .jp2: true
        case .png, .png8, .png32, .gif, .json, .blurhash: false
        }
    }
    /// Whether the format keeps an alpha channel (a BlurHash describes the image flattened onto `bg`).
    public var supportsAlpha: Bool {
        switch self {
        case .jpg, .pjpg, .blurhash: false
        case .png, .png8, .png32, .webp, .avif, .gif, .jp2, .json: true
        }
    }
    /// Whether the output is an encoded image (not a text description of one).
    public var isImage: Bool { self != .json && self != .blurhash }
}

/// The fully parsed and resolved transform a URL asks for: the one input of the image pipeline and,
/// through `canonical`, of the cache key. Two URLs that mean the same image produce equal specs.
public struct TransformSpec: Sendable, Hashable {
    /// Source region, orientation, trim, box and fit (imgix "size", `rect`, `or`, `trim`).
    public var size = SizeSpec()
    public var width: Dimension? { get { size.width } set { size.width = newValue } }
    public var height: Dimension? { get { size.height } set { size.height = newValue } }
    public var fit: FitMode { get { size.fit } set { size.fit = newValue } }
    /// The directional part of `crop` (centre unless `crop` names edges without a smarter mode before them).
    public var gravity: CropGravity {
        get { if case .gravity(let g) = size.crop { g } else { .center } }
        set { size.crop = .gravity(newValue) }
    }
    /// Explicit `fm`.
    public var format: OutputFormat?
    /// `auto=format`: pick AVIF/WebP from the request's Accept header.
    public var autoFormat = false
    public var quality = TransformSpec.defaultQuality
    /// Colour behind transparent pixels and `fit=fill` padding.
    public var background = RGBAColor.white
    /// Client hints the URL opts into (`ch`), sorted; the response varies with their headers.
    public var clientHints: [ClientHints.Name] = []
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
