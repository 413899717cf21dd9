import EdgeCore
import HTTPTypes
import NIOHTTP1

extension EdgeRequest {
    /// The request an HTTP/1.1 head asks for.
    init(_ head: RequestHead) {
        self.init(method: Self.method(head.method), uri: head.target,
                  host: head.host.map { Substring($0) }, accept: head.accept.map { Substring($0) },
                  ifNoneMatch: head.ifNoneMatch.map { Substring($0) },
                  ifModifiedSince: head.ifModifiedSince.map { Substring($0) }, range: head.range.map { Substring($0) },
                  ifRange: head.ifRange.map { Substring($0) },
                  hints: ClientHints(width: head.width.map { Substring($0) }, dpr: head.dpr.map { Substring($0) },
                                     saveData: head.saveData.map { Substring($0) }))
        fields = head.section.map { .http1($0) } ?? .none
    }

    private static func method(_ m: HTTPMethod) -> HTTPRequest.Method {
        switch m {
        case .GET: return .get
        case .HEAD: return .head
        default:
            // The parser takes a method only if it is a token, as HTTPRequest.Method does.
            guard let method = HTTPRequest.Method(m.rawValue) else { preconditionFailure("the parser passed a method that is not a token") }
            return method
        }
    }
}
