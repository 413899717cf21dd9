import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

/// Signed URLs built by imgix's Python library (Tests/Fixtures/imgix-signing, written by its generate.py).
struct SecureURLFixtures: Decodable {
    struct Case: Decodable {
        var name: String
        var library: String
        var token: String
        var path: String
        var params: [String: String]
        var unsigned: String
        var url: String
        var target: String
        var signature: String
    }

    var cases: [Case]

    static let all: [Case] = {
        let url = Corpus.packageRoot.appendingPathComponent("Tests/Fixtures/imgix-signing/signed-urls.json")
        guard let data = try? Data(contentsOf: url), let f = try? JSONDecoder().decode(SecureURLFixtures.self, from: data) else {
            return []
        }
        return f.cases
    }()

    static func named(_ name: String) -> Case? { all.first { $0.name == name } }
}

/// Secure URLs, `expires` and `defaultParams` through a real node.
@Suite struct SecureURLTests {
    static let token = "aBcD1234eFgH5678"

    /// imgix's signature for a target (`/path?query`), appended as imgix does.
    static func sign(_ path: String, _ query: String = "", token: String = token) -> String {
        let s = MD5Text.hex(token + path + (query.isEmpty ? "" : "?" + query))
        return path + (query.isEmpty ? "?s=" : "?" + query + "&s=") + s
    }

    /// A node whose web source (`web.test`, the default) and folder source (`files.test`) are secured.
    static func securedNode(required: Bool = true) async throws -> TestNode {
        try await TestNode.start {
            for i in $0.sources.indices {
                $0.sources[i].secureToken = token
                $0.sources[i].requireSignature = required
            }
        }
    }

