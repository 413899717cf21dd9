public import EdgeCore
import Crypto

/// Who an admin key speaks for.
public enum AdminScope: Sendable, Hashable, CustomStringConvertible {
    /// May act on every source.
    case `operator`
    /// May act only on the sources whose `customer` is this id.
    case customer(String)

    /// `operator` or `customer:<id>` (CONTRACT.md); nil for anything else.
    public init?(_ text: String) {
        if text == "operator" { self = .operator; return }
        guard text.hasPrefix("customer:"), text.count > 9 else { return nil }
        self = .customer(String(text.dropFirst(9)))
    }

    public var description: String {
        switch self {
        case .operator: "operator"
        case .customer(let id): "customer:" + id
        }
    }

    /// Whether a key of this scope may act on `source`.
    public func allows(_ source: SourceConfig) -> Bool {
        switch self {
        case .operator: true
        case .customer(let id): source.customer == id
        }
    }
}

/// One `admin.keys` entry. Only the SHA-256 of the secret is kept: configuration may give the secret itself or
/// `sha256:<hex>` of it, so a configuration file need not hold usable secrets.
public struct AdminKey: Sendable, Hashable {
    public var id: String
    public var scope: AdminScope
    public var secretDigest: [UInt8]

    /// Shortest secret accepted in configuration.
    public static let minSecretLength = 16

    public init(id: String, secretDigest: [UInt8], scope: AdminScope) {
        self.id = id
        self.secretDigest = secretDigest
        self.scope = scope
    }

    /// A key from its configured secret: the secret itself (at least 16 characters), or `sha256:` and 64 hex
    /// digits. Nil when neither.
    public init?(id: String, secret: String, scope: AdminScope) {
        if secret.hasPrefix("sha256:") {
            guard let bytes = Hex.decode(secret.dropFirst(7)), bytes.count == 32 else { return nil }
            self.init(id: id, secretDigest: bytes, scope: scope)
        } else {
            guard secret.count >= Self.minSecretLength, !secret.contains(where: \.isWhitespace) else { return nil }
            self.init(id: id, secretDigest: Array(SHA256.hash(data: Array(secret.utf8))), scope: scope)
        }
    }
}

/// The configured admin keys. Authentication hashes the presented secret and compares it with every key's digest
/// in constant time (no early exit, on the secret or between keys).
public struct AdminKeyring: Sendable {
    public let keys: [AdminKey]

    public init(_ keys: [AdminKey]) { self.keys = keys }

    /// The key for an `Authorization` header value `Bearer <secret>`, or nil.
    public func authenticate(authorization: String?) -> AdminKey? {
        guard let authorization, authorization.utf8.count <= 1024 else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let digest = Array(SHA256.hash(data: Array(parts[1].trimmedOWS.utf8)))
        var found: AdminKey?
        for key in keys where Self.constantTimeEqual(key.secretDigest, digest) && found == nil {
            found = key
        }
        return found
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
