import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 exchange over a plain blocking socket, for a thread that must not need Swift concurrency (a test
/// that holds every thread of the pool and asks the node a question meanwhile).
public enum BlockingHTTP {
    /// Sends `request` (sent as given: it should carry `Connection: close`) to 127.0.0.1:`port` and reads until
    /// the server closes, for at most `timeout` seconds in all. Returns the answer's text (nil: connection failed
    /// or nothing arrived in time); an answer cut off by the deadline comes back as far as it got.
    public static func exchange(port: Int, _ request: String, timeout: Double) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return nil }
            sent += n
        }
        let deadline = Date().addingTimeInterval(timeout)
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { break }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, Int32(min(left * 1000, 1000)) + 1) >= 0 else { break }
            guard pfd.revents != 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            answer += buffer[..<n]
        }
        return answer.isEmpty ? nil : String(decoding: answer, as: UTF8.self)
    }
}
