import EdgeCore
import Foundation
import EdgeStore

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

    private let file: AppendOnlyFile
    private let pool = BoundedPool(threads: 1, maxQueued: 256)
    var path: String { file.path }

    init(path: String) throws {
        file = try AppendOnlyFile(path: path, permissions: 0o600)
    }

    /// Appends an entry and flushes it to disk.
    func append(_ entry: Entry) async throws {
        let bytes = Array(entry.json.utf8)
        try await pool.run { [file] () throws(EdgeError) in
            do { try file.append(bytes) } catch { throw .internalError(detail: "audit log: \(error)") }
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