    /// Width and height of a PNG, from its IHDR chunk.
    static func pngSize(_ b: [UInt8]) -> (Int, Int)? {
        guard b.count > 24, b[12..<16].elementsEqual("IHDR".utf8) else { return nil }
        func be(_ i: Int) -> Int { Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3]) }
        return (be(16), be(20))
    }

    static func maxAge(_ r: TestHTTPResponse) -> Int? {
        guard let cc = r.header("cache-control"), let range = cc.range(of: "max-age=") else { return nil }
        return Int(cc[range.upperBound...].prefix { $0.isNumber })
    }

    /// Should refuse missing, wrong, misplaced and expired signatures with 403 before fetching anything, and
    /// serve a correctly signed URL.
    @Test func signaturesRequired() async throws {
        let node = try await Self.securedNode()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)

        let good = Self.sign("/photo.jpg", "w=60")
        let expected = String(good.suffix(32))
        var refused: [TestHTTPResponse] = []
        refused.append(try await node.get("/photo.jpg?w=60"))
        refused.append(try await node.get("/photo.jpg"))
        refused.append(try await node.get("/photo.jpg?w=60&s=0123456789abcdef0123456789abcdef"))
        refused.append(try await node.get("/photo.jpg?w=61&s=\(expected)"))
        refused.append(try await node.get("/photo.jpg?s=\(expected)&w=60"))
        refused.append(try await node.get(Self.sign("/photo.jpg", "w=60&expires=1477789261")))
        refused.append(try await node.get(Self.sign("/photo.jpg", "w=60", token: "not-the-token")))
        for r in refused {
            #expect(r.status == 403)
            #expect(r.header("content-type") == "application/json")
            #expect(r.header("cache-control") == "no-store")
            #expect(!r.text.contains(expected))
        }
        #expect(node.origin.count("/photo.jpg") == 0)

        let ok = try await node.get(good)
        #expect(ok.status == 200)
        #expect(ok.header("content-type") == "image/jpeg")
        #expect(node.origin.count("/photo.jpg") == 1)
        // Upper-case hex is the same signature.
        let upper = try await node.get(String(good.dropLast(32)) + expected.uppercased())
        #expect(upper.status == 200)
        #expect(upper.header("x-cache") == "HIT")
    }

    /// Should serve every URL imgix-python signed for a folder source's files (spaces, unicode, reserved
    /// characters, the library's own parameter, a live `expires`), and refuse the expired one.
    @Test func imgixPythonURLsEndToEnd() async throws {
        let node = try await Self.securedNode()
        defer { Task { await node.stopAll() } }
        let names = ["simple", "no parameters", "leading slash", "spaces in path", "unicode path", "reserved characters kept",
                     "reserved characters encoded", "expires in the future", "library parameter"]
        let cases = names.compactMap(SecureURLFixtures.named)
        try #require(cases.count == names.count)
        let small = try Corpus.bytes("basics/jpeg_baseline_testorig.jpg")
        for c in cases {
            let relative = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
            _ = try node.filesDir.write(relative, bytes: small)
        }
        for c in cases {
            let r = try await node.get(c.target, host: "files.test")
            #expect(r.status == 200, "\(c.name): \(r.text)")
            #expect(r.header("content-type") == "image/jpeg", "\(c.name)")
        }
        let past = try #require(SecureURLFixtures.named("expires in the past"))
        _ = try node.filesDir.write("photos/cat.jpg", bytes: small)
        #expect(try await node.get(past.target, host: "files.test").status == 403)
        // A correct signature under another host's source token is still wrong here.
        let other = try #require(SecureURLFixtures.named("other token"))
        #expect(try await node.get(other.target, host: "files.test").status == 403)
    }

    /// Should let unsigned URLs through when the source has a token but does not require signatures, while a
    /// URL that carries a wrong `s` is still refused.
    @Test func optionalSignatures() async throws {
        let node = try await Self.securedNode(required: false)
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        #expect(try await node.get("/photo.jpg?w=40").status == 200)
        #expect(try await node.get(Self.sign("/photo.jpg", "w=40")).status == 200)
        #expect(try await node.get("/photo.jpg?w=40&s=0123456789abcdef0123456789abcdef").status == 403)
    }

    /// Should bound the response's max-age by the time left before `expires`, on a miss and on a hit.
    @Test func maxAgeBoundedByExpires() async throws {
        let node = try await Self.securedNode()
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=86400")])
        let expires = Int(Date().timeIntervalSince1970) + 120
        let target = Self.sign("/photo.jpg", "w=30&expires=\(expires)")
        let miss = try await node.get(target)
        #expect(miss.status == 200)
        #expect(miss.header("x-cache") == "MISS")
        let missAge = try #require(Self.maxAge(miss))
        #expect(missAge <= 120 && missAge >= 100)
        let hit = try await node.get(target)
        #expect(hit.header("x-cache") == "HIT")
        let hitAge = try #require(Self.maxAge(hit))
        #expect(hitAge <= 120 && hitAge >= 100)
        // The same variant without `expires` (same cache entry) keeps the origin's lifetime.
        let plain = try await node.get(Self.sign("/photo.jpg", "w=30"))
        #expect(plain.header("x-cache") == "HIT")
        #expect(try #require(Self.maxAge(plain)) > 80_000)
    }

    /// Should apply a source's defaultParams where the URL is silent, let the URL override them, and key the
    /// cache by the result (a default and the same explicit parameter share an entry).
    @Test func defaultParams() async throws {
        let node = try await TestNode.start {
            $0.sources[0].defaultParams = [QueryParameter(name: "fm", value: "png"), QueryParameter(name: "w", value: "50")]
        }
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)

        let byDefault = try await node.get("/photo.jpg")
        #expect(byDefault.status == 200)
        #expect(byDefault.header("content-type") == "image/png")
        #expect(try #require(Self.pngSize(byDefault.body)).0 == 50)

        let explicit = try await node.get("/photo.jpg?w=50&fm=png")
        #expect(explicit.header("x-cache") == "HIT")
        #expect(explicit.body == byDefault.body)

        let overridden = try await node.get("/photo.jpg?width=80")
        #expect(overridden.header("x-cache") == "MISS")
        #expect(overridden.header("content-type") == "image/png")
        #expect(try #require(Self.pngSize(overridden.body)).0 == 80)

        let format = try await node.get("/photo.jpg?fm=jpg")
        #expect(format.header("content-type") == "image/jpeg")
    }

    /// Should read secureToken, requireSignature and defaultParams from YAML, and report bad values by key.
    @Test func configuration() throws {
        let yaml = """
        sources:
          - name: a
            kind: web
            baseURL: https://origin.example.com
            secureToken: aBcD1234eFgH5678
            defaultParams: {auto: format, q: 60, sharp: 10, width: 0.5}
          - {name: b, kind: web, baseURL: "https://b.example.com", secureToken: aBcD1234eFgH5678, requireSignature: false}
          - {name: c, kind: web, baseURL: "https://c.example.com"}
        """
        let c = try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: [:], cores: 2)
        #expect(c.sources[0].secureToken == "aBcD1234eFgH5678")
        #expect(c.sources[0].requireSignature)  // a token secures the source unless told otherwise
        #expect(c.sources[0].defaultParams == [QueryParameter(name: "auto", value: "format"), QueryParameter(name: "q", value: "60"),
                                               QueryParameter(name: "sharp", value: "10"), QueryParameter(name: "width", value: "0.5")])
        #expect(c.sources[1].requireSignature == false)
        #expect(c.sources[2].secureToken == nil && c.sources[2].requireSignature == false && c.sources[2].defaultParams.isEmpty)

        let bad = """
        sources:
          - {name: a, kind: web, baseURL: "https://a.example.com", secureToken: short}
          - {name: b, kind: web, baseURL: "https://b.example.com", requireSignature: true}
          - {name: c, kind: web, baseURL: "https://c.example.com", defaultParams: {w: huge, colour: red, expires: 1, h: [1, 2]}}
          - {name: d, kind: web, baseURL: "https://d.example.com", defaultParams: {w: 10, width: 20}}
          - {name: e, kind: web, baseURL: "https://e.example.com", defaultParams: [w, 10]}
          - {name: f, kind: web, baseURL: "https://f.example.com", defaultParams: {w: 10, q: 500}}
        """
        do {
            _ = try NodeConfig.parse(yaml: bad, baseDirectory: "/", environment: [:], cores: 2)
            Issue.record("expected a ConfigError")
        } catch let e as ConfigError {
            let keys = Set(e.problems.map(\.key))
            #expect(keys.contains("sources[0].secureToken"))
            #expect(keys.contains("sources[1].requireSignature"))
            #expect(keys.contains("sources[2].defaultParams.colour"))
            #expect(keys.contains("sources[2].defaultParams.expires"))
            #expect(keys.contains("sources[2].defaultParams.h"))
            #expect(keys.contains("sources[3].defaultParams.width"))
            #expect(keys.contains("sources[4].defaultParams"))
            #expect(keys.contains("sources[5].defaultParams.q"))
            #expect(!e.description.contains("not supported by this version"))
        }
        // A value the parser refuses is reported with the parameter it concerns.
        do {
            _ = try NodeConfig.parse(yaml: "sources:\n  - {name: a, kind: web, baseURL: 'https://a.example.com', defaultParams: {w: huge}}\n",
                                     baseDirectory: "/", environment: [:], cores: 2)
            Issue.record("expected a ConfigError")
        } catch let e as ConfigError {
            #expect(e.problems.map(\.key) == ["sources[0].defaultParams.w"])
        }
    }
}

