import CoreMetrics
import NIOConcurrencyHelpers
import Prometheus

/// What happens to edge connections besides their requests — refused at the connection bound, heads too slow,
/// HTTP/2 protocol errors and GOAWAYs, stalled answers — counted by name: in /metrics as
/// `imgedge_connection_events_total{event}`, in /v1/stats under `connections.events`; and how many are open
/// against the bound (`imgedge_connections_open`, `connections.open` and `connections.max`).
final class ConnectionEvents: Sendable {
    private let factory: PrometheusMetricsFactory
    private let counters = NIOLockedValueBox<[String: (CoreMetrics.Counter, Int)]>([:])
    private let openGauge: CoreMetrics.Gauge
    private let state = NIOLockedValueBox((open: 0, max: Int.max))

    init(factory: PrometheusMetricsFactory) {
        self.factory = factory
        openGauge = CoreMetrics.Gauge(label: "imgedge_connections_open", dimensions: [], factory: factory)
    }

    /// Sets the bound (`http.maxConnections`).
    func limit(_ max: Int) { state.withLockedValue { $0.max = max } }

    /// Counts a new connection in; false (counting nothing) when the bound is reached.
    func open() -> Bool {
        let n = state.withLockedValue { s -> Int? in
            guard s.open < s.max else { return nil }
            s.open += 1
            return s.open
        }
        guard let n else { return false }
        openGauge.record(n)
        return true
    }

    func close() { openGauge.record(state.withLockedValue { s in s.open -= 1; return s.open }) }

    var openCount: Int { state.withLockedValue { $0.open } }
    var maxCount: Int { state.withLockedValue { $0.max } }

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
