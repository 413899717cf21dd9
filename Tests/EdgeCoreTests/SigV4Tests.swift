import EdgeCore
import EdgeTestSupport
import Foundation
import Testing

/// The S3 request signer against botocore's `S3SigV4Auth`, byte for byte (Tests/Fixtures/sigv4/cases.json, written
/// by generate.py beside it with the botocore installed here; tools/test rewrites it when botocore is there).
@Suite struct SigV4Tests {
    struct Fixture: Decodable {
        var accessKeyID: String
        var secretAccessKey: String
        var cases: [Case]
    }
    struct Case: Decodable {
        var host: String
        var path: String
        var query: [[String]]
        var headers: [[String]]
        var region: String
        var token: String?
        var time: Double
        var payloadHash: String
        var signed: [String: String]
    }

    static func fixture() throws -> Fixture {
        let url = Corpus.packageRoot.appendingPathComponent("Tests/Fixtures/sigv4/cases.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// Should sign as botocore signs: paths with spaces, non-ASCII, `+`, `=`, `&`, `%` and `~`; query pairs to sort
    /// and encode; headers to trim and sign; a session token; dates across years.
    @Test func matchesBotocore() throws {
        let f = try Self.fixture()
        #expect(f.cases.count >= 5)
        for c in f.cases {
            let signed = SigV4.sign(method: "GET", path: c.path, query: c.query.map { ($0[0], $0[1]) },
                                    headers: [("Host", c.host)] + c.headers.map { ($0[0], $0[1]) },
                                    payloadHash: c.payloadHash,
                                    credentials: .init(accessKeyID: f.accessKeyID, secretAccessKey: f.secretAccessKey,
                                                       sessionToken: c.token),
                                    region: c.region, time: c.time)
            let got = Dictionary(uniqueKeysWithValues: signed.map { ($0.name, $0.value) })
            #expect(got == c.signed, "\(c.path)")
        }
    }

    /// Should sign AWS's published SigV4 test-suite requests (aws-sig-v4-test-suite, 2015-08-30, service `service`,
    /// no payload-hash header: not S3) to their published signatures: the vanilla request, unreserved characters,
    /// query order by key and by value, a UTF-8 query, header values in order, duplicated and trimmed, a POST
    /// with a body, and a session token. (The suite's path-normalising cases are for other services: S3 signs its
    /// path as it is.)
    @Test func awsTestSuite() {
        let creds = SigV4.Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        struct Vector {
            var name, method, path: String
            var query: [(String, String)] = []
            var headers: [(String, String)] = []
            var payload: String
            var token: String? = nil
            var signed, signature: String
        }
        let vectors: [Vector] = [
            Vector(name: "get-vanilla", method: "GET", path: "/", payload: empty, signed: "host;x-amz-date",
                   signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
            Vector(name: "get-unreserved", method: "GET",
                   path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", payload: empty,
                   signed: "host;x-amz-date", signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
            Vector(name: "get-vanilla-query-order-key-case", method: "GET", path: "/",
                   query: [("Param2", "value2"), ("Param1", "value1")], payload: empty, signed: "host;x-amz-date",
                   signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
            Vector(name: "get-vanilla-query-order-value", method: "GET", path: "/",
                   query: [("Param1", "value2"), ("Param1", "value1")], payload: empty, signed: "host;x-amz-date",
                   signature: "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"),
            Vector(name: "get-vanilla-utf8-query", method: "GET", path: "/", query: [("\u{1234}", "bar")], payload: empty,
                   signed: "host;x-amz-date", signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
            Vector(name: "get-header-value-order", method: "GET", path: "/",
                   headers: [("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"), ("My-Header1", "value2")],
                   payload: empty, signed: "host;my-header1;x-amz-date",
                   signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
            Vector(name: "get-header-key-duplicate", method: "GET", path: "/",
                   headers: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
                   payload: empty, signed: "host;my-header1;x-amz-date",
                   signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
            Vector(name: "get-header-value-trim", method: "GET", path: "/",
                   headers: [("My-Header1", " value1"), ("My-Header2", "\"a   b   c\"")], payload: empty,
                   signed: "host;my-header1;my-header2;x-amz-date",
                   signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
            Vector(name: "post-x-www-form-urlencoded", method: "POST", path: "/",
                   headers: [("Content-Type", "application/x-www-form-urlencoded")],
                   payload: "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                   signed: "content-type;host;x-amz-date", signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
            Vector(name: "get-vanilla, session token", method: "GET", path: "/", payload: empty,
                   token: "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
                   signed: "host;x-amz-date;x-amz-security-token",
                   signature: "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"),
        ]
        for v in vectors {
            var c = creds
            c.sessionToken = v.token
            let signed = SigV4.sign(method: v.method, path: v.path, query: v.query.map { ($0.0, $0.1) },
                                    headers: [("Host", "example.amazonaws.com")] + v.headers.map { ($0.0, $0.1) },
                                    payloadHash: v.payload, sendsPayloadHash: false, credentials: c, region: "us-east-1",
                                    service: "service", time: 1_440_938_160)
            #expect(signed.first { $0.name == "authorization" }?.value
                    == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                    + "SignedHeaders=\(v.signed), Signature=\(v.signature)", "\(v.name)")
        }
    }

    /// Should change the signature with the secret, the time, the region and every signed part.
    @Test func everyPartCounts() {
        let creds = SigV4.Credentials(accessKeyID: "AK", secretAccessKey: "secret")
        func auth(_ path: String = "/b/k", headers: [(String, String)] = [("host", "h")], creds: SigV4.Credentials = creds,
                  region: String = "us-east-1", time: Double = 1_700_000_000) -> String {
            SigV4.sign(method: "GET", path: path, headers: headers, credentials: creds, region: region, time: time)
                .last { $0.name == "authorization" }!.value
        }
        let base = auth()
        #expect(base.hasPrefix("AWS4-HMAC-SHA256 Credential=AK/20231114/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="))
        for other in [auth("/b/k2"), auth(headers: [("host", "h2")]), auth(creds: .init(accessKeyID: "AK", secretAccessKey: "other")),
                      auth(region: "eu-west-1"), auth(time: 1_700_000_001), auth(headers: [("host", "h"), ("range", "bytes=0-1")])] {
            #expect(other != base)
        }
    }

    /// Should write the dates SigV4 wants, in UTC.
    @Test func timestamps() {
        let signed = { (t: Double) in
            SigV4.sign(method: "GET", path: "/", headers: [("host", "h")],
                       credentials: .init(accessKeyID: "a", secretAccessKey: "s"), region: "r", time: t)[0].value
        }
        #expect(signed(0) == "19700101T000000Z")
        #expect(signed(951_782_400) == "20000229T000000Z")
        #expect(signed(1_765_102_500.9) == "20251207T101500Z")
        #expect(signed(4_102_444_799) == "20991231T235959Z")
    }
}

/// Where an `s3` source's requests go.
@Suite struct S3LocationTests {
    /// Should address AWS by virtual host and compatibles by path, keys under the prefix, encoded once.
    @Test func requests() {
        let aws = S3Location(bucket: "photos", region: "eu-west-3", prefix: "/site/a/")
        #expect(aws.key(for: "/cat 1.jpg") == "site/a/cat 1.jpg")
        let r = aws.request(key: aws.key(for: "/cat 1.jpg"))
        #expect(r.url == "https://photos.s3.eu-west-3.amazonaws.com/site/a/cat%201.jpg")
        #expect(r.host == "photos.s3.eu-west-3.amazonaws.com" && r.path == "/site/a/cat 1.jpg")
        let minio = S3Location(bucket: "b", region: "us-east-1", endpoint: "http://127.0.0.1:9000/")
        #expect(minio.pathStyle)
        let m = minio.request(key: minio.key(for: "/x+y.jpg"))
        #expect(m.url == "http://127.0.0.1:9000/b/x%2By.jpg" && m.host == "127.0.0.1:9000" && m.path == "/b/x+y.jpg")
        let hosted = S3Location(bucket: "b", region: "auto", endpoint: "https://r2.example.com:443", pathStyle: false)
        #expect(hosted.request(key: "k").url == "https://b.r2.example.com/k")
        #expect(S3Location(bucket: "b", region: "r", endpoint: "http://h:80").request(key: "k").host == "h")
    }
}
