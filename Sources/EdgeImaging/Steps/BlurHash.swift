internal import CVips
internal import CVipsLib
import EdgeCore
import Foundation

/// `fm=blurhash`: the BlurHash (Wolt's algorithm, https://github.com/woltapp/blurhash, "Algorithm.md") of the
/// output image, computed from a small thumbnail of it.
enum BlurHash {
    /// Components across and down. imgix's published example hash (54 characters, size flag `e`) uses 5 x 5.
    static let components = (x: 5, y: 5)
    /// The thumbnail the hash is computed from: the hash keeps 5 x 5 cosine components, so more pixels change
    /// nothing visible and cost time (each component is a sum over every pixel).
    static let thumbnailSize: Int32 = 64

    /// The hash of an 8-bit sRGB image with 3 bands (the encoder flattened any alpha onto `bg` before).
    static func encode(_ image: VImage) throws(EdgeError) -> String {
        let small = try image.map { cvips_thumbnail_image($0, &$1, thumbnailSize) }
        var length = 0
        guard let raw = cvips_write_to_memory(small.pointer, &length) else {
            throw .unprocessable(detail: "blurhash: " + VipsRuntime.takeError())
        }
        defer { g_free(raw) }
        let (w, h, bands) = (small.width, small.height, small.bands)
        guard bands >= 3, length == w * h * bands else {
            throw .internalError(detail: "blurhash: unexpected thumbnail layout \(w)x\(h)x\(bands), \(length) bytes")
        }
        let pixels = UnsafeRawBufferPointer(start: raw, count: length)
        return encode(width: w, height: h, bands: bands, components: components) { pixels[$0] }
    }

    /// BlurHash of `width` x `height` pixels, `bands` bytes each (R, G, B first), read through `byte`.
    static func encode(width: Int, height: Int, bands: Int, components: (x: Int, y: Int),
                       byte: (Int) -> UInt8) -> String {
        precondition((1...9).contains(components.x) && (1...9).contains(components.y) && width > 0 && height > 0)
        // Linear light of every pixel, once.
        var linear = [Double](repeating: 0, count: width * height * 3)
        for i in 0..<width * height {
            for c in 0..<3 { linear[i * 3 + c] = sRGBToLinear[Int(byte(i * bands + c))] }
        }
        var factors: [(Double, Double, Double)] = []
        for cy in 0..<components.y {
            for cx in 0..<components.x {
                let normalisation: Double = cx == 0 && cy == 0 ? 1 : 2
                var r = 0.0, g = 0.0, b = 0.0
                for y in 0..<height {
                    let basisY = cos(Double.pi * Double(cy) * Double(y) / Double(height))
                    for x in 0..<width {
                        let basis = cos(Double.pi * Double(cx) * Double(x) / Double(width)) * basisY
                        let i = (y * width + x) * 3
                        r += basis * linear[i]
                        g += basis * linear[i + 1]
                        b += basis * linear[i + 2]
                    }
                }
                let scale = normalisation / Double(width * height)
                factors.append((r * scale, g * scale, b * scale))
            }
        }
        var hash = base83((components.x - 1) + (components.y - 1) * 9, length: 1)
        let ac = factors.dropFirst()
        let maximum: Double
        if ac.isEmpty {
            maximum = 1
            hash += base83(0, length: 1)
        } else {
            let actual = ac.map { max(abs($0.0), abs($0.1), abs($0.2)) }.max() ?? 0
            let quantised = max(0, min(82, Int((actual * 166 - 0.5).rounded(.down))))
            maximum = Double(quantised + 1) / 166
            hash += base83(quantised, length: 1)
        }
        let dc = factors[0]
        hash += base83(linearToSRGB(dc.0) << 16 | linearToSRGB(dc.1) << 8 | linearToSRGB(dc.2), length: 4)
        for f in ac {
            func q(_ v: Double) -> Int {
                max(0, min(18, Int((signedPow(v / maximum, 0.5) * 9 + 9.5).rounded(.down))))
            }
            hash += base83(q(f.0) * 19 * 19 + q(f.1) * 19 + q(f.2), length: 2)
        }
        return hash
    }

    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~")

    static func base83(_ value: Int, length: Int) -> String {
        var out = ""
        for i in 1...length {
            var divisor = 1
            for _ in 0..<(length - i) { divisor *= 83 }
            out.append(alphabet[(value / divisor) % 83])
        }
        return out
    }

    /// sRGB byte → linear light, as the reference encoder computes it.
    static let sRGBToLinear: [Double] = (0..<256).map { i in
        let v = Double(i) / 255
        return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4)
    }

    static func linearToSRGB(_ value: Double) -> Int {
        let v = max(0, min(1, value))
        if v <= 0.0031308 { return Int(v * 12.92 * 255 + 0.5) }
        return Int((1.055 * pow(v, 1 / 2.4) - 0.055) * 255 + 0.5)
    }

    static func signedPow(_ v: Double, _ e: Double) -> Double {
        v < 0 ? -pow(-v, e) : pow(v, e)
    }
}
