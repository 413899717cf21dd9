import EdgeCore
import EdgePrivacy

/// libFuzzer entry: the bytes as a raw request target (`/path?query`, as on the request line), through
/// `SignatureVerifier(source:).verify(target:now:)` for a source with a `secureToken` that requires signatures, one
/// that does not, a proxy source and an unsecured one. Then the same target signed with the token (`&s=` appended,
/// as imgix's libraries do) must verify as signed, with the `expires` verdict an unsecured source gives the
/// unsigned target, and with one digit of the signature changed must be refused with 403 (traps otherwise).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSignature(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let target = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let required = outcome(Fixture.required, target)
    let optional = outcome(Fixture.optional, target)
    let unsecured = outcome(Fixture.unsecured, target)
    precondition(outcome(Fixture.proxy, target) == required, "a proxy source judged a target otherwise than a signed web source")
    if case .success(let v) = required { precondition(v.signed, "a source that requires signatures accepted an unsigned URL") }
    if case .success(let v) = optional {
        precondition(unsecured == .success(.init(signed: false, expires: v.expires)), "the token changed the expires verdict")
        if !v.signed { precondition(required.isForbidden, "a URL accepted unsigned where signatures are optional passed where required") }
    }
    if case .failure(let e) = unsecured {  // 400: an unreadable `expires`; 403: a past one
        precondition(e.status == 400 || e.status == 403, "an unsecured source refused with \(e.status)")
    }

    // Sign it: the query (everything after the first `?`) with `s` appended, unless it already names an `s`.
    let utf8 = target.utf8
    let q = utf8.firstIndex(of: UInt8(ascii: "?"))
    let path = q.map { target[..<$0] } ?? target[...]
    let query = q.map { target[utf8.index(after: $0)...] } ?? ""
    do {
        guard try SignatureVerifier.locateSignature(query) == nil else { return 0 }
    } catch {
        return 0
    }
    let s = SignatureVerifier.signature(token: Fixture.token, path: path, query: query)
    let signed = String(path) + "?" + query + (query.isEmpty ? "" : "&") + "s="
    let expected: Result<SignatureVerifier.Verdict, EdgeError> = unsecured.map { .init(signed: true, expires: $0.expires) }
    for verifier in [Fixture.required, Fixture.optional, Fixture.proxy] {
        precondition(outcome(verifier, signed + s) == expected, "a correctly signed URL was judged wrongly: \(signed + s)")
        precondition(outcome(verifier, signed + s.uppercased()) == expected, "an upper-case signature was judged otherwise")
        var bad = Array(s.utf8)
        bad[bad.count - 1] = bad[bad.count - 1] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        precondition(outcome(verifier, signed + String(decoding: bad, as: UTF8.self)).isForbidden,
                     "a wrong signature was not refused with 403: \(signed)")
    }
    return 0
}

enum Fixture {
    /// The token of the imgix-signing fixtures (Tests/Fixtures/imgix-signing), so that their targets verify as given.
    static let token = "aBcD1234eFgH5678"
    /// 2023-11-14: fixtures' `expires` lie on both sides of it.
    static let now = 1_700_000_000.0
    static let required = verifier(.web, token: token, required: true)
    static let optional = verifier(.web, token: token, required: false)
    static let proxy = verifier(.proxy, token: token, required: false)
    static let unsecured = verifier(.web, token: nil, required: false)

    static func verifier(_ kind: SourceKind, token: String?, required: Bool) -> SignatureVerifier {
        var source = SourceConfig(name: "fuzz", kind: kind, hosts: ["images.example.com"],
                                  baseURL: kind == .web ? "https://origin.example.com" : nil)
        source.secureToken = token
        source.requireSignature = required
        return SignatureVerifier(source: source)
    }
}

func outcome(_ verifier: SignatureVerifier, _ target: String) -> Result<SignatureVerifier.Verdict, EdgeError> {
    Result { () throws(EdgeError) in try verifier.verify(target: Substring(target), now: Fixture.now) }
}

extension Result<SignatureVerifier.Verdict, EdgeError> {
    var isForbidden: Bool { if case .failure(let e) = self { e.status == 403 } else { false } }
}
