/// imgix format parameters beyond `fm`, `q` and `auto=format` (which TransformSpec holds): `lossless`,
/// `chromasub`, `colorquant`, `dpi`, `jpg-progressive`, `cs`, `iptc`, `dl`, `svg-sanitize`, and `auto=enhance`.
/// Each setting only reaches the cache key when the output can take a format it changes.
public struct OutputSpec: ParameterGroup {
    static let parameters: Set<String> = [
        "lossless", "chromasub", "colorquant", "dpi", "jpg-progressive", "cs", "iptc", "dl", "svg-sanitize",
    ]

    /// JPEG chroma subsampling (imgix `chromasub`; 422 is refused: libvips 8.14's jpegsave has no 4:2:2 mode).
    public enum ChromaSubsampling: String, Sendable, Hashable { case full = "444", quarter = "420" }

    /// The colour space the output is tagged with (imgix `cs`). Pixels are always sRGB except for `adobergb1998`
    /// and `origin`, which convert them to that profile.
    public enum ColorSpace: String, Sendable, Hashable, CaseIterable {
        /// The source's own RGB profile, describing the pixels as the resize step left them; sources without one
        /// (or with a CMYK or grey one, whose pixels became sRGB) are treated as `srgb`.
        case origin
        /// sRGB pixels tagged with libvips' built-in sRGB profile.
        case srgb
        /// Pixels converted to, and tagged with, an Adobe RGB (1998) compatible profile.
        case adobergb1998
        /// sRGB pixels tagged with a compact sRGB profile (its curve is sampled, so colours may shift slightly).
        case tinysrgb
        /// sRGB pixels without a profile (this node's default, and what `auto=compress` asks for).
        case strip
    }

    /// imgix `iptc`: `allow` passes a JPEG source's IPTC into a JPEG output, where the source sets `allowIPTC`
    /// (the node turns it back to `block` for every other source before the cache key is made).
    public enum IPTCPolicy: String, Sendable, Hashable, CaseIterable { case allow, block }

    /// `lossless`: lossless WebP, AVIF and JPEG 2000.
    public var lossless = false
    public var chromaSubsampling = ChromaSubsampling.quarter
    /// `colorquant`: the largest palette of `png8` and `gif` outputs (2–256); nil means 256.
    public var colorQuantization: Int?
    /// `dpi`: the resolution written into JPEG (JFIF) and PNG (pHYs) outputs; nil keeps the source's.
    public var dpi: Int?
    /// `jpg-progressive` (imgix default true): `fm=jpg` is progressive unless this is false; `pjpg` always is.
    public var jpegProgressive = true
    public var colorSpace = ColorSpace.strip
    public var iptc = IPTCPolicy.block
    /// `dl`: answer as an attachment with this file name ("" = the source's file name).
    public var download: String?
    /// Set from the source's `exposeLocation` (never from the URL): `fm=json` includes the GPS position.
    public var exposeLocation = false
    /// `svg-sanitize`: accepted and without effect (SVG sources are always rasterised; no SVG is ever served).
    public var svgSanitize = true
    /// `auto=enhance`: stretch each colour channel's levels over the full range.
    public var enhance = false
    /// The formats the output can take given `fm` and `auto=format`, for deciding what reaches the cache key.
    var possibleFormats: Set<OutputFormat> = OutputSpec.sourceFormats

    /// What a request without `fm` can become (`SourceImageType.naturalOutput`).
    static let sourceFormats: Set<OutputFormat> = [.jpg, .png, .webp, .gif, .avif]
    /// The largest `dl` file name accepted, in characters.
    static let maxFileNameLength = 255

    public init() {}

