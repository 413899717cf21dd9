import EdgeCore
import HTTPTypes
import NIOCore
import NIOHPACK

/// What the request core needs of a request, whatever protocol carried it: the adapters (HTTP/1.1, HTTP/2) fill
/// it from their own parsed heads.
struct EdgeRequest: Sendable {
    var method: HTTPRequest.Method
    var uri: String
    var host: Substring?
    var accept: Substring?
    var ifNoneMatch: Substring?
    var ifModifiedSince: Substring? = nil
    /// `Range` and `If-Range` (RFC 9110 §14.2, §13.1.5); honoured for GET only.
    var range: Substring? = nil
    var ifRange: Substring? = nil
    /// Width / DPR / Save-Data request headers (used only where the URL opts in with `ch`).
    var hints = ClientHints()
    /// Every header field as the protocol carried it, read only by the requests that need more than the fields
    /// above (an original's fetch forwards them; an origin's Vary keys on them).
    var fields = RequestFields.none

    /// The request's conditions on the answer: per request, never part of its (remembered) resolution.
    var preconditions: Preconditions {
        Preconditions(ifNoneMatch: ifNoneMatch, ifModifiedSince: ifModifiedSince, range: method == .get ? range : nil,
                      ifRange: ifRange)
    }
}

/// A request's header fields as its protocol adapter received them, kept without copying or parsing (the hit path
/// never reads them): the header section of an HTTP/1.1 head, already checked by its parser, or an HTTP/2 header
/// list.
enum RequestFields: Sendable {
    case none
    case http1(ByteBuffer)
    case http2(HPACKHeaders)

    /// The field lines, names as received, values without surrounding spaces (pseudo-headers left out).
    var lines: [(name: String, value: String)] {
        switch self {
        case .none:
            return []
        case .http1(let section):
            var out: [(name: String, value: String)] = []
            for line in section.readableBytesView.split(separator: UInt8(ascii: "\n")) {
                var bytes = line[...]
                if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
                guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { continue }
                var value = bytes[bytes.index(after: colon)...]
                while let f = value.first, f == 0x20 || f == 0x09 { value = value.dropFirst() }
                while let l = value.last, l == 0x20 || l == 0x09 { value = value.dropLast() }
                out.append((String(decoding: bytes[..<colon], as: UTF8.self), String(decoding: value, as: UTF8.self)))
            }
            return out
        case .http2(let headers):
            return headers.compactMap { $0.name.hasPrefix(":") ? nil : ($0.name, $0.value) }
        }
    }
}

/// If-None-Match, If-Modified-Since, Range and If-Range of one request.
struct Preconditions: Sendable {
    var ifNoneMatch: Substring?
    var ifModifiedSince: Substring?
    var range: Substring?
    var ifRange: Substring?
}
