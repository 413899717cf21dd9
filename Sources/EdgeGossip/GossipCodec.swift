import EdgeCore
import Crypto

/// The wire form of a gossip datagram, authenticated with HMAC-SHA256 under the cluster secret:
///
///     "IEG2" | sender | epoch | seq | sentAt | clock | card | type | fields… | HMAC-SHA256(key, everything before it)
///
/// (`card`: the peer port, 0 for none, and the weight in thousandths.)
///
/// Numbers are LEB128 varints, strings a varint length and UTF-8 bytes. Any change to any byte fails the tag,
/// so a forged or altered datagram is refused before a single field is believed.
public struct GossipCodec: Sendable {
    /// The secret's bytes (`SymmetricKey` is not Sendable; making one per datagram is cheap).
    private let secret: [UInt8]

    /// The largest datagram sent or accepted (UDP's limit, less headers).
    public static let maxDatagram = 65_000
    static let magic: [UInt8] = Array("IEG2".utf8)
    static let tagSize = 32

    public init(secret: String) {
        self.secret = Array(secret.utf8)
    }

    /// Why a datagram was refused.
    public enum Refusal: Error, Sendable, Equatable {
        /// Too short, wrong magic, or not sealed with this cluster's secret.
        case forged
        /// Authentic, but its fields do not parse (a bug or a version mismatch).
        case malformed
    }

    public func seal(_ e: GossipEnvelope) -> [UInt8] {
        var w = ByteWriter()
        w.bytes(Self.magic)
        w.string(e.sender)
        w.varint(e.epoch)
        w.varint(e.seq)
        w.varint(e.sentAt)
        w.varint(e.clock)
        w.varint(UInt64(e.card?.port ?? 0))
        w.varint(UInt64(e.card?.weightMilli ?? 0))
        Self.write(e.message, to: &w)
        return sealBytes(w.buffer)
    }

