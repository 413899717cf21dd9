@testable import EdgeNode
import NIOCore

/// libFuzzer entry: the bytes as what a client sends on one HTTP/1.1 connection, through the edge front's request
/// decoder (`EdgeRequestDecoder`: heads parsed, bodies skipped, the first framing error final). The first byte
/// chooses how the rest arrives: whole, or in pieces of 1 + (first byte % 64) bytes. Whatever the pieces, the
/// decoder must give the same requests and refusals as for the whole (a difference is a framing ambiguity: a
/// smuggling bug), and each request's header fields must read back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let piece = 1 + Int(bytes[0] % 64)
    let stream = Array(bytes.dropFirst())
    let whole = decode(stream, pieces: stream.count + 1)
    let pieced = decode(stream, pieces: piece)
    guard whole.map(\.summary) == pieced.map(\.summary) else {
        fatalError("pieces of \(piece) bytes decode differently: \(whole.map(\.summary)) vs \(pieced.map(\.summary))")
    }
    for case .request(let head) in whole {
        let fields = head.section.map { RequestFields.http1($0) } ?? .none
        for (name, value) in fields.lines where name.isEmpty || value.contains("\r") || value.contains("\n") {
            fatalError("a field line read back wrong: \(name): \(value)")
        }
    }
    return 0
}

/// Every message the decoder gives for `stream` arriving `pieces` bytes at a time, as a connection would see them
/// (bytes kept in one buffer, consumed as the decoder goes).
func decode(_ stream: [UInt8], pieces: Int) -> [EdgeRequestDecoder.Message] {
    var decoder = EdgeRequestDecoder()
    var buffer = ByteBuffer()
    var out: [EdgeRequestDecoder.Message] = []
    var offset = 0
    while offset < stream.count {
        let end = min(stream.count, offset + pieces)
        buffer.writeBytes(stream[offset..<end])
        offset = end
        while let message = decoder.next(&buffer) {
            out.append(message)
            if case .invalid = message { return out }
        }
    }
    return out
}

extension EdgeRequestDecoder.Message {
    /// What must not depend on how the bytes arrived (the section's buffer identity aside).
    var summary: String {
        switch self {
        case .request(let head):
            let section = head.section.map { String(buffer: $0) } ?? "-"
            return "\(head.method) \(head.target) 1.\(head.minorVersion) keepAlive=\(head.keepAlive) body=\(head.body) "
                + "host=\(head.host ?? "-") accept=\(head.accept ?? "-") inm=\(head.ifNoneMatch ?? "-") "
                + "ims=\(head.ifModifiedSince ?? "-") range=\(head.range ?? "-") width=\(head.width ?? "-") "
                + "dpr=\(head.dpr ?? "-") section=\(section)"
        case .invalid(let error):
            return "invalid \(error.status)"
        }
    }
}
