internal import CVips
internal import CVipsLib
import EdgeCore
import Foundation

/// Flattens what the output cannot keep, removes every metadata field, and encodes with the imgix format
/// options (`spec.output`): quality, chroma subsampling, progressive JPEG, lossless, palette size, resolution,
/// colour profile, `auto=enhance`; or describes the image as a BlurHash.
enum EncodeStep {
    /// AVIF encoder effort (0–9): libheif's default of 4 takes most of a second even for small images.
    static let avifEffort: Int32 = 2
    /// PNG zlib level.
    static let pngCompression: Int32 = 6
    /// Where Debian's icc-profiles-free puts its Adobe RGB (1998) compatible profile (tools/lib/setup.sh installs it).
    static let adobeRGBProfilePath = "/usr/share/color/icc/compatibleWithAdobeRGB1998.icc"

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

    /// Encodes a flattened, stripped image for `ctx.output`; `source` is read (header only) for `cs=origin`.
    static func encode(_ image: VImage, _ ctx: PipelineContext, source: UnsafeRawBufferPointer) throws(EdgeError) -> [UInt8] {
        let options = ctx.spec.output
        var image = image
        if ctx.output == .blurhash { return Array(try BlurHash.encode(image).utf8) }
        if ctx.output == .png32, !image.hasAlpha { image = try image.map { cvips_bandjoin_const1($0, &$1, 255) } }
        if let dpi = options.dpi {
            let perMillimetre = Double(dpi) / 25.4
            image = try image.map { cvips_copy_resolution($0, &$1, perMillimetre, perMillimetre) }
        }
        if OutputSpec.profileFormats.contains(ctx.output) {
            image = try colorSpace(image, options.colorSpace, source: source)
        }
        // Savers drop the profile with `strip`. The PNG writer adds nothing of its own without it (every other field
        // is gone); the JPEG writer would add a fresh EXIF block, so its profile is inserted afterwards; WebP keeps
        // it despite `strip` (libvips 8.14.1).
        let profile = OutputSpec.profileFormats.contains(ctx.output) && options.colorSpace != .strip
        let keepProfile: Int32 = profile ? 1 : 0
        let quality = Int32(ctx.spec.quality)
        let lossless: Int32 = options.lossless ? 1 : 0
        // colorquant: libvips 8.14 limits a palette by bit depth only, so the palette holds at most the largest
        // power of two not above the request (colorquant=100 → 64 colours).
        let paletteBits = Int32(Int.bitWidth - 1 - (options.colorQuantization ?? 256).leadingZeroBitCount)
        var data: UnsafeMutableRawPointer?
        var length = 0
        let rc: Int32 = switch ctx.output {
        case .jpg:
            cvips_jpegsave_opts(image.pointer, &data, &length, quality, options.jpegProgressive ? 1 : 0,
                                options.chromaSubsampling == .full ? 1 : 0)
        case .pjpg:
            cvips_jpegsave_opts(image.pointer, &data, &length, quality, 1, options.chromaSubsampling == .full ? 1 : 0)
        case .png, .png32: cvips_pngsave_opts(image.pointer, &data, &length, pngCompression, 0, 8, keepProfile)
        case .png8: cvips_pngsave_opts(image.pointer, &data, &length, pngCompression, 1, paletteBits, keepProfile)
        case .webp: cvips_webpsave_opts(image.pointer, &data, &length, quality, lossless)
        case .avif: cvips_avifsave_opts(image.pointer, &data, &length, quality, avifEffort, lossless)
        case .gif: cvips_gifsave_opts(image.pointer, &data, &length, paletteBits)
        case .jp2: cvips_jp2ksave_buffer(image.pointer, &data, &length, quality, lossless)
        case .json, .blurhash:
            preconditionFailure("\(ctx.output) is not an image encoding")
        }
        guard rc == 0, let data else {
            throw .unprocessable(detail: "encode \(ctx.output.rawValue): " + VipsRuntime.takeError())
        }
        defer { g_free(data) }
        let bytes = Array(UnsafeRawBufferPointer(start: data, count: length))
        switch ctx.output {
        case .webp: return LosslessMetadata.stripWebP(bytes, keepingProfile: profile) ?? bytes
        case .jpg, .pjpg:
            var out = bytes
            if let dpi = options.dpi { out = jpegWithDensity(out, dpi: dpi) }
            var iccLength = 0
            if profile, let icc = cvips_get_icc(image.pointer, &iccLength) {
                out = jpegWithProfile(out, Array(UnsafeRawBufferPointer(start: icc, count: iccLength)))
            }
            return out
        default: return bytes
        }
    }

