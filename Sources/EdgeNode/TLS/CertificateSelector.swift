import EdgeCore

/// Which `https.certificates` entry answers a handshake, by the host name the client sent (SNI): the entry that
/// lists the name exactly, else the one whose wildcard (`*.cdn.example.com`) covers it with the longest suffix,
/// else the first entry (the default; also for clients that send no name, or an address).
struct CertificateSelector: Sendable {
    private var exact: [String: Int] = [:]
    /// Suffixes (`.cdn.example.com`) longest first, with their entry.
    private var wildcards: [(suffix: String, entry: Int)] = []

    /// `hosts[i]`: the names entry `i` lists. A name listed by two entries goes to the first (check-config reports
    /// it as a problem).
    init(hosts: [[String]]) {
        for (i, names) in hosts.enumerated() {
            for name in names {
                let n = Self.normalised(name)
                if n.hasPrefix("*.") {
                    let suffix = String(n.dropFirst())
                    if !wildcards.contains(where: { $0.suffix == suffix }) { wildcards.append((suffix, i)) }
                } else if exact[n] == nil {
                    exact[n] = i
                }
            }
        }
        wildcards.sort { $0.suffix.count > $1.suffix.count }
    }

    /// The entry for `serverName` (nil: the client sent none).
    func entry(for serverName: String?) -> Int {
        guard let serverName else { return 0 }
        let n = Self.normalised(serverName)
        if let i = exact[n] { return i }
        // A wildcard covers one label (RFC 6125 §6.4.3): `*.example.com` is `a.example.com`, not `a.b.example.com`.
        for w in wildcards where n.hasSuffix(w.suffix) {
            let label = n.dropLast(w.suffix.count)
            if !label.isEmpty && !label.contains(".") { return w.entry }
        }
        return 0
    }

    /// The names in `hosts` that more than one entry lists (after normalising case and a trailing dot).
    static func duplicates(_ hosts: [[String]]) -> [String] {
        var seen: [String: Int] = [:]
        var twice: [String] = []
        for (i, names) in hosts.enumerated() {
            for name in Set(names.map(normalised)) {
                if let first = seen[name], first != i { if !twice.contains(name) { twice.append(name) } } else { seen[name] = i }
            }
        }
        return twice
    }

    private static func normalised(_ name: String) -> String {
        var n = name.lowercased()
        if n.hasSuffix(".") { n.removeLast() }
        return n
    }
}
