import EdgeCore
import EdgePrivacy
import Testing

/// Assistance grants as signed tokens.
@Suite struct AssistanceGrantTests {
    static let key = Array("grant-key-for-tests-0000000000000".utf8)
    static let grant = AssistanceGrant(id: "g1", customer: "acme", scopes: [.purge], operatorID: "ops",
                                       issuedAt: 1_000, expiresAt: 4_600)

    /// Should read back a token signed under the same key, and nothing signed under another or altered.
    @Test func signAndVerify() {
        let token = Self.grant.token(key: Self.key)
        #expect(AssistanceGrant(token: Substring(token), key: Self.key) == Self.grant)
        #expect(AssistanceGrant(token: Substring(token), key: Array("another-key".utf8)) == nil)
        var bytes = Array(token.utf8)
        bytes[10] = bytes[10] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        #expect(AssistanceGrant(token: Substring(String(decoding: bytes, as: UTF8.self)), key: Self.key) == nil)
        for bad in ["", "ig1", "ig1..", "ig2.00.00", "ig1.zz.00"] { #expect(AssistanceGrant(token: Substring(bad), key: Self.key) == nil) }
    }

    /// Should allow only its scopes, its operator and its time.
    @Test func allows() {
        let g = Self.grant
        #expect(g.allows(.purge, operatorID: "ops", now: 2_000))
        #expect(!g.allows(.sources, operatorID: "ops", now: 2_000))
        #expect(!g.allows(.purge, operatorID: "someone-else", now: 2_000))
        #expect(!g.allows(.purge, operatorID: "ops", now: 4_600))
        var anyone = g
        anyone.operatorID = nil
        #expect(anyone.allows(.purge, operatorID: "someone-else", now: 2_000))
    }
}
