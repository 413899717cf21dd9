/// Reads JPEG markers up to the frame header (SOF), without decoding anything: whether the JPEG is progressive
/// (SOF2, SOF6, SOF10, SOF14) and the samples per pixel its components' sampling factors make.
enum JPEGScan {
    struct Frame: Equatable {
        var progressive: Bool
        /// Samples per pixel over the components: 3 for 4:4:4 YCbCr, 1.5 for 4:2:0, 1 for greyscale.
        var samplesPerPixel: Double
    }

    /// The frame header, if one comes before the first scan.
    static func frame(_ b: UnsafeRawBufferPointer) -> Frame? {
        guard b.count > 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
        var i = 2
        // Bounded: at most the header segments, each skipped by its length.
        while i + 4 <= b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }
            switch marker {
            case 0xC0...0xC3, 0xC5...0xC7, 0xC9...0xCB, 0xCD...0xCF:
                // length(2) precision(1) height(2) width(2) Nf(1), then Nf × (id, H<<4|V, table).
                guard i + 10 <= b.count else { return nil }
                let n = Int(b[i + 9])
                guard n > 0, i + 10 + 3 * n <= b.count else { return nil }
                let factors = (0..<n).map { k in (h: Int(b[i + 11 + 3 * k] >> 4), v: Int(b[i + 11 + 3 * k] & 0x0F)) }
                let hMax = factors.map(\.h).max() ?? 1, vMax = factors.map(\.v).max() ?? 1
                guard hMax > 0, vMax > 0 else { return nil }
                return Frame(progressive: [0xC2, 0xC6, 0xCA, 0xCE].contains(marker),
                             samplesPerPixel: factors.reduce(0.0) { $0 + Double($1.h * $1.v) } / Double(hMax * vMax))
            case 0xDA: return nil
            case 0xD0...0xD9, 0x01: i += 2
            default:
                let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
                guard length >= 2 else { return nil }
                i += 2 + length
            }
        }
        return nil
    }
}
