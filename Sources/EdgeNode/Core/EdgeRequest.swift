import EdgeCore
import HTTPTypes

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

    /// The request's conditions on the answer: per request, never part of its (remembered) resolution.
    var preconditions: Preconditions {
        Preconditions(ifNoneMatch: ifNoneMatch, ifModifiedSince: ifModifiedSince, range: method == .get ? range : nil,
                      ifRange: ifRange)
    }
}

/// If-None-Match, If-Modified-Since, Range and If-Range of one request.
struct Preconditions: Sendable {
    var ifNoneMatch: Substring?
    var ifModifiedSince: Substring?
    var range: Substring?
    var ifRange: Substring?
}
