import EdgeCore
import Testing

@Suite struct HostPatternTests {
    static func matches(_ pattern: String, _ host: String) throws -> Bool {
        try #require(HostPattern(pattern)).matches(host)
    }

    /// Should match exact names case-insensitively, a trailing dot ignored on either side.
    @Test func exactNames() throws {
        #expect(try Self.matches("img.example.com", "img.example.com"))
        #expect(try Self.matches("IMG.Example.com", "img.EXAMPLE.com."))
        #expect(try Self.matches("img.example.com.", "img.example.com"))
        #expect(try !Self.matches("img.example.com", "example.com"))
        #expect(try !Self.matches("img.example.com", "a.img.example.com"))
        #expect(try !Self.matches("img.example.com", "img.example.com.evil"))
        #expect(try Self.matches("localhost", "localhost"))
    }

    /// Should let `*.domain` match names under the domain at any depth, never the domain itself or look-alikes.
    @Test func wildcards() throws {
        #expect(try Self.matches("*.example.com", "a.example.com"))
        #expect(try Self.matches("*.example.com", "a.b.example.com"))
        #expect(try Self.matches("*.Example.com", "A.EXAMPLE.COM."))
        #expect(try !Self.matches("*.example.com", "example.com"))
        #expect(try !Self.matches("*.example.com", "badexample.com"))
        #expect(try !Self.matches("*.example.com", "example.com.evil.net"))
        #expect(try !Self.matches("*.example.com", ".example.com"))
    }

    /// Should match IP address patterns by address, whatever the spelling, and never by name or wildcard.
    @Test func addresses() throws {
        #expect(try Self.matches("203.0.113.7", "203.0.113.7"))
        #expect(try Self.matches("[2001:db8::1]", "[2001:DB8:0::1]"))
        #expect(try Self.matches("2001:db8::1", "[2001:db8::1]"))
        #expect(try !Self.matches("203.0.113.7", "203.0.113.8"))
        #expect(try !Self.matches("*.113.7", "203.0.113.7"))
        #expect(HostPattern("[2001:db8::1]")?.description == "[2001:db8::1]")
    }

    /// Should refuse patterns that are not a name, an address or a leading wildcard over two labels or more.
    @Test(arguments: ["", ".", "*", "*.", "*.com", "a.*.com", "*example.com", "**.example.com", "a..b", "a b.com",
                      "a/b.com", "a:80", "user@a.com", "café.com", String(repeating: "a", count: 64) + ".com",
                      "[::1", "http://a.com"])
    func refusesMalformed(text: String) {
        #expect(HostPattern(text) == nil, "\(text)")
    }

    /// Should give a web source its base host and allowedHosts, a folder source nothing, as origin hosts.
    @Test func sourceOriginHosts() throws {
        var web = SourceConfig(name: "w", kind: .web, baseURL: "https://origin.example.com/img")
        web.allowedHosts = [try #require(HostPattern("*.cdn.example.net"))]
        let hosts = web.originHosts(baseHost: "origin.example.com")
        #expect(hosts.allows("origin.example.com") && hosts.allows("eu.cdn.example.net"))
        #expect(!hosts.allows("evil.example.com") && !hosts.allows("cdn.example.net"))
        #expect(!SourceConfig(name: "f", kind: .folder, root: "/srv").originHosts(baseHost: nil).allows("localhost"))
        #expect(OriginHosts.any.allows("anything.example"))
    }
}
