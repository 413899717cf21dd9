/// An error a client sees as a status and a short public message; `detail` is for the log only.
public struct EdgeError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case badParameter
        case badRequest
        case forbidden
        case notFound
        case gone
        case methodNotAllowed
        case requestTimeout
        case uriTooLong
        case payloadTooLarge
        case headersTooLarge
        case rangeNotSatisfiable
        case unsupportedMediaType
        case unprocessable
        case badGateway
        case gatewayTimeout
        case overloaded
        case internalError
        case httpVersionNotSupported
    }

    private let code: Code
    /// Short message safe to show to any client (never an origin URL or a library's error text).
    public let publicMessage: String
    /// The imgix parameter at fault, for 400s.
    public let param: String?
    /// Diagnostic detail for the log.
    public let detail: String?

    private init(_ code: Code, _ message: String, param: String? = nil, detail: String? = nil) {
        self.code = code
        self.publicMessage = message
        self.param = param
        self.detail = detail
    }

    /// HTTP status code for this error.
    public var status: Int {
        switch code {
        case .badParameter, .badRequest: 400
        case .forbidden: 403
        case .notFound: 404
        case .gone: 410
        case .methodNotAllowed: 405
        case .requestTimeout: 408
        case .uriTooLong: 414
        case .payloadTooLarge: 413
        case .headersTooLarge: 431
        case .rangeNotSatisfiable: 416
        case .unsupportedMediaType: 415
        case .unprocessable: 422
        case .badGateway: 502
        case .gatewayTimeout: 504
        case .overloaded: 503
        case .internalError: 500
        case .httpVersionNotSupported: 505
        }
    }

    public var description: String {
        "\(status) \(publicMessage)" + (param.map { " [param \($0)]" } ?? "") + (detail.map { " (\($0))" } ?? "")
    }

    /// A parameter value that cannot be understood.
    public static func badParameter(_ param: String, _ message: String) -> EdgeError {
        EdgeError(.badParameter, message, param: param)
    }
    /// A malformed request that is not about one parameter.
    public static func badRequest(_ message: String) -> EdgeError { EdgeError(.badRequest, message) }
    public static func forbidden(_ message: String, detail: String? = nil) -> EdgeError {
        EdgeError(.forbidden, message, detail: detail)
    }
    public static func notFound(_ message: String = "not found", detail: String? = nil) -> EdgeError {
        EdgeError(.notFound, message, detail: detail)
    }
    /// The origin says the image is gone for good (410).
    public static let gone = EdgeError(.gone, "gone")
    public static let methodNotAllowed = EdgeError(.methodNotAllowed, "only GET and HEAD are allowed")
    public static let uriTooLong = EdgeError(.uriTooLong, "request line too long")
    /// A request that did not arrive whole in time (`http.headerTimeout`).
    public static let requestTimeout = EdgeError(.requestTimeout, "the request did not arrive in time")
    public static let headersTooLarge = EdgeError(.headersTooLarge, "request headers too large")
    public static let httpVersionNotSupported = EdgeError(.httpVersionNotSupported, "only HTTP/1.0 and HTTP/1.1 are served here")
    public static let rangeNotSatisfiable = EdgeError(.rangeNotSatisfiable, "range not satisfiable")
    /// Source bytes or pixels beyond the configured limits.
    public static func payloadTooLarge(_ message: String, detail: String? = nil) -> EdgeError {
        EdgeError(.payloadTooLarge, message, detail: detail)
    }
    public static func unsupportedMediaType(detail: String? = nil) -> EdgeError {
        EdgeError(.unsupportedMediaType, "source is not an image format this node reads", detail: detail)
    }
    public static func unprocessable(detail: String? = nil) -> EdgeError {
        EdgeError(.unprocessable, "source image is corrupt or cannot be processed", detail: detail)
    }
    public static func badGateway(_ message: String = "origin failed", detail: String? = nil) -> EdgeError {
        EdgeError(.badGateway, message, detail: detail)
    }
    public static func gatewayTimeout(detail: String? = nil) -> EdgeError {
        EdgeError(.gatewayTimeout, "origin timed out", detail: detail)
    }
    public static let overloaded = EdgeError(.overloaded, "node is overloaded, retry shortly")
    public static func internalError(detail: String? = nil) -> EdgeError {
        EdgeError(.internalError, "internal error", detail: detail)
    }

    /// The error a peer answered with (status and public message as it sent them; a status no error here has
    /// becomes 502).
    public static func fromPeer(status: Int, message: String) -> EdgeError {
        let codes: [Int: Code] = [400: .badRequest, 403: .forbidden, 404: .notFound, 405: .methodNotAllowed, 408: .requestTimeout,
                                  410: .gone, 413: .payloadTooLarge, 414: .uriTooLong, 415: .unsupportedMediaType,
                                  416: .rangeNotSatisfiable, 422: .unprocessable, 431: .headersTooLarge, 500: .internalError,
                                  502: .badGateway, 503: .overloaded, 504: .gatewayTimeout, 505: .httpVersionNotSupported]
        let short = message.utf8.count <= 200 && message.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
        return EdgeError(codes[status] ?? .badGateway, short ? message : "peer failed", detail: "from the variant's owner")
    }

    /// The JSON body clients receive: `{"error": "...", "param": "w"}`.
    public var jsonBody: String {
        var s = "{\"error\":\"\(JSONText.escape(publicMessage))\",\"status\":\(status)"
        if let param { s += ",\"param\":\"\(JSONText.escape(param))\"" }
        return s + "}"
    }
}

/// Minimal JSON string escaping for bodies built by hand on the hot path.
public enum JSONText {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
