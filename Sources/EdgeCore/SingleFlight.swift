/// Which fills are in flight and who waits for them: the pure half of request coalescing. One fill per key;
/// every other request for the key waits for that fill's result.
public struct SingleFlight<Key: Hashable & Sendable, Waiter> {
    // Invariant: a key is present exactly while its fill runs; its list holds everyone to tell, leader included.
    private var flights: [Key: [Waiter]] = [:]

    public init() {}

    public enum JoinAction {
        /// No fill was running: the caller must start one, and call `finish` when it ends.
        case startFill
        /// A fill is running; the waiter was added and will be returned by `finish`.
        case wait
    }

    /// Registers a waiter for `key`.
    public mutating func join(_ key: Key, _ waiter: Waiter) -> JoinAction {
        if flights[key] != nil {
            flights[key]!.append(waiter)
            return .wait
        }
        flights[key] = [waiter]
        return .startFill
    }

    /// Ends the fill for `key`: returns every waiter to hand the result to.
    public mutating func finish(_ key: Key) -> [Waiter] {
        guard let waiters = flights.removeValue(forKey: key) else {
            preconditionFailure("finish without a fill in flight")
        }
        return waiters
    }

    /// Takes one waiter out of a running fill (it gave up waiting); the fill goes on for the others.
    /// Returns the waiter, or nil when the fill already ended (the waiter has been, or is being, told).
    public mutating func leave(_ key: Key, where matches: (Waiter) -> Bool) -> Waiter? {
        guard let index = flights[key]?.firstIndex(where: matches) else { return nil }
        return flights[key]!.remove(at: index)
    }

    /// Number of fills running.
    public var inFlight: Int { flights.count }
}

extension SingleFlight: Sendable where Waiter: Sendable {}
