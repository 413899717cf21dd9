import HTTPTypes
import NIOCore
import NIOHTTP1

/// Encodes an answer's status line and header block (HTTP/1.1, RFC 9112) into one buffer: its fields (names in
/// lower case; `HTTPField` has already made every value safe to send, so none can split the block), then
/// `content-length` where the status allows a body, `server`, and `connection: close` when the connection ends.
enum ResponseHead {
    static func encode(_ a: EdgeAnswer, keepAlive: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        encode(status: a.status, fields: a.headerFields, bodyLength: a.bodyLength, keepAlive: keepAlive,
               allocator: allocator)
    }

    static func encode(status: HTTPResponse.Status, fields: HTTPFields, bodyLength: Int, keepAlive: Bool,
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
        b.writeStaticString(keepAlive ? "server: imgedge\r\n\r\n" : "server: imgedge\r\nconnection: close\r\n\r\n")
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
