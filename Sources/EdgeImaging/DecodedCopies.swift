internal import CVips
internal import CVipsLib
import EdgeCore
import Foundation

/// Decoded copies of originals kept a few seconds, so that the variants of one original made close together (a
/// srcset) share one decode: each copy is the original decoded at a JPEG DCT scale (1/`shrink`) into memory, and a
/// variant whose size the copy is large enough for is resized from it instead of decoding again. Bounded in bytes
/// and in time; one decode per original at a time (a transform that a decode under way will serve waits for it).
final class DecodedCopies: @unchecked Sendable {
    private struct Copy {
        var image: VImage
        var shrink: Int
        var bytes: Int
        var expires: Double
    }
    private let condition = NSCondition()
    private var copies: [String: Copy] = [:]
    /// Decodes under way, by identity, and the scale each decodes at.
    private var decoding: [String: Int] = [:]
    private var bytes = 0
    /// Copies decoded, and variants made from a copy another one decoded, since start.
    private var decodes = 0
    private var reuses = 0
    let maxBytes: Int
    let lifetime: Double

    init(maxBytes: Int = 64 << 20, lifetime: Double = 5) {
        self.maxBytes = maxBytes
        self.lifetime = lifetime
    }

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Copies and bytes held now; copies decoded and variants made from another's copy, since start.
    var usage: DecodeSharingUsage {
        condition.lock()
        defer { condition.unlock() }
        dropExpired(at: Self.now())
        return DecodeSharingUsage(copies: copies.count, bytes: bytes, decodes: decodes, reuses: reuses)
    }

    /// Whether a copy of `identity` at 1/`needed` or larger is kept.
    func has(_ identity: String, needed: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        dropExpired(at: Self.now())
        return copies[identity].map { $0.shrink <= needed } ?? false
    }

    /// A decoded copy of `identity` at scale 1/`needed` or larger: one kept, one a decode under way makes, or
    /// a new one made by `decode` at 1/`shrink` (`shrink` ≤ `needed`: the scale the largest variant wanted now
    /// needs) and kept.
    func obtain(_ identity: String, needed: Int, shrink: Int,
                decode: (Int) throws(EdgeError) -> VImage) throws(EdgeError) -> VImage {
        condition.lock()
        while true {
            dropExpired(at: Self.now())
            if let copy = copies[identity], copy.shrink <= needed {
                reuses += 1
                condition.unlock()
                return copy.image
            }
            guard let under = decoding[identity], under <= needed else { break }
            condition.wait()
        }
        decoding[identity] = shrink
        decodes += 1
        condition.unlock()
        let made: Result<VImage, EdgeError> = Result { () throws(EdgeError) in try decode(shrink) }
        condition.lock()
        decoding[identity] = nil
        if case .success(let image) = made {
            let size = image.width * image.height * image.bands * max(1, Int(vips_format_sizeof(image.format)))
            if size <= maxBytes {
                if let old = copies.removeValue(forKey: identity) { bytes -= old.bytes }
                // Oldest first out until it fits.
                while bytes + size > maxBytes, let oldest = copies.min(by: { $0.value.expires < $1.value.expires }) {
                    bytes -= oldest.value.bytes
                    copies[oldest.key] = nil
                }
                copies[identity] = Copy(image: image, shrink: shrink, bytes: size, expires: Self.now() + lifetime)
                bytes += size
            }
        }
        condition.broadcast()
        condition.unlock()
        return try made.get()
    }

    private func dropExpired(at now: Double) {
        for (key, copy) in copies where copy.expires <= now {
            bytes -= copy.bytes
            copies[key] = nil
        }
    }
}
