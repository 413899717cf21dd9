import EdgeCore
import NIOConcurrencyHelpers

/// The node's decode memory budget (`limits.decodeMemory`): a transform is admitted with the bytes its decode
/// will need (`ImageProcessing.decodeMemory`), waits (without holding a thread) while earlier ones do not fit,
/// and is refused with 413 when it alone would exceed the budget, 503 when too many wait. Decisions:
/// `DecodeMemory.Admission`.
final class DecodeBudget: Sendable {
    private enum Slot: Sendable {
        case waiting(CheckedContinuation<Void, Never>)
        /// Admitted by a release before its continuation was registered.
        case admitted
    }
    private struct State: Sendable {
        var admission: DecodeMemory.Admission<UInt64>
        var slots: [UInt64: Slot] = [:]
        var next: UInt64 = 0
        /// Transforms that had to wait for room, since start.
        var waited = 0
    }
    private let state: NIOLockedValueBox<State>
    let capacity: Int

    init(capacity: Int, maxWaiting: Int) {
        self.capacity = capacity
        state = NIOLockedValueBox(State(admission: .init(capacity: capacity, maxWaiting: maxWaiting)))
    }

    /// Bytes admitted now, transforms waiting for room now, and those that waited since start.
    var usage: (inUse: Int, waiting: Int, waited: Int) {
        state.withLockedValue { ($0.admission.inUse, $0.admission.waiting, $0.waited) }
    }

    /// Waits until `bytes` fit; the caller must `release(bytes)` once its transform is over.
    func admit(_ bytes: Int) async throws(EdgeError) {
        let (decision, ticket) = state.withLockedValue { s in
            s.next += 1
            let decision = s.admission.request(s.next, bytes: bytes)
            if decision == .waiting { s.waited += 1 }
            return (decision, s.next)
        }
        switch decision {
        case .admitted:
            return
        case .tooLarge:
            throw .payloadTooLarge("source image needs too much memory to decode",
                                   detail: "\(bytes) bytes estimated, limits.decodeMemory is \(capacity)")
        case .overloaded:
            throw .overloaded
        case .waiting:
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let admittedAlready = state.withLockedValue { s -> Bool in
                    if case .admitted = s.slots[ticket] {
                        s.slots[ticket] = nil
                        return true
                    }
                    s.slots[ticket] = .waiting(c)
                    return false
                }
                if admittedAlready { c.resume() }
            }
        }
    }

    func release(_ bytes: Int) {
        let ready = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            var ready: [CheckedContinuation<Void, Never>] = []
            for ticket in s.admission.release(bytes: bytes) {
                if case .waiting(let c) = s.slots.removeValue(forKey: ticket) {
                    ready.append(c)
                } else {
                    s.slots[ticket] = .admitted
                }
            }
            return ready
        }
        for c in ready { c.resume() }
    }
}
