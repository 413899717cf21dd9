public import EdgeCore
import Foundation
import Glibc

/// Reads originals from a local folder. The path is already free of `.`/`..` segments (`SourcePath`); the
/// resolved file must still lie inside the root once symbolic links are followed. Blocking file I/O.
public struct FolderOriginFetcher: Sendable {
    public init() {}

    public func read(root: String, path: SourcePath, maxBytes: Int) throws(EdgeError) -> OriginResponse {
        let started = Date().timeIntervalSince1970
        let clock = ContinuousClock.now
        guard let realRoot = Self.realPath(root) else { throw .badGateway(detail: "source root missing") }
        let candidate = realRoot + path.description
        guard let real = Self.realPath(candidate) else { throw .notFound("not found", detail: "no such file") }
        guard real.hasPrefix(realRoot.hasSuffix("/") ? realRoot : realRoot + "/") else {
            throw .notFound("not found", detail: "path resolves outside the source root")
        }
        let fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw .notFound("not found", detail: "open failed: errno \(errno)") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw .notFound("not found", detail: "not a regular file")
        }
        guard Int(st.st_size) <= maxBytes else {
            throw .payloadTooLarge("source is larger than the configured limit", detail: "\(st.st_size) bytes")
        }
        var body = [UInt8](repeating: 0, count: Int(st.st_size))
        var filled = 0
        while filled < body.count {
            let n = body.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            filled += n
        }
        body.removeSubrange(filled...)
        var response = OriginResponse(body: body, headers: [], startedAt: started, duration: (ContinuousClock.now - clock).seconds)
        // The file's identity for decode sharing: its inode, size and modification time.
        response.version = "\(st.st_ino)-\(filled)-\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        return response
    }

    static func realPath(_ p: String) -> String? {
        guard let r = realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }
}
