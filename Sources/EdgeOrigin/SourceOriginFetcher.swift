public import EdgeCore
import Foundation

/// The origin for each kind of source: folders from disk, web, proxy and S3 sources through libcurl.
public struct SourceOriginFetcher: OriginFetching {
    private let curl: CurlOriginFetcher
    private let folder = FolderOriginFetcher()
    /// Seconds since 1970, for S3 request signatures.
    private let clock: @Sendable () -> Double

    public init(curl: CurlOriginFetcher = CurlOriginFetcher(), clock: (@Sendable () -> Double)? = nil) {
        self.curl = curl
        self.clock = clock ?? { Date().timeIntervalSince1970 }
    }

    public func fetch(source: SourceConfig, path: SourcePath, maxBytes: Int,
                      conditional: [(name: String, value: String)], forwarded: [(name: String, value: String)],
                      passRedirects: Bool) throws(EdgeError) -> OriginResponse {
        switch source.kind {
        case .folder:
            guard let root = source.root else { throw .internalError(detail: "folder source without root") }
            return try folder.read(root: root, path: path, maxBytes: maxBytes)
        case .web:
            guard let base = source.baseURL, path.proxied == nil else {
                throw .internalError(detail: "web source without baseURL, or given a proxied URL")
            }
            return try curl.get(url: base + path.urlEncoded, maxBytes: maxBytes, conditional: conditional,
                                forwarded: forwarded, passRedirects: passRedirects,
                                addresses: source.networkPolicy,
                                hosts: source.originHosts(baseHost: CurlOriginFetcher.host(of: base)))
        case .proxy:
            guard let target = path.proxied else { throw .internalError(detail: "proxy source given a plain path") }
            return try curl.get(url: target.url, maxBytes: maxBytes, conditional: conditional, forwarded: forwarded,
                                passRedirects: passRedirects,
                                addresses: source.networkPolicy, hosts: source.originHosts(baseHost: nil))
        case .s3:
            guard let s3 = source.s3 else { throw .internalError(detail: "s3 source without a bucket") }
            return try fetchS3(s3, source: source, path: path, maxBytes: maxBytes, conditional: conditional)
        }
    }

    /// A GET of the object, signed (SigV4, `UNSIGNED-PAYLOAD`) when the source has credentials, with the fill's
    /// validators. S3's answers: 200, 304 and 404 as they are (`NoSuchKey`); anything else — `AccessDenied`,
    /// `SignatureDoesNotMatch`, a redirect to another region, a 5xx — is 502, S3's error code and message in the
    /// log only.
    private func fetchS3(_ s3: S3Location, source: SourceConfig, path: SourcePath, maxBytes: Int,
                         conditional: [(name: String, value: String)]) throws(EdgeError) -> OriginResponse {
        let request = s3.request(key: s3.key(for: path.description))
        // The validators go as conditions (signed with the rest); the signature's own lines as further fields.
        let signed = s3.credentials.map {
            SigV4.sign(method: "GET", path: request.path, headers: [("host", request.host)] + conditional,
                       credentials: $0, region: s3.region, time: clock())
        } ?? [("x-amz-content-sha256", SigV4.unsignedPayload)]
        let response = try curl.get(url: request.url, maxBytes: maxBytes, conditional: conditional, forwarded: signed,
                                    passRedirects: true,
                                    addresses: source.networkPolicy, hosts: source.originHosts(baseHost: nil))
        switch response.status {
        case 200, 304, 404:
            return response
        default:
            let text = String(decoding: response.body.prefix(2048), as: UTF8.self)
            let code = Self.element("Code", in: text) ?? "no error code"
            let message = Self.element("Message", in: text).map { ": " + $0 } ?? ""
            throw .badGateway(detail: "S3 answered \(response.status) \(code)\(message) for \(request.url)")
        }
    }

    /// The text of the first `<name>…</name>` in an S3 error document (at most 200 characters).
    static func element(_ name: String, in xml: String) -> String? {
        S3XML.elements(name, in: xml).first.map { String($0.prefix(200)) }
    }
}
