import EdgeCore
import EdgeNode
import Testing

/// The source keys that decide where origin fetches may go.
@Suite struct OriginConfigTests {
    /// The problems a configuration has, by key (empty when it loads).
    static func problems(_ yaml: String) -> [String: String] {
        do {
            _ = try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: [:])
            return [:]
        } catch let e as ConfigError {
            return Dictionary(e.problems.map { ($0.key, $0.message) }, uniquingKeysWith: { a, _ in a })
        } catch {
            return ["(other)": "\(error)"]
        }
    }

    /// Should read allowPrivateNetwork as false (default), true, or a list of CIDR blocks.
    @Test func allowPrivateNetwork() throws {
        let yaml = """
        sources:
          - {name: a, kind: web, baseURL: 'http://x'}
          - {name: b, kind: web, baseURL: 'http://x', allowPrivateNetwork: true}
          - {name: c, kind: web, baseURL: 'http://x', allowPrivateNetwork: false}
          - {name: d, kind: web, baseURL: 'http://x', allowPrivateNetwork: [10.1.0.0/16, 'fd00::/8', 127.0.0.1]}
        """
        let c = try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: [:])
        #expect(c.sources[0].networkPolicy == .publicOnly)
        #expect(c.sources[1].networkPolicy == .anyUnicast)
        #expect(c.sources[2].networkPolicy == .publicOnly)
        let blocks = try ["10.1.0.0/16", "fd00::/8", "127.0.0.1/32"].map { try IPNetwork($0) }
        #expect(c.sources[3].networkPolicy == NetworkAddressPolicy(privateNetworks: .only(blocks)))
    }

    /// Should report bad blocks by their index, other values, and the key on a folder source.
    @Test func allowPrivateNetworkProblems() {
        let p = Self.problems("""
        sources:
          - {name: a, kind: web, baseURL: 'http://x', allowPrivateNetwork: [10.0.0.0/8, 127.0.0.1/8, nonsense]}
          - {name: b, kind: web, baseURL: 'http://x', allowPrivateNetwork: sometimes}
          - {name: c, kind: folder, root: /, allowPrivateNetwork: true}
        """)
        #expect(p["sources[0].allowPrivateNetwork[1]"]?.contains("did you mean 127.0.0.0/8") == true)
        #expect(p["sources[0].allowPrivateNetwork[2]"]?.contains("not an IP address") == true)
        #expect(p["sources[0].allowPrivateNetwork[0]"] == nil)
        #expect(p["sources[1].allowPrivateNetwork"] != nil)
        #expect(p["sources[2].allowPrivateNetwork"] == "only for web, proxy and s3 sources")
    }

    /// Should read allowedHosts as host patterns and report each bad one by its index.
    @Test func allowedHosts() throws {
        let yaml = "sources:\n  - {name: a, kind: web, baseURL: 'http://x', allowedHosts: [img.example.com, '*.cdn.example.net', 203.0.113.7]}\n"
        let c = try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: [:])
        #expect(c.sources[0].allowedHosts.map(\.description) == ["img.example.com", "*.cdn.example.net", "203.0.113.7"])
        let p = Self.problems("""
        sources:
          - {name: a, kind: web, baseURL: 'http://x', allowedHosts: [ok.example.com, '*.com', 'a b']}
          - {name: b, kind: web, baseURL: 'http://x', allowedHosts: img.example.com}
          - {name: c, kind: folder, root: /, allowedHosts: [img.example.com]}
        """)
        #expect(p["sources[0].allowedHosts[0]"] == nil)
        #expect(p["sources[0].allowedHosts[1]"] != nil && p["sources[0].allowedHosts[2]"] != nil)
        #expect(p["sources[1].allowedHosts"] != nil)
        #expect(p["sources[2].allowedHosts"] == "only for web and proxy sources")
    }

    /// Should read a proxy source, always requiring signatures, and refuse one without a token, with
    /// requireSignature false, or with a root or baseURL.
    @Test func proxySources() throws {
        let yaml = """
        sources:
          - {name: p, kind: proxy, hosts: [proxy.example.com], secureToken: aBcD1234eFgH5678, allowedHosts: ['*.example.com']}
        """
        let c = try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: [:])
        #expect(c.sources[0].kind == .proxy)
        #expect(c.sources[0].requireSignature)
        #expect(c.sources[0].allowedHosts.map(\.description) == ["*.example.com"])
        let p = Self.problems("""
        sources:
          - {name: a, kind: proxy}
          - {name: b, kind: proxy, secureToken: aBcD1234eFgH5678, requireSignature: false}
          - {name: c, kind: proxy, secureToken: aBcD1234eFgH5678, baseURL: 'https://x', root: /}
          - {name: d, kind: ftp}
        """)
        #expect(p["sources[0].secureToken"]?.contains("required") == true)
        #expect(p["sources[1].requireSignature"] == "cannot be false for a proxy source")
        #expect(p["sources[2].baseURL"] != nil && p["sources[2].root"] != nil)
        #expect(p["sources[3].kind"] == "must be folder, web, proxy or s3 (ftp)")
    }

    /// Should read passRedirects, passResponseHeaders, stripResponseHeaders and cache.negativeTTL, and report what
    /// cannot be: a node-written or hop-by-hop field to pass, a name that is not a token, redirects of a folder.
    @Test func originAnswerKeys() throws {
        let yaml = """
        cache: {negativeTTL: 5m}
        sources:
          - {name: a, kind: web, baseURL: 'http://x', passRedirects: true, passResponseHeaders: [Link, X-Trace, link],
             stripResponseHeaders: [X-Internal]}
          - {name: b, kind: web, baseURL: 'http://x'}
        """
        let c = try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: [:])
        #expect(c.negativeTTL == 300)
        #expect(c.sources[0].passRedirects && !c.sources[1].passRedirects)
        #expect(c.sources[0].passResponseHeaders == ["link", "x-trace"])
        #expect(c.sources[0].stripResponseHeaders == ["x-internal"])
        #expect(try NodeConfig.parse(yaml: "sources: []\n", baseDirectory: "/", environment: [:]).negativeTTL == 60)
        let p = Self.problems("""
        cache: {negativeTTL: soon}
        sources:
          - {name: a, kind: web, baseURL: 'http://x', passResponseHeaders: [Set-Cookie, 'a b', Link], stripResponseHeaders: x}
          - {name: f, kind: folder, root: /tmp, passRedirects: true}
        """)
        #expect(p["cache.negativeTTL"] != nil)
        #expect(p["sources[0].passResponseHeaders[0]"]?.contains("cannot be passed") == true)
        #expect(p["sources[0].passResponseHeaders[1]"] != nil && p["sources[0].passResponseHeaders[2]"] == nil)
        #expect(p["sources[0].stripResponseHeaders"] != nil)
        #expect(p["sources[1].passRedirects"] != nil)
    }
}
