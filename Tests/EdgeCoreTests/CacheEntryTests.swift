import EdgeCore
import EdgeTestSupport
import Testing

@Suite struct CacheEntryTests {
    let entry = CacheEntry(contentType: "image/webp", etag: "\"abc123\"", fetchedAt: 1_700_000_000.25,
                           expiresAt: 1_700_003_600.5, source: "démo", path: "/a/b c.jpg", variesOnAccept: true,
                           body: Array(0...255) + Array(0...255))

    /// Should decode exactly what it encoded.
    @Test func roundTrip() {
        let raw = entry.encoded()
        #expect(Array(raw.prefix(4)) == Array("IE05".utf8))
        #expect(CacheEntry.decode(raw) == entry)
        var withOrigin = entry
        withOrigin.originHeaders = [HeaderLine(name: "etag", value: "\"v1\""), HeaderLine(name: "cache-control", value: "max-age=60")]
        withOrigin.surrogateKeys = ["a", "b"]
        let decoded = CacheEntry.decode(withOrigin.encoded())
        #expect(decoded == withOrigin)
        #expect(decoded?.header.originETag == "\"v1\"")
        #expect(decoded?.header.conditionalHeaders.map(\.name) == ["if-none-match"])
        var other = entry
        other.variesOnAccept = false
        other.body = []
        other.source = ""
        #expect(CacheEntry.decode(other.encoded()) == other)
        // An origin's status and the header lines passed on with it.
        var passed = withOrigin
        passed.status = 410
        passed.responseHeaders = [HeaderLine(name: "link", value: "</a>; rel=preload"), HeaderLine(name: "x-é", value: "ü")]
        #expect(CacheEntry.decode(passed.encoded()) == passed)
        passed.varyNames = ["accept-language", "x-device"]
        #expect(CacheEntry.decode(passed.encoded())?.header.varyNames == ["accept-language", "x-device"])
    }

    /// Should still read values written before entries had a status and passed lines (`IE04`): 200s with none.
    @Test func readsVersion04() throws {
        var old = entry
        old.originHeaders = [HeaderLine(name: "etag", value: "\"v1\"")]
        var raw = old.encoded()
        // The IE05 header ends with the status, a count of 0 passed lines and a count of 0 Vary names: 12 bytes the
        // IE04 form does not have.
        let length = Int(raw[4]) | Int(raw[5]) << 8 | Int(raw[6]) << 16 | Int(raw[7]) << 24
        raw.removeSubrange((8 + length - 12)..<(8 + length))
        let shorter = UInt32(length - 12)
        raw.replaceSubrange(0..<8, with: Array("IE04".utf8) + (0..<4).map { UInt8(truncatingIfNeeded: shorter >> (8 * $0)) })
        let decoded = try #require(CacheEntry.decode(raw))
        #expect(decoded == old)
        #expect(decoded.status == 200 && decoded.responseHeaders.isEmpty)
        // A status out of range is no entry.
        var bad = old
        bad.status = 1_000
        #expect(CacheEntry.decode(bad.encoded()) == nil)
    }

    /// Should decode the header alone and point at the body.
    @Test func headerOnly() throws {
        let raw = entry.encoded()
        let header = try #require(raw.withUnsafeBytes { CacheEntry.decodeHeader($0) })
        #expect(header.contentType == entry.contentType)
        #expect(header.etag == entry.etag)
        #expect(header.fetchedAt == entry.fetchedAt)
        #expect(header.expiresAt == entry.expiresAt)
        #expect(header.source == entry.source)
        #expect(header.path == entry.path)
        #expect(header.variesOnAccept)
        #expect(Array(raw[header.bodyOffset...]) == entry.body)
    }

    /// Should refuse every value cut short inside its header.
    @Test func truncatedHeaderRejected() throws {
        let raw = entry.encoded()
        let header = try #require(raw.withUnsafeBytes { CacheEntry.decodeHeader($0) })
        for n in 0..<header.bodyOffset {
            #expect(CacheEntry.decode(Array(raw.prefix(n))) == nil, "prefix \(n)")
        }
        // Cut inside the body, the header is still whole (the body length is not recorded).
        #expect(CacheEntry.decode(Array(raw.prefix(header.bodyOffset)))?.body == [])
    }

    /// Should refuse garbage, a wrong magic and a header length that does not match the fields.
    @Test func garbageRejected() {
        #expect(CacheEntry.decode([]) == nil)
        #expect(CacheEntry.decode(Array("hello, world, this is not an entry".utf8)) == nil)
        var rng = SeededGenerator(seed: 42)
        for _ in 0..<200 {
            let count = Int.random(in: 0..<200, using: &rng)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(CacheEntry.decode(bytes) == nil)
        }
        var raw = entry.encoded()
        raw[0] = UInt8(ascii: "X")
        #expect(CacheEntry.decode(raw) == nil)

        raw = entry.encoded()
        raw[4] &+= 1  // header length one longer than the fields
        #expect(CacheEntry.decode(raw) == nil)
        raw = entry.encoded()
        raw[4] &-= 1  // one shorter
        #expect(CacheEntry.decode(raw) == nil)
        raw = entry.encoded()
        raw[7] = 0xff  // enormous
        #expect(CacheEntry.decode(raw) == nil)
    }

    /// Should refuse a header whose strings are not UTF-8.
    @Test func invalidUTF8Rejected() throws {
        var raw = entry.encoded()
        // The first string (content type) starts at offset 12, after magic, header length and its own length.
        raw[12] = 0xff
        #expect(CacheEntry.decode(raw) == nil)
    }
}


@Suite struct SingleFlightTests {
    /// Should start a fill for the first join, make later joins wait and hand every waiter back on finish.
    @Test func stateMachine() {
        var flights = SingleFlight<String, Int>()
        #expect(flights.inFlight == 0)
        #expect(flights.join("k", 1) == .startFill)
        #expect(flights.join("k", 2) == .wait)
        #expect(flights.join("k", 3) == .wait)
        #expect(flights.join("other", 10) == .startFill)
        #expect(flights.inFlight == 2)
        #expect(flights.finish("k") == [1, 2, 3])
        #expect(flights.inFlight == 1)
        // A join after the fill ended starts a new one.
        #expect(flights.join("k", 4) == .startFill)
        #expect(flights.join("k", 5) == .wait)
        #expect(flights.finish("k") == [4, 5])
        #expect(flights.finish("other") == [10])
        #expect(flights.inFlight == 0)
    }

    /// Should let a waiter leave a running fill (timed out) without ending the fill for the others.
    @Test func waiterLeaves() {
        var flights = SingleFlight<String, Int>()
        _ = flights.join("k", 1)
        _ = flights.join("k", 2)
        _ = flights.join("k", 3)
        #expect(flights.leave("k") { $0 == 2 } == 2)
        #expect(flights.leave("k") { $0 == 2 } == nil)
        #expect(flights.leave("absent") { _ in true } == nil)
        #expect(flights.inFlight == 1)
        #expect(flights.finish("k") == [1, 3])
        #expect(flights.leave("k") { _ in true } == nil)
    }
}
