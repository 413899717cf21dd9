import EdgeCore
@testable import EdgeNode
import EdgeTestSupport
import Testing

/// The request parser and the chunked-body skipper against many mutated inputs (seeded, so a failure
/// reproduces): no input crashes them, and bytes arriving in any pieces give the same outcome as all at once.
@Suite struct RequestParserFuzzTests {
    static let heads = [
        "GET /photo.jpg?w=400&auto=format HTTP/1.1\r\nHost: img.example.com\r\nAccept: image/avif,image/webp,*/*\r\n\r\n",
        "HEAD /a/b.png HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\nTransfer-Encoding: gzip, chunked\nSec-CH-Width: 300\nDPR: 2\n\n",
        "\r\nGET /r HTTP/1.1\r\nHost: a\r\nRange: bytes=0-9\r\nIf-Range: \"e\"\r\nIf-None-Match: \"e\"\r\n\r\n",
    ]
    /// Bytes that matter to HTTP/1.1 framing, and a few that do not.
    static let interesting: [UInt8] = [13, 10, 32, 9, 58, 0, 127, 128, 255, 44, 59, 48, 57, 97, 65, 47, 72]

    static func mutate(_ bytes: [UInt8], _ g: inout SeededGenerator) -> [UInt8] {
        var b = bytes
        for _ in 0..<Int.random(in: 1...4, using: &g) {
            guard !b.isEmpty else { break }
            let at = Int.random(in: 0..<b.count, using: &g)
            switch Int.random(in: 0..<5, using: &g) {
            case 0: b[at] = interesting.randomElement(using: &g)!
            case 1: b.insert(interesting.randomElement(using: &g)!, at: at)
            case 2: b.remove(at: at)
            case 3: b.removeSubrange(at...)
            default:
                // A line repeated (a duplicated header, or a second request line).
                let end = b[at...].firstIndex(of: 10).map { $0 + 1 } ?? b.count
                let start = b[..<at].lastIndex(of: 10).map { $0 + 1 } ?? 0
                b.insert(contentsOf: b[start..<end], at: end)
            }
        }
        return b
    }

    /// The decoder's loop over heads: blank lines dropped, the search carried over between arrivals; the first
    /// outcome that is not "incomplete", with the bytes dropped before it.
    static func firstOutcome(_ bytes: [UInt8], pieces: [Int]) -> (RequestHeadParser.Outcome, dropped: Int) {
        var buffer: [UInt8] = []
        var state = RequestHeadParser.ScanState()
        var dropped = 0
        for piece in arrivals(bytes, pieces: pieces) {
            buffer += piece
            while true {
                let outcome = buffer.withUnsafeBytes { RequestHeadParser.parse($0, state: &state) }
                if case .incomplete(let skip) = outcome {
                    guard skip > 0 else { break }
                    buffer.removeFirst(skip)
                    dropped += skip
                    state = .init()
                    continue
                }
                return (outcome, dropped)
            }
        }
        return (.incomplete(skip: 0), dropped)
    }

    /// `bytes` cut into pieces of the given sizes, the rest in one last piece.
    static func arrivals(_ bytes: [UInt8], pieces: [Int]) -> [ArraySlice<UInt8>] {
        var at = 0
        var out: [ArraySlice<UInt8>] = []
        for size in pieces + [bytes.count] where at < bytes.count {
            let next = min(bytes.count, at + size)
            out.append(bytes[at..<next])
            at = next
        }
        return out
    }

