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
    let handle: NIOFileHandle
    let length: Int

    /// Bodies at least this large are kept as files by the memory tier: below it, one copy costs less than the
    /// extra system call.
    static let minimumBytes = 64 * 1024

    /// Descriptors in use by body files, and the most there may be (a quarter of the process's limit, at most
    /// 4,096): past it, bodies stay in plain buffers.
    private static let open = NIOLockedValueBox(0)
    static let maxOpen: Int = {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        return Int(min(4096, limit.rlim_cur / 4))
    }()

    /// A file holding `body`'s readable bytes; nil when none can be made (no descriptor left, memfd refused).
    init?(_ body: ByteBuffer) {
        guard Self.open.withLockedValue({ n in
            guard n < Self.maxOpen else { return false }
            n += 1
            return true
        }) else { return nil }
        let fd = body.withUnsafeReadableBytes { imgedge_sealed_memfd($0.baseAddress, $0.count) }
        guard fd >= 0 else {
            Self.open.withLockedValue { $0 -= 1 }
            return nil
        }
        handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
        length = body.readableBytes
    }

    deinit {
        try? handle.close()
        Self.open.withLockedValue { $0 -= 1 }
    }

    /// The whole body as one region to write.
    var region: FileRegion { FileRegion(fileHandle: handle, readerIndex: 0, endIndex: length) }

    /// The body's bytes read back (for the rare answers that need them in memory: ranges, refreshes).
    func read() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(length)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
            var done = 0
            while done < length {
                let n = (try? handle.withUnsafeFileDescriptor { pread($0, out.baseAddress! + done, length - done, off_t(done)) }) ?? -1
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
