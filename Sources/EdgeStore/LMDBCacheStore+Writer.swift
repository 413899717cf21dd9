import EdgeCore
import Foundation

extension LMDBCacheStore {
    /// The one thread that writes: takes queued operations in batches (bounded in count and in value bytes, so
    /// that one transaction frees and allocates little), commits each batch in one transaction, then resumes each
    /// caller with its operation's result. When the queue is empty it does the store's idle work (restoring the
    /// policy after open, repairing the index, saving the policy's snapshot) a step at a time, then sleeps until
    /// an operation arrives or the store's next timed work is due. While busy, asks the store's `Flusher` to sync
    /// the environment to disk at most once a second; the flush runs on its own thread, so the writes go on
    /// meanwhile (syncing a file with many dirty pages takes hundreds of milliseconds).
    final class Writer: @unchecked Sendable {
        struct Pending {
            var operation: Operation
            var done: @Sendable (Result<Void, any Error>) -> Void
        }
        private let condition = NSCondition()
        // Guarded by `condition`.
        private var queue: [Pending] = []
        private var stopping = false
        private var hitsNoted = false
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
                enqueue([Pending(operation: op) { c.resume(with: $0) }])
            }
        }

        /// Queues `pending` together: they go in one batch if they fit in one.
        func enqueue(_ pending: [Pending]) {
            condition.lock()
            if stopping {
                condition.unlock()
                for p in pending { p.done(.failure(StoreClosed())) }
                return
            }
            queue += pending
            condition.signal()
            condition.unlock()
        }

        /// Wakes the thread if it sleeps, to count the hits noted meanwhile.
        func wake() {
            condition.lock()
            hitsNoted = true
            condition.signal()
            condition.unlock()
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
                if queue.isEmpty && !stopping {
                    if idleWork {
                        condition.unlock()
                        idleWork = currentStore()?.idleStep() ?? false
                        continue
                    }
                    // Asleep until an operation arrives, or until the store's next timed work.
                    if let deadline = currentStore()?.idleDeadline {
                        let seconds = Double((deadline - .now) / .milliseconds(1)) / 1000
                        idleWork = !condition.wait(until: Date(timeIntervalSinceNow: max(0, seconds)))
                    } else {
                        condition.wait()
                    }
                    let countHits = hitsNoted
                    hitsNoted = false
                    condition.unlock()
                    if countHits { currentStore()?.applyPendingHits() }
                    continue
                }
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
                let results = store?.apply(batch.map(\.operation))
                for (i, p) in batch.enumerated() { p.done(results?[i] ?? .failure(StoreClosed())) }
                if Date().timeIntervalSince(lastSync) > 1 {
                    store?.flusher.request()
                    lastSync = Date()
                }
                idleWork = true
            }
            done.signal()
        }
    }

    /// A write submitted after `close()`.
    struct StoreClosed: Error {}

    /// Flushes the environment's dirty pages to disk (`LMDBEnvironment.flush()`) on a thread of its own, one flush
    /// at a time, so that the writer goes on meanwhile; a request while one runs is dropped (the running one is about
    /// as recent). Its own thread, not a dispatch queue: a flush must not wait for a pool that other work may fill.
    /// With `.noSync` (MDB_NOSYNC) a commit only reaches the OS's page cache: a killed process loses nothing, and
    /// these flushes bound what a crash of the machine can lose. `stop()` returns once no flush is running (the store
    /// calls it before closing the environment).
    final class Flusher: @unchecked Sendable {
        private let env: LMDBEnvironment
        private let condition = NSCondition()
        // Guarded by `condition`.
        private var requested = false
        private var running = false
        private var stopping = false
        private var count = 0
        private let finished = DispatchSemaphore(value: 0)

        init(env: LMDBEnvironment) {
            self.env = env
            let t = Thread { [self] in run() }
            t.name = "imgedge-lmdb-flush"
            t.start()
        }

        func request() {
            condition.lock()
            if !running && !stopping {
                requested = true
                condition.signal()
            }
            condition.unlock()
        }

        /// Flushes done so far, and whether one is under way.
        var state: (done: Int, running: Bool) { condition.withLock { (count, running) } }

        private func run() {
            while true {
                condition.lock()
                while !requested && !stopping { condition.wait() }
                if stopping {
                    condition.unlock()
                    break
                }
                requested = false
                running = true
                condition.unlock()
                try? env.flush()
                condition.withLock {
                    running = false
                    count += 1
                }
            }
            finished.signal()
        }

        /// Ends the thread after the flush under way, if any; later calls return at once.
        func stop() {
            let wait = condition.withLock { () -> Bool in
                defer { stopping = true; condition.signal() }
                return !stopping
            }
            if wait { finished.wait() }
        }
    }
}