    /// Should never crash, and reach the same outcome from any split of the bytes as from all of them at once;
    /// a head parsed is its own bytes' head, and its target holds no space or control byte.
    @Test func mutatedHeads() {
        var g = SeededGenerator(seed: 0x5eed_4ead)
        var outcomes: [String: Int] = [:]
        for n in 0..<20000 {
            let base = Array(Self.heads[n % Self.heads.count].utf8)
            let bytes = n < Self.heads.count ? base : Self.mutate(base, &g)
            let whole = Self.firstOutcome(bytes, pieces: [])
            let pieces = (0..<Int.random(in: 1...12, using: &g)).map { _ in Int.random(in: 1...9, using: &g) }
            let split = Self.firstOutcome(bytes, pieces: pieces)
            // (Blank lines before a refused head may be dropped or not: the connection closes either way.)
            let heads = if case .head = whole.0 { true } else { false }
            #expect(whole.0 == split.0 && (!heads || whole.dropped == split.dropped),
                    "\(String(decoding: bytes, as: UTF8.self).debugDescription) split \(pieces)")
            switch whole.0 {
            case .head(let head, let length):
                outcomes["head", default: 0] += 1
                let own = Array(bytes[whole.dropped..<(whole.dropped + length)])
                #expect(own.withUnsafeBytes { RequestHeadParser.parse($0) } == .head(head, length: length))
                #expect(!head.target.isEmpty && !head.target.utf8.contains { $0 <= 0x20 || $0 == 0x7F })
                #expect(head.minorVersion == 0 || head.host != nil)
            case .invalid(let e):
                outcomes["\(e.status)", default: 0] += 1
                #expect([400, 413, 414, 431, 505].contains(e.status))
            case .incomplete:
                outcomes["incomplete", default: 0] += 1
            }
        }
        // The mutations reach every kind of outcome, not only one.
        #expect(outcomes["head", default: 0] > 100 && outcomes["400", default: 0] > 100 && outcomes["incomplete", default: 0] > 100,
                "\(outcomes)")
    }

    /// A chunked body of random chunks, extensions and trailers, and its bytes fed in random pieces.
    static func chunkedBody(_ g: inout SeededGenerator) -> [UInt8] {
        var s = ""
        for _ in 0..<Int.random(in: 0...5, using: &g) {
            let size = Int.random(in: 1...300, using: &g)
            s += String(size, radix: 16, uppercase: Bool.random(using: &g))
            if Bool.random(using: &g) { s += ";ext=\(size)" }
            s += Bool.random(using: &g) ? "\r\n" : "\n"
            s += String(repeating: "x", count: size) + "\r\n"
        }
        s += "0\r\n" + (Bool.random(using: &g) ? "X-Check: 1\r\n" : "") + "\r\n"
        return Array(s.utf8)
    }

    static func skip(_ bytes: [UInt8], pieces: [Int]) -> (ChunkedBodySkipper.Step, consumed: Int) {
        var skipper = ChunkedBodySkipper()
        var pending: [UInt8] = []
        var consumed = 0
        for piece in arrivals(bytes, pieces: pieces) {
            pending += piece
            switch pending.withUnsafeBytes({ skipper.consume($0) }) {
            case .more(let n):
                pending.removeFirst(n)
                consumed += n
            case .done(let n): return (.done(consumed: n), consumed + n)
            case .invalid(let e): return (.invalid(e), consumed)
            }
        }
        return (.more(consumed: 0), consumed)
    }

    /// Should end a valid chunked body exactly at its end from any split, and treat mutated bodies the same
    /// whole or split, never crashing.
    @Test func chunkedBodiesInPieces() {
        var g = SeededGenerator(seed: 0xc4_0e4e)
        for n in 0..<10000 {
            let body = Self.chunkedBody(&g)
            let bytes = n % 2 == 0 ? body + Array("GET".utf8) : Self.mutate(body, &g)
            let whole = Self.skip(bytes, pieces: [])
            let pieces = (0..<Int.random(in: 1...20, using: &g)).map { _ in Int.random(in: 1...40, using: &g) }
            let split = Self.skip(bytes, pieces: pieces)
            if n % 2 == 0 { #expect(whole.consumed == body.count) }
            switch (whole.0, split.0) {
            case (.done, .done), (.more, .more): #expect(whole.consumed == split.consumed)
            case (.invalid(let a), .invalid(let b)): #expect(a == b)
            default: Issue.record("whole \(whole), split \(split) for \(String(decoding: bytes, as: UTF8.self).debugDescription)")
            }
        }
    }
}
