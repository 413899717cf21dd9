/// One cached variant: the body and what its responses need. Stored as one LMDB value:
/// `"IE05"`, a little-endian header length, the header fields, then the body (`"IE04"` values, written before
/// entries had a status and passed header lines, are still read: a 200 with none).
public struct CacheEntry: Sendable, Equatable {
    public var contentType: String
    /// Strong validator of the body, quoted (`"…"`).
    public var etag: String
    /// When the origin fetch that produced this entry started (seconds since 1970): purges compare against it.
    public var fetchedAt: Double
    /// Age, lifetime and stale windows (RFC 9111), as the cache policy decided at the fill.
    public var freshness: EntryFreshness
    /// Source name and decoded path the entry was made from (for purge and diagnostics).
    public var source: String
    public var path: String
    /// True when the response varied with the Accept header (`auto=format`).
    public var variesOnAccept: Bool
    /// Client-hint request headers the response varied with (`ch`), as a Vary list: "DPR, Width"; empty if none.
    public var clientHints: String
    /// Cache-Control to send downstream instead of `public, max-age=…` (from the cache policy), if any.
    public var downstreamCacheControl: String?
    /// The origin's `Surrogate-Key` values (purge by tag).
    public var surrogateKeys: [String]
    /// The origin's caching header lines (`CacheDecision.cacheHeaders`: Cache-Control, Date, ETag, Last-Modified…),
    /// kept so that a revalidation can send its validators and merge a 304 into them (RFC 9111 §4.3.4).
    public var originHeaders: [HeaderLine]
    /// The status answered with it: 200 for variants, the origin's for originals and passed-through files, 404 or
    /// 410 for a transform whose original is missing (negative caching).
    public var status: Int
    /// The origin's response header lines every answer from the entry carries (`ResponseHeaderRules`).
    public var responseHeaders: [HeaderLine]
    /// Request fields (lower-case, sorted) the origin's `Vary` named that the key must include
    /// (`RequestHeaderRules.keyedVary`). Stored under an original's plain key with an empty body, an entry with
    /// names is a vary record: the response itself is under the key varied by the request's values of them.
    public var varyNames: [String] = []
    public var body: [UInt8]

    public init(contentType: String, etag: String, fetchedAt: Double, freshness: EntryFreshness, source: String,
                path: String, variesOnAccept: Bool, clientHints: String = "", downstreamCacheControl: String? = nil,
                surrogateKeys: [String] = [], originHeaders: [HeaderLine] = [], status: Int = 200,
                responseHeaders: [HeaderLine] = [], body: [UInt8]) {
        self.contentType = contentType
        self.etag = etag
        self.fetchedAt = fetchedAt
        self.freshness = freshness
        self.source = source
        self.path = path
        self.variesOnAccept = variesOnAccept
        self.clientHints = clientHints
        self.downstreamCacheControl = downstreamCacheControl
        self.surrogateKeys = surrogateKeys
        self.originHeaders = originHeaders
        self.status = status
        self.responseHeaders = responseHeaders
        self.body = body
    }

    /// An entry from a decoded (or refreshed) header and its body.
    public init(header h: Header, body: [UInt8]) {
        self.init(contentType: h.contentType, etag: h.etag, fetchedAt: h.fetchedAt, freshness: h.freshness,
                  source: h.source, path: h.path, variesOnAccept: h.variesOnAccept, clientHints: h.clientHints,
                  downstreamCacheControl: h.downstreamCacheControl, surrogateKeys: h.surrogateKeys,
                  originHeaders: h.originHeaders, status: h.status, responseHeaders: h.responseHeaders, body: body)
        varyNames = h.varyNames
    }

    /// An entry fresh from `fetchedAt` until `expiresAt`, with no stale windows.
    public init(contentType: String, etag: String, fetchedAt: Double, expiresAt: Double, source: String, path: String,
                variesOnAccept: Bool, clientHints: String = "", body: [UInt8]) {
        self.init(contentType: contentType, etag: etag, fetchedAt: fetchedAt,
                  freshness: EntryFreshness(responseTime: fetchedAt, initialAge: 0, lifetime: expiresAt - fetchedAt),
                  source: source, path: path, variesOnAccept: variesOnAccept, clientHints: clientHints, body: body)
    }

    /// When the entry stops being fresh (seconds since 1970).
    public var expiresAt: Double { freshness.freshUntil }

    static let magic: [UInt8] = Array("IE05".utf8)
    /// The form before status and passed header lines.
    static let magic04: [UInt8] = Array("IE04".utf8)

