import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import Logging
import NIOHTTP1
import Synchronization

/// A real node on ephemeral ports with its cache in a temporary folder, serving a web source backed by a
/// `TestOrigin` (host `web.test`, also the default; `allowPrivateNetwork: true`, as the origin is on loopback)
/// and a folder source (host `files.test`).
final class TestNode: Sendable {
    let server: EdgeNodeServer
    let origin: TestOrigin
    let cacheDir: TemporaryDirectory
    let filesDir: TemporaryDirectory
    let config: NodeConfig

    /// The clear listener's port (the test node always has one); `httpsPort` when the test turned HTTPS on.
    var port: Int { server.httpPort ?? -1 }
    var httpsPort: Int? { server.httpsPort }
    var adminPort: Int { server.adminPort }

    static func start(origin existing: TestOrigin? = nil, cacheDir existingCache: TemporaryDirectory? = nil,
                      clock: ManualClock? = nil, logger given: Logger? = nil,
                      configure: (inout NodeConfig) -> Void = { _ in }) async throws -> TestNode {
        let origin = if let existing { existing } else { try await TestOrigin.start() }
        let cacheDir = try existingCache ?? TemporaryDirectory(prefix: "imgedge-node-cache")
        let filesDir = try TemporaryDirectory(prefix: "imgedge-node-files")
        var web = SourceConfig(name: "web", kind: .web, hosts: ["web.test"], baseURL: origin.baseURL)
        web.networkPolicy = .anyUnicast
        let sources = [web, SourceConfig(name: "files", kind: .folder, hosts: ["files.test"], root: filesDir.path)]
        var config = NodeConfig(nodeID: "test", cachePath: cacheDir.path + "/lmdb", sources: sources, defaultSource: "web")
        config.httpPort = 0
        config.adminPort = 0
        config.cacheMaxBytes = 64 << 20
        // Tests that write a head in pieces on a busy machine (the suite runs tests side by side on two cores) may
        // take longer than the default's 10 s; the tests of the timeout set their own.
        config.headerTimeout = 120
        configure(&config)
        var logger = given ?? Logger(label: "test-node")
        if given == nil { logger.logLevel = .critical }
        let server = try await EdgeNodeServer.start(config: config, logger: logger, clock: clock?.reading)
        return TestNode(server: server, origin: origin, cacheDir: cacheDir, filesDir: filesDir, config: config)
    }

    private init(server: EdgeNodeServer, origin: TestOrigin, cacheDir: TemporaryDirectory, filesDir: TemporaryDirectory,
                 config: NodeConfig) {
        self.server = server
        self.origin = origin
        self.cacheDir = cacheDir
        self.filesDir = filesDir
        self.config = config
    }

    func get(_ target: String, host: String = "web.test", headers: [(String, String)] = []) async throws -> TestHTTPResponse {
        try await TestHTTPClient.get(port: port, target, headers: [("Host", host)] + headers)
    }

    /// One admin API request, with an admin key (none: unauthenticated) and, for an operator acting for a
    /// customer, an assistance grant.
    func admin(_ target: String, method: HTTPMethod = .GET, secret: String?, grant: String? = nil,
               body: String? = nil) async throws -> TestHTTPResponse {
        var headers = [("Content-Type", "application/json")]
        if let secret { headers.append(("Authorization", "Bearer \(secret)")) }
        if let grant { headers.append(("X-Imgedge-Grant", grant)) }
        return try await TestHTTPClient.get(port: adminPort, target, method: method, headers: headers,
                                            body: body.map { Array($0.utf8) })
    }

    /// `/v1/stats`, parsed.
    func stats() async throws -> [String: Any] {
        let r = try await TestHTTPClient.get(port: adminPort, "/v1/stats")
        return try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] ?? [:]
    }

    /// `/v1/stats` once `condition` holds of it, or as it is after `attempts` tries 10 ms apart.
    func stats(until condition: ([String: Any]) -> Bool, attempts: Int = 1000) async throws -> [String: Any] {
        var stats = try await self.stats()
        for _ in 1..<attempts where !condition(stats) {
            try await Task.sleep(for: .milliseconds(10))
            stats = try await self.stats()
        }
        return stats
    }

    /// Stops the node but keeps the origin and the cache folder (for restart tests).
    func stop() async {
        await server.shutdown(drain: .seconds(5))
    }

    /// Stops the node and the origin.
    func stopAll() async {
        await stop()
        try? await origin.shutdown()
    }
}

/// A JPEG from the corpus, as the origin's photo.
let photo: [UInt8] = (try? Corpus.bytes("basics/jpeg_progressive_kimono.jpg")) ?? []
let jpegHeaders = [("Content-Type", "image/jpeg")]

/// A clock a test moves by hand (seconds since 1970), for freshness and `expires` without sleeping.
final class ManualClock: Sendable {
    private let now = Mutex(1_800_000_000.0)
    var reading: @Sendable () -> Double { { [self] in self.now.withLock { $0 } } }
    func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
}
