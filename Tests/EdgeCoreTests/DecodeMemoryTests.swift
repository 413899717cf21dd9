import EdgeCore
import Testing

/// The decode memory estimate and the admission of decodes against `limits.decodeMemory`.
@Suite struct DecodeMemoryTests {
    let photo = DecodeMemory.Source(width: 4272, height: 2848, bands: 3, layout: .jpeg(progressive: false, samples: 1.5))

    /// Should charge a progressive JPEG its full-size coefficients, whatever the scale it decodes at.
    @Test func progressiveCostsCoefficients() {
        var progressive = photo
        progressive.layout = .jpeg(progressive: true, samples: 1.5)
        let baseline = DecodeMemory.estimate(photo, loadShrink: 4, outputWidth: 500, outputHeight: 333)
        let heavy = DecodeMemory.estimate(progressive, loadShrink: 4, outputWidth: 500, outputHeight: 333)
        #expect(heavy - baseline == Int(4272.0 * 2848 * 1.5 * 2 * 1.25))
        // The 12 MP progressive photo of the thumbor bench: measured 59 MB above the idle node at one decode.
        #expect((50_000_000...70_000_000).contains(heavy))
        // Decoded at 1/4 scale, a baseline JPEG needs a sixteenth of the pixels.
        let full = DecodeMemory.estimate(photo, loadShrink: 1, outputWidth: 500, outputHeight: 333)
        #expect(full - baseline == Int((4272.0 * 2848 * 3 - 1068 * 712 * 3) * 1.25))
    }

    /// Should charge an image decoded whole all its pixels and bytes, one streamed a few lines, and every
    /// request its output size.
    @Test func layouts() {
        let png16 = DecodeMemory.Source(width: 4000, height: 3000, bands: 4, bytesPerSample: 2, layout: .whole)
        var streamed = png16
        streamed.layout = .streamed
        let out = 100 * 100 * 8
        #expect(DecodeMemory.estimate(png16, loadShrink: 1, outputWidth: 100, outputHeight: 100)
                == Int(Double(4000 * 3000 * 8 + out) * 1.25) + DecodeMemory.overhead)
        #expect(DecodeMemory.estimate(streamed, loadShrink: 1, outputWidth: 100, outputHeight: 100)
                == Int(Double(4000 * 8 * 16 + out) * 1.25) + DecodeMemory.overhead)
        let big = DecodeMemory.estimate(streamed, loadShrink: 1, outputWidth: 8000, outputHeight: 8000)
        #expect(big > 8000 * 8000 * 8)
        // Absurd sizes saturate instead of overflowing.
        let huge = DecodeMemory.Source(width: 1 << 40, height: 1 << 40, bands: 4, layout: .whole)
        #expect(DecodeMemory.estimate(huge, loadShrink: 1, outputWidth: 1 << 40, outputHeight: 1 << 40) == Int.max / 2)
    }

    /// Should admit while the budget holds, queue in order after that, and admit the queue as room comes back,
    /// never letting a later small decode pass a waiting large one.
    @Test func admissionInOrder() {
        var a = DecodeMemory.Admission<Int>(capacity: 100, maxWaiting: 3)
        #expect(a.request(1, bytes: 60) == .admitted)
        #expect(a.request(2, bytes: 50) == .waiting)
        #expect(a.request(3, bytes: 10) == .waiting)
        #expect(a.inUse == 60 && a.waiting == 2)
        #expect(a.release(bytes: 60) == [2, 3])
        #expect(a.inUse == 60 && a.waiting == 0)
        #expect(a.request(4, bytes: 51) == .waiting)
        #expect(a.release(bytes: 10) == [])
        #expect(a.release(bytes: 50) == [4])
        #expect(a.inUse == 51)
    }

    /// Should refuse what no wait can admit (413) and what the queue has no room for (503), and let a waiter leave.
    @Test func refusalsAndWithdrawal() {
        var a = DecodeMemory.Admission<Int>(capacity: 100, maxWaiting: 2)
        #expect(a.request(1, bytes: 101) == .tooLarge)
        #expect(a.request(2, bytes: 100) == .admitted)
        #expect(a.request(3, bytes: 80) == .waiting)
        #expect(a.request(4, bytes: 10) == .waiting)
        #expect(a.request(5, bytes: 1) == .overloaded)
        #expect(a.withdraw(9) == (false, []))
        let left = a.withdraw(3)
        #expect(left.wasWaiting && left.admitted.isEmpty)
        #expect(a.release(bytes: 100) == [4])
        #expect(a.inUse == 10 && a.waiting == 0)
    }

    /// Should end with nothing in use and nobody waiting after any interleaving of requests and releases.
    @Test func balances() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<200 {
            var a = DecodeMemory.Admission<Int>(capacity: 1000, maxWaiting: 8)
            var running: [Int: Int] = [:], sizes: [Int: Int] = [:]
            for ticket in 0..<40 {
                let bytes = Int(rng.next() % 400) + 1
                sizes[ticket] = bytes
                if a.request(ticket, bytes: bytes) == .admitted { running[ticket] = bytes }
                if rng.next() % 2 == 0, let (t, b) = running.first {
                    running[t] = nil
                    for admitted in a.release(bytes: b) { running[admitted] = sizes[admitted] }
                }
                #expect(a.inUse == running.values.reduce(0, +) && a.inUse <= 1000)
            }
            while let (t, b) = running.first {
                running[t] = nil
                for admitted in a.release(bytes: b) { running[admitted] = sizes[admitted] }
            }
            #expect(a.inUse == 0 && a.waiting == 0)
        }
    }
}
