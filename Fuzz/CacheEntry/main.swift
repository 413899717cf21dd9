import EdgeCore

/// libFuzzer entry: the bytes as a stored cache value (an LMDB value: `"IE05"`/`"IE04"`, header length, header
/// fields, body), through `CacheEntry.decodeHeader` and `CacheEntry.decode`. Refusing the bytes is fine; crashing,
/// hanging or reading out of bounds is not. The two decoders must agree, and an entry that decodes must survive
/// `encoded()` and a second decode unchanged (traps on any mismatch).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCacheEntry(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let header = bytes.withUnsafeBytes { CacheEntry.decodeHeader($0) }
    let entry = CacheEntry.decode(bytes)
    guard let header, let entry else {
        precondition(header == nil && entry == nil, "decodeHeader and decode disagree on whether the value is an entry")
        return 0
    }
    precondition(header.bodyOffset >= 8 && header.bodyOffset <= bytes.count, "body offset \(header.bodyOffset) outside the value")
    precondition(same(CacheEntry(header: header, body: Array(bytes[header.bodyOffset...])), entry),
                 "decode differs from decodeHeader and the bytes after bodyOffset")
    // What the node reads off a header on every hit and revalidation.
    _ = (header.expiresAt, header.originETag, header.originLastModified, header.originDate, header.conditionalHeaders)
    _ = header.sameOriginRepresentation(as: header)

    let encoded = entry.encoded()
    guard let again = CacheEntry.decode(encoded) else { preconditionFailure("an entry's own encoding does not decode") }
    precondition(same(again, entry), "decode(encoded()) differs from the entry")
    precondition(again.encoded() == encoded, "encoding is not stable across a round trip")
    let againHeader = encoded.withUnsafeBytes { CacheEntry.decodeHeader($0) }
    precondition(againHeader?.bodyOffset == encoded.count - entry.body.count, "re-decoded body offset is wrong")
    return 0
}

/// Entry equality with `fetchedAt` compared bit for bit: the value stores any double, NaN included (which `==`
/// never finds equal to itself); the freshness fields are made finite by `EntryFreshness` already.
func same(_ a: CacheEntry, _ b: CacheEntry) -> Bool {
    var (a, b) = (a, b)
    guard a.fetchedAt.bitPattern == b.fetchedAt.bitPattern else { return false }
    (a.fetchedAt, b.fetchedAt) = (0, 0)
    return a == b
}
