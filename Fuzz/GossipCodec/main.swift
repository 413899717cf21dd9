import EdgeGossip

/// libFuzzer entry: the bytes as a gossip datagram (`"IEG2"`, fields, a 32-byte HMAC-SHA256 tag), through
/// `GossipCodec.open` twice: as received (the tag must hold: seeds are sealed with the test secret), and with the
/// last 32 bytes replaced by the right tag under that secret, so that altered fields reach the field parser
/// rather than stopping at the tag. A resealed datagram may be refused as `forged` only when it is too short, too
/// long or lacks the magic; any envelope that opens must come back unchanged from `seal` and `open` (traps otherwise).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGossipCodec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let datagram = Array(UnsafeBufferPointer(start: data, count: size))
    if let envelope = try? codec.open(datagram) { checkRoundTrip(envelope) }

    let fields = datagram.count > tagSize ? Array(datagram.dropLast(tagSize)) : datagram
    let resealed = codec.sealBytes(fields)
    do throws(GossipCodec.Refusal) {
        checkRoundTrip(try codec.open(resealed))
    } catch {
        switch error {
        case .forged:
            precondition(fields.count <= magic.count || resealed.count > GossipCodec.maxDatagram
                         || !fields.starts(with: magic), "a datagram sealed with the secret was refused as forged")
        case .malformed:
            break
        }
    }
    return 0
}

/// The secret of Tests/EdgeGossipTests/CodecTests.
let codec = GossipCodec(secret: "cluster secret")
let magic = Array("IEG2".utf8)
let tagSize = 32

func checkRoundTrip(_ envelope: GossipEnvelope) {
    _ = envelope.message.carriesPurges
    let sealed = codec.seal(envelope)
    // Strings are read with invalid UTF-8 repaired (U+FFFD, three bytes), so a re-encoding can outgrow the limit.
    guard sealed.count <= GossipCodec.maxDatagram else { return }
    let again: GossipEnvelope
    do {
        again = try codec.open(sealed)
    } catch {
        preconditionFailure("an envelope's own sealed form was refused: \(error)")
    }
    precondition(again == envelope, "open(seal(envelope)) differs from the envelope")
}
