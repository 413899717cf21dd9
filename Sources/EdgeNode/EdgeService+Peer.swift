import Crypto
import EdgeCore
import Foundation
import NIOCore

/// Peer fill in the request flow: a miss asks the key's owner before the origin (`fillFromPeer`), and an owner
/// answers asks from its cache or a fill of its own (`answerPeer`), whose single flight then covers the cluster.
extension EdgeService {
    /// Whether a target may be filled through its owner: not an original forwarding request fields (its answer
    /// depends on more than the resolution) nor one asked with a forwarded Authorization, and not a Vary variant.
    static func peerFillable(_ t: Target) -> Bool {
        let r = t.resolved
        return !t.authorized && t.key == r.key && !(r.passes && r.source.forwardsRequestHeaders)
    }

    /// The variant from its owner, or nil to fill here (this node owns it, no owner answered, or the owner's copy
    /// is covered by a purge this node has applied). Stored here too (`cluster.storeCopies`), checked against the
    /// tombstones as a fill of this node's own is: the entry's fetch time is on the hybrid clock of the owner's
    /// fill, which this node's clock has moved past.
    func fillFromPeer(_ t: Target, _ request: PeerRequest, _ cluster: ClusterService,
                      allocator: ByteBufferAllocator) async throws -> FillResult? {
        let r = t.resolved
        askingPeers.withLockedValue { $0[t.key, default: 0] += 1 }
        let result = await cluster.fill(request, key: t.key,
                                        shard: ClusterService.shard(source: r.source.name, path: r.path.description))
        askingPeers.withLockedValue { a in
            a[t.key, default: 1] -= 1
            if a[t.key] == 0 { a[t.key] = nil }
        }
        switch result {
        case .local:
            return nil
        case .failed(let error):
            throw error
        case .entry(let raw, let storable, let uncacheable, let owner, let duration):
            let item = raw.withUnsafeBytes { HotCache.Item.decoding($0, allocator: allocator) }
            guard let item, item.header.source == r.source.name, item.header.path == r.path.description else {
                logger.warning("peer sent an entry of another image", metadata: ["edge.peer": "\(owner)"])
                return nil
            }
            // Checked against every purge of the horizon, not only this node's unexpired tombstones: a sweep here
            // may have expired a purge the owner has not heard of yet.
            if purges.covers(item.header) || purges.coveredRecently(item.header) {
                metrics.countPeerAsk("purged")
                return nil
            }
            var stored = false
            if storable && cluster.settings.storeCopies {
                // Kept in memory at once (if no purge covers it), written to the store after answering: a fill
                // under way for the purges until the write has landed, and checked again then.
                let begun = purges.beginFill()
                stored = purges.ifLive(item.header) { hot.put(t.key, item) }
                Task { [store, purges, hot, logger, key = t.key] in
                    defer { purges.endFill(begun) }
                    guard stored else { return }
                    do {
                        try await store.write(key, value: raw)
                        if purges.covers(item.header) {
                            hot.remove(key)
                            try? await store.remove(key)
                        }
                    } catch {
                        logger.debug("peer copy not stored", metadata: ["edge.cache_key": "\(key)", "edge.error": "\(error)"])
                    }
                }
            }
            // The owner is named by a digest of its address: clients learn which member answered, not where it is.
            let tag = Hex.encode(Array(SHA256.hash(data: Array(owner.utf8))).prefix(4))
            let timing = String(format: "peer;dur=%.1f", duration.inSeconds * 1000) + ";desc=\"\(tag)\""
            return FillResult(item: item, serverTiming: timing,
                              uncacheable: storable ? nil : uncacheable ?? "private, no-cache",
                              stored: stored || (storable && !cluster.settings.storeCopies), key: t.key)
        }
    }