/// MD5 as lower-case hex, written out independently of the code under test (RFC 1321).
enum MD5Text {
    static func hex(_ text: String) -> String {
        let s: [UInt32] = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
                           5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21,
                           6, 10, 15, 21, 6, 10, 15, 21]
        let k: [UInt32] = (0..<64).map { UInt32(truncatingIfNeeded: Int64(abs(sin(Double($0 + 1))) * 4_294_967_296)) }
        var a0: UInt32 = 0x67452301, b0: UInt32 = 0xefcdab89, c0: UInt32 = 0x98badcfe, d0: UInt32 = 0x10325476
        var msg = Array(text.utf8)
        let bitLength = UInt64(msg.count) * 8
        msg.append(0x80)
        while msg.count % 64 != 56 { msg.append(0) }
        for i in 0..<8 { msg.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
        for chunk in stride(from: 0, to: msg.count, by: 64) {
            var m = [UInt32](repeating: 0, count: 16)
            for i in 0..<16 {
                let j = chunk + i * 4
                m[i] = UInt32(msg[j]) | UInt32(msg[j + 1]) << 8 | UInt32(msg[j + 2]) << 16 | UInt32(msg[j + 3]) << 24
            }
            var a = a0, b = b0, c = c0, d = d0
            for i in 0..<64 {
                var f: UInt32, g: Int
                switch i {
                case 0..<16: f = (b & c) | (~b & d); g = i
                case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
                case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) % 16
                default: f = c ^ (b | ~d); g = (7 * i) % 16
                }
                f = f &+ a &+ k[i] &+ m[g]
                a = d; d = c; c = b
                b = b &+ (f << s[i] | f >> (32 - s[i]))
            }
            a0 = a0 &+ a; b0 = b0 &+ b; c0 = c0 &+ c; d0 = d0 &+ d
        }
        return [a0, b0, c0, d0].flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * UInt32($0))) } }
            .map { String(format: "%02x", $0) }.joined()
    }
}

@Suite struct ExpiryMemoTests {
    /// Should refuse a URL once its expires has passed even though the node remembers resolving it.
    @Test func expiryOutlivesTheResolutionMemo() async throws {
        let clock = ManualClock()
        let node = try await TestNode.start(clock: clock) {
            for i in $0.sources.indices {
                $0.sources[i].secureToken = SecureURLTests.token
                $0.sources[i].requireSignature = true
            }
        }
        defer { Task { await node.stopAll() } }
        node.origin.route("/photo.jpg", body: photo, headers: jpegHeaders)
        let url = SecureURLTests.sign("/photo.jpg", "expires=\(Int(clock.reading()) + 60)&w=40")
        #expect(try await node.get(url).status == 200)
        #expect(try await node.get(url).status == 200)
        clock.advance(61)
        #expect(try await node.get(url).status == 403)
    }
}
