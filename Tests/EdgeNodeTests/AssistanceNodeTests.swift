import EdgeCore
import EdgeNode
import EdgePrivacy
import EdgeTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Assisted access: a customer grants operators time-limited, scoped help; operators act under the grant
/// explicitly; everything is in the audit log.
@Suite struct AssistanceNodeTests {
    static let opsSecret = PurgeNodeTests.operatorSecret
    static let ops2Secret = "second-operator-secret-1"
    static let acmeSecret = PurgeNodeTests.acmeSecret
    static let otherSecret = "other-customer-secret-1"

    static func start(clock: ManualClock) async throws -> TestNode {
        try await TestNode.start(clock: clock) { c in
            c.sources[0].customer = "acme"
            c.sources[1].customer = "other"
            c.adminKeys = [AdminKey(id: "ops", secret: opsSecret, scope: .operator)!,
                           AdminKey(id: "ops2", secret: ops2Secret, scope: .operator)!,
                           AdminKey(id: "acme", secret: acmeSecret, scope: .customer("acme"))!,
                           AdminKey(id: "other", secret: otherSecret, scope: .customer("other"))!]
        }
    }

    /// An admin request (POST unless told), its status and its body parsed.
    static func admin(_ node: TestNode, _ target: String, method: HTTPMethod = .POST, secret: String, grant: String? = nil,
                      body: String? = nil) async throws -> (status: Int, json: Any?) {
        let r = try await node.admin(target, method: method, secret: secret, grant: grant, body: body)
        return (r.status, try? JSONSerialization.jsonObject(with: Data(r.body)))
    }

    static func grant(_ node: TestNode, _ body: String) async throws -> String {
        let r = try await admin(node, "/v1/assistance", secret: acmeSecret, body: body)
        #expect(r.status == 201)
        return try #require((r.json as? [String: Any])?["grant"] as? String)
    }

    /// Should let an operator do, for the granting customer and within its scope and time, only what the grant
    /// allows, and record every action with operator, customer, grant, action and time.
    @Test func operatorsActOnlyUnderAGrant() async throws {
        let clock = ManualClock()
        let node = try await Self.start(clock: clock)
        defer { Task { await node.stopAll() } }
        // Without a grant an operator cannot switch a customer's source.
        #expect(try await Self.admin(node, "/v1/sources/web/disable", secret: Self.opsSecret).status == 403)
        let token = try await Self.grant(node, #"{"scope": ["sources"], "duration": 3600, "operator": "ops"}"#)
        #expect(try await Self.admin(node, "/v1/sources/web/disable", secret: Self.opsSecret, grant: token).status == 200)
        #expect(try await node.get("/a.jpg?w=10").status == 403)
        // Outside the grant: another scope, another customer's source, another operator, a customer key, garbage.
        #expect(try await PurgeNodeTests.purge(node, #"{"source": "web"}"#, secret: nil).status == 401)
        let purge = try await Self.admin(node, "/v1/purge", secret: Self.opsSecret, grant: token, body: #"{"source": "web"}"#)
        #expect(purge.status == 403)
        #expect(try await Self.admin(node, "/v1/sources/files/disable", secret: Self.opsSecret, grant: token).status == 403)
        #expect(try await Self.admin(node, "/v1/sources/web/enable", secret: Self.ops2Secret, grant: token).status == 403)
        #expect(try await Self.admin(node, "/v1/sources/web/enable", secret: Self.otherSecret, grant: token).status == 403)
        #expect(try await Self.admin(node, "/v1/sources/web/enable", secret: Self.opsSecret, grant: "ig1.00.00").status == 403)
        // Expired: refused.
        clock.advance(3601)
        #expect(try await Self.admin(node, "/v1/sources/web/enable", secret: Self.opsSecret, grant: token).status == 403)
        // A grant for purges, used once, then revoked: refused from then on.
        let purger = try await Self.grant(node, #"{"scope": ["purge"], "duration": 600}"#)
        let assisted = try await Self.admin(node, "/v1/purge", secret: Self.ops2Secret, grant: purger, body: #"{"source": "web"}"#)
        #expect(assisted.status == 202)
        #expect(try await Self.admin(node, "/v1/purge", secret: Self.opsSecret, grant: purger,
                                     body: #"{"source": "files"}"#).status == 403)   // not acme's source
        #expect(try await Self.admin(node, "/v1/assistance/revoke", secret: Self.otherSecret,
                                     body: #"{"grant": "\#(purger)"}"#).status == 403)
        #expect(try await Self.admin(node, "/v1/assistance/revoke", secret: Self.acmeSecret,
                                     body: #"{"grant": "\#(purger)"}"#).status == 200)
        #expect(try await Self.admin(node, "/v1/purge", secret: Self.ops2Secret, grant: purger,
                                     body: #"{"source": "web"}"#).status == 403)
        // Grants are given by customer keys, for at most a day.
        #expect(try await Self.admin(node, "/v1/assistance", secret: Self.opsSecret,
                                     body: #"{"scope": ["purge"], "duration": 60}"#).status == 403)
        #expect(try await Self.admin(node, "/v1/assistance", secret: Self.acmeSecret,
                                     body: #"{"scope": ["purge"], "duration": 90000}"#).status == 400)
        #expect(try await Self.admin(node, "/v1/assistance", secret: Self.acmeSecret,
                                     body: #"{"scope": ["everything"], "duration": 60}"#).status == 400)

        // The audit log: the customer sees its own entries, the operator all, the other customer none of acme's.
        let all = try #require(try await Self.admin(node, "/v1/audit", method: .GET, secret: Self.opsSecret).json as? [[String: Any]])
        let actions = all.map { "\($0["actor"] ?? "")/\($0["action"] ?? "")/\($0["customer"] ?? "")/\($0["grant"] is String)" }
        #expect(actions == ["acme/grant/acme/true", "ops/disable/acme/true", "acme/grant/acme/true", "ops2/purge/acme/true",
                            "acme/revoke/acme/true"])
        #expect(all.allSatisfy { ($0["time"] as? Double ?? 0) > 0 })
        let own = try #require(try await Self.admin(node, "/v1/audit", method: .GET, secret: Self.acmeSecret).json as? [[String: Any]])
        #expect(own.count == 5)
        let others = try #require(try await Self.admin(node, "/v1/audit", method: .GET, secret: Self.otherSecret).json as? [[String: Any]])
        #expect(others.isEmpty)
    }
}