    /// The variant from the shared tier, stored here too (checked against this node's tombstones as well), or nil.
    func fillFromShared(_ t: Target, _ tier: SharedTier, allocator: ByteBufferAllocator) async -> FillResult? {
        let r = t.resolved
        let start = ContinuousClock.now
        guard let raw = await tier.read(t.key, source: r.source.name, path: r.path.description) else { return nil }
        guard let item = raw.withUnsafeBytes({ HotCache.Item.decoding($0, allocator: allocator) }),
              !purges.covers(item.header) else { return nil }
        var stored = false
        do {
            try await store.write(t.key, value: raw)
            stored = purges.ifLive(item.header) { hot.put(t.key, item) }
        } catch {
            logger.debug("shared tier copy not stored", metadata: ["edge.cache_key": "\(t.key)", "edge.error": "\(error)"])
        }
        let timing = String(format: "shared;dur=%.1f", (ContinuousClock.now - start).inSeconds * 1000)
        return FillResult(item: item, serverTiming: timing, uncacheable: nil, stored: stored, key: t.key)
    }

    /// An owner's answer to an ask for `expected` (the key the asker computed): the fresh entry it holds, or the
    /// result of its fill (coalesced with any other, from an edge request or another ask). Never asks a peer in
    /// turn. Refused (declined: the asker fills for itself) when this node resolves the request to another key
    /// (another configuration) or cannot take the work now.
    func answerPeer(_ request: EdgeRequest, expected: String, allocator: ByteBufferAllocator) async -> PeerProtocol.Answer {
        switch answerPeerNow(request, expected: expected, allocator: allocator) {
        case .answer(let answer):
            return answer
        case .fill(let target):
            return await answerPeerByFilling(target, allocator: allocator)
        }
    }

    /// What an ask gets without waiting (done on the event loop, as a hit is): its error, or the fresh entry held
    /// here; else the target to fill.
    enum PeerStep {
        case answer(PeerProtocol.Answer)
        case fill(Target)
    }

    func answerPeerNow(_ request: EdgeRequest, expected: String, allocator: ByteBufferAllocator) -> PeerStep {
        let resolved: Resolved
        let memoKey = ResolvedMemo.key(request)
        if let known = resolvedMemo.get(memoKey), known.expires.map({ clock() <= $0 }) ?? true {
            resolved = known
        } else {
            do {
                resolved = try resolve(request)
            } catch {
                metrics.countPeerServed("error")
                return .answer(.error(status: error.status, message: error.publicMessage, declined: false))
            }
            resolvedMemo.put(memoKey, resolved)
        }
        if purges.isDisabled(resolved.source.name) {
            metrics.countPeerServed("error")
            return .answer(.error(status: 403, message: "source is disabled", declined: false))
        }
        let target = Target(resolved)
        guard resolved.key.description == expected, Self.peerFillable(target) else {
            metrics.countPeerServed("declined")
            return .answer(.error(status: 409, message: "this node resolves the request otherwise", declined: true))
        }
        if let item = freshEntry(target.key, allocator: allocator) {
            metrics.countPeerServed("hit")
            return .answer(.entry(Self.encoded(item), storable: true, uncacheable: nil))
        }
        return .fill(target)
    }

    /// The answer from a fill of `target` (coalesced with any other, from an edge request or another ask).
    func answerPeerByFilling(_ target: Target, allocator: ByteBufferAllocator) async -> PeerProtocol.Answer {
        do {
            let stale = look(target.key, allocator: allocator).flatMap { purges.covers($0) ? nil : $0 }
            // Two members that disagree for a moment on the owner may ask each other for one key: the ask does not
            // wait for a fill of this node's that is itself asking a peer, but fills on its own (coalesced with the
            // other asks for the key).
            let asking = askingPeers.withLockedValue { $0[target.key] != nil }
            let flight = asking ? CacheKey.varied(target.key, by: "imgedge-owner-fill") : target.key
            let made = try await coalescer.run(flight) { [self] in try await fill(target, stale: stale, allocator: allocator) }
            metrics.countPeerServed("filled")
            return .entry(Self.encoded(made.item), storable: made.uncacheable == nil, uncacheable: made.uncacheable)
        } catch {
            let e = (error as? EdgeError) ?? .internalError(detail: "\(error)")
            // Its own trouble (overloaded, out of time): another member, or the asker itself, may do better.
            let declined = [500, 503, 504].contains(e.status)
            metrics.countPeerServed(declined ? "declined" : "error")
            return .error(status: e.status, message: e.publicMessage, declined: declined)
        }
    }

    static func encoded(_ item: HotCache.Item) -> [UInt8] {
        CacheEntry(header: item.header, body: Array(item.body.readableBytesView)).encoded()
    }
}
