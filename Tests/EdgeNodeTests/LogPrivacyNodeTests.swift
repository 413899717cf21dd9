import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// Keeps every log record at or above its level, for tests that check what logs may say.
final class CapturingLogHandler: LogHandler, Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var text: String
    }

    private let records = Mutex<[Record]>([])
    private let level = Mutex(Logger.Level.info)
    private let stored = Mutex<Logger.Metadata>([:])

    var logLevel: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }

    var metadata: Logger.Metadata {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { stored.withLock { $0[key] } }
        set { stored.withLock { $0[key] = newValue } }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
             function: String, line: UInt) {
        let text = "\(message) " + (metadata ?? [:]).map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        records.withLock { $0.append(Record(level: level, text: text)) }
    }

    var all: [Record] { records.withLock { $0 } }
}

/// What the node's logs say about origins above debug level: statuses and curl's error text, never a URL.
@Suite struct LogPrivacyNodeTests {
    /// Should log failed and refused fetches of a proxy source without the origin's URL, host or path above debug.
    @Test func noOriginURLsAboveDebug() async throws {
        let handler = CapturingLogHandler()
        let logger = Logger(label: "test-node") { _ in handler }
        let node = try await TestNode.start(logger: logger) { c in
            var proxy = SourceConfig(name: "proxy", kind: .proxy, hosts: ["proxy.test"])
            proxy.secureToken = ProxySourceNodeTests.token
            proxy.requireSignature = true
            proxy.networkPolicy = .anyUnicast
            c.sources.append(proxy)
        }
        defer { Task { await node.stopAll() } }
        node.origin.route("/private-path/broken.jpg", status: 500, text: "boom")
        node.origin.route("/private-path/away.jpg", status: 302, headers: [("Location", "ftp://elsewhere.example/x.jpg")])
        let urls = [node.origin.baseURL + "/private-path/broken.jpg",          // 502: the origin failed
                    node.origin.baseURL + "/private-path/away.jpg",            // 403: redirect to ftp
                    "http://127.0.0.1:1/private-path/x.jpg"]                   // 502: nothing listens there
        var statuses: [Int] = []
        for url in urls { statuses.append(try await node.get(ProxySourceNodeTests.signed(url), host: "proxy.test").status) }
        #expect(statuses == [502, 403, 502])
        let records = handler.all.filter { $0.level > .debug }
        #expect(records.contains { $0.level == .error })   // the failures were logged…
        for r in records {                                   // …without saying where the origin is
            for secret in ["private-path", "127.0.0.1:\(node.origin.port)", "127.0.0.1:1", "elsewhere.example"] {
                #expect(!r.text.contains(secret), "\(r.level): \(r.text)")
            }
        }
    }
}