    init(_ r: ParameterReader) throws(EdgeError) {
        let auto = r.list("auto") ?? []
        if let fm = r.raw("fm"), let f = OutputFormat(rawValue: fm.value.lowercased()) {
            possibleFormats = [f]
            if auto.contains("format"), f.isImage { possibleFormats.formUnion([.avif, .webp]) }
        } else if auto.contains("format") {
            possibleFormats.formUnion([.avif, .webp])
        }
        enhance = auto.contains("enhance")
        lossless = try r.boolean("lossless") ?? false
        if let c = r.raw("chromasub") {
            switch NumberText.parse(c.value) {
            case 444: chromaSubsampling = .full
            case 420: chromaSubsampling = .quarter
            case 422: throw .badParameter(c.written, "chromasub=422 is not supported by this node (444 or 420)")
            default: throw .badParameter(c.written, "\(c.written) must be 444, 422 or 420")
            }
        }
        colorQuantization = try r.integer("colorquant", in: 2...256)
        // JFIF stores the density in 16 bits; 0 would mean "no resolution".
        dpi = try r.integer("dpi", in: 1...65535)
        jpegProgressive = try r.boolean("jpg-progressive") ?? true
        colorSpace = try r.choice("cs", ColorSpace.self) ?? .strip
        iptc = try r.choice("iptc", IPTCPolicy.self) ?? .block
        svgSanitize = try r.boolean("svg-sanitize") ?? true
        if let dl = r.raw("dl") {
            guard dl.value.count <= Self.maxFileNameLength else {
                throw .badParameter(dl.written, "\(dl.written) must be a file name of at most \(Self.maxFileNameLength) characters")
            }
            download = dl.value
        }
    }

    /// Whether the output may be one of `formats`.
    private func may(_ formats: Set<OutputFormat>) -> Bool { !possibleFormats.isDisjoint(with: formats) }

    func canonical(into out: inout [String]) {
        if lossless && may([.webp, .avif, .jp2]) { out.append("lossless=1") }
        if chromaSubsampling == .full && may([.jpg, .pjpg]) { out.append("chromasub=444") }
        if let n = colorQuantization, n < 256, may([.png8, .gif]) { out.append("colorquant=\(n)") }
        if let d = dpi, may([.jpg, .pjpg, .png, .png8, .png32]) { out.append("dpi=\(d)") }
        if !jpegProgressive && may([.jpg]) { out.append("jpg-progressive=0") }
        if colorSpace != .strip && may(Self.profileFormats) { out.append("cs=\(colorSpace.rawValue)") }
        if enhance && may(Set(OutputFormat.allCases.filter { $0 != .json })) { out.append("auto=enhance") }
        if iptc == .allow && may([.jpg, .pjpg]) { out.append("iptc=allow") }
        if exposeLocation && may([.json]) { out.append("exposeLocation") }
    }

    /// Formats whose files can carry an ICC profile here: GIF and this libvips' JPEG 2000 writer cannot, and its
    /// AVIF writer only without `strip`, when it adds a fresh EXIF block.
    public static let profileFormats: Set<OutputFormat> = [.jpg, .pjpg, .png, .png8, .png32, .webp]

    /// The `Content-Disposition` value for `dl`, or nil without it. `sourcePath` (decoded) names the file when
    /// `dl` is empty. The name loses control characters, quotes, backslashes and path separators; a name that is
    /// not plain ASCII also gets an RFC 6266 / RFC 8187 `filename*`, with `_` for those characters in `filename`.
    public func contentDisposition(sourcePath: String) -> String? {
        guard let download else { return nil }
        func clean(_ s: Substring) -> String {
            var name = String(s.unicodeScalars.filter { c in
                c.value >= 0x20 && c.value != 0x7f && !(0x80...0x9f).contains(c.value)
                    && c != "\"" && c != "\\" && c != "/" && c != "\u{2028}" && c != "\u{2029}"
            }.map(Character.init))
            while name.first == " " || name.first == "." { name.removeFirst() }
            while name.last == " " || name.last == "." { name.removeLast() }
            return name
        }
        var name = clean(Substring(download))
        if name.isEmpty { name = clean(sourcePath.split(separator: "/").last ?? "") }
        if name.isEmpty { name = "image" }
        var ascii = ""
        for c in name.unicodeScalars {
            ascii.unicodeScalars.append(c.isASCII && c != "%" ? c : "_")
        }
        var value = "attachment; filename=\"\(ascii)\""
        if ascii != name {
            let attrChars = Set("!#$&+-.^_`|~".unicodeScalars)
            var encoded = ""
            for b in name.utf8 {
                let c = Unicode.Scalar(b)
                if b < 0x80, c.properties.isAlphabetic || ("0"..."9").contains(c) || attrChars.contains(c) {
                    encoded.unicodeScalars.append(c)
                } else {
                    encoded += "%" + String(b, radix: 16, uppercase: true).leftPadded(2)
                }
            }
            value += "; filename*=UTF-8''\(encoded)"
        }
        return value
    }
}

private extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