    /// The stored form.
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        header.write(into: &w)
        var out = CacheEntry.magic
        out.reserveCapacity(8 + w.bytes.count + body.count)
        var len = ByteWriter()
        len.u32(UInt32(w.bytes.count))
        out += len.bytes
        out += w.bytes
        out += body
        return out
    }

    /// Everything but the body, read from a stored value without copying the body.
    public struct Header: Sendable, Equatable {
        public var contentType: String
        public var etag: String
        public var fetchedAt: Double
        public var freshness: EntryFreshness
        public var source: String
        public var path: String
        public var variesOnAccept: Bool
        public var clientHints: String
        public var downstreamCacheControl: String?
        public var surrogateKeys: [String]
        public var originHeaders: [HeaderLine]
        public var status: Int = 200
        public var responseHeaders: [HeaderLine] = []
        public var varyNames: [String] = []
        /// Where the body starts within the stored value.
        public var bodyOffset: Int

        public var expiresAt: Double { freshness.freshUntil }

        /// The origin's caching header lines as `CachePolicy` takes them.
        public var originHeaderLines: [(name: String, value: String)] { originHeaders.map { ($0.name, $0.value) } }

        /// The origin's entity tag, if it sent one.
        public var originETag: String? { originHeaders.first { $0.name == "etag" }?.value }
        /// The origin's Last-Modified, if it sent one.
        public var originLastModified: String? { originHeaders.first { $0.name == "last-modified" }?.value }
        /// The origin response's Date (the time of receipt when it sent none).
        public var originDate: String? { originHeaders.first { $0.name == "date" }?.value }

        /// `If-None-Match` / `If-Modified-Since` for revalidating this entry with its origin; empty when the origin
        /// gave no validator (the entry can then only be fetched again).
        public var conditionalHeaders: [(name: String, value: String)] {
            CacheDecision.conditionalHeaders(etag: originETag, lastModified: originLastModified)
        }

        /// This header refreshed by a newer contact with the origin that confirmed (or first sent) the same
        /// representation: its time, freshness and origin-derived fields replace this one's.
        public func refreshed(fetchedAt: Double, freshness: EntryFreshness, originHeaders: [HeaderLine],
                              downstreamCacheControl: String?, surrogateKeys: [String],
                              responseHeaders: [HeaderLine]? = nil) -> Header {
            var h = self
            if let responseHeaders { h.responseHeaders = responseHeaders }
            h.fetchedAt = fetchedAt
            h.freshness = freshness
            h.originHeaders = originHeaders
            h.downstreamCacheControl = downstreamCacheControl
            h.surrogateKeys = surrogateKeys
            return h
        }

        /// True when `other` describes the same origin representation: equal entity tags, or (neither having one)
        /// equal Last-Modified dates. Entries without any validator never match.
        public func sameOriginRepresentation(as other: Header) -> Bool {
            if let a = originETag, let b = other.originETag { return a == b }
            guard originETag == nil, other.originETag == nil, let a = originLastModified else { return false }
            return a == other.originLastModified
        }

        func write(into w: inout ByteWriter) {
            w.string(contentType)
            w.string(etag)
            w.double(fetchedAt)
            for d in [freshness.responseTime, freshness.initialAge, freshness.lifetime, freshness.staleWhileRevalidate,
                      freshness.staleIfError] { w.double(d) }
            w.string(source)
            w.string(path)
            w.u8(variesOnAccept ? 1 : 0)
            w.string(clientHints)
            w.optionalString(downstreamCacheControl)
            w.u32(UInt32(surrogateKeys.count))
            for k in surrogateKeys { w.string(k) }
            w.u32(UInt32(originHeaders.count))
            for line in originHeaders {
                w.string(line.name)
                w.string(line.value)
            }
            w.u32(UInt32(clamping: status))
            w.u32(UInt32(responseHeaders.count))
            for line in responseHeaders {
                w.string(line.name)
                w.string(line.value)
            }
            w.u32(UInt32(varyNames.count))
            for name in varyNames { w.string(name) }
        }

        static func readLines(_ r: inout ByteReader) -> [HeaderLine]? {
            guard let lineCount = r.u32(), lineCount <= 256 else { return nil }
            var lines: [HeaderLine] = []
            for _ in 0..<lineCount {
                guard let n = r.string(), let v = r.string() else { return nil }
                lines.append(HeaderLine(name: n, value: v))
            }
            return lines
        }

        static func read(_ r: inout ByteReader, version04: Bool, bodyOffset: (Int) -> Int) -> Header? {
            guard let ct = r.string(), let etag = r.string(), let fa = r.double(),
                  let rt = r.double(), let ia = r.double(), let lt = r.double(), let swr = r.double(), let sie = r.double(),
                  let src = r.string(), let path = r.string(), let vary = r.u8(), let hints = r.string(),
                  let dcc = r.optionalString(), let keyCount = r.u32(), keyCount <= 4096
            else { return nil }
            var keys: [String] = []
            for _ in 0..<keyCount {
                guard let k = r.string() else { return nil }
                keys.append(k)
            }
            guard let lines = readLines(&r) else { return nil }
            var status = 200
            var passed: [HeaderLine] = []
            var varyNames: [String] = []
            if !version04 {
                guard let s = r.u32(), s >= 100, s <= 999, let p = readLines(&r), let n = r.u32(), n <= 64 else { return nil }
                (status, passed) = (Int(s), p)
                for _ in 0..<n {
                    guard let name = r.string() else { return nil }
                    varyNames.append(name)
                }
            }
            return Header(contentType: ct, etag: etag, fetchedAt: fa,
                          freshness: EntryFreshness(responseTime: rt, initialAge: ia, lifetime: lt,
                                                    staleWhileRevalidate: swr, staleIfError: sie),
                          source: src, path: path, variesOnAccept: vary == 1, clientHints: hints,
                          downstreamCacheControl: dcc ?? nil, surrogateKeys: keys, originHeaders: lines,
                          status: status, responseHeaders: passed, varyNames: varyNames, bodyOffset: bodyOffset(r.offset))
        }
    }

    /// This entry's header, as if decoded from a value whose body starts at offset 0.
    public var header: Header {
        Header(contentType: contentType, etag: etag, fetchedAt: fetchedAt, freshness: freshness, source: source,
               path: path, variesOnAccept: variesOnAccept, clientHints: clientHints,
               downstreamCacheControl: downstreamCacheControl, surrogateKeys: surrogateKeys,
               originHeaders: originHeaders, status: status, responseHeaders: responseHeaders, varyNames: varyNames,
               bodyOffset: 0)
    }

    /// Decodes the header of a stored value; nil when the value is not a well-formed entry.
    public static func decodeHeader(_ raw: UnsafeRawBufferPointer) -> Header? {
        guard raw.count >= 8 else { return nil }
        let version04 = raw.prefix(4).elementsEqual(magic04)
        guard version04 || raw.prefix(4).elementsEqual(magic) else { return nil }
        var r = ByteReader(raw, from: 4)
        guard let hlen = r.u32(), raw.count >= 8 + Int(hlen) else { return nil }
        guard let h = Header.read(&r, version04: version04, bodyOffset: { $0 }), r.offset == 8 + Int(hlen) else { return nil }
        return h
    }

    /// Decodes a whole stored value.
    public static func decode(_ raw: [UInt8]) -> CacheEntry? {
        raw.withUnsafeBytes { buf in
            guard let h = decodeHeader(buf) else { return nil }
            return CacheEntry(header: h, body: Array(buf[h.bodyOffset...]))
        }
    }
}