    /// Writes `dpi` as the JFIF density (APP0, units: dots per inch). libvips' jpegsave writes no JFIF segment
    /// with `strip`, and without `strip` it would add a fresh EXIF block, so the segment is made here.
    static func jpegWithDensity(_ jpeg: [UInt8], dpi: Int) -> [UInt8] {
        guard jpeg.count > 4, jpeg[0] == 0xff, jpeg[1] == 0xd8 else { return jpeg }
        let d = [UInt8(dpi >> 8 & 0xff), UInt8(dpi & 0xff)]
        let app0: [UInt8] = [0xff, 0xe0, 0x00, 0x10] + Array("JFIF".utf8) + [0, 1, 1, 1] + d + d + [0, 0]
        var rest = 2
        // Replace an APP0 libvips wrote, if any.
        if jpeg[2] == 0xff, jpeg[3] == 0xe0, jpeg.count > 6 { rest = 4 + (Int(jpeg[4]) << 8 | Int(jpeg[5])) }
        guard rest <= jpeg.count else { return jpeg }
        return [0xff, 0xd8] + app0 + Array(jpeg[rest...])
    }

    /// Inserts an ICC profile into a JPEG as APP2 `ICC_PROFILE` segments (ICC.1 Annex B.4), after SOI and any
    /// APP0 (JFIF) segment.
    static func jpegWithProfile(_ jpeg: [UInt8], _ profile: [UInt8]) -> [UInt8] {
        guard jpeg.count > 4, jpeg[0] == 0xff, jpeg[1] == 0xd8, !profile.isEmpty else { return jpeg }
        var at = 2
        if jpeg[2] == 0xff, jpeg[3] == 0xe0, jpeg.count > 6 { at = 4 + (Int(jpeg[4]) << 8 | Int(jpeg[5])) }
        guard at <= jpeg.count else { return jpeg }
        // 65535 (segment) - 2 (length) - 14 (signature, sequence number, count).
        let chunk = 65_519
        let count = (profile.count + chunk - 1) / chunk
        guard count <= 255 else { return jpeg }
        var segments: [UInt8] = []
        for i in 0..<count {
            let part = profile[i * chunk..<min(profile.count, (i + 1) * chunk)]
            let length = 2 + 14 + part.count
            segments += [0xff, 0xe2, UInt8(length >> 8), UInt8(length & 0xff)]
            segments += Array("ICC_PROFILE".utf8) + [0, UInt8(i + 1), UInt8(count)]
            segments += part
        }
        return Array(jpeg[..<at]) + segments + Array(jpeg[at...])
    }

    // MARK: cs

    /// Converts and tags the pixels as `cs` asks (the image has no profile attached on entry; its pixels are sRGB,
    /// or for an RGB source with a profile, still in that profile's space).
    static func colorSpace(_ image: VImage, _ cs: OutputSpec.ColorSpace, source: UnsafeRawBufferPointer) throws(EdgeError) -> VImage {
        switch cs {
        case .strip:
            return image
        case .srgb:
            return try tagged(image, try builtinSRGB())
        case .tinysrgb:
            return try tagged(image, TinySRGB.profile)
        case .adobergb1998:
            guard let profile = FileManager.default.contents(atPath: adobeRGBProfilePath) else {
                throw .internalError(detail: "cs=adobergb1998: \(adobeRGBProfilePath) is missing (install icc-profiles-free)")
            }
            let converted = try image.map { cvips_icc_from_srgb($0, &$1, adobeRGBProfilePath) }
            return try tagged(converted, [UInt8](profile))
        case .origin:
            // The resize step's thumbnail (no export_profile) leaves RGB pixels in the source's own space, so the
            // source's profile describes them as they are.
            guard let profile = try sourceRGBProfile(source) else { return try tagged(image, try builtinSRGB()) }
            return try tagged(image, profile)
        }
    }

