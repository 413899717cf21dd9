internal import CVips
internal import CVipsLib
public import EdgeCore
import Foundation

/// The image pipeline on libvips: identify, check the header against the limits, plan the geometry, then run
/// the steps in a fixed order — resize (shrink-on-load, orientation, colour management), crop, sRGB, pad,
/// flatten, strip metadata, encode. `process` is CPU bound and blocks its thread; callers bound how many run.
public struct VipsImageProcessor: ImageProcessing {
    /// Decoded copies shared by the variants of one original made close together (`DecodeSharing`).
    let copies: DecodedCopies

    /// Starts libvips once per process with `concurrency` threads per pipeline. Decoded copies shared between
    /// variants are kept `copyLifetime` seconds, `copyBytes` at most.
    public init(concurrency: Int = 1, copyBytes: Int = 64 << 20, copyLifetime: Double = 5) throws(EdgeError) {
        try VipsRuntime.start(concurrency: concurrency)
        copies = DecodedCopies(maxBytes: copyBytes, lifetime: copyLifetime)
    }

    public var sharing: DecodeSharingUsage { copies.usage }

    public func process(source: [UInt8], spec: TransformSpec, format: NegotiatedFormat, limits: ImageLimits,
                        resources: TransformResources, sharing: DecodeSharing?) throws(EdgeError) -> ProcessedImage {
        // The bytes must outlive every image made from them: vips reads buffers lazily; a decoded copy kept for
        // other variants is in memory of its own (jpegload into memory) and holds no reference to them.
        let result: Result<ProcessedImage, EdgeError> = source.withUnsafeBytes { buf in
            Result { () throws(EdgeError) in
                try run(buf, spec: spec, format: format, limits: limits, resources: resources, sharing: sharing)
            }
        }
        return try result.get()
    }

    /// Memory the transform of `source` will need at its peak (`DecodeMemory.estimate`), from its header alone.
    public func decodeMemory(source: [UInt8], spec: TransformSpec, format: NegotiatedFormat,
                             limits: ImageLimits) throws(EdgeError) -> Int {
        let result: Result<Int, EdgeError> = source.withUnsafeBytes { buf in
            Result { () throws(EdgeError) in
                let ctx = try Self.inspect(buf, spec: spec, format: format, limits: limits)
                if ctx.output == .json { return DecodeMemory.overhead }
                let plan = ResizePlan(sourceWidth: ctx.sourceWidth, sourceHeight: ctx.sourceHeight, size: spec.size)
                let layout: DecodeMemory.Layout
                var shrink = 1
                switch ctx.sourceType {
                case .jpeg:
                    let frame = JPEGScan.frame(buf)
                    layout = .jpeg(progressive: frame?.progressive ?? ctx.sourceInterlaced,
                                   samples: frame?.samplesPerPixel ?? Double(ctx.sourceBands))
                    shrink = Self.jpegLoadShrink(ctx, plan: plan)
                case .png where !ctx.sourceInterlaced:
                    layout = .streamed
                default:
                    layout = .whole
                }
                let source = DecodeMemory.Source(width: ctx.rawWidth, height: ctx.rawHeight, bands: ctx.sourceBands,
                                                 bytesPerSample: ctx.sourceBytesPerSample, layout: layout)
                return DecodeMemory.estimate(source, loadShrink: shrink, outputWidth: plan.outputWidth, outputHeight: plan.outputHeight)
            }
        }
        return try result.get()
    }

    /// The DCT scale (1, 2, 4, 8) a JPEG source is decoded at for this request (`ResizeStep.jpegShrink`, baseline
    /// or progressive). 1 for other formats.
    public func loadShrink(source: [UInt8], spec: TransformSpec, format: NegotiatedFormat, limits: ImageLimits) throws(EdgeError) -> Int {
        let result: Result<Int, EdgeError> = source.withUnsafeBytes { buf in
            Result { () throws(EdgeError) in
                let ctx = try Self.inspect(buf, spec: spec, format: format, limits: limits)
                guard ctx.sourceType == .jpeg else { return 1 }
                return Self.jpegLoadShrink(ctx, plan: ResizePlan(sourceWidth: ctx.sourceWidth, sourceHeight: ctx.sourceHeight, size: spec.size))
            }
        }
        return try result.get()
    }

    static func jpegLoadShrink(_ ctx: PipelineContext, plan: ResizePlan) -> Int {
        ResizeStep.jpegShrink(sourceWidth: ctx.sourceWidth, sourceHeight: ctx.sourceHeight, width: plan.resizeWidth,
                              height: plan.resizeHeight)
    }

    /// Decodes a JPEG at 1/`shrink` into memory and drops it: the floor under any transform of it (no resize,
    /// no encode). Returns the decoded size. For tools/bench/miss.
    public func decodeFloor(source: [UInt8], shrink: Int) throws(EdgeError) -> (width: Int, height: Int) {
        var w: Int32 = 0, h: Int32 = 0
        let ok = source.withUnsafeBytes { cvips_decode_jpeg($0.baseAddress, $0.count, Int32(shrink), &w, &h) == 0 }
        guard ok else { throw .unprocessable(detail: VipsRuntime.takeError()) }
        return (Int(w), Int(h))
    }

