internal import CVips
internal import CVipsLib
import EdgeCore
import Foundation

/// Decoded copies of originals kept a few seconds, so that the variants of one original made close together (a
/// srcset) share one decode. The first copy of an original is decoded at the JPEG DCT scale (1/`shrink`) the
/// largest variant being made needs; a variant that needs a smaller scale gets a copy at exactly that scale,
/// shrunk from the nearest larger one (a box filter, as the DCT scale-down averages), so each variant is resized
/// from the pixels a fresh decode would give it. Bounded in bytes and in time; one decode per original at a time
/// (a transform that a decode under way will serve waits for it).
final class DecodedCopies: @unchecked Sendable {
    private struct Copy {
        var image: VImage
        var bytes: Int
        var expires: Double
    }
    private let condition = NSCondition()
    /// By original, then by scale (1, 2, 4, 8).
    private var copies: [String: [Int: Copy]] = [:]
    /// Decodes under way, by original, and the scale each decodes at.
    private var decoding: [String: Int] = [:]
    private var bytes = 0
    /// Originals decoded, and variants served by a copy another decoded, since start.
    private var decodes = 0
    private var reuses = 0
    let maxBytes: Int
    let lifetime: Double

    init(maxBytes: Int = 64 << 20, lifetime: Double = 5) {
        self.maxBytes = maxBytes
        self.lifetime = lifetime
    }

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    var usage: DecodeSharingUsage {
        condition.lock()
        defer { condition.unlock() }
        dropExpired(at: Self.now())
        return DecodeSharingUsage(copies: copies.values.reduce(0) { $0 + $1.count }, bytes: bytes, decodes: decodes,
                                  reuses: reuses)
    }

    /// Whether a copy of `identity` at 1/`needed` or larger is kept.
    func has(_ identity: String, needed: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        dropExpired(at: Self.now())
        return copies[identity]?.keys.contains { $0 <= needed } ?? false
    }

    /// A decoded copy of `identity` at exactly 1/`needed`: kept, shrunk from a larger one kept (or one a decode
    /// under way makes), or a new one `decode` makes at 1/`shrink` (`shrink` ≤ `needed`: the scale the largest
    /// variant being made now needs), kept.
    func obtain(_ identity: String, needed: Int, shrink: Int,
                decode: (Int) throws(EdgeError) -> VImage) throws(EdgeError) -> VImage {
        condition.lock()
        defer { condition.unlock() }
        /// Whether this call decoded the copy it then uses (not a reuse of another's).
        var decoded = false
        while true {
            dropExpired(at: Self.now())
            if let exact = copies[identity]?[needed] {
                if !decoded { reuses += 1 }
                return exact.image
            }
            // The nearest larger copy: shrink it to this scale (outside the lock; scales are powers of 2).
            if let (scale, larger) = copies[identity]?.filter({ $0.key < needed }).max(by: { $0.key < $1.key }) {
                if !decoded { reuses += 1 }
                condition.unlock()
                let shrunk = Result { () throws(EdgeError) in
                    try larger.image.map { cvips_shrink_memory($0, Int32(needed / scale), &$1) }
                }
                condition.lock()
                let image = try shrunk.get()
                keep(image, identity, scale: needed)
                return image
            }
            if let under = decoding[identity], under <= needed {
                condition.wait()
                continue
            }
            // Decode (outside the lock), keep, and take this scale from it on the next pass; a copy too large to keep
            // is used as it is.
            decoding[identity] = shrink
            decodes += 1
            decoded = true
            condition.unlock()
            let made = Result { () throws(EdgeError) in try decode(shrink) }
            condition.lock()
            decoding[identity] = nil
            condition.broadcast()
            let image = try made.get()
            keep(image, identity, scale: shrink)
            if shrink == needed { return image }
            // Too large to keep: shrunk for this one alone. Kept: the next pass shrinks it to this scale.
            if copies[identity]?[shrink] == nil { return try image.map { cvips_shrink_memory($0, Int32(needed / shrink), &$1) } }
        }
    }

    /// Keeps a copy (lock held), oldest out first until it fits; one larger than the bound is not kept.
    private func keep(_ image: VImage, _ identity: String, scale: Int) {
        let size = image.width * image.height * image.bands * max(1, Int(vips_format_sizeof(image.format)))
        guard size <= maxBytes else { return }
        if let old = copies[identity]?.removeValue(forKey: scale) { bytes -= old.bytes }
        while bytes + size > maxBytes, let oldest = copies.flatMap({ id, byScale in byScale.map { (id, $0.key, $0.value.expires) } })
            .min(by: { $0.2 < $1.2 }) {
            bytes -= copies[oldest.0]![oldest.1]!.bytes
            copies[oldest.0]![oldest.1] = nil
            if copies[oldest.0]!.isEmpty { copies[oldest.0] = nil }
        }
        copies[identity, default: [:]][scale] = Copy(image: image, bytes: size, expires: Self.now() + lifetime)
        bytes += size
    }

    private func dropExpired(at now: Double) {
        for (id, byScale) in copies {
            for (scale, copy) in byScale where copy.expires <= now {
                bytes -= copy.bytes
                copies[id]![scale] = nil
            }
            if copies[id]!.isEmpty { copies[id] = nil }
        }
    }
}
