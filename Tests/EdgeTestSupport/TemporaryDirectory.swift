public import Foundation

/// A fresh, uniquely named directory under the system temporary directory, removed by `remove()` or when
/// the last reference goes away. Each test makes its own, so tests running in parallel never share files.
public final class TemporaryDirectory: @unchecked Sendable {
    /// The directory (it exists until `remove()`).
    public let url: URL
    private let lock = NSLock()
    private var removed = false

    public init(prefix: String = "imgedge-test") throws {
        let name = "\(prefix)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)"
        url = FileManager.default.temporaryDirectory.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The directory's path, without a trailing slash.
    public var path: String { url.path }

    /// A path inside the directory (nothing is created).
    public func appending(_ relative: String) -> URL { url.appendingPathComponent(relative) }

    /// Writes `bytes` to `relative` inside the directory, creating intermediate folders; returns its URL.
    @discardableResult
    public func write(_ relative: String, bytes: [UInt8]) throws -> URL {
        let file = appending(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: file)
        return file
    }

    /// Deletes the directory and everything in it (idempotent).
    public func remove() {
        let first = lock.withLock { () -> Bool in
            defer { removed = true }
            return !removed
        }
        if first { try? FileManager.default.removeItem(at: url) }
    }

    deinit { remove() }
}
