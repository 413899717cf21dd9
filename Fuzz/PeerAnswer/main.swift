import EdgeCore

/// libFuzzer entry: the bytes as a peer fill answer frame (`"IEP1"`, kind, clock, fields, a 32-byte HMAC-SHA256 tag
/// bound to the ask's nonce), through `PeerProtocol.open` twice: as received (the tag must hold: seeds are sealed
/// with the test secret for nonce 7), and with the last 32 bytes replaced by the right tag, so that altered fields
/// reach the field parser rather than stopping at the tag. A resealed frame may be refused as `forged` only when it
/// is too short or lacks the magic; any answer that opens must come back unchanged from `seal` and `open`, its
/// entry must decode, and the clock must survive (traps otherwise).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPeerAnswer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let frame = Array(UnsafeBufferPointer(start: data, count: size))
    if let opened = try? wire.open(frame, nonce: nonce) { checkRoundTrip(opened) }

    let fields = frame.count > tagSize ? Array(frame.dropLast(tagSize)) : frame
    let resealed = fields + wire.tagForFuzzing(fields, nonce: nonce)
    do throws(PeerProtocol.Refusal) {
        checkRoundTrip(try wire.open(resealed, nonce: nonce))
    } catch {
        switch error {
        case .forged:
            precondition(fields.count <= magic.count + 1 || !fields.starts(with: magic),
                         "a frame sealed with the key was refused as forged")
        case .malformed:
            break
        }
    }
    return 0
}

/// The secret of Tests/EdgeCoreTests/PeerFillTests.
let wire = PeerProtocol(secret: "cluster-secret-for-tests-0001")
let nonce: UInt64 = 7
let magic = Array("IEP1".utf8)
let tagSize = 32

func checkRoundTrip(_ opened: (answer: PeerProtocol.Answer, clock: UInt64)) {
    if case .entry(let raw, _, _) = opened.answer {
        precondition(raw.withUnsafeBytes { CacheEntry.decodeHeader($0) } != nil, "an opened entry does not decode")
    }
    let again: (answer: PeerProtocol.Answer, clock: UInt64)
    do {
        again = try wire.open(wire.seal(opened.answer, clock: opened.clock, nonce: nonce), nonce: nonce)
    } catch {
        preconditionFailure("an answer's own sealed form was refused: \(error)")
    }
    precondition(again.answer == opened.answer && again.clock == opened.clock, "open(seal(answer)) differs")
}
