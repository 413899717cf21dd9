import NIOConcurrencyHelpers
import NIOCore

/// The edge's HTTP/2 connections, so that a stopping node can drain each (GOAWAY, then close once its streams in
/// flight are answered) instead of cutting them.
final class ConnectionRegistry: Sendable {
    private let drains = NIOLockedValueBox<[ObjectIdentifier: @Sendable () -> Void]>([:])

    /// Keeps `channel` until it closes; `drain` is called (on any thread) when the node stops.
    func add(_ channel: any Channel, drain: @escaping @Sendable () -> Void) {
        let id = ObjectIdentifier(channel)
        drains.withLockedValue { $0[id] = drain }
        channel.closeFuture.whenComplete { [drains] _ in drains.withLockedValue { _ = $0.removeValue(forKey: id) } }
    }

    var count: Int { drains.withLockedValue { $0.count } }

    /// Drains every connection still open.
    func drainAll() {
        for drain in drains.withLockedValue({ Array($0.values) }) { drain() }
    }
}
