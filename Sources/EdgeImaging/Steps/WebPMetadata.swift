/// libvips 8.14.1's webpsave ignores `strip` for EXIF (fixed upstream in 8.14.2, not in Debian 12).
enum WebPMetadata {
    /// libvips 8.14.1's webpsave ignores `strip` for EXIF: it writes a freshly generated EXIF chunk into every
    /// WebP. Drops the EXIF and XMP chunks — and the ICCP chunk unless `keepingProfile` (`cs` asked for one) —
    /// from the RIFF container and clears their VP8X flags; returns the bytes unchanged when they are not a
    /// well-formed WebP container.
    static func strip(_ b: [UInt8], keepingProfile: Bool = false) -> [UInt8] {
        guard b.count >= 12, b[0..<4].elementsEqual("RIFF".utf8), b[8..<12].elementsEqual("WEBP".utf8) else { return b }
        var out = Array(b[0..<12])
        var i = 12
        while i + 8 <= b.count {
            let size = Int(b[i + 4]) | Int(b[i + 5]) << 8 | Int(b[i + 6]) << 16 | Int(b[i + 7]) << 24
            let end = i + 8 + size + (size & 1)
            guard end <= b.count else { return b }
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
        guard i == b.count else { return b }
        let riffSize = UInt32(out.count - 8)
        out.replaceSubrange(4..<8, with: [UInt8(riffSize & 0xff), UInt8(riffSize >> 8 & 0xff), UInt8(riffSize >> 16 & 0xff), UInt8(riffSize >> 24)])
        return out
    }
}
