import Crypto

/// The wire form of peer fill, authenticated under a key derived from the cluster secret (`gossip.secret`), so
/// that only members of the cluster can ask a node for a variant and only the member asked can answer.
///
/// An ask is an HTTP GET to the owner's peer port of the edge request itself (its target, Host, Accept and client
/// hints) with the asker's name, the time, a random nonce, the variant key it expects and its hybrid clock, and an
/// HMAC over all of them. The answer's body is one frame, also sealed, bound to the ask by its nonce:
///
///     "IEP1" | kind | owner's clock | (entry: flags, uncacheable Cache-Control, CacheEntry) | (error: status,
///     message) | HMAC-SHA256(key, nonce | everything before)
public struct PeerProtocol: Sendable {
    private let key: [UInt8]
    static let magic: [UInt8] = Array("IEP1".utf8)
    static let tagSize = 32

    public init(secret: String) {
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Array(secret.utf8)),
                                     info: Array("imgedge peer fill v1".utf8), outputByteCount: 32)
            .withUnsafeBytes { Array($0) }
    }

    /// What an ask carries besides its MAC.
    public struct Ask: Sendable, Hashable {
        public var sender: String
        /// Microseconds since 1970 on the sender's clock.
        public var time: UInt64
        public var nonce: UInt64
        /// The variant key the asker computed (hex): the owner serves only that key.
        public var key: String
        /// The asker's hybrid logical clock.
        public var clock: UInt64
        public var host: String
        public var target: String
        public var accept: String
        /// Width, DPR and Save-Data as sent ("" when absent).
        public var hints: [String]

        public init(sender: String, time: UInt64, nonce: UInt64, key: String, clock: UInt64, host: String,
                    target: String, accept: String, hints: [String]) {
            self.sender = sender
            self.time = time
            self.nonce = nonce
            self.key = key
            self.clock = clock
            self.host = host
            self.target = target
            self.accept = accept
            self.hints = hints
        }
    }

    /// The MAC of an ask (hex), over every field, NUL-separated.
    public func mac(_ a: Ask) -> String {
        Hex.encode(Array(HMAC<SHA256>.authenticationCode(for: Self.authenticated(a), using: SymmetricKey(data: key))))
    }

    public func verify(_ a: Ask, mac: String) -> Bool {
        guard let given = Hex.decode(mac), given.count == 32 else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Self.authenticated(a), using: SymmetricKey(data: key))
    }

    /// What an ask's MAC covers: every field, NUL-separated.
    static func authenticated(_ a: Ask) -> [UInt8] {
        Array((["imgedge-peer-ask-v1", a.sender, String(a.time), String(a.nonce), a.key, String(a.clock), a.host,
                a.target, a.accept] + a.hints).joined(separator: "\u{0}").utf8)
    }

    /// An owner's answer.
    public enum Answer: Sendable, Equatable {
        /// The variant: its encoded `CacheEntry` (as the store keeps it), whether it may be stored, and the
        /// Cache-Control to send instead of the public one when not (the origin forbade storing).
        case entry([UInt8], storable: Bool, uncacheable: String?)
        /// A definite error of the request (status and public message), or a refusal (`declined`: ask elsewhere).
        case error(status: Int, message: String, declined: Bool)
    }

    public func seal(_ answer: Answer, clock: UInt64, nonce: UInt64) -> [UInt8] {
        var w = ByteWriter()
        w.bytes += Self.magic
        switch answer {
        case .entry(let entry, let storable, let uncacheable):
            w.u8(1)
            w.double(Double(bitPattern: clock))
            w.u8(storable ? 1 : 0)
            w.optionalString(uncacheable)
            w.bytes += entry
        case .error(let status, let message, let declined):
            w.u8(declined ? 3 : 2)
            w.double(Double(bitPattern: clock))
            w.u32(UInt32(clamping: status))
            w.string(message)
        }
        w.bytes += tag(w.bytes, nonce: nonce)
        return w.bytes
    }

    /// Why an answer frame was refused.
    public enum Refusal: Error, Sendable, Equatable {
        /// Not sealed with this cluster's key for this ask (forged, altered, or the answer to another ask).
        case forged
        /// Authentic but unreadable.
        case malformed
    }

    /// The answer and the owner's clock.
    public func open(_ frame: [UInt8], nonce: UInt64) throws(Refusal) -> (answer: Answer, clock: UInt64) {
        guard frame.count > Self.magic.count + 1 + Self.tagSize, frame.starts(with: Self.magic) else { throw .forged }
        let body = Array(frame[..<(frame.count - Self.tagSize)])
        let given = frame[(frame.count - Self.tagSize)...]
        var nonceBytes = [UInt8](repeating: 0, count: 8)
        withUnsafeBytes(of: nonce.littleEndian) { nonceBytes = Array($0) }
        guard HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: nonceBytes + body, using: SymmetricKey(data: key))
        else { throw .forged }
        let read: Result<(answer: Answer, clock: UInt64), Refusal> = body.withUnsafeBytes { raw in
            var r = ByteReader(raw, from: Self.magic.count)
            guard let kind = r.u8(), let clockBits = r.double() else { return .failure(.malformed) }
            let clock = clockBits.bitPattern
            switch kind {
            case 1:
                guard let storable = r.u8(), storable <= 1, let uncacheable = r.optionalString() else { return .failure(.malformed) }
                let entry = Array(raw[r.offset...])
                guard entry.withUnsafeBytes({ CacheEntry.decodeHeader($0) }) != nil else { return .failure(.malformed) }
                return .success((.entry(entry, storable: storable == 1, uncacheable: uncacheable), clock))
            case 2, 3:
                guard let status = r.u32(), (400...599).contains(status), let message = r.string(), r.offset == raw.count
                else { return .failure(.malformed) }
                return .success((.error(status: Int(status), message: message, declined: kind == 3), clock))
            default:
                return .failure(.malformed)
            }
        }
        return try read.get()
    }

    /// The tag `seal` appends to `bytes` for `nonce` (the fuzz target reseals altered frames with it).
    package func tagForFuzzing(_ bytes: [UInt8], nonce: UInt64) -> [UInt8] { tag(bytes, nonce: nonce) }

    private func tag(_ bytes: [UInt8], nonce: UInt64) -> [UInt8] {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: key))
        withUnsafeBytes(of: nonce.littleEndian) { mac.update(data: Array($0)) }
        mac.update(data: bytes)
        return Array(mac.finalize())
    }
}

/// Refuses an ask seen before: its time must be within `window` of the receiver's clock, and its nonce must not
/// have been seen in the last three windows (which outlast any time an accepted ask may carry). Bounded: past
/// `capacity` nonces per window, asks are refused until the window turns (the asker then fills for itself).
public struct PeerReplayGuard: Sendable {
    public enum Verdict: Sendable, Equatable {
        case accept
        case replayed
        case stale
        case full
    }

    public let window: UInt64
    public let capacity: Int
    private var generations: [Set<UInt64>] = [[], [], []]
    private var turnedAt: UInt64 = 0

    public init(windowMicros: UInt64 = 10_000_000, capacity: Int = 100_000) {
        window = windowMicros
        self.capacity = capacity
    }

    public mutating func check(nonce: UInt64, time: UInt64, now: UInt64) -> Verdict {
        if time + window < now || time > now + window { return .stale }
        if now >= turnedAt + window {
            generations = [[], generations[0], generations[1]]
            if now >= turnedAt + 3 * window { generations = [[], [], []] }
            turnedAt = now
        }
        if generations.contains(where: { $0.contains(nonce) }) { return .replayed }
        guard generations[0].count < capacity else { return .full }
        generations[0].insert(nonce)
        return .accept
    }
}
