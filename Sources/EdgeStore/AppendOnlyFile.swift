import Foundation

/// A file only ever appended to, by whole records: the tombstone log, the audit log and the access log. Writes are
/// serialised; `append(_:sync:)` returns once the bytes are written (and flushed to disk with `sync`). Blocking:
/// call it off the event loops.
public final class AppendOnlyFile: @unchecked Sendable {
    public let path: String
    private let permissions: mode_t
    private let lock = NSLock()
    private var fd: Int32
    private var written: Int

    /// Opens (creating, with its folder) the file at `path`.
    public init(path: String, permissions: Int = 0o644) throws {
        self.path = path
        self.permissions = mode_t(permissions)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        (fd, written) = try Self.open(path, self.permissions)
    }

    deinit { if fd >= 0 { close(fd) } }

    private static func open(_ path: String, _ permissions: mode_t) throws -> (Int32, Int) {
        let fd = Foundation.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, permissions)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var st = stat()
        fstat(fd, &st)
        return (fd, Int(st.st_size))
    }

    /// The file's size.
    public var size: Int { lock.withLock { written } }

    /// Appends `bytes` whole, then flushes them to disk when `sync`.
    public func append(_ bytes: [UInt8], sync: Bool = true) throws {
        try lock.withLock {
            guard fd >= 0 else { throw POSIXError(.EBADF) }
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                offset += n
            }
            written += offset
            if sync, fsync(fd) != 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }
    }

    /// Renames the file to `<path>.1` (replacing the previous one) and begins a new, empty one.
    public func rotate() throws {
        try lock.withLock {
            if fd >= 0 { close(fd) }
            fd = -1
            rename(path, path + ".1")
            (fd, written) = try Self.open(path, permissions)
        }
    }
}
