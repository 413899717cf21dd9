internal import CVips
internal import CVipsLib
import EdgeCore
import Foundation

/// `fm=json`: the source's technical metadata in imgix's shape (the keys of Apple ImageIO's image properties,
/// which imgix returns: `PixelWidth`, `PixelHeight`, `DPIWidth`, `DPIHeight`, `Depth`, `ColorModel`,
/// `Orientation`, `ProfileName`, `HasAlpha`, `Content-Type`, `Content-Length`, `TIFF{…}`, `Exif{…}`, `JFIF{…}`,
/// `PNG{…}`). Only the header is read: no pixel is decoded.
///
/// Privacy: EXIF is read through an allow-list of technical tags. GPS (the whole GPS IFD, unless the source sets
/// `exposeLocation`: then its position, altitude and time, as ImageIO's `{GPS}` keys), serial numbers
/// (body, lens), owner and author names (CameraOwnerName, Artist, Copyright), free text (ImageDescription,
/// UserComment, HostComputer), ImageUniqueID, MakerNote, XMP and IPTC are never returned.
enum MetadataJSON {
    static func describe(_ buf: UnsafeRawBufferPointer, _ ctx: PipelineContext) throws(EdgeError) -> ProcessedImage {
        var header: UnsafeMutablePointer<VipsImage>?
        guard cvips_image_new_from_buffer(buf.baseAddress, buf.count, 1, &header) == 0, let header else {
            throw .unprocessable(detail: VipsRuntime.takeError())
        }
        let image = VImage(taking: header)
        var out: [String: Any] = [
            "PixelWidth": image.width,
            "PixelHeight": image.height,
            "Depth": depth(image.format),
            "ColorModel": colorModel(image.interpretation),
            "Orientation": Int(cvips_orientation(image.pointer)),
            "Content-Type": contentType(buf, ctx.sourceType),
            "Content-Length": String(buf.count),
        ]
        let (dpiX, dpiY) = (dpi(cvips_xres(image.pointer)), dpi(cvips_yres(image.pointer)))
        out["DPIWidth"] = dpiX
        out["DPIHeight"] = dpiY
        if image.hasAlpha { out["HasAlpha"] = true }
        var iccLength = 0
        if let icc = cvips_get_icc(image.pointer, &iccLength),
           let name = ICCProfile.description(Array(UnsafeRawBufferPointer(start: icc, count: iccLength))) {
            out["ProfileName"] = name
        }
        var exifLength = 0
        if let exif = cvips_get_blob(image.pointer, "exif-data", &exifLength) {
            let tags = EXIFReader.read(Array(UnsafeRawBufferPointer(start: exif, count: exifLength)),
                                       location: ctx.spec.output.exposeLocation)
            if !tags.tiff.isEmpty { out["TIFF"] = tags.tiff }
            if !tags.exif.isEmpty { out["Exif"] = tags.exif }
            if !tags.gps.isEmpty { out["GPS"] = tags.gps }
        }
        switch ctx.sourceType {
        case .jpeg: out["JFIF"] = ["IsProgressive": cvips_get_int(image.pointer, "jpeg-multiscan", 0) == 1]
        case .png: out["PNG"] = ["InterlaceType": cvips_get_int(image.pointer, "interlaced", 0)]
        default: break
        }
        let body: [UInt8]
        do {
            body = Array(try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]))
        } catch {
            throw .internalError(detail: "fm=json: \(error)")
        }
        return ProcessedImage(body: body, format: .json, width: image.width, height: image.height)
    }

    static func depth(_ format: VipsBandFormat) -> Int {
        switch format {
        case VIPS_FORMAT_UCHAR, VIPS_FORMAT_CHAR: 8
        case VIPS_FORMAT_USHORT, VIPS_FORMAT_SHORT: 16
        case VIPS_FORMAT_DOUBLE, VIPS_FORMAT_DPCOMPLEX: 64
        default: 32
        }
    }

    static func colorModel(_ i: VipsInterpretation) -> String {
        switch i {
        case VIPS_INTERPRETATION_B_W, VIPS_INTERPRETATION_GREY16: "Gray"
        case VIPS_INTERPRETATION_CMYK: "CMYK"
        case VIPS_INTERPRETATION_LAB, VIPS_INTERPRETATION_LABQ, VIPS_INTERPRETATION_LABS: "Lab"
        default: "RGB"
        }
    }

    /// Dots per inch from vips' pixels per millimetre; vips says exactly 1 when the file gives no resolution,
    /// and ImageIO (so imgix) then reports 72.
    static func dpi(_ perMillimetre: Double) -> Int {
        perMillimetre == 1 || perMillimetre <= 0 ? 72 : Int((perMillimetre * 25.4).rounded())
    }

    static func contentType(_ buf: UnsafeRawBufferPointer, _ type: SourceImageType) -> String {
        switch type {
        case .jpeg: return "image/jpeg"
        case .png: return "image/png"
        case .webp: return "image/webp"
        case .gif: return "image/gif"
        case .heif: return "image/heif"
        case .other: break
        }
        let loader = cvips_find_load_buffer(buf.baseAddress, buf.count).map { String(cString: $0) } ?? ""
        for (name, type) in [("tiff", "image/tiff"), ("svg", "image/svg+xml"), ("jxl", "image/jxl"), ("jp2k", "image/jp2")]
        where loader.contains(name) {
            return type
        }
        return "application/octet-stream"
    }
}