/// One response header line, name lower-cased.
public struct HeaderLine: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func double(_ v: Double) { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) {
        let u = Array(s.utf8)
        u32(UInt32(u.count))
        bytes += u
    }
    /// Absent is written as a length of 0xFFFFFFFF.
    mutating func optionalString(_ s: String?) {
        if let s { string(s) } else { u32(UInt32.max) }
    }
}

struct ByteReader {
    let raw: UnsafeRawBufferPointer
    var offset: Int
    init(_ raw: UnsafeRawBufferPointer, from offset: Int) { self.raw = raw; self.offset = offset }

    mutating func u8() -> UInt8? {
        guard offset < raw.count else { return nil }
        defer { offset += 1 }
        return raw[offset]
    }
    mutating func u32() -> UInt32? {
        guard offset + 4 <= raw.count else { return nil }
        var v: UInt32 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 4])) }
        offset += 4
        return UInt32(littleEndian: v)
    }
    mutating func double() -> Double? {
        guard offset + 8 <= raw.count else { return nil }
        var v: UInt64 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 8])) }
        offset += 8
        return Double(bitPattern: UInt64(littleEndian: v))
    }
    /// `.some(nil)` for an absent string, nil for a malformed one.
    mutating func optionalString() -> String?? {
        let start = offset
        guard let n = u32() else { return nil }
        if n == UInt32.max { return .some(nil) }
        offset = start
        return string().map { .some($0) }
    }

    mutating func string() -> String? {
        guard let n = u32().map(Int.init), offset + n <= raw.count else { return nil }
        defer { offset += n }
        return String(validating: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + n]), as: UTF8.self)
    }
}
