/// `https.*`: the edge front over TLS (HTTP/1.1 and HTTP/2, chosen by ALPN). On when `https.certificates` lists
/// at least one certificate.
public struct HTTPSSettings: Sendable, Equatable {
    /// One `https.certificates` entry: a PEM certificate chain (leaf first) and its PEM private key (ECDSA or RSA),
    /// served to clients that name one of `hosts` (exact names or `*.example.com`) in their SNI. The first entry
    /// is also the default, for clients that name no host or one no entry lists.
    public struct Certificate: Sendable, Equatable {
        public var cert: String
        public var key: String
        public var hosts: [String]

        public init(cert: String, key: String, hosts: [String] = []) {
            self.cert = cert
            self.key = key
            self.hosts = hosts
        }
    }

    /// `https.host`, `https.port`.
    public var host = "127.0.0.1"
    public var port = 8443
    public var certificates: [Certificate] = []
    /// `https.hsts`: the `Strict-Transport-Security` value sent with every answer of the edge front (nil: none).
    /// Browsers heed it only over HTTPS (RFC 6797 §8.1), so the plain listener may send it too.
    public var hsts: String?
    /// `https.reloadInterval`: how often the certificate files are read again (SIGHUP reads them at once); a file
    /// that does not load leaves the certificate in use as it was.
    public var reloadInterval: Double = 60
    /// `https.handshakeTimeout`: a connection that has not completed its TLS handshake after this long is closed.
    public var handshakeTimeout: Double = 10
    /// `https.maxConcurrentStreams`: HTTP/2 streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS);
    /// a client that opens more than it acknowledged gets GOAWAY (PROTOCOL_ERROR), as NIO's HTTP/2 handler answers it.
    public var maxConcurrentStreams = 100

    public init() {}

    public var isEnabled: Bool { !certificates.isEmpty }
}
