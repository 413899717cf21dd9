import EdgeCore
import EdgePrivacy
import Foundation

/// The body of `POST /v1/purge` (CONTRACT.md): exactly one of `{"url"}`, `{"source", "path"}`,
/// `{"source", "prefix"}`, `{"tag"}`, `{"source"}`, turned into tombstone selectors for a key's scope.
enum PurgeRequest {
    struct Refusal: Error {
        var status: Int
        var message: String
    }

    static func selectors(body: [UInt8], router: SourceRouter, sources: [SourceConfig],
                          scope: AdminScope) throws(Refusal) -> [PurgeSelector] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw Refusal(status: 400, message: "body must be a JSON object")
        }
        var fields: [String: String] = [:]
        for (k, v) in object {
            guard ["url", "source", "path", "prefix", "tag"].contains(k) else {
                throw Refusal(status: 400, message: "unknown field \(k)")
            }
            guard let text = v as? String, !text.isEmpty, text.utf8.count <= 4096 else {
                throw Refusal(status: 400, message: "\(k) must be a non-empty string of at most 4096 bytes")
            }
            fields[k] = text
        }
        func source(named name: String) throws(Refusal) -> SourceConfig {
            guard let s = sources.first(where: { $0.name == name }) else {
                throw Refusal(status: 404, message: "no source named \(name)")
            }
            guard scope.allows(s) else { throw Refusal(status: 403, message: "this key may not purge source \(name)") }
            return s
        }
        /// The path as the source's cache keys hold it; for a proxy source the URL it names, given as in a request
        /// path (`/https%3A%2F%2F…`) or plainly (`https://…`), decoded as a request path is (`+` is a space).
        func decodedPath(_ raw: Substring, of source: SourceConfig) throws(Refusal) -> String {
            let path = source.kind == .proxy && !raw.hasPrefix("/") ? "/" + raw : raw
            do { return try source.originPath(raw: path).description } catch {
                throw Refusal(status: 400, message: "path: \(error.publicMessage)")
            }
        }
        switch Set(fields.keys) {
        case ["url"]:
            let url = fields["url"]!
            guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  let host = c.host, !host.isEmpty
            else { throw Refusal(status: 400, message: "url must be an absolute http(s) URL") }
            guard let routed = router.route(host: Substring(host)) else {
                throw Refusal(status: 404, message: "no source serves host \(host)")
            }
            let s = try source(named: routed.name)
            let path = c.percentEncodedPath.isEmpty ? "/" : c.percentEncodedPath
            return [.image(source: s.name, path: try decodedPath(Substring(path), of: s))]
        case ["source", "path"]:
            let s = try source(named: fields["source"]!)
            return [.image(source: s.name, path: try decodedPath(Substring(fields["path"]!), of: s))]
        case ["source", "prefix"]:
            let s = try source(named: fields["source"]!)
            let prefix = fields["prefix"]!
            if s.kind == .proxy {
                // A prefix of the normalised URLs the keys hold (`https://img.example.com/2024/`).
                return [.prefix(source: s.name, prefix: try decodedPath(Substring(prefix), of: s))]
            }
            guard prefix.hasPrefix("/") else { throw Refusal(status: 400, message: "prefix must start with /") }
            return [.prefix(source: s.name, prefix: prefix.removingPercentEncoding ?? prefix)]
        case ["source"]:
            return [.source(try source(named: fields["source"]!).name)]
        case ["tag"]:
            let tag = fields["tag"]!
            switch scope {
            case .operator:
                return [.tag(tag)]
            case .customer:
                // A customer's tag purge reaches only its own sources.
                let own = sources.filter { scope.allows($0) }
                guard !own.isEmpty else { throw Refusal(status: 403, message: "this key has no sources") }
                return own.map { .sourceTag(source: $0.name, tag: tag) }
            }
        default:
            throw Refusal(status: 400, message: "give exactly one of url, source+path, source+prefix, tag, source")
        }
    }
}
