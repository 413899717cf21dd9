import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `imgedge purge`: sends one purge to a node's admin API (`POST /v1/purge`) and prints its answer.
struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Purge cached content through a node's admin API.",
        discussion: """
        Exactly one selector: --url (every variant of one image), --source with --path (the same) or --prefix \
        (every image under a path prefix), --source alone (everything from a source), or --tag (every entry whose \
        origin sent that Surrogate-Key). The key may also come from IMGEDGE_ADMIN_KEY, which keeps it out of the \
        process list. Exit 0 when the node accepted the purge (202: in effect there), 1 when it refused or could \
        not be reached, 2 on a usage error.
        """)

    @Option(name: .long, help: "The node's admin base URL.")
    var admin = "http://127.0.0.1:8081"

    @Option(name: .long, help: "An admin key secret (or set IMGEDGE_ADMIN_KEY).")
    var key: String?

    @Option(name: .long, help: "An image URL as clients request it (the query is ignored).")
    var url: String?

    @Option(name: .long, help: "A source name.")
    var source: String?

    @Option(name: .long, help: "With --source: one image's path.")
    var path: String?

    @Option(name: .long, help: "With --source: a path prefix.")
    var prefix: String?

    @Option(name: .long, help: "A Surrogate-Key value.")
    var tag: String?

    func body() throws -> [String: String] {
        switch (url, source, path, prefix, tag) {
        case (let u?, nil, nil, nil, nil): return ["url": u]
        case (nil, let s?, let p?, nil, nil): return ["source": s, "path": p]
        case (nil, let s?, nil, let p?, nil): return ["source": s, "prefix": p]
        case (nil, let s?, nil, nil, nil): return ["source": s]
        case (nil, nil, nil, nil, let t?): return ["tag": t]
        default:
            throw configurationFailure("purge: give exactly one of --url, --source [--path | --prefix], --tag")
        }
    }

    func run() async throws {
        let selector = try body()
        guard let secret = key ?? ProcessInfo.processInfo.environment["IMGEDGE_ADMIN_KEY"], !secret.isEmpty else {
            throw configurationFailure("purge: --key KEY (or IMGEDGE_ADMIN_KEY) is required")
        }
        let base = admin.hasSuffix("/") ? String(admin.dropLast()) : admin
        guard let endpoint = URL(string: base + "/v1/purge"), endpoint.scheme == "http" || endpoint.scheme == "https" else {
            throw configurationFailure("purge: --admin must be an http(s) URL")
        }
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer " + secret, forHTTPHeaderField: "Authorization")
        request.httpBody = try JSONSerialization.data(withJSONObject: selector, options: [.sortedKeys])
        request.timeoutInterval = 10
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            FileHandle.standardError.write(Data("imgedge: purge: \(base) unreachable: \(error.localizedDescription)\n".utf8))
            throw ExitCode(1)
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let text = String(decoding: data, as: UTF8.self)
        guard status == 202 else {
            FileHandle.standardError.write(Data("imgedge: purge refused (\(status)): \(text)\n".utf8))
            throw ExitCode(1)
        }
        print(text)
    }
}
