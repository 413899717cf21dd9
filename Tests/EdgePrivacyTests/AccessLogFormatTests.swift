import EdgePrivacy
import Foundation
import Testing

/// What an access-log line may contain.
@Suite struct AccessLogFormatTests {
    /// Should keep only the client's /24 (IPv4) or /48 (IPv6) network, IPv4-mapped addresses as IPv4.
    @Test(arguments: [
        ("203.0.113.77", "203.0.113.0"), ("10.1.2.3", "10.1.2.0"), ("127.0.0.1", "127.0.0.0"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::"), ("2001:db8::1", "2001:db8::"), ("[2001:db8:abcd:12::1]", "2001:db8:abcd::"),
        ("::ffff:198.51.100.9", "198.51.100.0"), ("fe80::1%eth0", "fe80::"), ("::1", "::"),
        ("not an address", "-"), ("", "-"),
    ])
    func truncate(_ input: String, _ expected: String) {
        #expect(AccessLogFormat.truncate(input) == expected)
    }

    /// Should drop the signature and expiry (and their base64 forms) from the logged target, keeping the rest.
    @Test func sanitize() {
        #expect(AccessLogFormat.sanitize(target: "/a.jpg?w=100&s=0123abcd") == "/a.jpg?w=100")
        #expect(AccessLogFormat.sanitize(target: "/a.jpg?expires=1700000000&w=1&S=x&s64=eA&expires64=MQ") == "/a.jpg?w=1")
        #expect(AccessLogFormat.sanitize(target: "/a.jpg?s=1") == "/a.jpg")
        #expect(AccessLogFormat.sanitize(target: "/a.jpg") == "/a.jpg")
        #expect(AccessLogFormat.sanitize(target: "/a.jpg?sat=5&w=2") == "/a.jpg?sat=5&w=2")
        // Split on bytes as the signature check splits: a `&` joined into a grapheme cluster with its neighbour
        // still separates, so the `s` the check read is not logged.
        #expect(AccessLogFormat.sanitize(target: "/a.jpg?w=1\u{0600}&s=0123") == "/a.jpg?w=1\u{0600}")
        #expect(AccessLogFormat.sanitize(target: "/a.jpg?w=1&\u{0301}x=2&s=1") == "/a.jpg?w=1&\u{0301}x=2")
    }

    /// Should write one JSON object a line, escaped, with the truncated client and the sanitized target.
    @Test func line() throws {
        let text = AccessLogFormat.line(time: 1_795_000_000.123456, client: "192.0.2.55", method: "GET", host: "img\"x",
                                        target: "/a b.jpg?w=3&s=deadbeef\n", status: 200, bytes: 1234, cache: "HIT",
                                        milliseconds: 0.46)
        #expect(text.hasSuffix("}\n") && text.filter { $0 == "\n" }.count == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(json["client"] as? String == "192.0.2.0")
        #expect(json["target"] as? String == "/a b.jpg?w=3")
        #expect(json["host"] as? String == "img\"x")
        #expect(json["status"] as? Int == 200 && json["bytes"] as? Int == 1234 && json["cache"] as? String == "HIT")
        #expect((json["time"] as? Double).map { abs($0 - 1_795_000_000.123) < 0.001 } == true)
        #expect(json.count == 9)
    }
}
