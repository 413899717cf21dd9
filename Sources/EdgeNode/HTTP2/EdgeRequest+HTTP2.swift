import EdgeCore
import HTTPTypes
import NIOHPACK

extension EdgeRequest {
    /// The request an HTTP/2 header block asks for; nil for a method the node does not know or a `:path` that does
    /// not start with `/` (CONNECT's authority form, `*`).
    init?(_ head: HTTP2RequestHead, fields: HPACKHeaders? = nil) {
        guard let method = HTTPRequest.Method(head.method), head.path.hasPrefix("/") else { return nil }
        self.init(method: method, uri: head.path, host: head.authority.map { Substring($0) },
                  accept: head.accept.map { Substring($0) }, ifNoneMatch: head.ifNoneMatch.map { Substring($0) },
                  ifModifiedSince: head.ifModifiedSince.map { Substring($0) },
                  range: head.range.map { Substring($0) }, ifRange: head.ifRange.map { Substring($0) },
                  hints: ClientHints(width: head.width.map { Substring($0) }, dpr: head.dpr.map { Substring($0) },
                                     saveData: head.saveData.map { Substring($0) }))
        self.fields = fields.map { .http2($0) } ?? .none
    }
}
