import EdgePrivacy
import Testing

@Suite struct SignatureVerifierTests {
    /// Should exist (the secure-URL work replaces this with real tests).
    @Test func constructs() {
        _ = SignatureVerifier()
    }
}
