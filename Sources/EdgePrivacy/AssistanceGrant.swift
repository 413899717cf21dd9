public import EdgeCore
import Crypto
import Foundation

/// A customer's time-limited permission for operators to act on its behalf: what they may do (`scope`), for how
/// long, and optionally which operator key. It travels as a signed token (`ig1.<payload hex>.<HMAC-SHA256 hex>`),
/// so every node that shares the key can check it without asking the others; revocations travel by gossip.
public struct AssistanceGrant: Sendable, Hashable {
    /// What a grant allows.
    public enum Scope: String, Sendable, Hashable, CaseIterable, Comparable {
        /// Purging the customer's sources.
        case purge
        /// Switching the customer's sources off and on.
        case sources

        public static func < (a: Scope, b: Scope) -> Bool { a.rawValue < b.rawValue }
    }

    /// Longest grant (seconds).
    public static let maxDuration: Double = 86_400

    public var id: String
    public var customer: String
    public var scopes: Set<Scope>
    /// The operator key id allowed to use it (nil: any operator key).
    public var operatorID: String?
    /// Unix seconds.
    public var issuedAt: Double
    public var expiresAt: Double

    public init(id: String, customer: String, scopes: Set<Scope>, operatorID: String?, issuedAt: Double, expiresAt: Double) {
        self.id = id
        self.customer = customer
        self.scopes = scopes
        self.operatorID = operatorID
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    /// The signed token under `key`.
    public func token(key: [UInt8]) -> String {
        var object: [String: Any] = ["id": id, "customer": customer, "scope": scopes.sorted().map(\.rawValue),
                                     "iat": issuedAt, "exp": expiresAt]
        if let operatorID { object["operator"] = operatorID }
        let payload = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map(Array.init) ?? []
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: key))
        return "ig1." + Hex.encode(payload) + "." + Hex.encode(Array(mac))
    }

    /// The grant a token carries, if it was signed under `key` (checked in constant time) and is well formed;
    /// expiry and revocation are the caller's to check (`isValid`).
    public init?(token: Substring, key: [UInt8]) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "ig1", parts[1].utf8.count <= 4096,
              let payload = Hex.decode(parts[1]), let mac = Hex.decode(parts[2]),
              HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: SymmetricKey(data: key)),
              let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any],
              let id = object["id"] as? String, let customer = object["customer"] as? String,
              let scopeNames = object["scope"] as? [String], let iat = object["iat"] as? Double,
              let exp = object["exp"] as? Double else { return nil }
        let scopes = scopeNames.compactMap(Scope.init(rawValue:))
        guard scopes.count == scopeNames.count else { return nil }
        self.init(id: id, customer: customer, scopes: Set(scopes), operatorID: object["operator"] as? String,
                  issuedAt: iat, expiresAt: exp)
    }

    /// Whether operator key `operatorID` may do `scope` for this grant's customer at `now`.
    public func allows(_ scope: Scope, operatorID who: String, now: Double) -> Bool {
        now >= issuedAt - 300 && now < expiresAt && scopes.contains(scope) && (operatorID == nil || operatorID == who)
    }
}
