import EdgeCore
import EdgePrivacy
import EdgeStore
import Foundation
import NIOCore
import NIOHTTP1

/// The admin listener: liveness, readiness, Prometheus metrics, JSON stats, and the purge API. Not on the image
/// hot path. Request bodies are read up to `maxBody` (413 beyond); purges answer once they are in effect.
final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Largest request body read (a purge is a small JSON object).
    static let maxBody = 64 * 1024

    private let node: AdminView
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    private let executor: EventLoopTaskExecutor

    init(node: AdminView, loop: any EventLoop) {
        self.node = node
        executor = EventLoopTaskExecutor(loop: loop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
            tooLarge = false
        case .body(let chunk):
            if body.count + chunk.readableBytes > Self.maxBody { tooLarge = true } else { body += chunk.readableBytesView }
        case .end:
            guard let h = head else { return }
            head = nil
            let request = AdminRequest(method: h.method, uri: h.uri,
                                       authorization: h.headers.first(name: "authorization"),
                                       grant: h.headers.first(name: "x-imgedge-grant"), body: body)
            body = []
            if tooLarge {
                write(context: context, h, AdminResponse.error(.payloadTooLarge, "request body over 64 KiB"))
                return
            }
            switch node.route(request) {
            case .done(let response):
                write(context: context, h, response)
            case .pending(let work):
                let promise = context.eventLoop.makePromise(of: AdminResponse.self)
                Task(executorPreference: executor) { promise.succeed(await work()) }
                promise.futureResult.assumeIsolated().whenSuccess { response in
                    self.write(context: context, h, response)
                }
            }
        }
    }

    private func write(context: ChannelHandlerContext, _ h: HTTPRequestHead, _ r: AdminResponse) {
        var headers = HTTPHeaders([("content-type", r.contentType), ("content-length", String(r.body.count)),
                                   ("cache-control", "no-store")])
        for (name, value) in r.extraHeaders { headers.add(name: name, value: value) }
        if !h.isKeepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: r.status, headers: headers))), promise: nil)
        if h.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: r.body)))), promise: nil)
        }
        let keepAlive = h.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// One admin request, body included.
struct AdminRequest: Sendable {
    var method: HTTPMethod
    var uri: String
    var authorization: String?
    /// `X-Imgedge-Grant`: an assistance grant an operator acts under.
    var grant: String?
    var body: [UInt8]

    var path: String { uri.split(byte: UInt8(ascii: "?"), maxSplits: 1).first.map(String.init) ?? uri }

    /// The value of query parameter `name` ("" when it stands alone, as `?local`), nil when absent.
    func query(_ name: String) -> Substring? {
        guard let q = uri.split(byte: UInt8(ascii: "?"), maxSplits: 1).dropFirst().first else { return nil }
        for pair in q.split(byte: UInt8(ascii: "&")) {
            let parts = pair.split(byte: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == name { return parts.count > 1 ? parts[1] : "" }
        }
        return nil
    }
}

/// One admin response.
struct AdminResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType = "application/json"
    var body: [UInt8]
    var extraHeaders: [(String, String)] = []

    static func json(_ status: HTTPResponseStatus, _ text: String) -> AdminResponse {
        AdminResponse(status: status, body: Array(text.utf8))
    }

