public import EdgeCore
import Foundation

/// Tombstones on disk: an append-only file of one line per purge, flushed to disk (fsync) before `append`
/// returns, so a purge that was answered survives a crash. Opening reads the lines back; a torn last line (a crash
/// mid-write) is skipped. The file only grows by purges; it is rewritten without duplicates when opened.
///
/// Line: `v1 <TAB> id <TAB> time <TAB> kind <TAB> field <TAB> field`, fields percent-escaped (`%`, tab, newline).
/// Source switches (a customer disabling or enabling a source) are kept here too, as kind `disable` / `enable`:
/// they must survive restarts just as purges do.
public final class TombstoneLog: @unchecked Sendable {
    private let file: AppendOnlyFile

    /// Opens (creating) the log at `path` and returns it with the tombstones it holds.
    public static func open(path: String) throws -> (log: TombstoneLog, tombstones: [Tombstone]) {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var tombstones: [Tombstone] = []
        var switches: [SourceSwitch] = []
        var seen = Set<String>()
        if let data = FileManager.default.contents(atPath: path) {
            for line in data.split(separator: UInt8(ascii: "\n")) {
                let text = Substring(decoding: line, as: UTF8.self)
                if let s = decodeSwitch(text) {
                    switches.append(s)
                    continue
                }
                guard let t = decode(text), seen.insert(t.id).inserted else { continue }
                tombstones.append(t)
            }
        }
        // Rewrite compactly (drops a torn line and duplicates), then append from there.
        let tmp = path + ".tmp"
        let latest = SourceSwitches(switches).all
        let text = tombstones.map(encode).joined() + latest.map(encode).joined()
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else {
            throw CocoaError(.fileWriteUnknown)
        }
        let t = Foundation.open(tmp, O_RDWR)
        if t >= 0 { fsync(t); close(t) }
        guard rename(tmp, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let log = TombstoneLog(file: try AppendOnlyFile(path: path))
        log.switches = latest
        return (log, tombstones)
    }

    /// The latest switch of each source, as read at open.
    public private(set) var switches: [SourceSwitch] = []

    private init(file: AppendOnlyFile) {
        self.file = file
    }

    /// Appends source switches and flushes them to disk. Blocking: call it off the event loops.
    public func append(switches: [SourceSwitch]) throws {
        try file.append(Array(switches.map(Self.encode).joined().utf8))
    }

    /// Appends tombstones and flushes them to disk. Blocking: call it off the event loops.
    public func append(_ tombstones: [Tombstone]) throws {
        try file.append(Array(tombstones.map(Self.encode).joined().utf8))
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "%": out += "%25"
            case "\t": out += "%09"
            case "\n": out += "%0A"
            case "\r": out += "%0D"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func unescape(_ s: Substring) -> String {
        s.replacingOccurrences(of: "%09", with: "\t").replacingOccurrences(of: "%0A", with: "\n")
            .replacingOccurrences(of: "%0D", with: "\r").replacingOccurrences(of: "%25", with: "%")
    }

    static func encode(_ t: Tombstone) -> String {
        let (kind, a, b): (String, String, String) = switch t.selector {
        case .image(let s, let p): ("image", s, p)
        case .prefix(let s, let p): ("prefix", s, p)
        case .tag(let tag): ("tag", tag, "")
        case .sourceTag(let s, let tag): ("sourceTag", s, tag)
        case .source(let s): ("source", s, "")
        case .grantRevoked(let id): ("grantRevoked", id, "")
        }
        return ["v1", escape(t.id), String(t.time), kind, escape(a), escape(b)].joined(separator: "\t") + "\n"
    }

    static func encode(_ s: SourceSwitch) -> String {
        ["v1", "switch", String(s.time), s.enabled ? "enable" : "disable", escape(s.source), ""].joined(separator: "\t") + "\n"
    }

    static func decodeSwitch(_ line: Substring) -> SourceSwitch? {
        let f = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard f.count == 6, f[0] == "v1", f[1] == "switch", let time = UInt64(f[2]), f[3] == "enable" || f[3] == "disable"
        else { return nil }
        return SourceSwitch(source: unescape(f[4]), enabled: f[3] == "enable", time: time)
    }

    static func decode(_ line: Substring) -> Tombstone? {
        let f = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard f.count == 6, f[0] == "v1", let time = UInt64(f[2]) else { return nil }
        let a = unescape(f[4]), b = unescape(f[5])
        let selector: PurgeSelector
        switch f[3] {
        case "image": selector = .image(source: a, path: b)
        case "prefix": selector = .prefix(source: a, prefix: b)
        case "tag": selector = .tag(a)
        case "sourceTag": selector = .sourceTag(source: a, tag: b)
        case "source": selector = .source(a)
        case "grantRevoked": selector = .grantRevoked(a)
        default: return nil
        }
        return Tombstone(id: unescape(f[1]), selector: selector, time: time)
    }
}
