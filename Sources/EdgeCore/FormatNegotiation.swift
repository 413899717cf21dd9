/// The output format a request resolves to before the source is seen: a concrete format, or "the source's
/// own format" (decided once the source's type is known, and the same for every fill of that source).
public enum NegotiatedFormat: Sendable, Hashable, CustomStringConvertible {
    case format(OutputFormat)
    case sourceFormat

    /// `auto=format` with the request's Accept header: AVIF when accepted, else WebP, else `fm`, else the source's.
    public init(spec: TransformSpec, accept: Substring?) {
        if spec.autoFormat, let accept {
            if AcceptHeader.accepts(accept, "image/avif") { self = .format(.avif); return }
            if AcceptHeader.accepts(accept, "image/webp") { self = .format(.webp); return }
        }
        self = spec.format.map { .format($0) } ?? .sourceFormat
    }

    /// The format to encode once the source's type is known.
    public func resolve(source: SourceImageType, hasAlpha: Bool) -> OutputFormat {
        switch self {
        case .format(let f): f
        case .sourceFormat: source.naturalOutput(hasAlpha: hasAlpha)
        }
    }

    public var description: String {
        switch self {
        case .format(let f): f.rawValue
        case .sourceFormat: "source"
        }
    }
}

/// What kind of image the source bytes are, as far as choosing an output goes.
public enum SourceImageType: String, Sendable, Hashable {
    case jpeg, png, webp, gif, heif, other

    /// imgix's default: keep the source's format where browsers display it, else JPEG (PNG when transparent).
    public func naturalOutput(hasAlpha: Bool) -> OutputFormat {
        switch self {
        case .jpeg: .jpg
        case .png: .png
        case .webp: .webp
        case .gif: .gif
        case .heif: .avif
        case .other: hasAlpha ? .png : .jpg
        }
    }
}

/// Just enough of RFC 9110 Accept parsing to know whether a media type is acceptable (q > 0).
enum AcceptHeader {
    static func accepts(_ header: Substring, _ type: String) -> Bool {
        for item in header.split(byte: UInt8(ascii: ",")) {
            let parts = item.split(byte: UInt8(ascii: ";"))
            guard let media = parts.first, media.trimmingSpaces.lowercased() == type else { continue }
            for p in parts.dropFirst() {
                let kv = p.split(byte: UInt8(ascii: "="), maxSplits: 1)
                if kv.count == 2, kv[0].trimmingSpaces.lowercased() == "q",
                   let q = Double(kv[1].trimmingSpaces), q <= 0 {
                    return false
                }
            }
            return true
        }
        return false
    }
}
