import EdgeCore
import Testing

@Suite struct SourcePathTests {
    func pathError(_ raw: String) -> EdgeError? {
        do {
            _ = try SourcePath(raw: Substring(raw))
            return nil
        } catch {
            return error
        }
    }

    /// Should decode percent escapes and drop empty segments.
    @Test func decodes() throws {
        let p = try SourcePath(raw: "/photos//2024/b%20c.jpg")
        #expect(p.segments == ["photos", "2024", "b c.jpg"])
        #expect(p.description == "/photos/2024/b c.jpg")
        #expect(try SourcePath(raw: "/caf%C3%A9.jpg").segments == ["café.jpg"])
        // `+` is a literal in paths.
        #expect(try SourcePath(raw: "/a+b.jpg").segments == ["a+b.jpg"])
    }

    /// Should refuse dot segments, encoded or not, and encoded separators and NUL inside a segment with a 404.
    @Test(arguments: [
        "/../etc/passwd", "/a/../b", "/a/./b", "/a/%2e%2e/b", "/%2E%2E/x", "/a/.%2e/b", "/%2e/a",
        "/a%2Fb", "/a%2f..%2fb", "/a%5Cb", "/a%00b", "/a/%00",
    ])
    func refusesTraversal(raw: String) {
        #expect(pathError(raw)?.status == 404, "\(raw)")
    }

    /// Should refuse malformed percent-encoding and paths not starting with / with a 400.
    @Test(arguments: ["/a%zz", "/a%2", "/%ff.jpg", "a.jpg", "", "http://x/a.jpg"])
    func refusesMalformed(raw: String) {
        #expect(pathError(raw)?.status == 400, "\(raw)")
    }

    /// Should answer 404 for the root and 414 for an over-long path.
    @Test func emptyAndLong() {
        #expect(pathError("/")?.status == 404)
        #expect(pathError("///")?.status == 404)
        #expect(pathError("/" + String(repeating: "a", count: 3000))?.status == 414)
        #expect(pathError("/" + String(repeating: "a", count: 2000)) == nil)
    }

    /// Should re-encode to a form that parses back to the same path.
    @Test(arguments: ["/a/b%20c.jpg", "/caf%C3%A9/%E2%9C%93.png", "/a%3Fb%23c%25d.jpg", "/x/y(1)_~-.jpg", "/%22q%22%3C%3E"])
    func urlEncodedRoundTrip(raw: String) throws {
        let p = try SourcePath(raw: Substring(raw))
        let again = try SourcePath(raw: Substring(p.urlEncoded))
        #expect(again == p)
        #expect(!p.urlEncoded.contains(" ") && !p.urlEncoded.contains("?") && !p.urlEncoded.contains("#"))
    }

    /// Should escape exactly the characters outside RFC 3986's path set.
    @Test func urlEncodedForm() throws {
        #expect(try SourcePath(raw: "/a/b%20c.jpg").urlEncoded == "/a/b%20c.jpg")
        #expect(try SourcePath(raw: "/a%3Fb%23c%25d").urlEncoded == "/a%3Fb%23c%25d")
        #expect(try SourcePath(raw: "/caf%c3%a9").urlEncoded == "/caf%C3%A9")
        #expect(try SourcePath(raw: "/a:b@c!$&'()*+,;=").urlEncoded == "/a:b@c!$&'()*+,;=")
    }
}

@Suite struct SourceRouterTests {
    let a = SourceConfig(name: "a", kind: .folder, hosts: ["img.example.com", "[::1]"], root: "/srv/a")
    let b = SourceConfig(name: "b", kind: .web, hosts: ["Other.Example.COM"], baseURL: "http://origin")

    /// Should route by Host, ignoring the port, case and a trailing dot.
    @Test func routesByHost() {
        let r = SourceRouter(sources: [a, b], defaultSource: nil)
        #expect(r.route(host: "img.example.com")?.name == "a")
        #expect(r.route(host: "img.example.com:8080")?.name == "a")
        #expect(r.route(host: "IMG.Example.Com")?.name == "a")
        #expect(r.route(host: "img.example.com.")?.name == "a")
        #expect(r.route(host: "img.example.com.:443")?.name == "a")
        #expect(r.route(host: "other.example.com")?.name == "b")
        #expect(r.route(host: "[::1]:8080")?.name == "a")
        #expect(r.route(host: "[::1]")?.name == "a")
    }

    /// Should answer nil for an unknown or missing Host when there is no default source.
    @Test func unknownHostWithoutDefault() {
        let r = SourceRouter(sources: [a, b], defaultSource: nil)
        #expect(r.route(host: "unknown.example.com") == nil)
        #expect(r.route(host: nil) == nil)
        #expect(r.route(host: "") == nil)
        #expect(r.route(host: "example.com") == nil)
        // A default that names no source is no default.
        #expect(SourceRouter(sources: [a], defaultSource: "missing").route(host: "x") == nil)
    }

    /// Should send unknown and missing Hosts to the default source.
    @Test func defaultSource() {
        let r = SourceRouter(sources: [a, b], defaultSource: "b")
        #expect(r.route(host: "unknown.example.com")?.name == "b")
        #expect(r.route(host: nil)?.name == "b")
        #expect(r.route(host: "img.example.com")?.name == "a")
    }

    /// Should keep the first source that claims a Host.
    @Test func firstClaimWins() {
        let c = SourceConfig(name: "c", kind: .folder, hosts: ["img.example.com"], root: "/srv/c")
        #expect(SourceRouter(sources: [a, c], defaultSource: nil).route(host: "img.example.com")?.name == "a")
        #expect(SourceRouter(sources: [c, a], defaultSource: nil).route(host: "img.example.com")?.name == "c")
        #expect(b.hosts == ["other.example.com"])
    }
}
