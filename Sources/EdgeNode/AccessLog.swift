import EdgeCore
import EdgePrivacy
import EdgeStore
import Foundation
import Logging
import NIOConcurrencyHelpers

/// The access log (`log.access`): JSON lines in the form `AccessLogFormat` allows (truncated client networks, no
/// signatures, no cookies or credentials). Requests only append to a buffer in memory; a thread of its own writes
/// it out every 100 ms, so serving never waits for the disk. Past `log.accessMaxBytes` the file is renamed to
/// `<path>.1` (replacing the previous one) and a new one begun: at most twice the bound on disk. If the disk falls
/// behind by more than 4 MiB, lines are dropped and counted rather than held without bound.
final class AccessLog: Sendable {
    private struct Buffer {
        var pending: [UInt8] = []
        var dropped = 0
    }

    var path: String { file.path }
    private let maxBytes: Int
    /// What requests appended and the log has not written yet.
    private let buffer = NIOLockedValueBox(Buffer())
    /// Written only by the log's own thread.
    private let file: AppendOnlyFile
    private let pool = BoundedPool(threads: 1, maxQueued: 1)
    private let flusher = NIOLockedValueBox<Task<Void, Never>?>(nil)
    private let logger: Logger
    static let maxPending = 4 << 20

    init(path: String, maxBytes: Int, logger: Logger) throws {
        self.maxBytes = maxBytes
        self.logger = logger
        file = try AppendOnlyFile(path: path, permissions: 0o640)
        let task = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                await flush()
            }
        }
        flusher.withLockedValue { $0 = task }
    }

    /// Adds one line (from any thread; never blocks on the disk).
    func record(_ line: String) {
        buffer.withLockedValue { s in
            guard s.pending.count < Self.maxPending else {
                s.dropped += 1
                return
            }
            s.pending.append(contentsOf: line.utf8)
        }
    }

    /// Lines dropped because the disk fell behind.
    var dropped: Int { buffer.withLockedValue { $0.dropped } }

    /// Writes out what is pending (on the log's own thread), rotating past the size bound.
    func flush() async {
        _ = try? await pool.run { [self] () throws(EdgeError) in
            let bytes = buffer.withLockedValue { b in
                defer { b.pending.removeAll(keepingCapacity: true) }
                return b.pending
            }
            guard !bytes.isEmpty else { return }
            do {
                try file.append(bytes, sync: false)
                if file.size >= maxBytes { try file.rotate() }
            } catch {
                logger.error("access log not written", metadata: ["edge.error": "\(error)"])
            }
        }
    }

    func shutdown() async {
        let task = flusher.withLockedValue { $0 }
        task?.cancel()
        await task?.value
        await flush()
        await pool.shutdown()
    }
}
