import NIOHPACK

/// A request's header block, read in one pass and checked as RFC 9113 requires of a server (§8.2, §8.3): field
/// names lower case tokens, values without NUL, CR or LF and without whitespace at either end; the request
/// pseudo-headers only, each once, all before the regular fields; `:method`, and `:scheme` and `:path` unless the
/// method is CONNECT; no connection-specific field, and `te` only as `trailers`. A block that breaks one of these
/// is malformed (the stream is reset with PROTOCOL_ERROR). The node reads its header blocks here rather than have
/// NIO's HTTP/2 handler validate them: NIO checks the answers the node sends as well (lists it made itself), and
/// looked each field the node uses up by name once more — 15 % of the CPU of an HTTP/2 hit between the two.
struct HTTP2RequestHead: Equatable {
    enum Malformed: Error, Equatable {
        case fieldName(String)
        case fieldValue(String)
        case pseudoHeader(String)
        case connectionSpecific(String)
        case missing(String)
    }

    var method = ""
    var scheme: String?
    /// `:path`, "" for CONNECT (which has none).
    var path = ""
    /// `:authority`, else the `host` field.
    var authority: String?
    var accept: String?
    var ifNoneMatch: String?
    var ifModifiedSince: String?
    var range: String?
    var ifRange: String?
    /// `Sec-CH-Width` (else `Width`), `Sec-CH-DPR` (else `DPR`), `Save-Data`, as the HTTP/1.1 parser takes them.
    var width: String?
    var dpr: String?
    var saveData: String?

    static func parse(_ headers: HPACKHeaders) -> Result<HTTP2RequestHead, Malformed> {
        var head = HTTP2RequestHead()
        var method: String?, path: String?, host: String?, secCHWidth: String?, secCHDPR: String?
        var regular = false
        for (name, value, _) in headers {
            guard Self.isValidValue(value) else { return .failure(.fieldValue(name)) }
            if name.utf8.first == UInt8(ascii: ":") {
                // Pseudo-headers: request ones only, each once, before every regular field.
                guard !regular else { return .failure(.pseudoHeader(name)) }
                switch name {
                case ":method" where method == nil: method = value
                case ":scheme" where head.scheme == nil: head.scheme = value
                case ":path" where path == nil: path = value
                case ":authority" where head.authority == nil: head.authority = value
                default: return .failure(.pseudoHeader(name))
                }
                continue
            }
            regular = true
            guard Self.isValidName(name) else { return .failure(.fieldName(name)) }
            switch name {
            case "accept": join(&head.accept, value)
            case "if-none-match": join(&head.ifNoneMatch, value)
            case "if-modified-since" where head.ifModifiedSince == nil: head.ifModifiedSince = value
            case "range": join(&head.range, value)
            case "if-range": join(&head.ifRange, value)
            case "sec-ch-width": join(&secCHWidth, value)
            case "width": join(&head.width, value)
            case "sec-ch-dpr": join(&secCHDPR, value)
            case "dpr": join(&head.dpr, value)
            case "save-data": join(&head.saveData, value)
            case "host": join(&host, value)
            case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
                return .failure(.connectionSpecific(name))
            case "te" where value != "trailers":
                return .failure(.connectionSpecific(name))
            default: break
            }
        }
        guard let method else { return .failure(.missing(":method")) }
        head.method = method
        if method == "CONNECT" {
            guard path == nil, head.scheme == nil, head.authority != nil else { return .failure(.pseudoHeader(":path")) }
        } else {
            guard head.scheme != nil else { return .failure(.missing(":scheme")) }
            guard let path, !path.isEmpty else { return .failure(.missing(":path")) }
            head.path = path
        }
        if head.authority == nil { head.authority = host }
        if let secCHWidth { head.width = secCHWidth }
        if let secCHDPR { head.dpr = secCHDPR }
        return .success(head)
    }

    /// A repeated field's values joined as one (RFC 9110 §5.3).
    private static func join(_ slot: inout String?, _ value: String) {
        if let first = slot { slot = first + ", " + value } else { slot = value }
    }

    /// A token (RFC 9110 §5.6.2) without upper case letters (RFC 9113 §8.2.1).
    static func isValidName(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { bytes in
            guard !bytes.isEmpty else { return false }
            for c in bytes where !Self.tchar[Int(c)] { return false }
            return true
        }
    }

    /// No NUL, CR or LF, and no space or tab at either end (RFC 9113 §8.2.1).
    static func isValidValue(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { bytes in
            guard let first = bytes.first, let last = bytes.last else { return true }
            if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return false }
            for c in bytes where c == 0 || c == 0x0A || c == 0x0D { return false }
            return true
        }
    }

    private static let tchar: [Bool] = (0..<256).map { c in
        switch UInt8(c) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(UInt8(c))
        }
    }
}
