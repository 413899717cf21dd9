import EdgeCore
import NIOConcurrencyHelpers

/// Runs at most one fill per cache key: the first request starts it (in its own task, so a client that
/// goes away does not cancel work others wait for); everyone, first included, gets its result.
final class FillCoalescer<Value: Sendable>: Sendable {
    private typealias Waiter = CheckedContinuation<Value, any Error>
    private let state = NIOLockedValueBox(SingleFlight<CacheKey, Waiter>())

    var inFlight: Int { state.withLockedValue { $0.inFlight } }

    func run(_ key: CacheKey, fill: @escaping @Sendable () async throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { (continuation: Waiter) in
            let action = state.withLockedValue { $0.join(key, continuation) }
            guard case .startFill = action else { return }
            Task {
                let result: Result<Value, any Error>
                do { result = .success(try await fill()) } catch { result = .failure(error) }
                let waiters = self.state.withLockedValue { $0.finish(key) }
                for w in waiters { w.resume(with: result) }
            }
        }
    }
}
