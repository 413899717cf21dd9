import Logging
import NIOCertificateReloading
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// The HTTPS listener's certificates: one reloader (swift-nio-extras' `TimedCertificateReloader`) per
/// `https.certificates` entry, chosen per handshake by the client's SNI name (`CertificateSelector`). `reload()`
/// reads every file again (SIGHUP, and every `https.reloadInterval`); new handshakes get the new certificate,
/// open connections keep theirs, and a file that does not load (or a key that does not match) leaves the entry's
/// certificate as it was, with the reason logged once.
final class CertificateStore: Sendable {
    private struct Entry: Sendable {
        let settings: HTTPSSettings.Certificate
        let reloader: TimedCertificateReloader
    }

    private let entries: [Entry]
    private let selector: CertificateSelector
    private let logger: Logger
    /// The last reload failure logged per entry (nil: the last reload worked), so a broken file is logged once.
    private let failures: NIOLockedValueBox<[String?]>
    private let stopped = NIOLockedValueBox(false)

    /// Loads every certificate; throws (naming the file) when one cannot be loaded, since a listener cannot start
    /// without it.
    init(settings: HTTPSSettings, logger: Logger) throws {
        precondition(settings.isEnabled, "no certificate to serve")
        entries = try settings.certificates.map { c in
            let reloader = TimedCertificateReloader(
                refreshInterval: .seconds(max(1, Int64(settings.reloadInterval))),
                certificateSource: .init(location: .file(path: c.cert), format: .pem),
                privateKeySource: .init(location: .file(path: c.key), format: .pem))
            do { try reloader.reload() } catch {
                throw CertificateLoadError(cert: c.cert, key: c.key, reason: "\(error)")
            }
            return Entry(settings: c, reloader: reloader)
        }
        selector = CertificateSelector(hosts: settings.certificates.map(\.hosts))
        self.logger = logger
        failures = NIOLockedValueBox(Array(repeating: nil, count: entries.count))
    }

    struct CertificateLoadError: Error, CustomStringConvertible {
        var cert: String
        var key: String
        var reason: String
        var description: String { "cannot load \(cert) with \(key): \(reason)" }
    }

    /// The certificate and key for a handshake that named `serverName`.
    func override(for serverName: String?) -> NIOSSLContextConfigurationOverride {
        entries[selector.entry(for: serverName)].reloader.sslContextConfigurationOverride
    }

    /// Reads every certificate file again. Returns how many entries failed to load (each keeps its certificate).
    @discardableResult
    func reload() -> Int {
        var failed = 0
        for (i, e) in entries.enumerated() {
            do {
                try e.reloader.reload()
                let was = failures.withLockedValue { f in defer { f[i] = nil }; return f[i] }
                if was != nil { logger.notice("certificate loads again", metadata: ["edge.cert": "\(e.settings.cert)"]) }
            } catch {
                failed += 1
                let reason = "\(error)"
                let new = failures.withLockedValue { f in defer { f[i] = reason }; return f[i] != reason }
                if new {
                    logger.error("certificate not reloaded; the one in use stays", metadata: [
                        "edge.cert": "\(e.settings.cert)", "edge.key": "\(e.settings.key)", "edge.error": "\(reason)"])
                }
            }
        }
        return failed
    }

    /// Reloads every `interval` until `stop()`.
    func start(interval: Double) {
        Task.detached { [self] in
            while !stopped.withLockedValue({ $0 }) {
                try? await Task.sleep(for: .seconds(max(1, interval)))
                if stopped.withLockedValue({ $0 }) { return }
                reload()
            }
        }
    }

    func stop() { stopped.withLockedValue { $0 = true } }

    /// TLS 1.2 with Mozilla's "intermediate" cipher suites (those BoringSSL has: ECDHE with AES-GCM or
    /// ChaCha20-Poly1305, no DHE), and TLS 1.3; the certificate chosen per handshake; `alpn` offered in that order.
    func makeContext(alpn: [String]) throws -> NIOSSLContext {
        let first = entries[0].reloader.sslContextConfigurationOverride
        guard let chain = first.certificateChain, let key = first.privateKey else {
            preconditionFailure("a reloader that loaded (init) has a chain and a key")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
        tls.minimumTLSVersion = .tlsv12
        tls.maximumTLSVersion = .tlsv13
        tls.cipherSuites = Self.intermediateCiphers
        tls.applicationProtocols = alpn
        tls.sslContextCallback = { [self] values, promise in
            promise.succeed(override(for: values.serverHostname))
        }
        return try NIOSSLContext(configuration: tls)
    }

    /// Mozilla's server-side TLS "intermediate" configuration (version 5.7) for TLS 1.2, less the DHE suites
    /// BoringSSL does not implement.
    static let intermediateCiphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")
}
