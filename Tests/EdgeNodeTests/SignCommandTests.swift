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

    /// Should encode a path written as a person writes it (spaces, unicode, a proxied URL) as imgix-python does.
    @Test func encodesHumanPaths() async throws {
        let spaces = try #require(SecureURLFixtures.named("spaces in path"))
        let r1 = try await CommandLineTests.run(["sign", "--token", Self.token, "https://images.example.com/photos/summer holiday/cat 1.jpg?w=200"])
        #expect(r1.stdout == spaces.url + "\n")
        let unicode = try #require(SecureURLFixtures.named("unicode path"))
        let r2 = try await CommandLineTests.run(["sign", "--token", Self.token, "https://images.example.com/photos/ünïcødé/猫 🐈.jpg?w=100"])
        #expect(r2.stdout == unicode.url + "\n")
        let proxy = try #require(SecureURLFixtures.named("proxied URL, no parameters"))
        let r3 = try await CommandLineTests.run(["sign", "--token", Self.token, "https://images.example.com/http://origin.example.com/cat.jpg"])
        #expect(r3.stdout == proxy.url + "\n")
        let values = try #require(SecureURLFixtures.named("values needing encoding"))
        let r4 = try await CommandLineTests.run(["sign", "--token", Self.token,
                                           "https://images.example.com/photos/cat.jpg?txt=Hello+World%2B1+%26+more+%3D+100%25&txt-color=%23ff0000"])
        #expect(r4.stdout == values.url + "\n")
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
    }
}
