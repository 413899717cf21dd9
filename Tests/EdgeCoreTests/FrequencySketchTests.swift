@testable import EdgeCore
import EdgeTestSupport
import Testing

@Suite struct FrequencySketchTests {
    /// Should never estimate below the true count, and estimate exactly when the keys are few for its width.
    @Test func estimatesNeverUndercount() {
        var g = SeededGenerator(seed: 7)
        let keys = (0..<2000).map { _ in g.next() }
        var wide = FrequencySketch(width: 1 << 20)
        var narrow = FrequencySketch(width: 1024)
        for (i, key) in keys.enumerated() {
            for _ in 0..<(i % 7 + 1) {
                wide.add(key)
                narrow.add(key)
            }
        }
        var exact = 0
        for (i, key) in keys.enumerated() {
            #expect(Int(narrow.estimate(key)) >= i % 7 + 1)
            if Int(wide.estimate(key)) == i % 7 + 1 { exact += 1 }
        }
        #expect(exact >= 1990)
        #expect(wide.estimate(g.next()) == 0)
    }

    /// Should add several occurrences at once as many single additions would (conservative update), returning
    /// the new estimate, and saturate at 255.
    @Test func addsAndSaturates() {
        var s = FrequencySketch(width: 4096)
        #expect(s.add(42, count: 3) == 3)
        #expect(s.add(42) == 4)
        #expect(s.estimate(42) == 4)
        #expect(s.add(42, count: 250) == 254)
        #expect(s.add(42, count: 9) == 255)
        #expect(s.add(42) == 255 && s.estimate(42) == 255)
        #expect(s.increments == 3 + 1 + 250 + 9 + 1)
    }

    /// Should halve every counter once the increments reach ten times its width, and not before.
    @Test func agesByHalving() {
        var s = FrequencySketch(width: 4096)
        #expect(s.width == 4096 && s.agingPeriod == 40_960)
        s.add(1, count: 100)
        s.add(2, count: 7)
        // One other key makes up the rest (it saturates; a single key cannot cover all four counters of another).
        let rest = s.agingPeriod - 1 - s.increments
        for _ in 0..<rest / 255 { s.add(3, count: 255) }
        s.add(3, count: UInt8(rest % 255))
        s.ageIfDue()
        #expect(s.estimate(1) == 100 && s.increments == s.agingPeriod - 1)
        s.add(3)
        s.ageIfDue()
        #expect(s.estimate(1) == 50 && s.estimate(2) == 3)
        #expect(s.increments == s.agingPeriod / 2)
    }

    /// Should keep every estimate when it grows, and round its width up to a power of two of at least 64.
    @Test func growingKeepsEstimates() {
        var s = FrequencySketch(width: 100)
        #expect(s.width == 128)
        var g = SeededGenerator(seed: 11)
        let keys = (0..<300).map { _ in g.next() }
        for (i, key) in keys.enumerated() { s.add(key, count: UInt8(i % 5 + 1)) }
        let before = keys.map { s.estimate($0) }
        s.grow(toAtLeast: 5000)
        #expect(s.width == 8192 && s.agingPeriod == 81_920)
        #expect(keys.map { s.estimate($0) } == before)
        #expect(FrequencySketch(width: 1).width == 64)
    }
}
