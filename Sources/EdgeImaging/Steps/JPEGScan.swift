/// Reads JPEG markers up to the first scan, to tell a progressive JPEG (SOF2, SOF6, SOF10, SOF14) from a
/// baseline one without decoding anything.
enum JPEGScan {
    static func isProgressive(_ b: UnsafeRawBufferPointer) -> Bool {
        guard b.count > 4, b[0] == 0xFF, b[1] == 0xD8 else { return false }
        var i = 2
        // Bounded: at most the header segments, each skipped by its length.
        while i + 4 <= b.count {
            guard b[i] == 0xFF else { return false }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }
            switch marker {
            case 0xC2, 0xC6, 0xCA, 0xCE: return true
            case 0xC0, 0xC1, 0xC3, 0xC5, 0xC7, 0xC9, 0xCB, 0xCD, 0xDA: return false
            case 0xD0...0xD9, 0x01: i += 2
            default:
                let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
                guard length >= 2 else { return false }
                i += 2 + length
            }
        }
        return false
    }
}
