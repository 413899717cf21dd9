import EdgeCore

/// libFuzzer entry: the bytes as a raw query string (what follows `?` in a request target). Any outcome but a
/// crash, a hang or a memory error is fine: a parse either fails with a clear `EdgeError` or gives a spec whose
/// canonical form (the cache key's part) and identity test must then be computable for every format.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTransformParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // Split at the first NUL: before it the query, after it a DPR and width hint (so `ch=` paths are reached).
    let nul = bytes.firstIndex(of: 0) ?? bytes.endIndex
    let query = String(decoding: bytes[..<nul], as: UTF8.self)
    let hintText = nul < bytes.endIndex ? String(decoding: bytes[(nul + 1)...], as: UTF8.self) : ""
    let parts = hintText.split(separator: ",", maxSplits: 1)
    let hints = ClientHints(width: parts.first, dpr: parts.count > 1 ? parts[1] : nil, saveData: nil)
    guard let spec = try? TransformParser.parse(query: Substring(query), hints: hints) else { return 0 }
    for format in [NegotiatedFormat.sourceFormat] + OutputFormat.allCases.map(NegotiatedFormat.format) {
        _ = spec.canonical(for: format)
        _ = spec.isIdentity(for: format)
    }
    return 0
}