    /// The steps, in imgix's order: size, then rotation, adjustments, stylize, border and padding, watermark,
    /// text, then the encoder's needs. Each step leaves the image alone when its parameters are absent.
    private func run(_ buf: UnsafeRawBufferPointer, spec: TransformSpec, format: NegotiatedFormat, limits: ImageLimits,
                     resources: TransformResources, sharing: DecodeSharing?) throws(EdgeError) -> ProcessedImage {
        var ctx = try Self.inspect(buf, spec: spec, format: format, limits: limits)
        // fm=json describes the source itself: no pixel is decoded.
        if ctx.output == .json { return try MetadataJSON.describe(buf, ctx) }
        ctx.resources = resources
        ctx.sharing = sharing
        ctx.copies = copies

        var (image, plan) = try ResizeStep.load(buf, ctx)
        image = try ColourStep.apply(image)
        image = try ResizeStep.finish(image, plan: plan, ctx)
        image = try RotationStep.apply(image, ctx)
        // auto=enhance corrects the photo itself, before the requested adjustments and any overlay.
        if spec.output.enhance { image = try EncodeStep.enhance(image) }
        image = try AdjustStep.apply(image, ctx)
        image = try StylizeStep.apply(image, ctx)
        image = try BorderStep.apply(image, ctx)
        image = try WatermarkStep.apply(image, ctx)
        image = try TextStep.apply(image, ctx)
        image = try EncodeStep.flatten(image, output: ctx.output, background: spec.background)
        image = try EncodeStep.stripMetadata(image)
        var body = try EncodeStep.encode(image, ctx, source: buf)
        // iptc=allow (only where the source allows it; see OutputSpec): the JPEG source's IPTC segments, byte for
        // byte, into the JPEG output — nothing else of its metadata.
        if spec.output.iptc == .allow, ctx.sourceType == .jpeg, ctx.output == .jpg || ctx.output == .pjpg,
           let iptc = LosslessMetadata.jpegIPTC(Array(buf)), let withIPTC = LosslessMetadata.jpeg(body, inserting: iptc) {
            body = withIPTC
        }
        return ProcessedImage(body: body, format: ctx.output, width: image.width, height: image.height)
    }

    /// Identifies the source and reads its header only — dimensions, orientation, alpha — refusing it before a
    /// single pixel is decoded when it is not an allowed format (415), damaged (422) or too large (413).
    static func inspect(_ buf: UnsafeRawBufferPointer, spec: TransformSpec, format: NegotiatedFormat, limits: ImageLimits) throws(EdgeError) -> PipelineContext {
        guard buf.count > 0 else { throw .unsupportedMediaType(detail: "empty source") }
        let sourceType = try identify(buf)
        var header: UnsafeMutablePointer<VipsImage>?
        guard cvips_image_new_from_buffer(buf.baseAddress, buf.count, 1, &header) == 0, let header else {
            throw .unprocessable(detail: VipsRuntime.takeError())
        }
        let image = VImage(taking: header)
        let rawWidth = image.width, rawHeight = image.height
        guard rawWidth > 0, rawHeight > 0 else { throw .unprocessable(detail: "zero-sized image") }
        guard rawWidth.multipliedReportingOverflow(by: rawHeight).partialValue <= limits.maxSourcePixels,
              rawWidth <= 1 << 20, rawHeight <= 1 << 20
        else {
            throw .payloadTooLarge("source image has too many pixels", detail: "\(rawWidth)x\(rawHeight)")
        }
        let orientation = Int(cvips_orientation(image.pointer))
        let swapped = (spec.size.orientation ?? orientation) >= 5
        var ctx = PipelineContext(spec: spec, output: format.resolve(source: sourceType, hasAlpha: image.hasAlpha),
                               sourceType: sourceType, rawWidth: rawWidth, rawHeight: rawHeight, sourceOrientation: orientation,
                               sourceWidth: swapped ? rawHeight : rawWidth, sourceHeight: swapped ? rawWidth : rawHeight,
                               sourceHasAlpha: image.hasAlpha, limits: limits, resources: TransformResources())
        ctx.sourceHasProfile = vips_image_get_typeof(image.pointer, "icc-profile-data") != 0
        ctx.sourceBands = image.bands
        ctx.sourceBytesPerSample = max(1, Int(vips_format_sizeof(image.format)))
        var interlaced: Int32 = 0
        if vips_image_get_typeof(image.pointer, "interlaced") != 0, vips_image_get_int(image.pointer, "interlaced", &interlaced) == 0 {
            ctx.sourceInterlaced = interlaced != 0
        }
        return ctx
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
