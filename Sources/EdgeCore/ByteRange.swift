/// A `Range` request header (RFC 9110 §14.2) against a representation of known length, as this node answers it:
/// one byte range gets 206, a range that starts past the end gets 416, anything else (no header, several ranges,
/// other units, bad syntax, an `If-Range` that no longer matches) gets the whole representation with 200. Serving
/// the whole for several ranges is allowed (§14.2: a server may ignore Range) and what Varnish does; it avoids
/// multipart bodies that no image client asks for.
public enum ByteRange: Equatable, Sendable {
    /// Serve the whole representation.
    case whole
    /// Serve `bounds` (inclusive offsets) with 206 and `Content-Range: bytes first-last/length`.
    case partial(ClosedRange<Int>)
    /// 416 with `Content-Range: bytes */length`.
    case unsatisfiable

    /// Longest Range header read; a longer one is ignored (whole representation).
    public static let maxHeaderLength = 256

    /// Decides for `range` (the header's value) on a representation of `length` bytes whose strong entity tag is
    /// `etag`. `ifRange` is the request's `If-Range`: the range applies only when it names `etag` exactly (a
    /// strong comparison, §13.1.5); a date, or a weak or different tag, means the whole representation.
    public static func decide(range: Substring?, ifRange: Substring? = nil, length: Int, etag: String) -> ByteRange {
        guard let range, range.utf8.count <= maxHeaderLength else { return .whole }
        if let ifRange {
            let t = ifRange.trimmedOWS
            guard !t.hasPrefix("W/"), t == etag[...] else { return .whole }
        }
        let value = range.trimmedOWS
        guard value.count > 6, value.prefix(6).lowercased() == "bytes=" else { return .whole }
        let specs = value.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false)
        guard specs.count == 1 else { return .whole }
        let spec = specs[0].trimmedOWS
        guard let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            // Suffix range: the final N bytes.
            guard let n = digits(last) else { return .whole }
            guard n > 0, length > 0 else { return .unsatisfiable }
            return .partial(Swift.max(0, length - n)...(length - 1))
        }
        guard let start = digits(first) else { return .whole }
        var end = length - 1
        if !last.isEmpty {
            guard let e = digits(last), e >= start else { return .whole }
            end = Swift.min(e, length - 1)
        }
        guard start < length else { return .unsatisfiable }
        return .partial(start...end)
    }

    /// A run of ASCII digits as a non-negative Int (saturating: a huge value is Int.max), nil otherwise.
    static func digits(_ s: Substring) -> Int? {
        guard !s.isEmpty, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        var v = 0
        for c in s.utf8 {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(c - 48))
            if o1 || o2 { return Int.max }
            v = a
        }
        return v
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    public var trimmedOWS: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
