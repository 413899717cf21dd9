@testable import EdgeNode
import Testing

/// Which certificate a handshake gets for its SNI name: pure logic, no TLS.
@Suite struct CertificateSelectorTests {
    static let selector = CertificateSelector(hosts: [
        ["images.example.com"],
        ["*.cdn.example.com", "static.example.com"],
        ["*.eu.cdn.example.com"],
        ["*.example.com"],
    ])

    /// Should prefer an exact name, then the longest wildcard that covers the name with one label, then the first.
    @Test(arguments: [
        ("images.example.com", 0), ("IMAGES.example.com.", 0), ("static.example.com", 1),
        ("a.cdn.example.com", 1), ("a.eu.cdn.example.com", 2), ("eu.cdn.example.com", 1), ("other.example.com", 3),
        ("a.b.cdn.example.com", 0), ("cdn.example.com", 3), ("example.com", 0), ("elsewhere.org", 0),
        ("10.0.0.1", 0),
    ])
    func selects(name: String, entry: Int) {
        #expect(Self.selector.entry(for: name) == entry)
    }

    /// Should give the default to a client that sends no name.
    @Test func noName() {
        #expect(Self.selector.entry(for: nil) == 0)
    }

    /// Should find names two entries list, whatever their case, and not a name one entry lists twice.
    @Test func duplicates() {
        #expect(CertificateSelector.duplicates([["a.example.com", "A.example.com"], ["b.example.com"]]).isEmpty)
        #expect(CertificateSelector.duplicates([["a.example.com"], ["*.x.com", "A.Example.com."], ["*.x.com"]]).sorted()
            == ["*.x.com", "a.example.com"])
    }
}