/// An allow-listing EXIF (TIFF structure) reader: IFD0 into `TIFF`, the Exif IFD into `Exif`, and — only when
/// asked — the GPS IFD's position into `GPS`; nothing else is followed (no interoperability IFD, no thumbnail). Bounded: at most `maxEntries` entries per IFD,
/// arrays of at most `maxValues` values, strings of at most `maxString` bytes; malformed data is skipped.
enum EXIFReader {
    static let maxEntries = 512
    static let maxValues = 64
    static let maxString = 1024

    /// IFD0 tags returned (technical only; Artist, Copyright, HostComputer, ImageDescription are left out).
    static let tiffTags: [UInt16: String] = [
        0x0100: "ImageWidth", 0x0101: "ImageLength", 0x0102: "BitsPerSample", 0x0103: "Compression",
        0x0106: "PhotometricInterpretation", 0x010F: "Make", 0x0110: "Model", 0x0112: "Orientation",
        0x0115: "SamplesPerPixel", 0x011A: "XResolution", 0x011B: "YResolution", 0x0128: "ResolutionUnit",
        0x0131: "Software", 0x0132: "DateTime", 0x013E: "WhitePoint", 0x013F: "PrimaryChromaticities",
        0x0213: "YCbCrPositioning",
    ]
    /// Exif IFD tags returned (no serial numbers, owner name, unique id, maker note or user comment).
    static let exifTags: [UInt16: String] = [
        0x829A: "ExposureTime", 0x829D: "FNumber", 0x8822: "ExposureProgram", 0x8827: "ISOSpeedRatings",
        0x8830: "SensitivityType", 0x8832: "RecommendedExposureIndex", 0x9000: "ExifVersion",
        0x9003: "DateTimeOriginal", 0x9004: "DateTimeDigitized", 0x9010: "OffsetTime", 0x9011: "OffsetTimeOriginal",
        0x9012: "OffsetTimeDigitized", 0x9101: "ComponentsConfiguration", 0x9102: "CompressedBitsPerPixel",
        0x9201: "ShutterSpeedValue", 0x9202: "ApertureValue", 0x9203: "BrightnessValue", 0x9204: "ExposureBiasValue",
        0x9205: "MaxApertureValue", 0x9206: "SubjectDistance", 0x9207: "MeteringMode", 0x9208: "LightSource",
        0x9209: "Flash", 0x920A: "FocalLength", 0x9290: "SubsecTime", 0x9291: "SubsecTimeOriginal",
        0x9292: "SubsecTimeDigitized", 0xA000: "FlashPixVersion", 0xA001: "ColorSpace", 0xA002: "PixelXDimension",
        0xA003: "PixelYDimension", 0xA20E: "FocalPlaneXResolution", 0xA20F: "FocalPlaneYResolution",
        0xA210: "FocalPlaneResolutionUnit", 0xA217: "SensingMethod", 0xA300: "FileSource", 0xA301: "SceneType",
        0xA401: "CustomRendered", 0xA402: "ExposureMode", 0xA403: "WhiteBalance", 0xA404: "DigitalZoomRatio",
        0xA405: "FocalLengthIn35mmFilm", 0xA406: "SceneCaptureType", 0xA407: "GainControl", 0xA408: "Contrast",
        0xA409: "Saturation", 0xA40A: "Sharpness", 0xA40C: "SubjectDistRange", 0xA432: "LensSpecification",
        0xA433: "LensMake", 0xA434: "LensModel",
    ]
    static let exifPointer: UInt16 = 0x8769
    static let gpsPointer: UInt16 = 0x8825
    /// GPS IFD tags returned with `exposeLocation` (ImageIO's names; no processing method, area or destination).
    static let gpsTags: [UInt16: String] = [
        0x0001: "LatitudeRef", 0x0002: "Latitude", 0x0003: "LongitudeRef", 0x0004: "Longitude",
        0x0005: "AltitudeRef", 0x0006: "Altitude", 0x0007: "TimeStamp", 0x001D: "DateStamp",
    ]