    /// A copy of `image` carrying `profile`.
    private static func tagged(_ image: VImage, _ profile: [UInt8]) throws(EdgeError) -> VImage {
        let copy = try image.map { cvips_copy($0, &$1) }
        profile.withUnsafeBytes { cvips_set_icc(copy.pointer, $0.baseAddress, $0.count) }
        return copy
    }

    private static func builtinSRGB() throws(EdgeError) -> [UInt8] {
        var blob: UnsafeMutablePointer<VipsBlob>?
        var data: UnsafeRawPointer?
        var length = 0
        guard cvips_builtin_srgb_profile(&blob, &data, &length) == 0, let data else {
            throw .internalError(detail: "no built-in sRGB profile: " + VipsRuntime.takeError())
        }
        defer { cvips_area_unref(blob) }
        return Array(UnsafeRawBufferPointer(start: data, count: length))
    }

    /// The source's embedded ICC profile when it describes an RGB device (CMYK and grey sources were converted
    /// to sRGB, and their profiles cannot describe RGB pixels); nil otherwise.
    static func sourceRGBProfile(_ source: UnsafeRawBufferPointer) throws(EdgeError) -> [UInt8]? {
        var header: UnsafeMutablePointer<VipsImage>?
        guard cvips_image_new_from_buffer(source.baseAddress, source.count, 1, &header) == 0, let header else {
            throw .unprocessable(detail: VipsRuntime.takeError())
        }
        let image = VImage(taking: header)
        var length = 0
        guard let data = cvips_get_icc(image.pointer, &length), length >= 132 else { return nil }
        let profile = Array(UnsafeRawBufferPointer(start: data, count: length))
        return profile[16..<20].elementsEqual("RGB ".utf8) ? profile : nil
    }

    // MARK: auto=enhance

    /// Share of pixels clipped at each end of a channel's range when its levels are stretched.
    static let enhanceClip = 0.005
    /// Largest gain `auto=enhance` applies to a channel: a nearly flat channel is lifted, not turned into noise.
    static let enhanceMaxGain = 4.0

    /// imgix's `auto=enhance` adjusts "highlights, midtones and shadows across the R, G and B channels": here each
    /// colour channel's levels are stretched linearly so that its 0.5th and 99.5th percentiles reach 0 and 255
    /// (alpha untouched). The histogram needs a second read of the pixels, so the image is copied to memory
    /// first: at most the 8192 x 8192 output cap x 4 bands (256 MiB).
    static func enhance(_ image: VImage) throws(EdgeError) -> VImage {
        let pixels = try image.map { cvips_copy_memory($0, &$1) }
        let hist = try pixels.map { cvips_hist_find($0, &$1) }
        var length = 0
        guard let raw = cvips_write_to_memory(hist.pointer, &length) else {
            throw .unprocessable(detail: "enhance: " + VipsRuntime.takeError())
        }
        defer { g_free(raw) }
        let bands = hist.bands
        guard hist.width == 256, length == 256 * bands * 4 else {
            throw .internalError(detail: "enhance: unexpected histogram \(hist.width)x\(bands), \(length) bytes")
        }
        let counts = raw.bindMemory(to: UInt32.self, capacity: 256 * bands)
        let colourBands = image.hasAlpha ? bands - 1 : bands
        var gains = [Double](repeating: 1, count: bands), offsets = [Double](repeating: 0, count: bands)
        let total = Double(pixels.width * pixels.height)
        for b in 0..<colourBands {
            var low = 0, high = 255, seen = 0.0
            for v in 0..<256 {
                seen += Double(counts[v * bands + b])
                if seen > total * enhanceClip { low = v; break }
            }
            seen = 0
            for v in (0..<256).reversed() {
                seen += Double(counts[v * bands + b])
                if seen > total * enhanceClip { high = v; break }
            }
            guard high > low else { continue }
            let gain = min(enhanceMaxGain, 255 / Double(high - low))
            // Stretch about the channel's mid-range so a capped gain stays centred.
            let mid = Double(low + high) / 2
            gains[b] = gain
            offsets[b] = 127.5 - mid * gain
        }
        return try pixels.map { cvips_linear_uchar($0, &$1, gains, offsets, Int32(bands)) }
    }
}

