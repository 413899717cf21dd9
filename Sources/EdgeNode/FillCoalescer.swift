import EdgeCore
import NIOConcurrencyHelpers

/// Runs at most one fill per cache key: the first request starts it (in its own task, so a client that
/// goes away does not cancel work others wait for); everyone, first included, gets its result — or, after
/// `timeout`, a 504 while the fill goes on (its result is still stored for the next request).
final class FillCoalescer<Value: Sendable>: Sendable {
    private struct Waiter: Sendable {
        var id: UInt64
        var continuation: CheckedContinuation<Value, any Error>
    }
    private let state = NIOLockedValueBox(SingleFlight<CacheKey, Waiter>())
    private let nextID = NIOLockedValueBox<UInt64>(0)
    let timeout: Duration

    init(timeout: Duration) { self.timeout = timeout }

    var inFlight: Int { state.withLockedValue { $0.inFlight } }

    func run(_ key: CacheKey, fill: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let id = nextID.withLockedValue { n in n += 1; return n }
        let timer = Task { [state, timeout] in
            try await Task.sleep(for: timeout)
            let gaveUp = state.withLockedValue { $0.leave(key) { $0.id == id } }
            gaveUp?.continuation.resume(throwing: EdgeError.gatewayTimeout(detail: "fill still running after \(timeout)"))
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
            let action = state.withLockedValue { $0.join(key, Waiter(id: id, continuation: continuation)) }
            guard case .startFill = action else { return }
            Task {
                let result: Result<Value, any Error>
                do { result = .success(try await fill()) } catch { result = .failure(error) }
                let waiters = self.state.withLockedValue { $0.finish(key) }
                for w in waiters { w.continuation.resume(with: result) }
            }
        }
    }
}
