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
