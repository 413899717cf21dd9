import NIOCore

/// A task executor that runs jobs on one NIO event loop. Work given it as a task's executor preference
/// (`Task(executorPreference:)`) runs there — nonisolated async code and every continuation it resumes —
/// instead of on Swift's shared cooperative pool. The admin listener answers on it: the pool has one thread per
/// core and adds none when code blocks one, so anything that holds every pool thread for a while (a burst of
/// fills, a process that blocks its threads) would otherwise hold a purge's answer behind it.
///
/// Only for short, non-blocking work: a job runs on the loop's thread between its I/O events.
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    let loop: any EventLoop

    init(loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
