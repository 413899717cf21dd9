import EdgeCore
import Testing

@Suite struct ProxyTargetTests {
    static func target(_ path: String) throws(EdgeError) -> ProxyTarget { try ProxyTarget(path: Substring(path)) }

    static func error(_ path: String) -> EdgeError? {
        do {
            _ = try target(path)
            return nil
        } catch {
            return error
        }
    }

    /// Should decode an imgix web-proxy path, percent-encoded or written plainly, to the URL it names.
    @Test func decodes() throws {
        let t = try Self.target("/https%3A%2F%2Fexample.com%2Fphotos%2Fa.jpg")
        #expect(t.url == "https://example.com/photos/a.jpg")
        #expect(t.scheme == "https" && t.host == "example.com")
        #expect(try Self.target("/https://example.com/photos/a.jpg") == t)
        #expect(try Self.target("/http%3A%2F%2Fexample.com%2Fa.jpg").scheme == "http")
        // The proxied URL's own query travels encoded inside the path.
        #expect(try Self.target("/https%3A%2F%2Fexample.com%2Fa.jpg%3Fv%3D2%26x%3Dy").url == "https://example.com/a.jpg?v=2&x=y")
    }

    /// Should normalise what does not change the object: scheme and host case, default ports, fragments, and
    /// bytes a URL cannot carry as they are (a space and its double-encoded form give one URL).
    @Test(arguments: [
        ("/HTTPS%3A%2F%2FExample.COM%3A443%2FA.jpg%23top", "https://example.com/A.jpg"),
        ("/http%3A%2F%2Fexample.com%3A80%2Fa.jpg", "http://example.com/a.jpg"),
        ("/https%3A%2F%2Fexample.com%3A8443%2Fa.jpg", "https://example.com:8443/a.jpg"),
        ("/http%3A%2F%2Fexample.com%3A%2Fa.jpg", "http://example.com/a.jpg"),
        ("/https%3A%2F%2Fexample.com%2Fa%20b.jpg", "https://example.com/a%20b.jpg"),
        ("/https%3A%2F%2Fexample.com%2Fa%2520b.jpg", "https://example.com/a%20b.jpg"),
        ("/https%3A%2F%2Fexample.com%2Fa+b.jpg", "https://example.com/a%20b.jpg"),
        ("/https%3A%2F%2Fexample.com%2Fa%2Bb.jpg", "https://example.com/a+b.jpg"),
        ("/https%3A%2F%2Fexample.com%2Fcaf%C3%A9.jpg", "https://example.com/caf%C3%A9.jpg"),
        ("/https%3A%2F%2Fexample.com%2F%7Ba%7D%22%3C%3E.jpg", "https://example.com/%7Ba%7D%22%3C%3E.jpg"),
        ("/https%3A%2F%2Fexample.com%2F100%25.jpg", "https://example.com/100%25.jpg"),
        ("/https%3A%2F%2Fexample.com", "https://example.com/"),
        ("/https%3A%2F%2Fexample.com%3Fq%3D1", "https://example.com/?q=1"),
        ("/http%3A%2F%2F%5B2001%3ADB8%3A%3A1%5D%3A8080%2Fa.jpg", "http://[2001:db8::1]:8080/a.jpg"),
        ("/http%3A%2F%2F203.0.113.7%2Fa.jpg", "http://203.0.113.7/a.jpg"),
    ])
    func normalises(path: String, url: String) throws {
        #expect(try Self.target(path).url == url)
    }