/// A compact sRGB ICC profile (v2, about 500 bytes, against about 3 KB for libvips' built-in one) for `cs=tinysrgb`:
/// sRGB's D50-adapted primaries, and its tone curve sampled at 32 points (linearly interpolated by colour
/// management, hence a slight shift, as imgix warns for its own tinysrgb).
enum TinySRGB {
    static let profile: [UInt8] = build()

    private static func build() -> [UInt8] {
        func u32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
        func u16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
        func s15(_ d: Double) -> [UInt8] { u32(UInt32(bitPattern: Int32((d * 65536).rounded()))) }
        func sig(_ s: String) -> [UInt8] { Array(s.utf8) }
        func xyz(_ x: Double, _ y: Double, _ z: Double) -> [UInt8] { sig("XYZ ") + u32(0) + s15(x) + s15(y) + s15(z) }
        func padded(_ b: [UInt8]) -> [UInt8] { b + [UInt8](repeating: 0, count: (4 - b.count % 4) % 4) }

        let name = "imgedge tiny sRGB"
        let desc = sig("desc") + u32(0) + u32(UInt32(name.utf8.count + 1)) + sig(name) + [0]
            + u32(0) + u32(0) + u16(0) + [0] + [UInt8](repeating: 0, count: 67)
        let cprt = sig("text") + u32(0) + sig("No copyright, use freely") + [0]
        let points = 32
        var curve = sig("curv") + u32(0) + u32(UInt32(points))
        for i in 0..<points {
            let v = Double(i) / Double(points - 1)
            let linear = v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4)
            curve += u16(UInt16((linear * 65535).rounded()))
        }
        // Tag signature and data; the three tone curves share one copy.
        let tags: [(String, [UInt8])] = [
            ("desc", desc), ("cprt", cprt), ("wtpt", xyz(0.9642, 1.0, 0.8249)),
            ("rXYZ", xyz(0.4360747, 0.2225045, 0.0139322)), ("gXYZ", xyz(0.3850649, 0.7168786, 0.0971045)),
            ("bXYZ", xyz(0.1430804, 0.0606169, 0.7141733)), ("rTRC", curve),
        ]
        let tableSize = 4 + 12 * (tags.count + 2)
        var offset = 128 + tableSize
        var table = u32(UInt32(tags.count + 2))
        var body: [UInt8] = []
        var curveEntry: [UInt8] = []
        for (signature, data) in tags {
            let entry = u32(UInt32(offset)) + u32(UInt32(data.count))
            table += sig(signature) + entry
            if signature == "rTRC" { curveEntry = entry }
            body += padded(data)
            offset += padded(data).count
        }
        table += sig("gTRC") + curveEntry + sig("bTRC") + curveEntry
        let size = 128 + table.count + body.count
        var header = u32(UInt32(size)) + u32(0) + u32(0x0210_0000) + sig("mntr") + sig("RGB ") + sig("XYZ ")
        header += u16(2024) + u16(1) + u16(1) + u16(0) + u16(0) + u16(0)
        header += sig("acsp") + u32(0) + u32(0) + u32(0) + u32(0) + u32(0) + u32(0) + u32(0)
        header += s15(0.9642) + s15(1.0) + s15(0.8249)
        header += [UInt8](repeating: 0, count: 128 - header.count)
        return header + table + body
    }
}
