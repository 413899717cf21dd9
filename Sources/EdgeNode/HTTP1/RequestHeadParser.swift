import EdgeCore
import NIOCore
import NIOHTTP1

/// What the edge front needs of one HTTP/1.1 request head (RFC 9112), parsed from its bytes: the request line, the
/// few header fields the node acts on, whether the connection persists, and how the request's body (which the
/// edge never uses) is framed so it can be skipped.
struct RequestHead: Equatable, Sendable {
    /// How the body after the head is framed (RFC 9112 §6.3).
    enum Body: Equatable, Sendable {
        case none
        case length(Int)
        case chunked
    }

    var method: HTTPMethod
    var target: String
    /// 0 for HTTP/1.0; 1 for HTTP/1.1 (and any later 1.x, answered as 1.1).
    var minorVersion: Int
    var keepAlive: Bool
    var body: Body = .none
    var host: String?
    var accept: String?
    var ifNoneMatch: String?
    var ifModifiedSince: String?
    var range: String?
    var ifRange: String?
    /// `Sec-CH-Width` (else `Width`), `Sec-CH-DPR` (else `DPR`), `Save-Data`.
    var width: String?
    var dpr: String?
    var saveData: String?
    /// Where the header section (every field line, without the request line and the blank line) lies in the
    /// head's bytes, and those bytes once the decoder has them: read only when a request needs its other fields.
    var sectionRange: Range<Int> = 0..<0
    var section: ByteBuffer?
}

/// Parses a request head from bytes — the edge front's own HTTP/1.1 request parser, strict where request
/// smuggling lives and lean where a hit is answered:
///
/// - The request line is `method SP request-target SP HTTP/1.x`, single spaces; a method is a token, a target has
///   no spaces or control bytes. HTTP/1.0 and 1.1 are served (a later 1.x as 1.1); another major version is 505.
/// - Header lines are `name: value`; a name is a token directly followed by its colon (whitespace before the colon
///   is 400, RFC 9112 §5.1), a value has no control bytes but tab; a line starting with whitespace (obs-fold)
///   is 400. Lines end with CRLF or a bare LF (§2.2); a CR anywhere else is 400.
/// - An HTTP/1.1 request needs exactly one `Host` (§3.2). `Content-Length` must be digits, repeated only with the
///   same value; `Transfer-Encoding` must end with `chunked`, and never comes with `Content-Length` or in an
///   HTTP/1.0 request (§6.1, §6.3): anything else is 400.
/// - Limits: a target over `maxTargetBytes` is 414, a header section over `maxHeaderBytes` or `maxFields` lines
///   is 431, a body over `maxBodyBytes` is 413.
///
/// Only the fields the node uses become strings; every other field is checked and passed over.
enum RequestHeadParser {
    static let maxTargetBytes = 8192
    static let maxHeaderBytes = 16384
    static let maxFields = 100
    /// The longest method accepted (the longest registered one is 17 bytes).
    static let maxMethodBytes = 32
    /// Request bodies are skipped, never used: beyond this, 413 and the connection closed.
    static let maxBodyBytes = 1 << 20
    /// Longest a head can be: the request line's parts and the header section at their limits.
    static let maxHeadBytes = maxMethodBytes + maxTargetBytes + 16 + maxHeaderBytes

    enum Outcome: Equatable {
        /// The head is not complete yet (or the bytes before it were blank lines: `skip` of them may go).
        case incomplete(skip: Int)
        /// A complete head of `length` bytes (blank lines before it included).
        case head(RequestHead, length: Int)
        case invalid(EdgeError)
    }

    /// Where the search for the end of an incomplete head left off, so that a head arriving a few bytes at a time
    /// is searched once, not once per arrival.
    struct ScanState: Equatable {
        /// Where the next search starts.
        var resume = 0
        /// The end of the first line, once seen.
        var firstLF: Int?
    }