    /// Should refuse, with 400, every path that is not an absolute http(s) URL with a plain host.
    @Test(arguments: [
        "/ftp%3A%2F%2Fexample.com%2Fa.jpg", "/file%3A%2F%2F%2Fetc%2Fpasswd", "/javascript%3Aalert(1)",
        "/gopher%3A%2F%2Fexample.com%3A70%2F", "/data%3Aimage%2Fpng%3Bbase64%2CAAAA", "/example.com%2Fa.jpg",
        "/https%3Aexample.com%2Fa.jpg", "/https%3A%2Fexample.com%2Fa.jpg", "/https%3A%2F%2F", "/https%3A%2F%2F%2Fa.jpg",
        "/https%3A%2F%2Fuser%40example.com%2Fa.jpg", "/https%3A%2F%2Fuser%3Apass%40example.com%2F",
        "/https%3A%2F%2Fallowed.example%5C%40evil.example%2F", "/https%3A%2F%2Fevil.example%5C.allowed.example%2F",
        "/https%3A%2F%2Fexa%20mple.com%2F", "/https%3A%2F%2Fexample.com%3A99999%2F", "/https%3A%2F%2Fexample.com%3A0%2F",
        "/https%3A%2F%2Fexample.com%3Ax%2F", "/https%3A%2F%2F%5B%3A%3A1%2F", "/https%3A%2F%2F%5B127.0.0.1%5D%2F",
        "/https%3A%2F%2F%5B%3A%3A1%5Dx%2F", "/https%3A%2F%2Fexample.com%0D%0AX-Injected%3A%201",
        "/https%3A%2F%2Fexample.com%2F%00", "/https%253A%252F%252Fexample.com%252Fa.jpg", "/%ZZ", "/",
        "https%3A%2F%2Fexample.com%2Fa.jpg", "/https%3A%2F%2Fexample.com%25%2F",
    ])
    func refuses(path: String) {
        #expect(Self.error(path)?.status == 400, "\(path)")
    }

    /// Should answer 414 for a path over the length limit.
    @Test func tooLong() {
        let path = "/https%3A%2F%2Fexample.com%2F" + String(repeating: "a", count: SourcePath.maxLength)
        #expect(Self.error(path)?.status == 414)
    }

    /// Should read a proxy source's request path as the URL it names (the form keys and purges hold), and a web
    /// source's the same path as segments, where an encoded URL is refused.
    @Test func originPath() throws {
        let proxy = SourceConfig(name: "p", kind: .proxy)
        let p = try proxy.originPath(raw: "/https%3A%2F%2Fexample.com%2Fa.jpg")
        #expect(p.description == "https://example.com/a.jpg")
        #expect(p.proxied?.host == "example.com" && p.segments.isEmpty)
        let web = SourceConfig(name: "w", kind: .web, baseURL: "https://origin.example.com")
        #expect(throws: EdgeError.self) { try web.originPath(raw: "/https%3A%2F%2Fexample.com%2Fa.jpg") }
        #expect(try web.originPath(raw: "/a/b.jpg").proxied == nil)
    }

    /// Should let a proxy source reach any host without allowedHosts, and only those with it.
    @Test func proxyOriginHosts() throws {
        var proxy = SourceConfig(name: "p", kind: .proxy)
        #expect(proxy.originHosts(baseHost: nil) == .any)
        proxy.allowedHosts = [try #require(HostPattern("*.example.com"))]
        #expect(proxy.originHosts(baseHost: "ignored.example").allows("img.example.com"))
        #expect(!proxy.originHosts(baseHost: "ignored.example").allows("ignored.example"))
    }

    /// Should take a proxy source's watermark from an http(s) URL on an allowed host, and refuse a path or
    /// another host.
    @Test func watermarks() throws {
        var proxy = SourceConfig(name: "p", kind: .proxy)
        proxy.allowedHosts = [try #require(HostPattern("img.example.com"))]
        let ok = try spec("mark=https%3A%2F%2Fimg.example.com%2Flogo.png").watermark.path(on: proxy)
        #expect(ok?.description == "https://img.example.com/logo.png")
        for mark in ["/logo.png", "https%3A%2F%2Fevil.example%2Flogo.png", "ftp%3A%2F%2Fimg.example.com%2Flogo.png"] {
            let refused = (try? spec("mark=" + mark)).map { s in Result { () throws(EdgeError) in try s.watermark.path(on: proxy) } }
            if case .failure(let e)? = refused { #expect(e.status == 400 && e.param == "mark", "\(mark)") }
        }
    }
}
