import CSealedFile
import Glibc
import NIOConcurrencyHelpers
import NIOCore

/// A cached body in a sealed memory file, sent with sendfile(2): the kernel hands the file's pages to the socket
/// instead of copying the body out of a user buffer on every hit (for a 100 KB body on loopback, that copy was
/// a third of the node's work per hit). Sealed against writes, growth and shrinking, so pages in flight keep
/// their bytes; closed when the last answer that sends it has been written or failed (every write of it keeps
/// it alive until then) and the memory tier has let it go.
final class BodyFile: Sendable {
    /// The memfd, for reading back; sendfile goes through `handles`.
    let descriptor: CInt
    /// One handle (a duplicate of the descriptor) per event loop that sends the file. NIO refuses a handle that
    /// another thread is using (EBUSY, and the connection is closed): a file hit on two event loops at once needs
    /// two handles, while the writes of one loop never overlap.
    private let handles = NIOLockedValueBox<[ObjectIdentifier: NIOFileHandle]>([:])
    let length: Int

    /// Bodies at least this large are kept as files by the memory tier: below it, copying the body into the
    /// socket costs less than the second system call and the splice (measured on loopback: a 100 KB hit took
    /// 55–65 µs of CPU copied and 66–73 µs sent from a file; at 240 KB the file was ahead: docs/BENCHMARKS.md).
    static let minimumBytes = 128 * 1024

    /// Descriptors in use by body files (a file's own and its loops' duplicates), and the most there may be (a
    /// quarter of the process's limit, at most 4,096): past it, bodies stay in plain buffers, and a loop without
    /// a handle of its own sends a copy.
    private static let open = NIOLockedValueBox(0)
    static let maxOpen: Int = {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        return Int(min(4096, limit.rlim_cur / 4))
    }()

    private static func reserveDescriptor() -> Bool {
        open.withLockedValue { n in
            guard n < maxOpen else { return false }
            n += 1
            return true
        }
    }

    /// A file holding `body`'s readable bytes; nil when none can be made (no descriptor left, memfd refused).
    init?(_ body: ByteBuffer) {
        guard Self.reserveDescriptor() else { return nil }
        let fd = body.withUnsafeReadableBytes { imgedge_sealed_memfd($0.baseAddress, $0.count) }
        guard fd >= 0 else {
            Self.open.withLockedValue { $0 -= 1 }
            return nil
        }
        descriptor = fd
        length = body.readableBytes
    }

    deinit {
        let all = handles.withLockedValue { $0 }
        for handle in all.values { try? handle.close() }
        close(descriptor)
        Self.open.withLockedValue { $0 -= 1 + all.count }
    }

    /// The whole body as one region for `loop` to write, through that loop's own handle; nil when no descriptor
    /// is left for one (the caller then sends `read()`).
    func region(on loop: any EventLoop) -> FileRegion? {
        let handle = handles.withLockedValue { handles -> NIOFileHandle? in
            let id = ObjectIdentifier(loop)
            if let known = handles[id] { return known }
            guard Self.reserveDescriptor() else { return nil }
            let fd = dup(descriptor)
            guard fd >= 0 else {
                Self.open.withLockedValue { $0 -= 1 }
                return nil
            }
            let made = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
            handles[id] = made
            return made
        }
        return handle.map { FileRegion(fileHandle: $0, readerIndex: 0, endIndex: length) }
    }

    /// The body's bytes read back (for the rare answers that need them in memory: ranges, refreshes). pread on
    /// the file's own descriptor: safe from any thread at once.
    func read() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(length)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
            var done = 0
            while done < length {
                let n = pread(descriptor, out.baseAddress! + done, length - done, off_t(done))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                done += n
            }
            return done
        }
        return buffer
    }

    /// Raises the soft limit on open descriptors to the hard limit (connections and body files both need them;
    /// many systems start processes at 1,024). Call before serving.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
