import CoreMetrics
import NIOConcurrencyHelpers
import Prometheus

/// What happens to edge connections besides their requests — refused at the connection bound, handshakes and
/// heads too slow, HTTP/2 protocol errors and GOAWAYs, stalled answers — counted by name: in /metrics as
/// `imgedge_connection_events_total{event}`, in /v1/stats under `connections`.
final class ConnectionEvents: Sendable {
    private let factory: PrometheusMetricsFactory
    private let counters = NIOLockedValueBox<[String: (CoreMetrics.Counter, Int)]>([:])

    init(factory: PrometheusMetricsFactory) { self.factory = factory }

    func count(_ event: String) {
        let counter = counters.withLockedValue { c -> CoreMetrics.Counter in
            if let (counter, n) = c[event] {
                c[event] = (counter, n + 1)
                return counter
            }
            let made = CoreMetrics.Counter(label: "imgedge_connection_events_total", dimensions: [("event", event)],
                                           factory: factory)
            c[event] = (made, 1)
            return made
        }
        counter.increment()
    }

    /// Every event counted so far.
    var totals: [String: Int] { counters.withLockedValue { $0.mapValues(\.1) } }
}
