import EdgeCore
import Foundation

extension LMDBCacheStore {
    /// The one thread that writes: takes queued operations in batches (bounded in count and in value bytes, so
    /// that one transaction frees and allocates little), commits each batch in one transaction, then resumes the
    /// callers. When the queue is empty it does the store's idle work (restoring the policy after open). Syncs
    /// the environment to disk at most once a second while busy.
    final class Writer: @unchecked Sendable {
        private struct Pending {
            var operation: Operation
            var continuation: CheckedContinuation<Void, any Error>
        }
        private let condition = NSCondition()
        // Guarded by `condition`.
        private var queue: [Pending] = []
        private var stopping = false
        private var thread: Thread?
        private let done = DispatchSemaphore(value: 0)
        static let batchLimit = 256

        func start(store: LMDBCacheStore) {
            // Weak: the store's deinit stops this thread, so the thread must not keep the store alive.
            let batchBytes = store.batchBytes
            let t = Thread { [weak store, self] in self.run(batchBytes: batchBytes) { store } }
            t.name = "imgedge-lmdb-writer"
            thread = t
            t.start()
        }

        func submit(_ op: Operation) async throws {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                condition.lock()
                if stopping {
                    condition.unlock()
                    c.resume(throwing: StoreClosed())
                    return
                }
                queue.append(Pending(operation: op, continuation: c))
                condition.signal()
                condition.unlock()
            }
        }

        func stop() {
            condition.lock()
            let wasRunning = !stopping && thread != nil
            stopping = true
            condition.signal()
            condition.unlock()
            // The store may be released by the writer thread itself (it holds it during a batch): never wait on ourselves.
            if wasRunning && Thread.current !== thread { done.wait() }
        }

        private func run(batchBytes: Int, _ currentStore: () -> LMDBCacheStore?) {
            var lastSync = Date()
            var idleWork = true
            while true {
                condition.lock()
                if queue.isEmpty && !stopping && idleWork {
                    condition.unlock()
                    idleWork = currentStore()?.idleStep() ?? false
                    continue
                }
                while queue.isEmpty && !stopping { condition.wait() }
                if queue.isEmpty && stopping {
                    condition.unlock()
                    break
                }
                var count = 0, bytes = 0
                for p in queue {
                    let size = p.operation.valueBytes
                    if count == Self.batchLimit || (count > 0 && bytes + size > batchBytes) { break }
                    count += 1
                    bytes += size
                }
                let batch = Array(queue.prefix(count))
                queue.removeFirst(count)
                condition.unlock()

                let store = currentStore()
                let result: Result<Void, any Error> = if let store {
                    Result { try store.apply(batch.map(\.operation)) }
                } else {
                    .failure(StoreClosed())
                }
                for p in batch { p.continuation.resume(with: result) }
                if Date().timeIntervalSince(lastSync) > 1 {
                    store?.sync()
                    lastSync = Date()
                }
                idleWork = true
            }
            done.signal()
        }
    }

    /// A write submitted after `close()`.
    struct StoreClosed: Error {}
}
