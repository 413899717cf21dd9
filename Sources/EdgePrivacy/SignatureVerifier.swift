/// imgix secure URLs: verification of `s` over the raw request target. (Filled in by the secure-URL work.)
public struct SignatureVerifier: Sendable {
    public init() {}
}
