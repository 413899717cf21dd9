import EdgeTestSupport
import Foundation
import Testing

/// `imgedge sign`, run as a user would, against URLs imgix's Python library signed.
@Suite struct SignCommandTests {
    static let token = "aBcD1234eFgH5678"

    /// Should print, byte for byte, the signed URL imgix-python 4.0.0 builds, from its unsigned URL.
    @Test func matchesImgixPython() async throws {
        let cases = SecureURLFixtures.all.filter { $0.library == "UrlBuilder" }
        try #require(cases.count >= 10)
        for c in cases {
            let r = try await CommandLineTests.run(["sign", "--token", c.token, c.unsigned])
            #expect(r.status == 0, "\(c.name): \(r.stderr)")
            #expect(r.stdout == c.url + "\n", "\(c.name)")
        }
    }

    /// Should build, from the path and parameters given to imgix-python, the very URL the library built and signed
    /// (spaces, unicode, reserved characters, proxied URLs, base64 parameters, the library's own parameter).
    @Test func buildsAsImgixPython() async throws {
        let cases = SecureURLFixtures.all.filter { $0.library == "UrlBuilder" }
        try #require(cases.count >= 10)
        for c in cases {
            var params = c.params.map { "--param=\($0.key)=\($0.value)" }
            if c.unsigned.contains("ixlib=") { params.append("--param=ixlib=python-4.0.0") }
            let r = try await CommandLineTests.run(["sign", "--token", c.token, "--domain", "images.example.com",
                                                    "--path", c.path] + params)
            #expect(r.status == 0, "\(c.name): \(r.stderr)")
            #expect(r.stdout == c.url + "\n", "\(c.name)")
            let bare = try await CommandLineTests.run(["sign", "--token", c.token, "--path", c.path] + params)
            #expect(bare.stdout == c.target + "\n", "\(c.name)")
        }
    }

    /// Should sign a URL exactly as given, byte for byte, as imgix's libraries sign the URL they built and the node
    /// checks the target it receives: `%20` and `+` in a proxied path, `%26`, `[` and `]`, a parameter without `=`.
    @Test func signsAsGiven() async throws {
        let targets = [
            "/https%3A%2F%2Forigin.example.com%2Fa%20b.jpg?w=300",
            "/https%3A%2F%2Forigin.example.com%2Fa+b.jpg?w=300",
            "/photos/a+b.jpg?txt=a+b%2Bc",
            "/photos/a%26b.jpg?txt=x%26y",
            "/photos/[1].jpg?rect=[0,0,10,10]",
            "/photos/cat.jpg?mark",
            "/photos/cat.jpg?w=10&&h=20",
            "/photos/100%.jpg",
        ]
        for target in targets {
            let q = target.firstIndex(of: "?")
            let path = String(target[..<(q ?? target.endIndex)])
            let query = q.map { String(target[target.index(after: $0)...]) } ?? ""
            let r = try await CommandLineTests.run(["sign", "--token", Self.token, "https://images.example.com" + target])
            #expect(r.stdout == "https://images.example.com" + SecureURLTests.sign(path, query) + "\n", "\(target)")
        }
        // What no client sends raw is encoded as every client encodes it: spaces and unicode (imgix-python's URLs).
        let spaces = try #require(SecureURLFixtures.named("spaces in path"))
        let r1 = try await CommandLineTests.run(["sign", "--token", Self.token, "https://images.example.com/photos/summer holiday/cat 1.jpg?w=200"])
        #expect(r1.stdout == spaces.url + "\n")
        let unicode = try #require(SecureURLFixtures.named("unicode path"))
        let r2 = try await CommandLineTests.run(["sign", "--token", Self.token, "https://images.example.com/photos/ünïcødé/猫 🐈.jpg?w=100"])
        #expect(r2.stdout == unicode.url + "\n")
    }

    /// Should sign URLs a secured node then serves, reserved characters and all (the node checks the target as
    /// received), and build ones it serves too.
    @Test func signedAsGivenIsServed() async throws {
        let node = try await SecureURLTests.securedNode()
        defer { Task { await node.stopAll() } }
        let small = try Corpus.bytes("basics/jpeg_baseline_testorig.jpg")
        for name in ["a b.jpg", "x+y.jpg", "p&q.jpg"] { _ = try node.filesDir.write(name, bytes: small) }
        for url in ["http://files.test/a%20b.jpg?w=20&txt=a+b", "http://files.test/x+y.jpg?w=20", "http://files.test/p%26q.jpg?w=21"] {
            let r = try await CommandLineTests.run(["sign", "--token", SecureURLTests.token, url])
            let signed = r.stdout.trimmingCharacters(in: .newlines)
            #expect(signed.hasPrefix(String(url.prefix(while: { $0 != "?" }))), "\(signed)")
            let answer = try await node.get(String(signed.dropFirst("http://files.test".count)), host: "files.test")
            #expect(answer.status == 200, "\(url): \(answer.text)")
        }
        let built = try await CommandLineTests.run(["sign", "--token", SecureURLTests.token, "--path", "p&q.jpg", "--param", "w=22"])
        #expect(try await node.get(built.stdout.trimmingCharacters(in: .newlines), host: "files.test").status == 200)
    }

    /// Should replace a signature already present, and sign a bare path.
    @Test func resignsAndSignsPaths() async throws {
        let simple = try #require(SecureURLFixtures.named("simple"))
        let again = try await CommandLineTests.run(["sign", "--token", Self.token, simple.url])
        #expect(again.stdout == simple.url + "\n")
        let path = try await CommandLineTests.run(["sign", "--token", Self.token, simple.target])
        #expect(path.stdout == simple.target + "\n")
        let other = try await CommandLineTests.run(["sign", "--token", "FOO123bar", simple.unsigned])
        #expect(other.status == 0)
        #expect(other.stdout != simple.url + "\n")
    }

    /// Should exit 2 with a one-line reason for usage errors.
    @Test func usageErrors() async throws {
        let fragment = try await CommandLineTests.run(["sign", "--token", Self.token, "https://images.example.com/a.jpg#top"])
        #expect(fragment.status == 2)
        #expect(fragment.stderr.contains("fragment"))
        #expect(fragment.stdout.isEmpty)
        let relative = try await CommandLineTests.run(["sign", "--token", Self.token, "a.jpg"])
        #expect(relative.status == 2)
        let noToken = try await CommandLineTests.run(["sign", "https://images.example.com/a.jpg"])
        #expect(noToken.status == 2)
        #expect(noToken.stderr.contains("--token"))
        let emptyToken = try await CommandLineTests.run(["sign", "--token", "", "https://images.example.com/a.jpg"])
        #expect(emptyToken.status == 2)
        let noURL = try await CommandLineTests.run(["sign", "--token", Self.token])
        #expect(noURL.status == 2)
        let both = try await CommandLineTests.run(["sign", "--token", Self.token, "--path", "a.jpg", "https://images.example.com/a.jpg"])
        #expect(both.status == 2 && both.stderr.contains("--path"))
        let paramWithURL = try await CommandLineTests.run(["sign", "--token", Self.token, "--param", "w=1", "https://images.example.com/a.jpg"])
        #expect(paramWithURL.status == 2 && paramWithURL.stderr.contains("as given"))
        let badParam = try await CommandLineTests.run(["sign", "--token", Self.token, "--path", "a.jpg", "--param", "w"])
        #expect(badParam.status == 2 && badParam.stderr.contains("NAME=VALUE"))
    }
}
