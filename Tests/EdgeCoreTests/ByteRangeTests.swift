import EdgeCore
import Testing

@Suite struct ByteRangeTests {
    let tag = "\"abc\""

    func decide(_ range: String?, ifRange: String? = nil, length: Int = 1000) -> ByteRange {
        ByteRange.decide(range: range.map { Substring($0) }, ifRange: ifRange.map { Substring($0) }, length: length, etag: tag)
    }

    /// Should answer the three single-range forms of RFC 9110 §14.1.2, clipping the end to the length.
    @Test func singleRanges() {
        #expect(decide("bytes=0-499") == .partial(0...499))
        #expect(decide("bytes=500-") == .partial(500...999))
        #expect(decide("bytes=-200") == .partial(800...999))
        #expect(decide("bytes=-5000") == .partial(0...999))
        #expect(decide("bytes=900-5000") == .partial(900...999))
        #expect(decide("BYTES=0-0") == .partial(0...0))
        #expect(decide(" bytes=1-2 ") == .partial(1...2))
        #expect(decide("bytes=999-999") == .partial(999...999))
        #expect(decide("bytes=0-99999999999999999999999") == .partial(0...999))
    }

    /// Should refuse ranges that start past the end (416), including an empty suffix and any range of nothing.
    @Test func unsatisfiable() {
        #expect(decide("bytes=1000-") == .unsatisfiable)
        #expect(decide("bytes=5000-6000") == .unsatisfiable)
        #expect(decide("bytes=-0") == .unsatisfiable)
        #expect(decide("bytes=0-", length: 0) == .unsatisfiable)
        #expect(decide("bytes=99999999999999999999-") == .unsatisfiable)
    }

    /// Should serve the whole representation for no header, bad syntax, other units and several ranges.
    @Test func wholeRepresentation() {
        for header in [nil, "", "bytes=", "bytes=a-b", "bytes=5-1", "items=0-1", "bytes=0-1,5-6", "bytes=1", "bytes=--1",
                       "bytes=+1-2", "bytes=0x1-2", String(repeating: "bytes=0-1", count: 40)] {
            #expect(decide(header) == .whole, "\(header ?? "nil")")
        }
    }

    /// Should honour If-Range only when it names the current strong tag.
    @Test func ifRange() {
        #expect(decide("bytes=0-9", ifRange: tag) == .partial(0...9))
        #expect(decide("bytes=0-9", ifRange: " \(tag) ") == .partial(0...9))
        #expect(decide("bytes=0-9", ifRange: "\"other\"") == .whole)
        #expect(decide("bytes=0-9", ifRange: "W/\(tag)") == .whole)
        #expect(decide("bytes=0-9", ifRange: "Tue, 15 Nov 1994 08:12:31 GMT") == .whole)
    }
}
