internal import CVips
internal import CVipsLib
import EdgeCore

/// Flattens what the output cannot keep, removes every metadata field, and encodes.
enum EncodeStep {
    /// AVIF encoder effort (0–9): libheif's default of 4 takes most of a second even for small images.
    static let avifEffort: Int32 = 2
    /// PNG zlib level.
    static let pngCompression: Int32 = 6

    static func flatten(_ image: VImage, output: OutputFormat, background: RGBAColor) throws(EdgeError) -> VImage {
        guard !output.supportsAlpha, image.hasAlpha else { return image }
        let bg = [Double(background.red), Double(background.green), Double(background.blue)]
        return try image.map { cvips_flatten($0, &$1, bg, 3) }
    }

    /// A private copy with every metadata field removed (the pipeline's images may share their fields).
    static func stripMetadata(_ image: VImage) throws(EdgeError) -> VImage {
        let copy = try image.map { cvips_copy($0, &$1) }
        cvips_remove_metadata(copy.pointer)
        return copy
    }

    static func encode(_ image: VImage, output: OutputFormat, quality: Int32) throws(EdgeError) -> [UInt8] {
        var data: UnsafeMutableRawPointer?
        var length = 0
        let rc: Int32 = switch output {
        case .jpg: cvips_jpegsave_buffer(image.pointer, &data, &length, quality, 0)
        case .pjpg: cvips_jpegsave_buffer(image.pointer, &data, &length, quality, 1)
        case .png: cvips_pngsave_buffer(image.pointer, &data, &length, pngCompression)
        case .webp: cvips_webpsave_buffer(image.pointer, &data, &length, quality)
        case .avif: cvips_avifsave_buffer(image.pointer, &data, &length, quality, avifEffort)
        case .gif: cvips_gifsave_buffer(image.pointer, &data, &length)
        }
        guard rc == 0, let data else {
            throw .unprocessable(detail: "encode \(output.rawValue): " + VipsRuntime.takeError())
        }
        defer { g_free(data) }
        let bytes = Array(UnsafeRawBufferPointer(start: data, count: length))
        return output == .webp ? WebPMetadata.strip(bytes) : bytes
    }
}