    /// Finds the end of the head in `p`: the offset just past the blank line that ends it, searching from where
    /// `state` left off on a shorter prefix of the same bytes.
    static func findEnd(_ p: UnsafeRawBufferPointer, state: inout ScanState) -> Int? {
        var i = state.resume
        let n = p.count
        defer { state.resume = min(i, n) }
        while i < n {
            guard p[i] == lf else { i += 1; continue }
            if state.firstLF == nil { state.firstLF = i }
            if i + 1 >= n { return nil }
            if p[i + 1] == lf { return i + 2 }
            if p[i + 1] == cr {
                if i + 2 >= n { return nil }
                if p[i + 2] == lf { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// Parses the head at the start of `p`, all at once (for tests: the decoder carries a `ScanState`).
    static func parse(_ p: UnsafeRawBufferPointer) -> Outcome {
        var state = ScanState()
        return parse(p, state: &state)
    }

    /// Parses the head at the start of `p` (the bytes received on the connection and not yet consumed); `state`
    /// carries the search over from the call before, on a prefix of these bytes. After `.incomplete(skip:)` with
    /// a non-zero skip, the caller drops those bytes and starts over with a fresh state.
    static func parse(_ p: UnsafeRawBufferPointer, state: inout ScanState) -> Outcome {
        // Blank lines before a request line are ignored (RFC 9112 §2.2).
        var start = 0
        while start < p.count {
            if p[start] == lf { start += 1; continue }
            if p[start] == cr, start + 1 < p.count {
                guard p[start + 1] == lf else { return .invalid(malformed) }
                start += 2
                continue
            }
            break
        }
        if start > 0 { return .incomplete(skip: start) }
        guard let end = findEnd(p, state: &state) else {
            // Bounded: a head that cannot fit the limits is refused before it is complete.
            let lineLimit = maxMethodBytes + maxTargetBytes + 16
            if (state.firstLF ?? p.count) > lineLimit { return .invalid(.uriTooLong) }
            if p.count > maxHeadBytes { return .invalid(.headersTooLarge) }
            return .incomplete(skip: 0)
        }
        switch parseHead(UnsafeRawBufferPointer(rebasing: p[0..<end])) {
        case .success(let head): return .head(head, length: end)
        case .failure(let error): return .invalid(error)
        }
    }

    private static let malformed = EdgeError.badRequest("malformed HTTP request")
    static let bodyTooLarge = EdgeError.payloadTooLarge("request body too large")

    /// Parses a complete head: `p` ends with its blank line.
    private static func parseHead(_ p: UnsafeRawBufferPointer) -> Result<RequestHead, EdgeError> {
        let n = p.count
        // Request line: method.
        var i = 0
        while i < n, isTchar(p[i]) { i += 1 }
        guard i > 0, i <= maxMethodBytes, i < n, p[i] == sp else {
            return .failure(i > maxMethodBytes ? .badRequest("method too long") : malformed)
        }
        let method = methodFrom(UnsafeRawBufferPointer(rebasing: p[0..<i]))
        // Request target.
        i += 1
        let targetStart = i
        while i < n, isTargetByte(p[i]) { i += 1 }
        let targetEnd = i
        if targetEnd - targetStart > maxTargetBytes { return .failure(.uriTooLong) }
        guard targetEnd > targetStart, i < n, p[i] == sp else { return .failure(malformed) }
        i += 1
        // Version: HTTP/d.d, then the line's end.
        guard i + 8 <= n, p[i] == 0x48, p[i + 1] == 0x54, p[i + 2] == 0x54, p[i + 3] == 0x50, p[i + 4] == 0x2F,
              isDigit(p[i + 5]), p[i + 6] == 0x2E, isDigit(p[i + 7]) else { return .failure(malformed) }
        let major = Int(p[i + 5] - 0x30), minor = Int(p[i + 7] - 0x30)
        i += 8
        guard let afterLine = lineEnd(p, i) else { return .failure(malformed) }
        i = afterLine
        guard major == 1 else { return .failure(.httpVersionNotSupported) }
        var head = RequestHead(method: method, target: string(p, targetStart, targetEnd),
                               minorVersion: min(minor, 1), keepAlive: minor >= 1)
        // Header section.
        let sectionStart = i
        var fields = 0
        var hosts = 0
        var contentLength: Int?
        var transferEncoding: String?
        var connectionClose = false, connectionKeepAlive = false
        var secWidth: String?, secDPR: String?
        while true {
            // The blank line ending the head.
            if let after = lineEnd(p, i) {
                head.sectionRange = sectionStart..<i
                i = after
                break
            }
            guard i < n else { return .failure(malformed) }
            if p[i] == sp || p[i] == tab { return .failure(.badRequest("folded header lines are not accepted")) }
            fields += 1
            if fields > maxFields { return .failure(.headersTooLarge) }
            let nameStart = i
            while i < n, isTchar(p[i]) { i += 1 }
            let nameEnd = i
            guard nameEnd > nameStart, i < n, p[i] == colon else { return .failure(malformed) }
            i += 1
            while i < n, p[i] == sp || p[i] == tab { i += 1 }
            let valueStart = i
            var valueEnd = i
            while i < n, p[i] != cr, p[i] != lf {
                let b = p[i]
                guard b == tab || b >= 0x20, b != 0x7F else { return .failure(malformed) }
                if b != sp && b != tab { valueEnd = i + 1 }
                i += 1
            }
            guard let after = lineEnd(p, i) else { return .failure(malformed) }
            i = after
            if i - sectionStart > maxHeaderBytes { return .failure(.headersTooLarge) }
            let name = UnsafeRawBufferPointer(rebasing: p[nameStart..<nameEnd])
            switch nameEnd - nameStart {
            case 3 where matches(name, "dpr"):
                if head.dpr == nil { head.dpr = string(p, valueStart, valueEnd) }
            case 4 where matches(name, "host"):
                hosts += 1
                head.host = string(p, valueStart, valueEnd)
            case 5 where matches(name, "range"):
                if head.range == nil { head.range = string(p, valueStart, valueEnd) }
            case 5 where matches(name, "width"):
                if head.width == nil { head.width = string(p, valueStart, valueEnd) }
            case 6 where matches(name, "accept"):
                head.accept = combined(head.accept, string(p, valueStart, valueEnd))
            case 8 where matches(name, "if-range"):
                if head.ifRange == nil { head.ifRange = string(p, valueStart, valueEnd) }
            case 9 where matches(name, "save-data"):
                if head.saveData == nil { head.saveData = string(p, valueStart, valueEnd) }
            case 10 where matches(name, "connection"):
                for token in string(p, valueStart, valueEnd).lowercased().split(separator: ",") {
                    let t = token.trimmedOWS
                    if t == "close" { connectionClose = true } else if t == "keep-alive" { connectionKeepAlive = true }
                }
            case 10 where matches(name, "sec-ch-dpr"):
                if secDPR == nil { secDPR = string(p, valueStart, valueEnd) }
            case 12 where matches(name, "sec-ch-width"):
                if secWidth == nil { secWidth = string(p, valueStart, valueEnd) }
            case 13 where matches(name, "if-none-match"):
                head.ifNoneMatch = combined(head.ifNoneMatch, string(p, valueStart, valueEnd))
            case 14 where matches(name, "content-length"):
                // `1*DIGIT`, or a list of one value repeated (RFC 9110 §8.6); anything else is 400.
                for item in string(p, valueStart, valueEnd).split(separator: ",", omittingEmptySubsequences: false) {
                    let digits = item.trimmedOWS
                    guard !digits.isEmpty, digits.utf8.count <= 18, digits.utf8.allSatisfy(isDigit),
                          let value = Int(digits), contentLength == nil || contentLength == value else {
                        return .failure(.badRequest("invalid Content-Length"))
                    }
                    contentLength = value
                }
            case 17 where matches(name, "if-modified-since"):
                if head.ifModifiedSince == nil { head.ifModifiedSince = string(p, valueStart, valueEnd) }
            case 17 where matches(name, "transfer-encoding"):
                transferEncoding = combined(transferEncoding, string(p, valueStart, valueEnd))
            default:
                break
            }
        }
        guard i == n else { return .failure(malformed) }
        if hosts > 1 { return .failure(.badRequest("more than one Host header")) }
        if hosts == 0 && head.minorVersion >= 1 { return .failure(.badRequest("Host header missing")) }
        if let secWidth { head.width = secWidth }
        if let secDPR { head.dpr = secDPR }
        head.keepAlive = head.minorVersion >= 1 ? !connectionClose : connectionKeepAlive && !connectionClose
        if let te = transferEncoding {
            // A request with both can be read two ways by two servers: refused (RFC 9112 §6.3, item 3).
            guard contentLength == nil else { return .failure(.badRequest("both Transfer-Encoding and Content-Length")) }
            guard head.minorVersion >= 1 else { return .failure(.badRequest("Transfer-Encoding in an HTTP/1.0 request")) }
            guard te.lowercased().split(separator: ",").last?.trimmedOWS == "chunked" else {
                return .failure(.badRequest("Transfer-Encoding must end with chunked"))
            }
            head.body = .chunked
        } else if let length = contentLength, length > 0 {
            guard length <= maxBodyBytes else { return .failure(bodyTooLarge) }
            head.body = .length(length)
        }
        return .success(head)
    }

    /// If a line ends at `i` (CRLF or a bare LF), the offset after it.
    private static func lineEnd(_ p: UnsafeRawBufferPointer, _ i: Int) -> Int? {
        guard i < p.count else { return nil }
        if p[i] == lf { return i + 1 }
        if p[i] == cr, i + 1 < p.count, p[i + 1] == lf { return i + 2 }
        return nil
    }

    private static func combined(_ earlier: String?, _ value: String) -> String {
        earlier.map { $0 + ", " + value } ?? value
    }

    private static func string(_ p: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: p[from..<to]), as: UTF8.self)
    }

    private static func methodFrom(_ m: UnsafeRawBufferPointer) -> HTTPMethod {
        if m.count == 3, m[0] == 0x47, m[1] == 0x45, m[2] == 0x54 { return .GET }
        if m.count == 4, m[0] == 0x48, m[1] == 0x45, m[2] == 0x41, m[3] == 0x44 { return .HEAD }
        return HTTPMethod(rawValue: String(decoding: m, as: UTF8.self))
    }

    /// Whether a header name (a token) is `lower`, ignoring ASCII case. Only letters, digits and `-` are in
    /// `lower`, and no token byte but those folds onto them.
    private static func matches(_ name: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        lower.withUTF8Buffer { l in
            guard l.count == name.count else { return false }
            for k in 0..<l.count where name[k] | 0x20 != l[k] { return false }
            return true
        }
    }

    /// A request target's bytes: visible ASCII and any byte above it (left to the URL's own checks), no
    /// space, control byte or DEL.
    @inline(__always) private static func isTargetByte(_ b: UInt8) -> Bool { b > 0x20 && b != 0x7F }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    private static let cr: UInt8 = 13, lf: UInt8 = 10, sp: UInt8 = 32, tab: UInt8 = 9, colon: UInt8 = 58
}

/// Skips a chunked request body (RFC 9112 §7.1) as its bytes arrive: chunk sizes, extensions, data and trailer
/// lines are checked for framing and passed over; the data is never kept.
struct ChunkedBodySkipper: Equatable {
    /// Longest chunk-size line (with extensions) or trailer line accepted.
    static let maxLineBytes = 4096

    private enum Phase: Equatable {
        case sizeLine
        case data(remaining: Int)
        case dataEnd
        case trailers
    }

    enum Step: Equatable {
        /// `consumed` bytes were passed over; more are needed.
        case more(consumed: Int)
        /// The body ended after `consumed` bytes.
        case done(consumed: Int)
        case invalid(EdgeError)
    }

    private static let malformed = EdgeError.badRequest("malformed chunked body")

    private var phase = Phase.sizeLine
    private var total = 0
    private var trailerBytes = 0

    mutating func consume(_ p: UnsafeRawBufferPointer) -> Step {
        var i = 0
        let n = p.count
        while true {
            switch phase {
            case .sizeLine, .trailers:
                guard let lf = UnsafeRawBufferPointer(rebasing: p[i...]).firstIndex(of: 10).map({ $0 + i }) else {
                    return n - i > Self.maxLineBytes ? .invalid(.badRequest("chunk line too long")) : .more(consumed: i)
                }
                var lineEnd = lf
                if lineEnd > i, p[lineEnd - 1] == 13 { lineEnd -= 1 }
                let line = UnsafeRawBufferPointer(rebasing: p[i..<lineEnd])
                guard lineEnd - i <= Self.maxLineBytes, !line.contains(13) else {
                    return .invalid(Self.malformed)
                }
                i = lf + 1
                if phase == .trailers {
                    if line.isEmpty { return .done(consumed: i) }
                    trailerBytes += line.count
                    guard trailerBytes <= RequestHeadParser.maxHeaderBytes,
                          let colon = line.firstIndex(of: 58), colon > 0,
                          line[..<colon].allSatisfy(isTchar) else {
                        return .invalid(Self.malformed)
                    }
                    continue
                }
                // chunk-size [ BWS ";" chunk-ext ]: hex digits, then nothing, or `;` after optional whitespace.
                var size = 0, digits = 0
                for b in line {
                    guard let v = PercentDecoding.hexValue(b) else { break }
                    digits += 1
                    size = size * 16 + Int(v)
                    guard size <= RequestHeadParser.maxBodyBytes else {
                        return .invalid(RequestHeadParser.bodyTooLarge)
                    }
                }
                guard digits > 0 else { return .invalid(Self.malformed) }
                guard line[digits...].first(where: { $0 != 0x20 && $0 != 0x09 }).map({ $0 == 0x3B }) ?? true else {
                    return .invalid(Self.malformed)
                }
                total += size
                guard total <= RequestHeadParser.maxBodyBytes else { return .invalid(RequestHeadParser.bodyTooLarge) }
                phase = size == 0 ? .trailers : .data(remaining: size)
            case .data(let remaining):
                let take = min(remaining, n - i)
                i += take
                if take < remaining {
                    phase = .data(remaining: remaining - take)
                    return .more(consumed: i)
                }
                phase = .dataEnd
            case .dataEnd:
                guard i < n else { return .more(consumed: i) }
                if p[i] == 10 {
                    i += 1
                } else if p[i] == 13 {
                    guard i + 1 < n else { return .more(consumed: i) }
                    guard p[i + 1] == 10 else { return .invalid(Self.malformed) }
                    i += 2
                } else {
                    return .invalid(Self.malformed)
                }
                phase = .sizeLine
            }
        }
    }

}

/// The edge front's request decoder: the connection's bytes become requests (`RequestHeadParser`), their bodies
/// are skipped as they arrive (`Content-Length` counted off, chunked bodies through `ChunkedBodySkipper`), and
/// the first framing error becomes `.invalid`, after which every byte is dropped (the handler answers and closes).
/// The connection handler calls it directly on the bytes it receives (no decoder handler in between, no boxing of
/// each request on its way down the pipeline).
struct EdgeRequestDecoder {
    enum Message: Equatable {
        case request(RequestHead)
        case invalid(EdgeError)
    }

    private enum State {
        case head(RequestHeadParser.ScanState)
        case length(remaining: Int)
        case chunked(ChunkedBodySkipper)
        case failed
    }

    private var state = State.head(.init())

    /// Whether a request's body is being skipped (its head has been taken, its last bytes not yet received).
    var isSkippingBody: Bool {
        switch state {
        case .length, .chunked: true
        case .head, .failed: false
        }
    }

    /// The next request (or refusal) from the bytes at the front of `buffer`, consuming what it used and any body
    /// skipped; nil when more bytes are needed (a partial head stays in `buffer`).
    mutating func next(_ buffer: inout ByteBuffer) -> Message? {
        while true {
            switch state {
            case .failed:
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return nil
            case .length(let remaining):
                let take = min(remaining, buffer.readableBytes)
                buffer.moveReaderIndex(forwardBy: take)
                guard take == remaining else {
                    state = .length(remaining: remaining - take)
                    return nil
                }
                state = .head(.init())
            case .chunked(var skipper):
                switch buffer.withUnsafeReadableBytes({ skipper.consume($0) }) {
                case .more(let consumed):
                    buffer.moveReaderIndex(forwardBy: consumed)
                    state = .chunked(skipper)
                    return nil
                case .done(let consumed):
                    buffer.moveReaderIndex(forwardBy: consumed)
                    state = .head(.init())
                case .invalid(let error):
                    return fail(error, buffer: &buffer)
                }
            case .head(var scan):
                guard buffer.readableBytes > 0 else { return nil }
                switch buffer.withUnsafeReadableBytes({ RequestHeadParser.parse($0, state: &scan) }) {
                case .incomplete(let skip):
                    if skip > 0 {
                        buffer.moveReaderIndex(forwardBy: skip)
                        state = .head(.init())
                        continue
                    }
                    state = .head(scan)
                    return nil
                case .head(var head, let length):
                    // A view of the header section (no copy), for the rare request that needs its other fields.
                    head.section = buffer.getSlice(at: buffer.readerIndex + head.sectionRange.lowerBound,
                                                   length: head.sectionRange.count)
                    buffer.moveReaderIndex(forwardBy: length)
                    switch head.body {
                    case .none: state = .head(.init())
                    case .length(let n): state = .length(remaining: n)
                    case .chunked: state = .chunked(ChunkedBodySkipper())
                    }
                    return .request(head)
                case .invalid(let error):
                    return fail(error, buffer: &buffer)
                }
            }
        }
    }

    private mutating func fail(_ error: EdgeError, buffer: inout ByteBuffer) -> Message {
        state = .failed
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .invalid(error)
    }
}
