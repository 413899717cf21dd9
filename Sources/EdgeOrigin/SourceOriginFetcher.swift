public import EdgeCore

/// The origin for each kind of source: folders from disk, web and proxy sources through libcurl.
public struct SourceOriginFetcher: OriginFetching {
    private let curl: CurlOriginFetcher
    private let folder = FolderOriginFetcher()

    public init(curl: CurlOriginFetcher = CurlOriginFetcher()) { self.curl = curl }

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
        }
    }
}
