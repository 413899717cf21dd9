import HTTPTypes
import NIOCore

/// A request's answer as the request core makes it, in no protocol's terms: a status, header fields as values,
/// and a body that is a buffer or a file. The protocol adapters (HTTP/1.1, HTTP/2) encode it; framing
/// (`Content-Length`, DATA frames), `Server` and `Connection` are theirs to add. An answer to HEAD carries its
/// body all the same (its length is the answer's); the adapter sends none.
struct EdgeAnswer: Sendable {
    enum Body: Sendable {
        case empty
        case buffer(ByteBuffer)
        /// A sealed memory file, which an adapter may send with sendfile.
        case file(BodyFile)
        /// An entry's body as the memory tier holds it (`item.file`, else `item.buffer`), looked up only when it
        /// is sent: a plain hit's, which an adapter may send from its own encoding of the answer instead.
        case entry(HotCache.Item)

        /// An entry's body looked up: its sealed file if it has one, else its buffer; other bodies as they are.
        var resolved: Body {
            guard case .entry(let item) = self else { return self }
            return item.file.map { .file($0) } ?? .buffer(item.buffer ?? ByteBuffer())
        }
    }

    var status: HTTPResponse.Status
    /// Empty for a plain hit (`plain`), whose fields are made only when an adapter needs them.
    var fields: HTTPFields
    var body: Body
    /// Set when the answer is a plain hit: a 200 for a fresh entry with no conditions, which every such request
    /// for the entry gets while its `Age` and `max-age` stay the same (see `PlainHit`).
    var plain: PlainHit?

    init(status: HTTPResponse.Status, fields: HTTPFields, body: Body = .empty) {
        self.status = status
        self.fields = fields
        self.body = body
    }

    init(plain: PlainHit) {
        status = plain.item.header.status == 200 ? .ok : HTTPResponse.Status(code: plain.item.header.status)
        fields = HTTPFields()
        body = .entry(plain.item)
        self.plain = plain
    }

    var bodyLength: Int {
        switch body {
        case .empty: 0
        case .buffer(let b): b.readableBytes
        case .file(let f): f.length
        case .entry(let item): item.bodyLength
        }
    }

    /// The answer's header fields (a plain hit's made now).
    var headerFields: HTTPFields { plain?.fields() ?? fields }

    /// Its `X-Cache`, for the access log.
    var cacheLabel: String { plain != nil ? "HIT" : fields[.xCache] ?? "-" }

    /// Whether the answer goes out with its body: not to HEAD, not for a status without one, not when empty.
    func sendsBody(isHead: Bool) -> Bool { !isHead && Self.allowsBody(status) && bodyLength > 0 }

    /// The body as one buffer (a file's bytes read), for adapters that cannot send a file as it is (TLS).
    var bodyBuffer: ByteBuffer {
        switch body.resolved {
        case .buffer(let b): b
        case .file(let f): f.read()
        case .empty, .entry: ByteBuffer()
        }
    }

    /// 1xx, 204 and 304 answers have no body (RFC 9110 §6.4.1).
    static func allowsBody(_ status: HTTPResponse.Status) -> Bool {
        status.code >= 200 && status != .noContent && status != .notModified
    }
}

/// A plain hit: the entry's answer (a 200, or the status it was stored with) with no conditions. Its fields depend on the entry and on two numbers only, its
/// `Age` and the `max-age` it promises (both whole seconds), so an adapter may encode it once and reuse that
/// encoding while they stay the same (`HotCache.Item.plainAnswer`) instead of making the fields for every hit.
struct PlainHit: Sendable {
    let item: HotCache.Item
    let age: Int
    /// -1 where the entry's Cache-Control is fixed (a source's `cacheControl`), not a counted max-age.
    let maxAge: Int

    func fields() -> HTTPFields {
        let h = item.header
        var f = HTTPFields()
        f.reserveCapacity(8 + item.describing.count)
        f.append(HTTPField(name: .cacheControl, value: h.downstreamCacheControl ?? "public, max-age=\(maxAge)"))
        f.append(HTTPField(name: .age, value: String(age)))
        f.append(HTTPField(name: .xCache, value: "HIT"))
        f.append(contentsOf: item.describing)
        if h.status == 200 { f.append(HTTPField(name: .acceptRanges, value: "bytes")) }
        if !h.contentType.isEmpty { f.append(HTTPField(name: .contentType, value: h.contentType)) }
        return f
    }
}

extension HTTPField.Name {
    static let xCache = Self("x-cache")!
    static let serverTiming = Self("server-timing")!
    static let acceptCH = Self("accept-ch")!
}
