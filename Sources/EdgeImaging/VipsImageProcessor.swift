internal import CVips
internal import CVipsLib
public import EdgeCore
import Foundation

/// The image pipeline on libvips: identify, check the header against the limits, shrink-on-load to the
/// planned size (auto-oriented, colour-managed), crop or pad, convert to sRGB, strip metadata, encode.
/// `process` is CPU bound and blocks its thread; callers bound how many run at once.
public struct VipsImageProcessor: ImageProcessing {
    /// AVIF encoder effort (0–9): libheif's default of 4 takes most of a second even for small images.
    public var avifEffort: Int32 = 2
    /// PNG zlib level.
    public var pngCompression: Int32 = 6

    /// Starts libvips once per process with `concurrency` threads per pipeline.
    public init(concurrency: Int = 1) throws(EdgeError) {
        try VipsRuntime.start(concurrency: concurrency)
    }

    public func process(source: [UInt8], spec: TransformSpec, format: NegotiatedFormat, limits: ImageLimits) throws(EdgeError) -> ProcessedImage {
        // The bytes must outlive every image made from them: vips reads buffers lazily.
        let result: Result<ProcessedImage, EdgeError> = source.withUnsafeBytes { buf in
            Result { () throws(EdgeError) in try run(buf, spec: spec, format: format, limits: limits) }
        }
        return try result.get()
    }

    private func run(_ buf: UnsafeRawBufferPointer, spec: TransformSpec, format: NegotiatedFormat, limits: ImageLimits) throws(EdgeError) -> ProcessedImage {
        guard buf.count > 0 else { throw .unsupportedMediaType(detail: "empty source") }
        let sourceType = try Self.identify(buf)

        // Header only: dimensions and orientation, before a single pixel is decoded.
        var header: UnsafeMutablePointer<VipsImage>?
        guard cvips_image_new_from_buffer(buf.baseAddress, buf.count, 1, &header) == 0, let header else {
            throw .unprocessable(detail: VipsRuntime.takeError())
        }
        let rawWidth = Int(vips_image_get_width(header)), rawHeight = Int(vips_image_get_height(header))
        let orientation = cvips_orientation(header)
        let sourceHasAlpha = vips_image_hasalpha(header) != 0
        cvips_unref(header)
        guard rawWidth > 0, rawHeight > 0 else { throw .unprocessable(detail: "zero-sized image") }
        guard rawWidth.multipliedReportingOverflow(by: rawHeight).partialValue <= limits.maxSourcePixels,
              rawWidth <= 1 << 20, rawHeight <= 1 << 20
        else {
            throw .payloadTooLarge("source image has too many pixels", detail: "\(rawWidth)x\(rawHeight)")
        }
        let swapped = orientation >= 5
        let plan = ResizePlan(sourceWidth: swapped ? rawHeight : rawWidth, sourceHeight: swapped ? rawWidth : rawHeight, spec: spec)
        let output = format.resolve(source: sourceType, hasAlpha: sourceHasAlpha)

        var image = Owned()
        defer { image.release() }
        try image.step { _, out in cvips_thumbnail_buffer(buf.baseAddress, buf.count, Int32(plan.resizeWidth), Int32(plan.resizeHeight), 1, &out) }
        if let c = plan.crop {
            try image.step { input, out in cvips_extract_area(input, &out, Int32(c.x), Int32(c.y), Int32(c.width), Int32(c.height)) }
        }
        try toSRGB(&image)
        if let canvas = plan.canvas {
            if spec.background.alpha < 255, output.supportsAlpha, vips_image_hasalpha(image.pointer) == 0 {
                try image.step { input, out in cvips_bandjoin_const1(input, &out, 255) }
            }
            let bg = Self.background(spec.background, bands: vips_image_hasalpha(image.pointer) != 0 ? 4 : 3)
            try image.step { input, out in
                cvips_embed_background(input, &out, Int32(canvas.x), Int32(canvas.y), Int32(canvas.width), Int32(canvas.height), bg, Int32(bg.count))
            }
        }
        if !output.supportsAlpha, vips_image_hasalpha(image.pointer) != 0 {
            let bg = Self.background(spec.background, bands: 3)
            try image.step { input, out in cvips_flatten(input, &out, bg, 3) }
        }
        // A private copy whose metadata can be removed (the pipeline's images may share their fields).
        try image.step { input, out in cvips_copy(input, &out) }
        cvips_remove_metadata(image.pointer)

        let body = try encode(image.pointer!, output: output, quality: Int32(spec.quality))
        return ProcessedImage(body: body, format: output,
                              width: Int(vips_image_get_width(image.pointer)), height: Int(vips_image_get_height(image.pointer)))
    }

    /// Converts any interpretation (CMYK, 16-bit, grey, Lab…) to 8-bit sRGB, keeping alpha.
    private func toSRGB(_ image: inout Owned) throws(EdgeError) {
        let interpretation = vips_image_get_interpretation(image.pointer)
        if interpretation != VIPS_INTERPRETATION_sRGB {
            try image.step { input, out in cvips_colourspace(input, &out, VIPS_INTERPRETATION_sRGB) }
        }
        if vips_image_get_format(image.pointer) != VIPS_FORMAT_UCHAR {
            try image.step { input, out in cvips_cast_uchar(input, &out) }
        }
    }