    static func read(_ blob: [UInt8], location: Bool = false) -> (tiff: [String: Any], exif: [String: Any], gps: [String: Any]) {
        var b = blob[...]
        if b.starts(with: Array("Exif\0\0".utf8)) { b = b.dropFirst(6) }
        let data = Array(b)
        guard data.count >= 8 else { return ([:], [:], [:]) }
        let little: Bool
        switch (data[0], data[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return ([:], [:], [:])
        }
        let r = Reader(data: data, little: little)
        guard r.u16(2) == 42, let ifd0 = r.u32(4) else { return ([:], [:], [:]) }
        var exifOffset: Int?
        var gpsOffset: Int?
        let tiff = ifd(r, at: Int(ifd0), names: tiffTags) { tag, value in
            if tag == exifPointer { exifOffset = value }
            if tag == gpsPointer { gpsOffset = value }
        }
        let exif = exifOffset.map { ifd(r, at: $0, names: exifTags) { _, _ in } } ?? [:]
        var gps: [String: Any] = [:]
        if location, let gpsOffset {
            gps = ifd(r, at: gpsOffset, names: gpsTags) { _, _ in }
            // ImageIO gives latitude and longitude as decimal degrees, not the three rationals of the file.
            for key in ["Latitude", "Longitude"] {
                if let dms = gps[key] as? [Double], dms.count == 3 { gps[key] = dms[0] + dms[1] / 60 + dms[2] / 3600 }
            }
        }
        return (tiff, exif, gps)
    }

    /// The named tags of one IFD; `pointer` sees every LONG-valued tag (for the Exif IFD offset).
    private static func ifd(_ r: Reader, at offset: Int, names: [UInt16: String],
                            pointer: (UInt16, Int) -> Void) -> [String: Any] {
        guard let count = r.u16(offset), Int(count) <= maxEntries else { return [:] }
        var out: [String: Any] = [:]
        for n in 0..<Int(count) {
            let e = offset + 2 + n * 12
            guard let tag = r.u16(e), let type = r.u16(e + 2), let count = r.u32(e + 4) else { break }
            let size: Int
            switch type {
            case 1, 2, 6, 7: size = 1
            case 3, 8: size = 2
            case 4, 9: size = 4
            case 5, 10: size = 8
            default: continue
            }
            guard count > 0, count <= UInt32(maxString) else { continue }
            let total = size * Int(count)
            let at = total <= 4 ? e + 8 : Int(r.u32(e + 8) ?? UInt32.max)
            guard at >= 0, at + total <= r.data.count else { continue }
            if type == 4, count == 1, let v = r.u32(at) { pointer(tag, Int(v)) }
            guard let name = names[tag] else { continue }
            if let v = value(r, type: type, count: Int(count), at: at, tag: tag) { out[name] = v }
        }
        return out
    }

    private static func value(_ r: Reader, type: UInt16, count: Int, at: Int, tag: UInt16) -> Any? {
        switch type {
        case 2:
            let bytes = r.data[at..<at + count].prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        case 7:
            let bytes = Array(r.data[at..<at + count])
            switch tag {
            case 0x9000, 0xA000: return String(decoding: bytes.filter { $0 >= 0x20 && $0 < 0x7f }, as: UTF8.self)
            case 0x9101: return bytes.map(String.init).joined(separator: " ")
            case 0xA300, 0xA301: return bytes.first.map { String($0) }
            default: return nil
            }
        default:
            guard count <= maxValues else { return nil }
            var values: [Any] = []
            for i in 0..<count {
                switch type {
                case 1: values.append(Int(r.data[at + i]))
                case 6: values.append(Int(Int8(bitPattern: r.data[at + i])))
                case 3: values.append(Int(r.u16(at + 2 * i) ?? 0))
                case 8: values.append(Int(Int16(bitPattern: r.u16(at + 2 * i) ?? 0)))
                case 4: values.append(Int(r.u32(at + 4 * i) ?? 0))
                case 9: values.append(Int(Int32(bitPattern: r.u32(at + 4 * i) ?? 0)))
                case 5, 10:
                    let num = r.u32(at + 8 * i) ?? 0, den = r.u32(at + 8 * i + 4) ?? 0
                    guard den != 0 else { return nil }
                    values.append(type == 5 ? Double(num) / Double(den)
                                            : Double(Int32(bitPattern: num)) / Double(Int32(bitPattern: den)))
                default: return nil
                }
            }
            return values.count == 1 ? values[0] : values
        }
    }

    struct Reader {
        let data: [UInt8]
        let little: Bool
        func u16(_ o: Int) -> UInt16? {
            guard o >= 0, o + 2 <= data.count else { return nil }
            let (a, b) = (UInt16(data[o]), UInt16(data[o + 1]))
            return little ? a | b << 8 : a << 8 | b
        }
        func u32(_ o: Int) -> UInt32? {
            guard let hi = u16(little ? o + 2 : o), let lo = u16(little ? o : o + 2) else { return nil }
            return UInt32(hi) << 16 | UInt32(lo)
        }
    }
}

/// Just enough of an ICC profile to name it: the `desc` tag (v2 `desc` or v4 `mluc`).
enum ICCProfile {
    static func description(_ p: [UInt8]) -> String? {
        func u32(_ o: Int) -> Int? {
            guard o >= 0, o + 4 <= p.count else { return nil }
            return Int(p[o]) << 24 | Int(p[o + 1]) << 16 | Int(p[o + 2]) << 8 | Int(p[o + 3])
        }
        guard let count = u32(128), count <= 256 else { return nil }
        for i in 0..<count {
            let e = 132 + i * 12
            guard let offset = u32(e + 4), let size = u32(e + 8), e + 4 <= p.count,
                  p[e..<e + 4].elementsEqual("desc".utf8), offset + size <= p.count, size >= 12 else { continue }
            let tag = p[offset..<offset + size]
            if tag.starts(with: "desc".utf8), let n = u32(offset + 8), n > 0, offset + 12 + n <= p.count {
                let text = p[offset + 12..<offset + 12 + n].prefix { $0 != 0 }
                return String(decoding: text, as: UTF8.self)
            }
            if tag.starts(with: "mluc".utf8), let records = u32(offset + 8), records > 0,
               let length = u32(offset + 20), let start = u32(offset + 24), length % 2 == 0,
               offset + start + length <= p.count {
                let bytes = p[offset + start..<offset + start + length]
                var units: [UInt16] = []
                var it = bytes.makeIterator()
                while let hi = it.next(), let lo = it.next() { units.append(UInt16(hi) << 8 | UInt16(lo)) }
                return String(decoding: units, as: UTF16.self)
            }
        }
        return nil
    }
}
