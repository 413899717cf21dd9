import EdgeCore
import NIOConcurrencyHelpers
import NIOPosix

/// A fixed set of threads for blocking work (libvips, curl, file reads) with a bounded queue: when
/// `maxRunning + maxQueued` jobs are already admitted, new work fails at once with 503 instead of waiting.
final class BoundedPool: Sendable {
    private let pool: NIOThreadPool
    private let limit: Int
    private let admitted = NIOLockedValueBox(0)
    private let running = NIOLockedValueBox(0)

    init(threads: Int, maxQueued: Int) {
        pool = NIOThreadPool(numberOfThreads: threads)
        limit = threads + maxQueued
        pool.start()
    }

    /// Jobs executing right now.
    var runningCount: Int { running.withLockedValue { $0 } }

    func run<T: Sendable>(_ work: @escaping @Sendable () throws(EdgeError) -> T) async throws(EdgeError) -> T {
        let ok = admitted.withLockedValue { n -> Bool in
            guard n < limit else { return false }
            n += 1
            return true
        }
        guard ok else { throw .overloaded }
        defer { admitted.withLockedValue { $0 -= 1 } }
        do {
            return try await pool.runIfActive { [running] () throws -> T in
                running.withLockedValue { $0 += 1 }
                defer { running.withLockedValue { $0 -= 1 } }
                return try work()
            }
        } catch let e as EdgeError {
            throw e
        } catch {
            throw .overloaded  // the pool is shutting down
        }
    }

    /// Starts `work` on the pool without waiting for it. Returns false, running nothing, when the pool is full. For
    /// work that reports its own result, from the pool's thread. `work` is always called once admitted: with `true`
    /// to do its job, or with `false` when the pool shut down before it ran (it should then only tell whoever waits).
    func submit(_ work: @escaping @Sendable (_ active: Bool) -> Void) -> Bool {
        let ok = admitted.withLockedValue { n -> Bool in
            guard n < limit else { return false }
            n += 1
            return true
        }
        guard ok else { return false }
        pool.submit { [admitted, running] state in
            defer { admitted.withLockedValue { $0 -= 1 } }
            guard case .active = state else { return work(false) }
            running.withLockedValue { $0 += 1 }
            defer { running.withLockedValue { $0 -= 1 } }
            work(true)
        }
        return true
    }

    func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}
