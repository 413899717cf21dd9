import EdgeCore
import Foundation
import NIOConcurrencyHelpers

/// The audit log (`<cache.path>/audit.log`): one JSON line per administrative action taken on this node — who
/// (the key's id and scope), for which customer, under which assistance grant, what, when. Append-only and
/// flushed to disk (fsync) before the action is answered. Each node keeps the log of what was done through it;
/// `GET /v1/audit` reads it back.
final class AuditLog: Sendable {
    struct Entry: Sendable {
        var time: Double
        var node: String
        var actor: String
        var actorScope: String
        var customer: String?
        var grant: String?
        var action: String
        var detail: String

        var json: String {
            func field(_ name: String, _ value: String?) -> String {
                #""\#(name)":"# + (value.map { #""\#(JSONText.escape($0))""# } ?? "null")
            }
            return "{" + [#""time":\#((time * 1000).rounded() / 1000)"#, field("node", node), field("actor", actor),
                          field("actorScope", actorScope), field("customer", customer), field("grant", grant),
                          field("action", action), field("detail", detail)].joined(separator: ",") + "}\n"
        }
    }

    let path: String
    private let lock = NIOLock()
    private let pool = BoundedPool(threads: 1, maxQueued: 256)

    init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown)
            }
        }
    }

    /// Appends an entry and flushes it to disk.
    func append(_ entry: Entry) async throws {
        let bytes = Array(entry.json.utf8)
        try await pool.run { [path, lock] () throws(EdgeError) in
            lock.lock()
            defer { lock.unlock() }
            let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            guard fd >= 0 else { throw .internalError(detail: "audit log: open failed (errno \(errno))") }
            defer { close(fd) }
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n == bytes.count, fsync(fd) == 0 else { throw .internalError(detail: "audit log: write failed") }
        }
    }

    /// The latest `limit` entries (as JSON lines), those about `customer` only when given.
    func entries(customer: String?, limit: Int) async -> [String] {
        (try? await pool.run { [path] () throws(EdgeError) -> [String] in
            guard let data = FileManager.default.contents(atPath: path) else { return [] }
            var lines = data.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
            if let customer {
                let needle = #""customer":"\#(JSONText.escape(customer))""#
                lines = lines.filter { $0.contains(needle) }
            }
            return Array(lines.suffix(limit))
        }) ?? []
    }

    func shutdown() async { await pool.shutdown() }
}