    static func error(_ status: HTTPResponseStatus, _ message: String) -> AdminResponse {
        json(status, #"{"error":"\#(JSONText.escape(message))","status":\#(status.code)}"#)
    }

    static let unauthorized = AdminResponse(status: .unauthorized,
                                            body: Array(#"{"error":"a valid admin key is required (Authorization: Bearer <secret>)","status":401}"#.utf8),
                                            extraHeaders: [("www-authenticate", "Bearer")])
}

/// What the admin listener may see of a node.
struct AdminView: Sendable {
    let service: EdgeService
    let gossip: GossipService?
    let sweeper: PurgeSweeper
    let audit: AuditLog
    /// The store itself, for its statistics (eviction queues, damage, repairs, policy snapshots).
    let store: LMDBCacheStore
    /// The key assistance grants are signed with (shared by the cluster: derived from `gossip.secret`).
    let grantKey: [UInt8]
    let isReady: @Sendable () -> Bool

    var ready: Bool { isReady() }

    enum Outcome {
        case done(AdminResponse)
        case pending(@Sendable () async -> AdminResponse)
    }

    func route(_ r: AdminRequest) -> Outcome {
        let json = "application/json"
        switch (r.method, r.path) {
        case (.GET, "/healthz"), (.HEAD, "/healthz"):
            return .done(.json(.ok, #"{"status":"ok"}"#))
        case (.GET, "/readyz"), (.HEAD, "/readyz"):
            return .done(ready ? .json(.ok, #"{"status":"ready"}"#) : .json(.serviceUnavailable, #"{"status":"not ready"}"#))
        case (.GET, "/metrics"), (.HEAD, "/metrics"):
            return .done(AdminResponse(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metricsText()))
        case (.GET, "/v1/stats"), (.HEAD, "/v1/stats"):
            return .done(AdminResponse(status: .ok, contentType: json, body: Array(statsJSON().utf8)))
        case (.POST, "/v1/purge"):
            return purge(r)
        case (.GET, let p) where p.hasPrefix("/v1/purge/"):
            guard service.keyring.authenticate(authorization: r.authorization) != nil else { return .done(.unauthorized) }
            let id = String(p.dropFirst("/v1/purge/".count))
            let local = r.query("local") != nil
            return .pending { [service, gossip] in
                await Self.purgeStatus(id, service: service, gossip: local ? nil : gossip)
            }
        case (.PUT, "/v1/gossip/faults"):
            return gossipFaults(r)
        case (.POST, let p) where p.hasPrefix("/v1/sources/") && (p.hasSuffix("/disable") || p.hasSuffix("/enable")):
            return switchSource(r, path: p)
        case (.GET, "/v1/sources"):
            return listSources(r)
        case (.POST, "/v1/assistance"):
            return grantAssistance(r)
        case (.POST, "/v1/assistance/revoke"):
            return revokeAssistance(r)
        case (.GET, "/v1/audit"):
            return auditEntries(r)
        case (_, "/healthz"), (_, "/readyz"), (_, "/metrics"), (_, "/v1/stats"), (_, "/v1/purge"):
            return .done(.error(.methodNotAllowed, "method not allowed"))
        default:
            return .done(.error(.notFound, "not found"))
        }
    }

    /// `POST /v1/purge`: authenticate, parse the selector, check the key's scope, apply; 202 once in effect.
    private func purge(_ r: AdminRequest) -> Outcome {
        guard let key = service.keyring.authenticate(authorization: r.authorization) else { return .done(.unauthorized) }
        let acting: Acting
        switch actingAs(key, r, for: .purge) {
        case .success(let a): acting = a
        case .failure(let refusal): return .done(refusal.response)
        }
        let selectors: [PurgeSelector]
        do {
            selectors = try PurgeRequest.selectors(body: r.body, router: service.router, sources: service.config.sources,
                                                   scope: acting.scope)
        } catch {
            return .done(.error(HTTPResponseStatus(statusCode: error.status), error.message))
        }
        return .pending { [service, audit] in
            do {
                // The audit line and the tombstones are flushed at once (two files, two fsyncs in parallel): the
                // answer waits for the slower of the two, not their sum. If the tombstone log fails, the purge is still
                // in effect here (it is applied in memory before it is written), so the audit line stays true.
                async let audited: Void = audit.append(acting.entry(node: service.config.nodeID, action: "purge",
                                                                    detail: selectors.map(\.description).joined(separator: "; ")))
                let id = try await service.purges.purge(selectors).id
                try await audited
                service.logger.info("purge", metadata: ["edge.purge": "\(id)", "edge.key": "\(key.id)",
                                                        "edge.selectors": "\(selectors.map(\.description))"])
                let nodeID = JSONText.escape(service.config.nodeID)
                return .json(.accepted, #"{"id":"\#(JSONText.escape(id))","node":"\#(nodeID)"}"#)
            } catch {
                service.logger.error("purge not recorded", metadata: ["edge.error": "\(error)"])
                return .error(.internalServerError, "purge applied here but not recorded on disk")
            }
        }
    }

    /// `GET /v1/purge/{id}`: whether this node and every member it knows applied it ("applied", "pending", or
    /// "unreachable" for a member that did not answer within half a second); 404 when no one has it. With
    /// `?local`, this node only, and when it applied it (`appliedAt`, microseconds since 1970).
    static func purgeStatus(_ id: String, service: EdgeService, gossip: GossipService?) async -> AdminResponse {
        let here = service.purges.applied(id)
        let at = service.purges.appliedAt(id).map { ",\"appliedAt\":\($0)" } ?? ""
        let members = await gossip?.status(of: id) ?? []
        guard here || members.contains(where: { $0.applied == true }) else {
            return .error(.notFound, "no such purge on this node or its peers")
        }
        func word(_ applied: Bool?) -> String { applied.map { $0 ? "applied" : "pending" } ?? "unreachable" }
        var nodes = [#""\#(JSONText.escape(gossip?.address ?? service.config.nodeID))":"\#(word(here))""#]
        nodes += members.map { #""\#(JSONText.escape($0.member))":"\#(word($0.applied))""# }
        let all = here && members.allSatisfy { $0.applied == true }
        return .json(.ok, #"{"id":"\#(JSONText.escape(id))","complete":\#(all)\#(at),"nodes":{\#(nodes.joined(separator: ","))}}"#)
    }

    /// `POST /v1/sources/{name}/disable` and `/enable`, with the key of the source's customer: from the answer on
    /// this node refuses (or serves again) the source, and the decision spreads to every peer; disabling also purges
    /// its cached variants everywhere. Operator keys are refused (403): switching a customer's source is the
    /// customer's decision.
    private func switchSource(_ r: AdminRequest, path: String) -> Outcome {
        guard let key = service.keyring.authenticate(authorization: r.authorization) else { return .done(.unauthorized) }
        let enable = path.hasSuffix("/enable")
        let name = String(path.dropFirst("/v1/sources/".count).dropLast(enable ? "/enable".count : "/disable".count))
        guard let source = service.config.sources.first(where: { $0.name == name }) else {
            return .done(.error(.notFound, "no such source"))
        }
        let acting: Acting
        switch actingAs(key, r, for: .sources) {
        case .success(let a): acting = a
        case .failure(let refusal): return .done(refusal.response)
        }
        guard case .customer(let id) = acting.scope, id == source.customer else {
            return .done(.error(.forbidden, "only the source's customer (or an operator under its grant) may switch it"))
        }
        return .pending { [service, audit] in
            do {
                let change = try await service.purges.switchSource(name, enabled: enable)
                try await audit.append(acting.entry(node: service.config.nodeID, action: enable ? "enable" : "disable",
                                                    detail: "source \(name)"))
                service.logger.info("source switched", metadata: ["edge.source": "\(name)", "edge.enabled": "\(enable)",
                                                                  "edge.key": "\(key.id)"])
                return .json(.ok, Self.sourceJSON(name, enabled: enable, time: change.time))
            } catch {
                service.logger.error("source switch not recorded", metadata: ["edge.error": "\(error)"])
                return .error(.internalServerError, "switched here but not recorded on disk")
            }
        }
    }

    /// Who an admin request acts as: the key itself, or — for an operator key presenting `X-Imgedge-Grant` — the
    /// customer whose grant it carries, within the grant's scope.
    struct Acting: Sendable {
        var key: AdminKey
        var scope: AdminScope
        var grant: AssistanceGrant?

        func entry(node: String, action: String, detail: String) -> AuditLog.Entry {
            var customer: String?
            if case .customer(let id) = scope { customer = id }
            return AuditLog.Entry(time: Date().timeIntervalSince1970, node: node, actor: key.id,
                                  actorScope: key.scope.description, customer: customer, grant: grant?.id,
                                  action: action, detail: detail)
        }
    }

    struct Refusal: Error {
        var response: AdminResponse
    }

    func actingAs(_ key: AdminKey, _ r: AdminRequest, for scope: AssistanceGrant.Scope) -> Result<Acting, Refusal> {
        guard let token = r.grant else { return .success(Acting(key: key, scope: key.scope, grant: nil)) }
        guard key.scope == .operator else {
            return .failure(Refusal(response: .error(.forbidden, "only operator keys act under an assistance grant")))
        }
        guard let grant = AssistanceGrant(token: Substring(token.trimmingCharacters(in: .whitespaces)), key: grantKey) else {
            return .failure(Refusal(response: .error(.forbidden, "assistance grant not valid")))
        }
        guard !service.purges.isRevoked(grant: grant.id) else {
            return .failure(Refusal(response: .error(.forbidden, "assistance grant revoked")))
        }
        guard grant.allows(scope, operatorID: key.id, now: service.clock()) else {
            return .failure(Refusal(response: .error(.forbidden, "assistance grant expired or does not allow this")))
        }
        return .success(Acting(key: key, scope: .customer(grant.customer), grant: grant))
    }

    /// `POST /v1/assistance` `{"scope": ["purge", "sources"], "duration": 3600, "operator": "key-id"}` with a
    /// customer key: a signed grant for operators to act for that customer, for at most 24 hours (and no longer
    /// than purges are kept, so its revocation outlives it).
    private func grantAssistance(_ r: AdminRequest) -> Outcome {
        guard let key = service.keyring.authenticate(authorization: r.authorization) else { return .done(.unauthorized) }
        guard case .customer(let customer) = key.scope else {
            return .done(.error(.forbidden, "grants are given by customer keys"))
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any],
              let names = json["scope"] as? [String], !names.isEmpty,
              let seconds = (json["duration"] as? NSNumber)?.doubleValue else {
            return .done(.error(.badRequest, #"expected {"scope": ["purge", "sources"], "duration": seconds, "operator": "optional key id"}"#))
        }
        let scopes = names.compactMap(AssistanceGrant.Scope.init(rawValue:))
        let longest = min(AssistanceGrant.maxDuration, service.config.gossip.retention)
        guard scopes.count == names.count else { return .done(.error(.badRequest, "scope must be purge and/or sources")) }
        guard seconds > 0, seconds <= longest else {
            return .done(.error(.badRequest, "duration must be from 1 to \(Int(longest)) seconds"))
        }
        let operatorID = json["operator"] as? String
        let now = service.clock()
        var random = SystemRandomNumberGenerator()
        let id = Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &random) })
        let grant = AssistanceGrant(id: id, customer: customer, scopes: Set(scopes), operatorID: operatorID,
                                    issuedAt: now, expiresAt: now + seconds)
        let acting = Acting(key: key, scope: key.scope, grant: grant)
        return .pending { [service, audit, grantKey] in
            do {
                try await audit.append(acting.entry(node: service.config.nodeID, action: "grant",
                                                    detail: "scope \(scopes.sorted().map(\.rawValue).joined(separator: ",")) for \(Int(seconds)) s" + (operatorID.map { " to \($0)" } ?? "")))
            } catch {
                return .error(.internalServerError, "grant not recorded in the audit log")
            }
            let body = #"{"id":"\#(id)","grant":"\#(grant.token(key: grantKey))","customer":"\#(JSONText.escape(customer))","# +
                #""scope":[\#(scopes.sorted().map { "\"\($0.rawValue)\"" }.joined(separator: ","))],"expiresAt":\#(grant.expiresAt)}"#
            return .json(.created, body)
        }
    }

    /// `POST /v1/assistance/revoke` `{"grant": "<token>"}` with the granting customer's key: the grant stops
    /// working on every node (the revocation travels like a purge).
    private func revokeAssistance(_ r: AdminRequest) -> Outcome {
        guard let key = service.keyring.authenticate(authorization: r.authorization) else { return .done(.unauthorized) }
        guard let json = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any],
              let token = json["grant"] as? String,
              let grant = AssistanceGrant(token: Substring(token), key: grantKey) else {
            return .done(.error(.badRequest, #"expected {"grant": "<a grant this node can verify>"}"#))
        }
        guard key.scope == .customer(grant.customer) else { return .done(.error(.forbidden, "not this customer's grant")) }
        let acting = Acting(key: key, scope: key.scope, grant: grant)
        return .pending { [service, audit] in
            do {
                try await service.purges.revoke(grant: grant.id)
                try await audit.append(acting.entry(node: service.config.nodeID, action: "revoke", detail: "grant \(grant.id)"))
                return .json(.ok, #"{"id":"\#(grant.id)","revoked":true}"#)
            } catch {
                return .error(.internalServerError, "revoked here but not recorded on disk")
            }
        }
    }

    /// `GET /v1/audit?limit=N` (default 100, at most 1,000): the latest entries of this node's audit log; a
    /// customer key sees only the entries about its customer.
    private func auditEntries(_ r: AdminRequest) -> Outcome {
        guard let key = service.keyring.authenticate(authorization: r.authorization) else { return .done(.unauthorized) }
        var limit = 100
        if let text = r.query("limit") {
            guard let n = Int(text), (1...1000).contains(n) else { return .done(.error(.badRequest, "limit must be from 1 to 1000")) }
            limit = n
        }
        var about: String?
        if case .customer(let id) = key.scope { about = id }
        let (customer, count) = (about, limit)
        return .pending { [audit] in
            let lines = await audit.entries(customer: customer, limit: count)
            return .json(.ok, "[" + lines.joined(separator: ",") + "]")
        }
    }

    /// `GET /v1/sources`: the sources a key may see (a customer's own; all for operators) and whether each is
    /// enabled.
    private func listSources(_ r: AdminRequest) -> Outcome {
        guard let key = service.keyring.authenticate(authorization: r.authorization) else { return .done(.unauthorized) }
        let switches = Dictionary(uniqueKeysWithValues: service.purges.sourceSwitches.map { ($0.source, $0) })
        let visible = service.config.sources.filter { s in
            if case .customer(let id) = key.scope { return s.customer == id }
            return true
        }
        let items = visible.map { s in
            let on = s.enabled && !service.purges.isDisabled(s.name)
            return Self.sourceJSON(s.name, enabled: on, time: switches[s.name]?.time)
        }
        return .done(.json(.ok, "[" + items.joined(separator: ",") + "]"))
    }

    static func sourceJSON(_ name: String, enabled: Bool, time: UInt64?) -> String {
        #"{"source":"\#(JSONText.escape(name))","enabled":\#(enabled)\#(time.map { ",\"switchedAt\":\($0)" } ?? "")}"#
    }

    /// `PUT /v1/gossip/faults` `{"lossRate": 0.1, "blockedPeers": ["host:port"]}` (operator keys): datagram loss
    /// and partitions for testing a cluster; 404 unless `gossip.faultInjection` is on.
    private func gossipFaults(_ r: AdminRequest) -> Outcome {
        guard let gossip, service.config.gossip.faultInjection else { return .done(.error(.notFound, "not found")) }
        guard let key = service.keyring.authenticate(authorization: r.authorization) else { return .done(.unauthorized) }
        guard key.scope == .operator else { return .done(.error(.forbidden, "operator keys only")) }
        guard let json = try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any],
              let rate = (json["lossRate"] as? NSNumber)?.doubleValue ?? Optional(0), rate >= 0, rate < 1,
              let blocked = (json["blockedPeers"] ?? [String]()) as? [String] else {
            return .done(.error(.badRequest, "expected {\"lossRate\": 0…1, \"blockedPeers\": [\"host:port\"]}"))
        }
        gossip.setFaults(lossRate: rate, blocked: Set(blocked))
        return .done(.json(.ok, #"{"lossRate":\#(rate),"blockedPeers":\#(blocked.count)}"#))
    }

    func metricsText() -> [UInt8] {
        service.metrics.exposition(usage: service.store.usage, fills: service.coalescer.inFlight,
                                   transforms: service.transformPool.runningCount)
    }

    func statsJSON() -> String {
        let u = service.store.usage
        let c = service.metrics.cacheCounts()
        let m = service.hot.usage
        let ratio = c.hits + c.misses == 0 ? 0 : Double(c.hits) / Double(c.hits + c.misses)
        let rv = service.metrics.revalidationTotals()
        let tombstones = service.purges.tombstoneCounts
        let sweeps = sweeper.statistics
        let revalidations = NodeMetrics.revalidationResults.map { "\"\($0)\":\(rv[$0] ?? 0)" }.joined(separator: ",")
        let connectionEvents = service.metrics.connections.totals.sorted { $0.key < $1.key }
            .map { "\"\(JSONText.escape($0.key))\":\($0.value)" }.joined(separator: ",")
        return """
        {"node":"\(JSONText.escape(service.config.nodeID))","entries":\(u.entries),"bytes":\(u.bytes),\
        "maxBytes":\(service.config.cacheMaxBytes),"memoryEntries":\(m.entries),"memoryBytes":\(m.bytes),"hits":\(c.hits),"misses":\(c.misses),\
        "hitRatio":\((ratio * 10000).rounded() / 10000),"fillsInFlight":\(service.coalescer.inFlight),\
        "transformsRunning":\(service.transformPool.runningCount),"revalidations":{\(revalidations)},\
        "tombstones":\(tombstones.active),"tombstonesExpired":\(tombstones.expired),"sweeps":\(sweeps.sweeps),\
        "sweptEntries":\(sweeps.deleted),"store":\(storeJSON()),"originals":\(originalsJSON()),"decodeMemory":\(decodeMemoryJSON()),"decodeSharing":\(decodeSharingJSON()),"gossip":\(gossipJSON()),\
        "cluster":\(clusterJSON()),"shared":\(sharedJSON()),"connections":{"open":\(service.metrics.connections.openCount),"max":\(service.metrics.connections.maxCount),\
        "events":{\(connectionEvents)}}}
        """
    }

    /// The store part of /v1/stats: the eviction policy's queues, damage met and repaired, policy snapshots.
    func storeJSON() -> String {
        let s = store.statistics
        return """
        {"smallQueueEntries":\(s.smallQueueEntries),"mainQueueEntries":\(s.mainQueueEntries),"ghostKeys":\(s.ghostKeys),\
        "unrestoredEntries":\(s.unrestoredEntries),"isolatedBatches":\(s.isolatedBatches),\
        "failedOperations":\(s.failedOperations),"abandonedRecords":\(s.abandonedRecords),"repairing":\(s.repairing),\
        "repairPasses":\(s.repairPasses),"repairedPieces":\(s.repaired.pieces),"repairedOrderRecords":\(s.repaired.orderRecords),\
        "snapshotsSaved":\(s.snapshotsSaved),"snapshotsFailed":\(s.snapshotsFailed),"snapshotsIgnored":\(s.snapshotsIgnored),\
        "restoredFromSnapshot":\(s.restoredFromSnapshot),"diskFlushes":\(s.diskFlushes),"diskFlushing":\(s.diskFlushing)}
        """
    }

    /// The originals tier part of /v1/stats: what it holds, its bound (0: off), and how fills got their originals.
    func originalsJSON() -> String {
        let u = service.originals?.usage ?? CacheUsage(entries: 0, bytes: 0)
        let totals = service.metrics.originalTotals()
        let lookups = NodeMetrics.originalResults.map { "\"\($0)\":\(totals[$0] ?? 0)" }.joined(separator: ",")
        return """
        {"entries":\(u.entries),"bytes":\(u.bytes),"maxBytes":\(service.originals == nil ? 0 : service.config.originalsBytes),\
        "lookups":{\(lookups)}}
        """
    }

    /// The decode memory budget part of /v1/stats: its bound, what running transforms hold, who waits.
    func decodeMemoryJSON() -> String {
        let u = service.decodeBudget.usage
        return #"{"capacity":\#(service.decodeBudget.capacity),"inUse":\#(u.inUse),"waiting":\#(u.waiting),"waited":\#(u.waited)}"#
    }

    /// The decode sharing part of /v1/stats: decoded copies kept, copies decoded and variants made from another's.
    func decodeSharingJSON() -> String {
        let s = service.imaging.sharing
        return #"{"copies":\#(s.copies),"bytes":\#(s.bytes),"decodes":\#(s.decodes),"reuses":\#(s.reuses)}"#
    }

    /// The peer fill part of /v1/stats (null when `cluster.port` is not set): the members keys are ranked over
    /// (with their weights, shares and whether an ask found them down here), this node's misses by how asking
    /// ended and by the key's owner, asks it answered as owner, and the frames' bytes.
    func clusterJSON() -> String {
        guard let cluster = service.cluster.withLockedValue({ $0 }) else { return "null" }
        var groups: [String: [String: Int]] = ["asks": [:], "owners": [:], "served": [:], "bytes": [:]]
        for (key, n) in service.metrics.peerTotals() {
            let parts = key.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            groups[parts[0] == "owner" ? "owners" : parts[0], default: [:]][parts[1]] = n
        }
        var object: [String: Any] = ["me": cluster.me.id, "endpoint": cluster.me.endpoint, "members": cluster.describe(),
                                     "storeCopies": cluster.settings.storeCopies, "peerTimeout": cluster.settings.peerTimeout]
        for (k, v) in groups { object[k] = v }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The shared tier part of /v1/stats (null without `cache.shared`): reads, writes and sweeps by result.
    func sharedJSON() -> String {
        guard let shared = service.shared.withLockedValue({ $0 }) else { return "null" }
        var groups: [String: [String: Int]] = ["read": [:], "write": [:], "sweep": [:]]
        for (key, n) in service.metrics.sharedTotals() {
            let parts = key.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2 { groups[parts[0], default: [:]][parts[1]] = n }
        }
        let object: [String: Any] = ["bucket": shared.settings.location.bucket, "prefix": shared.settings.location.prefix,
                                     "reads": groups["read"]!, "writes": groups["write"]!, "sweeps": groups["sweep"]!]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The gossip part of /v1/stats: members by status, messages and refusals so far (null without gossip).
    func gossipJSON() -> String {
        guard let gossip else { return "null" }
        let (members, _) = gossip.view
        let byStatus = Dictionary(grouping: members, by: \.status.rawValue)
        let list = members.sorted { $0.address < $1.address }
            .map { #""\#(JSONText.escape($0.address))":"\#($0.status.rawValue)""# }.joined(separator: ",")
        let totals = service.metrics.gossipTotals().sorted { $0.key < $1.key }
            .map { #""\#($0.key)":\#($0.value)"# }.joined(separator: ",")
        return #"{"address":"\#(JSONText.escape(gossip.address))","alive":\#(byStatus["alive"]?.count ?? 0),"# +
            #""suspect":\#(byStatus["suspect"]?.count ?? 0),"dead":\#(byStatus["dead"]?.count ?? 0),"# +
            #""members":{\#(list)},"counts":{\#(totals)}}"#
    }
}
