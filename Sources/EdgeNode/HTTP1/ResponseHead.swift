import HTTPTypes
import NIOCore
import NIOHTTP1

/// Encodes an answer's status line and header block (HTTP/1.1, RFC 9112) into one buffer: its fields (names in
/// lower case; `HTTPField` has already made every value safe to send, so none can split the block), then
/// `content-length` where the status allows a body, `server`, `strict-transport-security` when `https.hsts` is
/// set, and `connection: close` when the connection ends.
struct ResponseHead: Sendable {
    /// The lines that end every head, encoded once: keep-alive, and closing.
    private let end: ByteBuffer
    private let closingEnd: ByteBuffer

    init(hsts: String? = nil) {
        var end = ByteBuffer(string: "server: imgedge\r\n")
        if let hsts {
            let field = HTTPField(name: .strictTransportSecurity, value: hsts)
            end.writeString("strict-transport-security: \(field.value)\r\n")
        }
        var closingEnd = end
        end.writeString("\r\n")
        closingEnd.writeString("connection: close\r\n\r\n")
        self.end = end
        self.closingEnd = closingEnd
    }

    func encode(_ a: EdgeAnswer, keepAlive: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        encode(status: a.status, fields: a.headerFields, bodyLength: a.bodyLength, keepAlive: keepAlive,
               allocator: allocator)
    }

    func encode(status: HTTPResponse.Status, fields: HTTPFields, bodyLength: Int, keepAlive: Bool,
                allocator: ByteBufferAllocator) -> ByteBuffer {
        var b = allocator.buffer(capacity: 384)
        b.writeStaticString("HTTP/1.1 ")
        b.writeString(String(status.code))
        b.writeStaticString(" ")
        b.writeString(status.reasonPhrase.isEmpty ? HTTPResponseStatus(statusCode: status.code).reasonPhrase : status.reasonPhrase)
        b.writeStaticString("\r\n")
        for field in fields {
            b.writeString(field.name.canonicalName)
            b.writeStaticString(": ")
            b.writeString(field.value)
            b.writeStaticString("\r\n")
        }
        if EdgeAnswer.allowsBody(status) {
            b.writeStaticString("content-length: ")
            b.writeString(String(bodyLength))
            b.writeStaticString("\r\n")
        }
        b.writeImmutableBuffer(keepAlive ? end : closingEnd)
        return b
    }

    /// A keep-alive head (`encode(_:keepAlive: true, …)`) as the last answer on its connection: the same lines
    /// and `connection: close`.
    static func closing(_ head: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var b = allocator.buffer(capacity: head.readableBytes + 19)
        b.writeImmutableBuffer(head.getSlice(at: head.readerIndex, length: head.readableBytes - 2) ?? head)
        b.writeStaticString("connection: close\r\n\r\n")
        return b
    }
}
