public import Foundation

/// A command run to its end, waited for on a thread of its own. Swift concurrency's pool has one thread per core
/// (two here) and does not add any while one is blocked, so a test that waits for a child process on a pool thread
/// takes that thread from every other test and from the node under test in the same process (a purge then waited
/// over 10 s for a thread to answer on).
public enum ChildProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `executable` with `arguments` (standard input empty) and returns its exit status and output.
    public static func run(_ executable: String, _ arguments: [String]) async throws -> Result {
        try await OffPool.run {
            let r = try SpawnedProcess.run(executable, arguments)
            return Result(status: r.status, stdout: r.stdout, stderr: r.stderr)
        }
    }
}

/// Blocking work on a thread of its own (never on a Swift concurrency pool thread).
public enum OffPool {
    /// Runs `work` on a new thread and resumes with its result.
    public static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
            let thread = Thread { c.resume(with: Swift.Result { try work() }) }
            thread.start()
        }
    }

    /// Starts `work` on a new thread; `wait()` blocks for its result. For use from threads that may block.
    public static func start<T: Sendable>(_ work: @escaping @Sendable () -> T) -> Pending<T> {
        let pending = Pending<T>()
        Thread { pending.finish(work()) }.start()
        return pending
    }

    public final class Pending<T: Sendable>: @unchecked Sendable {
        private let done = NSCondition()
        private var value: T?

        func finish(_ v: T) {
            done.lock()
            value = v
            done.broadcast()
            done.unlock()
        }

        /// Blocks until the work is done.
        public func wait() -> T {
            done.lock()
            defer { done.unlock() }
            while value == nil { done.wait() }
            return value!
        }
    }
}
