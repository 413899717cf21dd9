/// One cached variant: the body and what its responses need. Stored as one LMDB value:
/// `"IE02"`, a little-endian header length, the header fields, then the body.
public struct CacheEntry: Sendable, Equatable {
    public var contentType: String
    /// Strong validator, quoted (`"…"`).
    public var etag: String
    /// When the origin fetch that produced this entry started (seconds since 1970).
    public var fetchedAt: Double
    /// When the entry stops being fresh (seconds since 1970).
    public var expiresAt: Double
    /// Source name and decoded path the entry was made from (for purge and diagnostics).
    public var source: String
    public var path: String
    /// True when the response varied with the Accept header (`auto=format`).
    public var variesOnAccept: Bool
    /// Client-hint request headers the response varied with (`ch`), as a Vary list: "DPR, Width"; empty if none.
    public var clientHints: String
    public var body: [UInt8]

    public init(contentType: String, etag: String, fetchedAt: Double, expiresAt: Double, source: String, path: String,
                variesOnAccept: Bool, clientHints: String = "", body: [UInt8]) {
        self.contentType = contentType
        self.etag = etag
        self.fetchedAt = fetchedAt
        self.expiresAt = expiresAt
        self.source = source
        self.path = path
        self.variesOnAccept = variesOnAccept
        self.clientHints = clientHints
        self.body = body
    }

    static let magic: [UInt8] = Array("IE02".utf8)

    /// The stored form.
    public func encoded() -> [UInt8] {
        var header = ByteWriter()
        header.string(contentType)
        header.string(etag)
        header.double(fetchedAt)
        header.double(expiresAt)
        header.string(source)
        header.string(path)
        header.u8(variesOnAccept ? 1 : 0)
        header.string(clientHints)
        var out = CacheEntry.magic
        out.reserveCapacity(8 + header.bytes.count + body.count)
        var len = ByteWriter()
        len.u32(UInt32(header.bytes.count))
        out += len.bytes
        out += header.bytes
        out += body
        return out
    }

    /// Everything but the body, read from a stored value without copying the body.
    public struct Header: Sendable, Equatable {
        public var contentType: String
        public var etag: String
        public var fetchedAt: Double
        public var expiresAt: Double
        public var source: String
        public var path: String
        public var variesOnAccept: Bool
        public var clientHints: String
        /// Where the body starts within the stored value.
        public var bodyOffset: Int
    }

    /// This entry's header, as if decoded from a value whose body starts at offset 0.
    public var header: Header {
        Header(contentType: contentType, etag: etag, fetchedAt: fetchedAt, expiresAt: expiresAt, source: source,
               path: path, variesOnAccept: variesOnAccept, clientHints: clientHints, bodyOffset: 0)
    }

    /// Decodes the header of a stored value; nil when the value is not a well-formed entry.
    public static func decodeHeader(_ raw: UnsafeRawBufferPointer) -> Header? {
        guard raw.count >= 8, raw.prefix(4).elementsEqual(magic) else { return nil }
        var r = ByteReader(raw, from: 4)
        guard let hlen = r.u32(), raw.count >= 8 + Int(hlen) else { return nil }
        guard let ct = r.string(), let etag = r.string(), let fa = r.double(), let ea = r.double(),
              let src = r.string(), let path = r.string(), let vary = r.u8(), let hints = r.string(),
              r.offset == 8 + Int(hlen)
        else { return nil }
        return Header(contentType: ct, etag: etag, fetchedAt: fa, expiresAt: ea, source: src, path: path,
                      variesOnAccept: vary == 1, clientHints: hints, bodyOffset: r.offset)
    }

    /// Decodes a whole stored value.
    public static func decode(_ raw: [UInt8]) -> CacheEntry? {
        raw.withUnsafeBytes { buf in
            guard let h = decodeHeader(buf) else { return nil }
            return CacheEntry(contentType: h.contentType, etag: h.etag, fetchedAt: h.fetchedAt, expiresAt: h.expiresAt,
                              source: h.source, path: h.path, variesOnAccept: h.variesOnAccept,
                              clientHints: h.clientHints, body: Array(buf[h.bodyOffset...]))
        }
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
    mutating func string() -> String? {
        guard let n = u32().map(Int.init), offset + n <= raw.count else { return nil }
        defer { offset += n }
        return String(validating: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + n]), as: UTF8.self)
    }
}
