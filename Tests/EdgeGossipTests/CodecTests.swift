import EdgeCore
@testable import EdgeGossip
import Testing

/// The wire form: every message round-trips; any change, another secret, or garbage is refused.
@Suite struct CodecTests {
    static let purge = GossipPurge(stream: "node-a-17", seq: 3, time: 1_764_000_000_000_001,
                                   selectors: [.image(source: "web", path: "/a b/ü.jpg"), .prefix(source: "web", prefix: "/x/"),
                                               .tag("t1"), .sourceTag(source: "s", tag: "t2"), .source("files")])
    static let messages: [GossipMessage] = [
        .push(id: 1, relay: KeyRange(lo: "10.0.0.1:7946", hi: "10.0.0.9:7946"), purges: [purge]),
        .push(id: 300, relay: KeyRange(lo: "b"), purges: [purge, purge]),
        .push(id: 2, relay: nil, purges: []),
        .push(id: 3, relay: nil, purges: [], switches: [SourceSwitch(source: "web", enabled: false, time: 77),
                                                        SourceSwitch(source: "ü", enabled: true, time: 1)]),
        .ack(id: UInt64.max),
        .digest(Digest(isReply: false, range: .all, vector: [VectorEntry(stream: "a-1", watermark: 9)], members: ["x:1", "y:2"])),
        .digest(Digest(isReply: true, range: KeyRange(lo: "a", hi: "m"), vector: [], members: [], purges: [purge])),
        .digest({
            var d = Digest(isReply: false, range: .all, vector: [VectorEntry(stream: "s", watermark: 5, base: 2)], members: [],
                           floor: 123)
            d.switches = [SourceSwitch(source: "web", enabled: false, time: 9)]
            return d
        }()),
        .statusQuery(id: 5, purge: "node-a-17-3"),
        .statusAnswer(id: 5, purge: "node-a-17-3", applied: true),
    ]

    static func envelope(_ m: GossipMessage) -> GossipEnvelope {
        GossipEnvelope(sender: "127.0.0.1:7946", epoch: 42, seq: 7, sentAt: 1_764_000_000_000_000, clock: 99, message: m)
    }

    /// Should decode exactly what was encoded, for every kind of message.
    @Test(arguments: messages) func roundTrip(_ m: GossipMessage) throws {
        let codec = GossipCodec(secret: "cluster secret")
        #expect(try codec.open(codec.seal(Self.envelope(m))) == Self.envelope(m))
    }

    /// Should carry a member's peer fill card (port and weight), or none.
    @Test func peerCards() throws {
        let codec = GossipCodec(secret: "cluster secret")
        for card in [nil, PeerCard(port: 7947, weight: 1), PeerCard(port: 1, weight: 0), PeerCard(port: 65535, weight: 2.5)] {
            var e = Self.envelope(.ack(id: 1))
            e.card = card
            #expect(try codec.open(codec.seal(e)).card == card)
        }
        // Out of range: a port beyond 16 bits, a weight beyond 1,000.
        for tail: [UInt8] in [[0x80, 0x80, 0x04, 0x00], [0x01, 0xC1, 0x84, 0x3D]] {
            let head = GossipCodec.magic + [0x01, 0x41, 0x01, 0x01, 0x01, 0x01]
            #expect(throws: GossipCodec.Refusal.malformed) { try codec.open(codec.sealBytes(head + tail + [0x02, 0x01])) }
        }
    }

    /// Should refuse a datagram with any single byte changed, or sealed with another secret.
    @Test func alteredOrForeign() throws {
        let codec = GossipCodec(secret: "cluster secret")
        let sealed = codec.seal(Self.envelope(Self.messages[0]))
        for i in stride(from: 0, to: sealed.count, by: 7) {
            var bad = sealed
            bad[i] ^= 0x01
            #expect(throws: GossipCodec.Refusal.forged) { try codec.open(bad) }
        }
        #expect(throws: GossipCodec.Refusal.forged) { try GossipCodec(secret: "other").open(sealed) }
        #expect(throws: GossipCodec.Refusal.forged) { try codec.open(Array(sealed.prefix(20))) }
        #expect(throws: GossipCodec.Refusal.forged) { try codec.open([]) }
    }

    /// Should refuse an authentic datagram whose fields do not parse, including counts larger than the datagram.
    @Test func malformed() throws {
        let codec = GossipCodec(secret: "k")
        for body: [UInt8] in [[0x01], [0x01, 0x02, 0x03], [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09],
                              [0x01, 0x41, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]] {
            #expect(throws: GossipCodec.Refusal.malformed) { try codec.open(codec.sealBytes(GossipCodec.magic + body)) }
        }
    }
}
