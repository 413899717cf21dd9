import Crypto
import Foundation
import EdgeCore
import EdgePrivacy
import Testing

@Suite struct AdminKeyTests {
    static let secret = "s3cret-operator-key-0001"
    static let hashed = "sha256:" + SHA256.hash(data: Array("customer-key-000000042".utf8)).map { String(format: "%02x", $0) }.joined()

    let ring = AdminKeyring([
        AdminKey(id: "ops", secret: secret, scope: .operator)!,
        AdminKey(id: "acme", secret: hashed, scope: .customer("acme"))!,
    ])

    /// Should find the key by its secret, given as itself or as a SHA-256 hash in configuration.
    @Test func authenticates() {
        #expect(ring.authenticate(authorization: "Bearer \(Self.secret)")?.id == "ops")
        #expect(ring.authenticate(authorization: "bearer  customer-key-000000042 ")?.id == "acme")
        for bad in [nil, "", "Bearer", "Bearer wrong-secret-000000", "Basic \(Self.secret)", Self.secret,
                    "Bearer " + String(repeating: "x", count: 5000)] {
            #expect(ring.authenticate(authorization: bad) == nil, "\(bad ?? "nil")")
        }
    }

    /// Should refuse short, spaced or malformed secrets, and parse scopes.
    @Test func configuration() {
        #expect(AdminKey(id: "x", secret: "short", scope: .operator) == nil)
        #expect(AdminKey(id: "x", secret: "has a space in it!!", scope: .operator) == nil)
        #expect(AdminKey(id: "x", secret: "sha256:abc", scope: .operator) == nil)
        #expect(AdminKey(id: "x", secret: "sha256:" + String(repeating: "g", count: 64), scope: .operator) == nil)
        #expect(AdminScope("operator") == .operator)
        #expect(AdminScope("customer:acme") == .customer("acme"))
        #expect(AdminScope("customer:") == nil && AdminScope("root") == nil)
        var mine = SourceConfig(name: "a", customer: "acme", kind: .web)
        #expect(AdminScope.customer("acme").allows(mine) && !AdminScope.customer("other").allows(mine))
        mine.customer = nil
        #expect(AdminScope.operator.allows(mine) && !AdminScope.customer("acme").allows(mine))
    }
}
