/// A customer's decision to stop (or resume) serving one of its sources, as nodes exchange it.
public struct SourceSwitch: Sendable, Hashable {
    public var source: String
    public var enabled: Bool
    /// When it was decided, on the deciding node's hybrid logical clock (microseconds).
    public var time: UInt64

    public init(source: String, enabled: Bool, time: UInt64) {
        self.source = source
        self.enabled = enabled
        self.time = time
    }
}

/// The latest decision per source (a last-writer-wins register each, by hybrid clock time; at equal times
/// "disabled" wins). Small — one entry per source ever switched — so every digest carries all of it, and it is
/// never trimmed: a node back after any absence learns which sources it must refuse.
public struct SourceSwitches: Sendable, Hashable {
    private var latest: [String: SourceSwitch] = [:]

    public init(_ switches: [SourceSwitch] = []) { _ = merge(switches) }

    /// Takes in decisions; returns those that changed what this node knows.
    public mutating func merge(_ switches: [SourceSwitch]) -> [SourceSwitch] {
        var changed: [SourceSwitch] = []
        for s in switches {
            if let old = latest[s.source], old.time > s.time || (old.time == s.time && (old == s || !old.enabled)) { continue }
            latest[s.source] = s
            changed.append(s)
        }
        return changed
    }

    public func isEnabled(_ source: String) -> Bool { latest[source]?.enabled ?? true }

    public var all: [SourceSwitch] { latest.values.sorted { $0.source < $1.source } }
    public var disabled: Set<String> { Set(latest.values.filter { !$0.enabled }.map(\.source)) }
}
