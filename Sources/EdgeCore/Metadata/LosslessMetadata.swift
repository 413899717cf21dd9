/// Removes metadata from encoded images without decoding them: the image data is copied byte for byte, only the
/// containers' metadata segments and chunks are dropped. Used for requests without transform parameters, which
/// serve the original pixels (imgix serves the original) but must not publish EXIF, GPS, XMP, IPTC or comments.
///
/// Kept: what decoding and colour need — JPEG's JFIF and Adobe segments, ICC profiles in every format, PNG's
/// colour and transparency chunks, animation. A JPEG's EXIF orientation (when not 1) is kept as a minimal EXIF
/// segment holding that one tag, so the image still displays upright. Returns nil for bytes that are not a
/// well-formed JPEG, PNG, WebP or GIF: callers then re-encode through the image pipeline, which strips everything.
public enum LosslessMetadata {
    /// The containers handled here, by their signatures.
    public enum Container: String, Sendable {
        case jpeg, png, webp, gif

        public var contentType: String { "image/" + rawValue }
    }

    /// The container of `b`, by signature.
    public static func container(_ b: [UInt8]) -> Container? {
        if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF { return .jpeg }
        if b.count >= 8, b[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if b.count >= 12, b[0..<4].elementsEqual("RIFF".utf8), b[8..<12].elementsEqual("WEBP".utf8) { return .webp }
        if b.count >= 6, b[0..<6].elementsEqual("GIF87a".utf8) || b[0..<6].elementsEqual("GIF89a".utf8) { return .gif }
        return nil
    }

    /// `b` without its metadata, and its container; nil when `b` is not a well-formed container handled here.
    public static func strip(_ b: [UInt8]) -> (body: [UInt8], container: Container)? {
        guard let c = container(b) else { return nil }
        let out: [UInt8]? = switch c {
        case .jpeg: stripJPEG(b)
        case .png: stripPNG(b)
        case .webp: stripWebP(b, keepingProfile: true)
        case .gif: stripGIF(b)
        }
        return out.map { ($0, c) }
    }

    // MARK: - JPEG

    /// Drops APP1 (EXIF, XMP), APP13 (IPTC), COM and every other APPn but APP0 JFIF, APP2 ICC_PROFILE and APP14
    /// Adobe, in front of and between scans; stops at EOI (trailing bytes — appended images, vendor data — go too).
    static func stripJPEG(_ b: [UInt8]) -> [UInt8]? {
        guard b.count >= 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
        var out: [UInt8] = [0xFF, 0xD8]
        out.reserveCapacity(b.count)
        var orientation: UInt16?
        var wroteOrientation = false
        var i = 2
        func flushOrientation() {
            guard let o = orientation, !wroteOrientation else { return }
            wroteOrientation = true
            out += minimalEXIF(orientation: o)
        }
        while i + 1 < b.count {
            guard b[i] == 0xFF else { return nil }
            var m = b[i + 1]
            // Fill bytes (0xFF runs) before a marker.
            var j = i + 1
            while m == 0xFF, j + 1 < b.count { j += 1; m = b[j] }
            i = j - 1
            if m == 0xD9 {
                flushOrientation()
                out += [0xFF, 0xD9]
                return out
            }
            if m == 0x01 || (0xD0...0xD7).contains(m) {
                out += [0xFF, m]
                i += 2
                continue
            }
            guard i + 3 < b.count else { return nil }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2, i + 2 + length <= b.count else { return nil }
            let segment = b[i..<(i + 2 + length)]
            let payload = b[(i + 4)..<(i + 2 + length)]
            var keep: Bool
            switch m {
            case 0xE0: keep = payload.starts(with: "JFIF\u{0}".utf8)
            case 0xE1:
                keep = false
                if payload.starts(with: "Exif\u{0}\u{0}".utf8), orientation == nil,
                   let o = exifOrientation(Array(payload.dropFirst(6))), o != 1 {
                    orientation = o
                }
            case 0xE2: keep = payload.starts(with: "ICC_PROFILE\u{0}".utf8)
            case 0xEE: keep = payload.starts(with: "Adobe".utf8)
            case 0xE3...0xEF, 0xFE: keep = false
            default: keep = true
            }
            // The minimal EXIF goes after JFIF (which must come first) and before any other segment.
            if !(m == 0xE0 && keep) && m != 0xE1 { flushOrientation() }
            if keep { out += segment }
            i += 2 + length
            if m == 0xDA {
                // Entropy-coded data: copy up to the next marker that is not a stuffed byte or a restart.
                var k = i
                while k + 1 < b.count {
                    if b[k] == 0xFF, b[k + 1] != 0x00, !(0xD0...0xD7).contains(b[k + 1]), b[k + 1] != 0xFF { break }
                    k += 1
                }
                guard k + 1 < b.count else { return nil }
                out += b[i..<k]
                i = k
            }
        }
        return nil
    }

    /// The IPTC of a JPEG: its APP13 "Photoshop 3.0" segments, whole (markers and lengths included), from the
    /// header segments before the first scan; nil when there are none or the file is not a JPEG.
    public static func jpegIPTC(_ b: [UInt8]) -> [UInt8]? {
        var found: [UInt8] = []
        guard jpegHeaderSegments(b, { marker, segment in
            if marker == 0xED, segment.dropFirst(4).starts(with: "Photoshop 3.0\u{0}".utf8) { found += segment }
        }) != nil else { return nil }
        return found.isEmpty ? nil : found
    }

    /// A JPEG with `segments` (whole APPn segments) inserted after SOI and its JFIF APP0, if any.
    public static func jpeg(_ b: [UInt8], inserting segments: [UInt8]) -> [UInt8]? {
        var at = 2
        var first = true
        guard jpegHeaderSegments(b, { marker, segment in
            if first, marker == 0xE0, segment.dropFirst(4).starts(with: "JFIF\u{0}".utf8) { at = 2 + segment.count }
            first = false
        }) != nil else { return nil }
        return Array(b[..<at]) + segments + Array(b[at...])
    }

    /// Walks a JPEG's segments up to its first scan (SOS), handing each (marker, whole segment) to `visit`;
    /// returns where the scan starts, or nil for a file that is not a well-formed JPEG.
    static func jpegHeaderSegments(_ b: [UInt8], _ visit: (UInt8, ArraySlice<UInt8>) -> Void) -> Int? {
        guard b.count >= 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
        var i = 2
        while i + 3 < b.count {
            guard b[i] == 0xFF else { return nil }
            let m = b[i + 1]
            if m == 0xFF { i += 1; continue }
            if m == 0xDA { return i }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2, i + 2 + length <= b.count else { return nil }
            visit(m, b[i..<(i + 2 + length)])
            i += 2 + length
        }
        return nil
    }

    /// The Orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block, if valid (1...8).
    static func exifOrientation(_ t: [UInt8]) -> UInt16? {
        guard t.count >= 8 else { return nil }
        let little: Bool
        if t[0] == 0x49, t[1] == 0x49 { little = true } else if t[0] == 0x4D, t[1] == 0x4D { little = false } else { return nil }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= t.count else { return nil }
            return little ? Int(t[o]) | Int(t[o + 1]) << 8 : Int(t[o]) << 8 | Int(t[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard let a = u16(o), let b = u16(o + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd), count <= 1000 else { return nil }
        for e in 0..<count {
            let at = ifd + 2 + e * 12
            guard let tag = u16(at) else { return nil }
            if tag == 0x0112 {
                guard u16(at + 2) == 3, let v = u16(at + 8), (1...8).contains(v) else { return nil }
                return UInt16(v)
            }
        }
        return nil
    }

    /// An APP1 segment holding an EXIF block with one tag: Orientation.
    static func minimalEXIF(orientation: UInt16) -> [UInt8] {
        var s: [UInt8] = [0xFF, 0xE1, 0x00, 34]
        s += Array("Exif".utf8) + [0, 0]
        s += [0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08]  // big-endian TIFF header, IFD0 at 8
        s += [0x00, 0x01]  // one entry
        s += [0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, UInt8(orientation >> 8), UInt8(orientation & 0xFF), 0, 0]
        s += [0, 0, 0, 0]  // no next IFD
        return s
    }

    // MARK: - PNG

    /// Ancillary chunks kept: colour, transparency, physical size, animation. Everything else ancillary goes
    /// (`eXIf`, `tEXt`, `zTXt`, `iTXt`, `tIME`, private chunks); critical chunks stay.
    static let keptPNGChunks: Set<String> = ["tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "bKGD", "pHYs", "hIST",
                                             "sPLT", "cICP", "mDCv", "cLLi", "acTL", "fcTL", "fdAT"]

    static func stripPNG(_ b: [UInt8]) -> [UInt8]? {
        guard b.count >= 8 else { return nil }
        var out = Array(b[0..<8])
        out.reserveCapacity(b.count)
        var i = 8
        while i + 12 <= b.count {
            let length = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length <= b.count - i - 12 else { return nil }
            let typeBytes = b[(i + 4)..<(i + 8)]
            guard typeBytes.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else { return nil }
            let type = String(decoding: typeBytes, as: UTF8.self)
            let end = i + 12 + length
            let critical = typeBytes.first! & 0x20 == 0
            if critical || keptPNGChunks.contains(type) { out += b[i..<end] }
            i = end
            if type == "IEND" { return out }
        }
        return nil
    }

    // MARK: - WebP

    /// Drops the EXIF and XMP chunks — and the ICCP chunk unless `keepingProfile` — from the RIFF container and
    /// clears their VP8X flags; nil when the bytes are not a well-formed WebP container. (The image pipeline uses
    /// it too: libvips 8.14.1's webpsave writes an EXIF chunk into every WebP despite `strip`.)
    public static func stripWebP(_ b: [UInt8], keepingProfile: Bool = false) -> [UInt8]? {
        guard b.count >= 12, b[0..<4].elementsEqual("RIFF".utf8), b[8..<12].elementsEqual("WEBP".utf8) else { return nil }
        var out = Array(b[0..<12])
        var i = 12
        while i + 8 <= b.count {
            let size = Int(b[i + 4]) | Int(b[i + 5]) << 8 | Int(b[i + 6]) << 16 | Int(b[i + 7]) << 24
            let end = i + 8 + size + (size & 1)
            guard end <= b.count else { return nil }
            let fourCC = b[i..<i + 4]
            let dropped = keepingProfile ? ["EXIF", "XMP "] : ["EXIF", "XMP ", "ICCP"]
            if !dropped.contains(where: { fourCC.elementsEqual($0.utf8) }) {
                var chunk = Array(b[i..<end])
                // VP8X flags: ICC 0x20, EXIF 0x08, XMP 0x04.
                let flags: UInt8 = keepingProfile ? 0x08 | 0x04 : 0x20 | 0x08 | 0x04
                if fourCC.elementsEqual("VP8X".utf8), chunk.count > 8 { chunk[8] &= ~flags }
                out += chunk
            }
            i = end
        }
        guard i == b.count else { return nil }
        let riffSize = UInt32(out.count - 8)
        out.replaceSubrange(4..<8, with: [UInt8(riffSize & 0xff), UInt8(riffSize >> 8 & 0xff), UInt8(riffSize >> 16 & 0xff), UInt8(riffSize >> 24)])
        return out
    }

    // MARK: - GIF

    /// Drops comment extensions and application extensions other than the looping ones (NETSCAPE2.0,
    /// ANIMEXTS1.0) — XMP travels in one; keeps graphic control, plain text and image blocks; stops at the trailer.
    static func stripGIF(_ b: [UInt8]) -> [UInt8]? {
        guard b.count >= 13 else { return nil }
        var i = 13
        if b[10] & 0x80 != 0 { i += 3 << (Int(b[10] & 0x07) + 1) }
        guard i <= b.count else { return nil }
        var out = Array(b[0..<i])
        out.reserveCapacity(b.count)
        /// The end of the data sub-blocks starting at `at` (just past the zero-length terminator), or nil.
        func subBlocksEnd(_ at: Int) -> Int? {
            var k = at
            while k < b.count {
                let n = Int(b[k])
                if n == 0 { return k + 1 }
                k += 1 + n
            }
            return nil
        }
        while i < b.count {
            switch b[i] {
            case 0x3B:
                out.append(0x3B)
                return out
            case 0x21:
                guard i + 2 < b.count, let end = subBlocksEnd(i + 2) else { return nil }
                let label = b[i + 1]
                var keep = label == 0xF9 || label == 0x01
                if label == 0xFF, i + 14 <= b.count, b[i + 2] == 11 {
                    let app = b[(i + 3)..<(i + 14)]
                    keep = app.elementsEqual("NETSCAPE2.0".utf8) || app.elementsEqual("ANIMEXTS1.0".utf8)
                }
                if keep { out += b[i..<end] }
                i = end
            case 0x2C:
                guard i + 10 <= b.count else { return nil }
                var k = i + 10
                if b[i + 9] & 0x80 != 0 { k += 3 << (Int(b[i + 9] & 0x07) + 1) }
                // LZW minimum code size, then the image data sub-blocks.
                guard k < b.count, let end = subBlocksEnd(k + 1) else { return nil }
                out += b[i..<end]
                i = end
            default:
                return nil
            }
        }
        return nil
    }
}