    /// `bytes` with their tag appended.
    package func sealBytes(_ bytes: [UInt8]) -> [UInt8] {
        bytes + Array(HMAC<SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: secret)))
    }

    public func open(_ datagram: [UInt8]) throws(Refusal) -> GossipEnvelope {
        guard datagram.count > Self.magic.count + Self.tagSize, datagram.count <= Self.maxDatagram,
              datagram.starts(with: Self.magic) else { throw .forged }
        let body = datagram[..<(datagram.count - Self.tagSize)]
        let tag = datagram[(datagram.count - Self.tagSize)...]
        guard HMAC<SHA256>.isValidAuthenticationCode(tag, authenticating: body, using: SymmetricKey(data: secret)) else { throw .forged }
        var r = ByteReader(body.dropFirst(Self.magic.count))
        guard let sender = r.string(), let epoch = r.varint(), let seq = r.varint(), let sentAt = r.varint(),
              let clock = r.varint(), let port = r.varint(), port <= UInt64(UInt16.max), let weight = r.varint(),
              weight <= 1_000_000, let message = Self.readMessage(&r), r.isAtEnd else { throw .malformed }
        var card: PeerCard?
        if port > 0 {
            card = PeerCard(port: UInt16(port), weight: 0)
            card!.weightMilli = UInt32(weight)
        }
        return GossipEnvelope(sender: sender, epoch: epoch, seq: seq, sentAt: sentAt, clock: clock, card: card, message: message)
    }

    // MARK: - Fields

    private static func write(_ m: GossipMessage, to w: inout ByteWriter) {
        switch m {
        case .push(let id, let relay, let purges, let switches):
            w.byte(1)
            w.varint(id)
            if let relay {
                w.byte(1)
                write(relay, to: &w)
            } else {
                w.byte(0)
            }
            write(purges, to: &w)
            write(switches, to: &w)
        case .ack(let id):
            w.byte(2)
            w.varint(id)
        case .digest(let d):
            w.byte(3)
            w.byte(d.isReply ? 1 : 0)
            write(d.range, to: &w)
            w.varint(UInt64(d.vector.count))
            w.varint(d.floor)
            for e in d.vector {
                w.string(e.stream)
                w.varint(e.watermark)
                w.varint(e.base)
            }
            w.varint(UInt64(d.members.count))
            for m in d.members { w.string(m) }
            write(d.purges, to: &w)
            write(d.switches, to: &w)
        case .statusQuery(let id, let purge):
            w.byte(4)
            w.varint(id)
            w.string(purge)
        case .statusAnswer(let id, let purge, let applied):
            w.byte(5)
            w.varint(id)
            w.string(purge)
            w.byte(applied ? 1 : 0)
        }
    }

    private static func readMessage(_ r: inout ByteReader) -> GossipMessage? {
        switch r.byte() {
        case 1:
            guard let id = r.varint(), let hasRelay = r.byte(), hasRelay <= 1 else { return nil }
            var relay: KeyRange?
            if hasRelay == 1 {
                guard let range = readRange(&r) else { return nil }
                relay = range
            }
            guard let purges = readPurges(&r), let switches = readSwitches(&r) else { return nil }
            return .push(id: id, relay: relay, purges: purges, switches: switches)
        case 2:
            return r.varint().map { .ack(id: $0) }
        case 3:
            guard let reply = r.byte(), reply <= 1, let range = readRange(&r), let n = r.count(), let floor = r.varint()
            else { return nil }
            var vector: [VectorEntry] = []
            for _ in 0..<n {
                guard let s = r.string(), let w = r.varint(), let b = r.varint(), b <= w else { return nil }
                vector.append(VectorEntry(stream: s, watermark: w, base: b))
            }
            guard let m = r.count() else { return nil }
            var members: [String] = []
            for _ in 0..<m {
                guard let s = r.string() else { return nil }
                members.append(s)
            }
            guard let purges = readPurges(&r), let switches = readSwitches(&r) else { return nil }
            var digest = Digest(isReply: reply == 1, range: range, vector: vector, members: members, purges: purges,
                                floor: floor)
            digest.switches = switches
            return .digest(digest)
        case 4:
            guard let id = r.varint(), let purge = r.string() else { return nil }
            return .statusQuery(id: id, purge: purge)
        case 5:
            guard let id = r.varint(), let purge = r.string(), let applied = r.byte(), applied <= 1 else { return nil }
            return .statusAnswer(id: id, purge: purge, applied: applied == 1)
        default:
            return nil
        }
    }

    private static func write(_ range: KeyRange, to w: inout ByteWriter) {
        w.string(range.lo)
        if let hi = range.hi {
            w.byte(1)
            w.string(hi)
        } else {
            w.byte(0)
        }
    }

    private static func readRange(_ r: inout ByteReader) -> KeyRange? {
        guard let lo = r.string(), let hasHi = r.byte() else { return nil }
        switch hasHi {
        case 0: return KeyRange(lo: lo)
        case 1: return r.string().map { KeyRange(lo: lo, hi: $0) }
        default: return nil
        }
    }

    private static func write(_ switches: [SourceSwitch], to w: inout ByteWriter) {
        w.varint(UInt64(switches.count))
        for s in switches {
            w.string(s.source)
            w.byte(s.enabled ? 1 : 0)
            w.varint(s.time)
        }
    }

    private static func readSwitches(_ r: inout ByteReader) -> [SourceSwitch]? {
        guard let n = r.count() else { return nil }
        var out: [SourceSwitch] = []
        for _ in 0..<n {
            guard let source = r.string(), let on = r.byte(), on <= 1, let time = r.varint() else { return nil }
            out.append(SourceSwitch(source: source, enabled: on == 1, time: time))
        }
        return out
    }

    private static func write(_ purges: [GossipPurge], to w: inout ByteWriter) {
        w.varint(UInt64(purges.count))
        for p in purges {
            w.string(p.stream)
            w.varint(p.seq)
            w.varint(p.time)
            w.varint(UInt64(p.selectors.count))
            for s in p.selectors {
                switch s {
                case .image(let source, let path): w.byte(1); w.string(source); w.string(path)
                case .prefix(let source, let prefix): w.byte(2); w.string(source); w.string(prefix)
                case .tag(let tag): w.byte(3); w.string(tag)
                case .sourceTag(let source, let tag): w.byte(4); w.string(source); w.string(tag)
                case .source(let source): w.byte(5); w.string(source)
                case .grantRevoked(let id): w.byte(6); w.string(id)
                }
            }
        }
    }

    private static func readPurges(_ r: inout ByteReader) -> [GossipPurge]? {
        guard let n = r.count() else { return nil }
        var purges: [GossipPurge] = []
        for _ in 0..<n {
            guard let stream = r.string(), let seq = r.varint(), seq > 0, let time = r.varint(), let k = r.count(), k > 0
            else { return nil }
            var selectors: [PurgeSelector] = []
            for _ in 0..<k {
                let selector: PurgeSelector?
                switch r.byte() {
                case 1: selector = r.string().flatMap { s in r.string().map { .image(source: s, path: $0) } }
                case 2: selector = r.string().flatMap { s in r.string().map { .prefix(source: s, prefix: $0) } }
                case 3: selector = r.string().map { .tag($0) }
                case 4: selector = r.string().flatMap { s in r.string().map { .sourceTag(source: s, tag: $0) } }
                case 5: selector = r.string().map { .source($0) }
                case 6: selector = r.string().map { .grantRevoked($0) }
                default: selector = nil
                }
                guard let selector else { return nil }
                selectors.append(selector)
            }
            purges.append(GossipPurge(stream: stream, seq: seq, time: time, selectors: selectors))
        }
        return purges
    }
}

struct ByteWriter {
    var buffer: [UInt8] = []

    mutating func byte(_ b: UInt8) { buffer.append(b) }
    mutating func bytes(_ b: [UInt8]) { buffer.append(contentsOf: b) }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            buffer.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        buffer.append(UInt8(v))
    }

    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        varint(UInt64(utf8.count))
        buffer.append(contentsOf: utf8)
    }
}

struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    private var at: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        at = bytes.startIndex
    }

    var isAtEnd: Bool { at == bytes.endIndex }

    mutating func byte() -> UInt8? {
        guard at < bytes.endIndex else { return nil }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let b = byte() {
            guard shift < 64 else { return nil }
            value |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    /// A count that cannot exceed what is left to read (each item takes at least a byte), so a forged length
    /// cannot make a reader loop or allocate beyond the datagram.
    mutating func count() -> Int? {
        guard let n = varint(), n <= UInt64(bytes.endIndex - at) else { return nil }
        return Int(n)
    }

    mutating func string() -> String? {
        guard let n = count() else { return nil }
        defer { at += n }
        return String(decoding: bytes[at..<(at + n)], as: UTF8.self)
    }
}