    private func encode(_ image: UnsafeMutablePointer<VipsImage>, output: OutputFormat, quality: Int32) throws(EdgeError) -> [UInt8] {
        var data: UnsafeMutableRawPointer?
        var length = 0
        let rc: Int32 = switch output {
        case .jpg: cvips_jpegsave_buffer(image, &data, &length, quality, 0)
        case .pjpg: cvips_jpegsave_buffer(image, &data, &length, quality, 1)
        case .png: cvips_pngsave_buffer(image, &data, &length, pngCompression)
        case .webp: cvips_webpsave_buffer(image, &data, &length, quality)
        case .avif: cvips_avifsave_buffer(image, &data, &length, quality, avifEffort)
        case .gif: cvips_gifsave_buffer(image, &data, &length)
        }
        guard rc == 0, let data else {
            throw .unprocessable(detail: "encode \(output.rawValue): " + VipsRuntime.takeError())
        }
        defer { g_free(data) }
        let bytes = Array(UnsafeRawBufferPointer(start: data, count: length))
        return output == .webp ? Self.stripWebPMetadata(bytes) : bytes
    }

    /// libvips 8.14.1's webpsave ignores `strip` for EXIF: it writes a freshly generated EXIF chunk into every
    /// WebP. Drops the EXIF, XMP and ICCP chunks from the RIFF container and clears their VP8X flags; returns
    /// the bytes unchanged when they are not a well-formed WebP container.
    static func stripWebPMetadata(_ b: [UInt8]) -> [UInt8] {
        guard b.count >= 12, b[0..<4].elementsEqual("RIFF".utf8), b[8..<12].elementsEqual("WEBP".utf8) else { return b }
        var out = Array(b[0..<12])
        var i = 12
        while i + 8 <= b.count {
            let size = Int(b[i + 4]) | Int(b[i + 5]) << 8 | Int(b[i + 6]) << 16 | Int(b[i + 7]) << 24
            let end = i + 8 + size + (size & 1)
            guard end <= b.count else { return b }
            let fourCC = b[i..<i + 4]
            if !["EXIF", "XMP ", "ICCP"].contains(where: { fourCC.elementsEqual($0.utf8) }) {
                var chunk = Array(b[i..<end])
                // VP8X flags: ICC 0x20, EXIF 0x08, XMP 0x04.
                if fourCC.elementsEqual("VP8X".utf8), chunk.count > 8 { chunk[8] &= ~UInt8(0x20 | 0x08 | 0x04) }
                out += chunk
            }
            i = end
        }
        guard i == b.count else { return b }
        let riffSize = UInt32(out.count - 8)
        out.replaceSubrange(4..<8, with: [UInt8(riffSize & 0xff), UInt8(riffSize >> 8 & 0xff), UInt8(riffSize >> 16 & 0xff), UInt8(riffSize >> 24)])
        return out
    }

    /// Loaders imgedge accepts, by the class name vips reports; anything else (PDF, matrix, raw…) is 415.
    static func identify(_ buf: UnsafeRawBufferPointer) throws(EdgeError) -> SourceImageType {
        guard let cname = cvips_find_load_buffer(buf.baseAddress, buf.count) else {
            throw .unsupportedMediaType(detail: "no loader recognises the bytes")
        }
        let name = String(cString: cname).lowercased()
        if name.contains("jpeg") { return .jpeg }
        if name.contains("png") { return .png }
        if name.contains("webp") { return .webp }
        if name.contains("gif") { return .gif }
        if name.contains("heif") { return .heif }
        for other in ["tiff", "svg", "jxl", "jp2k"] where name.contains(other) { return .other }
        throw .unsupportedMediaType(detail: "loader \(name) is not allowed")
    }

    static func background(_ c: RGBAColor, bands: Int) -> [Double] {
        let rgb = [Double(c.red), Double(c.green), Double(c.blue)]
        return bands == 4 ? rgb + [Double(c.alpha)] : rgb
    }
}

/// A reference to the current image of a pipeline; each step replaces it and drops the previous one.
private struct Owned {
    var pointer: UnsafeMutablePointer<VipsImage>?

    mutating func step(_ op: (UnsafeMutablePointer<VipsImage>?, inout UnsafeMutablePointer<VipsImage>?) -> Int32) throws(EdgeError) {
        var out: UnsafeMutablePointer<VipsImage>?
        guard op(pointer, &out) == 0, let out else {
            throw .unprocessable(detail: VipsRuntime.takeError())
        }
        cvips_unref(pointer)
        pointer = out
    }

    mutating func release() {
        cvips_unref(pointer)
        pointer = nil
    }
}

/// Process-wide libvips state: started once; its error buffer is shared by every thread.
enum VipsRuntime {
    nonisolated(unsafe) private static var started = false
    private static let lock = NSLock()

    static func start(concurrency: Int) throws(EdgeError) {
        lock.lock()
        defer { lock.unlock() }
        guard !started else { return }
        guard cvips_init("imgedge", Int32(concurrency)) == 0 else {
            throw .internalError(detail: "vips_init failed: " + takeError())
        }
        started = true
    }

    /// Copies and clears vips' error buffer (read it right after the failing call).
    static func takeError() -> String {
        guard let c = cvips_error_take() else { return "unknown vips error" }
        defer { g_free(c) }
        let s = String(cString: c).trimmingCharacters(in: .whitespacesAndNewlines)
        return s.isEmpty ? "unknown vips error" : s
    }
}
