import EdgeCore
@testable import EdgeStore
import Foundation

// What only the store's tests ask of it, through its internals: writes batched on purpose, the restore and the
// snapshot the writer otherwise does when it sees fit, and where the policy holds one key.
extension LMDBCacheStore {
    /// Writes `values` in one batch (one transaction, unless one of them fails) and returns each write's result:
    /// for tests of what a failing operation does to the others in its batch.
    func write(batch values: [(CacheKey, [UInt8])]) async -> [Result<Void, any Error>] {
        await writer.submit(all: values.map { key, value in
            .put(key.bytes, value, value.withUnsafeBytes { Self.checksum($0) })
        })
    }

    /// Returns once every entry found at open is tracked by the policy.
    func restorePolicy() async throws {
        try await writer.submit(.restore)
    }

    /// Saves the policy's state now (restoring the entries found at open first, if that is not finished), and
    /// returns once it is on disk. The writer saves one by itself `snapshotInterval` after an admission, after
    /// `snapshotAdmissions` admissions, and at `close()`.
    func savePolicySnapshot() async throws {
        try await writer.submit(.snapshot)
    }

    /// The queue of the policy holding `key`, nil when it does not track it (absent, or not restored yet).
    func queue(of key: CacheKey) -> S3FIFO<DigestKey>.Queue? {
        let k = Self.digestKey(key.bytes)
        applyPendingHits()
        return lock.withLock { policy.queue(of: k) }
    }
}

extension LMDBCacheStore.Writer {
    /// Queues `ops` together, so that they go in one batch if they fit in one, and returns each one's result.
    func submit(all ops: [LMDBCacheStore.Operation]) async -> [Result<Void, any Error>] {
        await withCheckedContinuation { (c: CheckedContinuation<[Result<Void, any Error>], Never>) in
            let results = BatchResults(count: ops.count) { c.resume(returning: $0) }
            enqueue(ops.enumerated().map { i, op in Pending(operation: op) { results.set(i, $0) } })
        }
    }
}

/// Collects the results of operations queued together; calls `done` with them once all are in.
private final class BatchResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<Void, any Error>?]
    private var missing: Int
    private let done: ([Result<Void, any Error>]) -> Void

    init(count: Int, done: @escaping ([Result<Void, any Error>]) -> Void) {
        results = Array(repeating: nil, count: count)
        missing = count
        self.done = done
        if count == 0 { done([]) }
    }

    func set(_ i: Int, _ result: Result<Void, any Error>) {
        let complete = lock.withLock { () -> Bool in
            results[i] = result
            missing -= 1
            return missing == 0
        }
        if complete { done(results.map { $0! }) }
    }
}
