public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, for tests. Foundation's `Process.run()` on Linux (Swift 6.3.1)
/// reads past the end of a `dirent` while it lists `/proc/self/fd` (swift-corelibs-foundation PR #5472, not in
/// this toolchain) and crashes the whole test process now and then when it launches children often; this does
/// not go through it. The pipes are made close-on-exec, so a child started meanwhile by another test does not
/// inherit (and hold open) this one's output. Every test that starts a process goes through here.
public final class SpawnedProcess: @unchecked Sendable {
    public let pid: pid_t
    /// The read ends of the child's standard output and error, when asked for.
    public let stdout: FileHandle?
    public let stderr: FileHandle?
    /// The write end of the child's standard input, when asked for (else it reads /dev/null).
    public let stdin: FileHandle?
    private let lock = NSLock()
    private static let spawning = NSLock()

    /// glibc's `posix_spawn_file_actions_addclosefrom_np`, looked up at run time.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()
    private var status: Int32?

    /// Starts `executable` with `arguments` and this process's environment; standard input is /dev/null unless
    /// `pipeStdin`, and standard output and error go to pipes when asked for (else they are the test process's own).
    public init(_ executable: String, _ arguments: [String], captureStdout: Bool = true, captureStderr: Bool = true,
                pipeStdin: Bool = false) throws {
        // One spawn at a time in this process, with its pipes made close-on-exec under the same lock (Glibc's
        // module has no pipe2): no other child can be started between a pipe's creation and its flag.
        Self.spawning.lock()
        defer { Self.spawning.unlock() }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var childEnds: [Int32] = []
        defer { for fd in childEnds { close(fd) } }
        /// A pipe whose `childEnd` (0: read, 1: write) becomes the child's `target`; returns the other end.
        func pipeFor(_ target: Int32, childEnd: Int = 1) throws -> FileHandle {
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            childEnds.append(fds[childEnd])
            posix_spawn_file_actions_adddup2(&actions, fds[childEnd], target)
            return FileHandle(fileDescriptor: fds[1 - childEnd], closeOnDealloc: true)
        }
        if pipeStdin {
            stdin = try pipeFor(0, childEnd: 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            stdin = nil
        }
        let out = captureStdout ? try pipeFor(1) : nil
        let err = captureStderr ? try pipeFor(2) : nil
        // Nothing else of this process's goes to the child: NIO makes its sockets without SOCK_CLOEXEC on Linux,
        // and a child holding a copy of a test's client socket keeps that connection open after the test closes
        // it (the server never sees the close).
        // (glibc 2.34+ has the call; Swift's Glibc module does not export it.)
        guard let closeFrom = Self.addCloseFrom else { throw POSIXError(.ENOSYS) }
        _ = closeFrom(&actions, 3)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, nil, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        pid = child
        stdout = out
        stderr = err
    }

    /// Sends SIGTERM.
    public func terminate() { kill(pid, SIGTERM) }

    /// Whether the child has not been waited for yet (it may have exited meanwhile).
    public var isRunning: Bool { lock.withLock { status == nil } && kill(pid, 0) == 0 }

    /// Blocks until the child exits; its exit code, or 128 + the signal that ended it. Call it off the
    /// concurrency pool (see `OffPool`).
    @discardableResult
    public func waitUntilExit() -> Int32 {
        if let s = lock.withLock({ status }) { return s }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot call.
        let s = raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
        lock.withLock { status = s }
        return s
    }

    /// Waits for the process to exit, on a thread of its own.
    @discardableResult
    /// Standard output up to its first line break (or its end), read on a thread of its own (see `OffPool`).
    public func firstLine() async throws -> String {
        guard let out = stdout else { return "" }
        return try await OffPool.run {
            var text = ""
            while !text.contains("\n") {
                let chunk = out.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            return text
        }
    }

    public func exit() async -> Int32 {
        (try? await OffPool.run { self.waitUntilExit() }) ?? -1
    }

    /// Runs `executable` to its end, on the calling thread (which may block), and returns its exit status and
    /// output. Standard error is drained on another thread, so a child that fills one pipe cannot stall on it.
    public static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = try SpawnedProcess(executable, arguments)
        let errorText = OffPool.start { p.stderr!.readDataToEndOfFile() }
        let o = p.stdout!.readDataToEndOfFile()
        let e = errorText.wait()
        let status = p.waitUntilExit()
        return (status, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}
