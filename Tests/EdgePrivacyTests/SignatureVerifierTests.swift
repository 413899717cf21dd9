import EdgeCore
import EdgePrivacy
import Testing

@Suite struct SignatureVerifierTests {
    static let token = "aBcD1234eFgH5678"
    static let now = 1_700_000_000.0

    static func signed(_ path: String, _ query: String = "", token: String = token) -> String {
        let s = SignatureVerifier.signature(token: token, path: path, query: query)
        return path + (query.isEmpty ? "?s=" : "?" + query + "&s=") + s
    }

    static func verify(_ target: String, token: String? = token, required: Bool = true,
                       now: Double = now) throws(EdgeError) -> SignatureVerifier.Verdict {
        try SignatureVerifier(token: token, required: required).verify(target: Substring(target), now: now)
    }

    static func status(_ target: String, token: String? = token, required: Bool = true, now: Double = now) -> Int {
        do {
            _ = try verify(target, token: token, required: required, now: now)
            return 200
        } catch {
            return error.status
        }
    }

    /// Should compute imgix's signature: lower-case hex MD5 of token + path + "?" + query.
    @Test func signatureIsMD5OfTokenPathQuery() {
        // md5("aBcD1234eFgH5678/photos/cat.jpg?fit=crop&h=300&w=400"), as imgix-python 4.0.0 signs it.
        #expect(SignatureVerifier.signature(token: Self.token, path: "/photos/cat.jpg", query: "fit=crop&h=300&w=400")
                == "91b1769f3d7f542ce02590d718c199ab")
        // No query: no "?" in the signed text.
        #expect(SignatureVerifier.signature(token: Self.token, path: "/photos/cat.jpg", query: "")
                == "5ed49268d76de14ddce0f9642680c5e7")
    }

    /// Should accept a correctly signed URL, with or without other parameters.
    @Test func acceptsGoodSignature() throws {
        let v = try Self.verify(Self.signed("/photos/cat.jpg", "w=400&h=300"))
        #expect(v == SignatureVerifier.Verdict(signed: true, expires: nil))
        #expect(try Self.verify(Self.signed("/photos/cat.jpg")).signed)
    }

    /// Should refuse an unsigned URL with 403 when the source requires signatures.
    @Test func refusesMissingSignature() {
        #expect(Self.status("/photos/cat.jpg?w=400") == 403)
        #expect(Self.status("/photos/cat.jpg") == 403)
        #expect(Self.status("/photos/cat.jpg?") == 403)
        // An `s` spelled as another parameter name is not a signature.
        #expect(Self.status("/photos/cat.jpg?w=400&ss=abc") == 403)
    }

    /// Should refuse a wrong signature with 403, whether or not signatures are required.
    @Test func refusesWrongSignature() {
        let good = Self.signed("/photos/cat.jpg", "w=400")
        var bad = Array(good)
        bad[bad.count - 1] = bad[bad.count - 1] == "0" ? "1" : "0"
        #expect(Self.status(String(bad)) == 403)
        #expect(Self.status(String(bad), required: false) == 403)
        #expect(Self.status("/photos/cat.jpg?w=400&s=") == 403)
        #expect(Self.status("/photos/cat.jpg?w=400&s") == 403)
        #expect(Self.status(Self.signed("/photos/cat.jpg", "w=400", token: "another-token-1")) == 403)
    }

    /// Should require `s` to be the last parameter, even when its value is right.
    @Test func refusesSignatureNotLast() {
        let s = SignatureVerifier.signature(token: Self.token, path: "/photos/cat.jpg", query: "w=400")
        #expect(Self.status("/photos/cat.jpg?s=\(s)&w=400") == 403)
        #expect(Self.status("/photos/cat.jpg?w=400&s=\(s)&h=10") == 403)
        // Two signatures: the earlier one is not last.
        #expect(Self.status("/photos/cat.jpg?s=\(s)&w=400&s=\(s)") == 403)
        #expect(Self.status("/photos/cat.jpg?s=\(s)&w=400", required: false) == 403)
    }

    /// Should refuse any change to the path, query, order or encoding of a signed URL.
    @Test func refusesTampering() throws {
        let s = SignatureVerifier.signature(token: Self.token, path: "/photos/cat 1.jpg".replacingSpaces, query: "w=400&h=300")
        #expect(Self.status("/photos/cat%201.jpg?w=400&h=300&s=\(s)") == 200)
        #expect(Self.status("/photos/cat%202.jpg?w=400&h=300&s=\(s)") == 403)  // path
        #expect(Self.status("/photos/cat%201.png?w=400&h=300&s=\(s)") == 403)  // path
        #expect(Self.status("/Photos/cat%201.jpg?w=400&h=300&s=\(s)") == 403)  // path case
        #expect(Self.status("/photos/cat%201.jpg?w=401&h=300&s=\(s)") == 403)  // query value
        #expect(Self.status("/photos/cat%201.jpg?h=300&w=400&s=\(s)") == 403)  // query order
        #expect(Self.status("/photos/cat%201.jpg?w=400&h=300&fm=png&s=\(s)") == 403)  // added parameter
        #expect(Self.status("/photos/cat%201.jpg?w=400&s=\(s)") == 403)  // removed parameter
        #expect(Self.status("/photos/cat+1.jpg?w=400&h=300&s=\(s)") == 403)  // same name, other spelling
        #expect(Self.status("/photos/cat%201.jpg?w=4%30%30&h=300&s=\(s)") == 403)  // same value, other spelling
    }

    /// Should accept upper-case hex digits (the same number) and refuse anything that is not 32 hex digits.
    @Test func hexCase() {
        let s = SignatureVerifier.signature(token: Self.token, path: "/a.jpg", query: "w=1")
        #expect(s == s.lowercased())
        #expect(Self.status("/a.jpg?w=1&s=\(s.uppercased())") == 200)
        #expect(Self.status("/a.jpg?w=1&s=\(s.prefix(31))") == 403)
        #expect(Self.status("/a.jpg?w=1&s=\(s)0") == 403)
        // Characters that fold onto hex digits under `| 0x20` are still refused.
        let folded = String(s.map { $0 == "0" ? "\u{10}" : $0 })
        if folded != s { #expect(Self.status("/a.jpg?w=1&s=\(folded)") == 403) }
        #expect(Self.status("/a.jpg?w=1&s=\(String(repeating: "g", count: 32))") == 403)
    }

    /// Should let unsigned URLs through on a source with a token that does not require signatures, and ignore
    /// `s` entirely on a source without a token (imgix's unsecured sources ignore it).
    @Test func optionalAndUnsecured() throws {
        #expect(try Self.verify("/a.jpg?w=1", required: false) == SignatureVerifier.Verdict(signed: false, expires: nil))
        #expect(try Self.verify(Self.signed("/a.jpg", "w=1"), required: false).signed)
        #expect(try Self.verify("/a.jpg?w=1&s=whatever", token: nil, required: false).signed == false)
        #expect(try Self.verify("/a.jpg?s=x&w=1", token: nil, required: false).signed == false)
    }

    /// Should fail closed: a source that requires signatures but has no (or an empty) token refuses every URL.
    @Test func requiredWithoutTokenRefusesAll() {
        let s = SignatureVerifier.signature(token: "", path: "/a.jpg", query: "w=1")
        #expect(Self.status("/a.jpg?w=1", token: nil, required: true) == 403)
        #expect(Self.status("/a.jpg?w=1&s=\(s)", token: nil, required: true) == 403)
        #expect(Self.status("/a.jpg?w=1&s=\(s)", token: "", required: true) == 403)
        // An empty token is no token: `s` is not checked against it.
        #expect(Self.status("/a.jpg?w=1&s=bogus", token: "", required: false) == 200)
    }

    /// Should refuse a URL past its `expires` with 403 and report the expiry of a live one.
    @Test func expires() throws {
        let live = Self.signed("/a.jpg", "w=1&expires=1700000100")
        #expect(try Self.verify(live).expires == 1_700_000_100)
        #expect(try Self.verify(live, now: 1_700_000_100).expires == 1_700_000_100)  // the last second still serves
        #expect(Self.status(live, now: 1_700_000_100.5) == 403)
        #expect(Self.status(Self.signed("/a.jpg", "expires=1477789261")) == 403)
        // Without a token (or a signature) `expires` still applies, as imgix does.
        #expect(Self.status("/a.jpg?expires=1477789261", token: nil, required: false) == 403)
        #expect(Self.status("/a.jpg?w=1&expires=1700000100", token: nil, required: false) == 200)
        // Changing the expiry breaks the signature.
        let extended = live.replacingOccurrences(of: "1700000100", with: "1800000100")
        #expect(Self.status(extended) == 403)
    }

    /// Should read `expires` by the parameter rules (case, percent-encoding, base64, first occurrence) and
    /// answer 400 naming it when it is not a Unix time.
    @Test func expiresParsing() throws {
        func expires(_ q: String) throws(EdgeError) -> Double? {
            try Self.verify("/a.jpg?" + q, token: nil, required: false, now: 0).expires
        }
        #expect(try expires("EXPIRES=1700000000") == 1_700_000_000)
        #expect(try expires("%65xpires=1700000000") == 1_700_000_000)
        #expect(try expires("expires64=" + Base64URL.encode(Array("1700000000".utf8))) == 1_700_000_000)
        #expect(try expires("expires=1700000000&expires=1") == 1_700_000_000)
        #expect(try expires("expires=1700000000.0") == 1_700_000_000)
        #expect(try expires("w=1") == nil)
        for bad in ["expires=soon", "expires=", "expires=-5", "expires=1.5", "expires=1e10", "expires=999999999999999",
                    "Expires64=%%%"] {
            #expect(throws: EdgeError.self, "\(bad)") { try expires(bad) }
            do { _ = try expires(bad) } catch {
                #expect(error.status == 400)
                #expect(error.param?.lowercased().hasPrefix("expires") == true)
            }
        }
        // It agrees with the parameter reader the parser uses.
        for q in ["expires=12&w=1", "w=1&EXPIRES=13", "expires64=MTQ&expires=1"] {
            let reader = try ParameterReader(query: Substring(q))
            #expect(try expires(q).map(NumberText.format) == reader.raw("expires")?.value)
        }
    }

    /// Should not let `expires` change the cache key (it never changes the output).
    @Test func expiresIsNotInCacheKey() throws {
        let a = try TransformParser.parse(query: "w=100&expires=1700000000")
        let b = try TransformParser.parse(query: "w=100")
        let fa = NegotiatedFormat(spec: a, accept: nil), fb = NegotiatedFormat(spec: b, accept: nil)
        #expect(CacheKey(source: "s", path: "/a.jpg", spec: a, format: fa) == CacheKey(source: "s", path: "/a.jpg", spec: b, format: fb))
    }

    /// Should never put the expected signature in an error a client sees.
    @Test func errorsDoNotRevealSignature() {
        for target in ["/a.jpg?w=1&s=00000000000000000000000000000000", "/a.jpg?w=1", "/a.jpg?s=abc&w=1"] {
            let expected = SignatureVerifier.signature(token: Self.token, path: "/a.jpg", query: "w=1")
            do {
                _ = try Self.verify(target)
                Issue.record("accepted \(target)")
            } catch {
                #expect(!error.jsonBody.contains(expected))
                #expect(!error.description.contains(expected))
                #expect(!error.jsonBody.contains(Self.token))
            }
        }
    }

    /// Should verify every URL imgix's Python library signed, and refuse it with another token or one byte changed.
    @Test(arguments: ImgixFixtures.all) func verifiesImgixPythonURLs(_ c: ImgixFixtures.Case) throws {
        let target = Substring(c.target)
        let v = try SignatureVerifier(token: c.token, required: true).verify(target: target, now: 0)
        #expect(v.signed)
        #expect(c.url.hasSuffix(c.target))
        #expect(throws: EdgeError.self) { try SignatureVerifier(token: c.token + "x", required: true).verify(target: target, now: 0) }
        // One byte of the path changed.
        var bytes = Array(c.target.utf8)
        bytes[1] = bytes[1] == UInt8(ascii: "p") ? UInt8(ascii: "q") : UInt8(ascii: "p")
        let tampered = String(decoding: bytes, as: UTF8.self)
        #expect(throws: EdgeError.self) { try SignatureVerifier(token: c.token, required: true).verify(target: Substring(tampered), now: 0) }
    }

    /// Should require signatures on a proxy source even when its configuration says otherwise, and refuse all
    /// of its URLs when it has no token.
    @Test func proxySourcesAlwaysSigned() throws {
        var proxy = SourceConfig(name: "p", kind: .proxy)
        proxy.secureToken = Self.token
        proxy.requireSignature = false
        let target = "/https%3A%2F%2Fexample.com%2Fa.jpg"
        #expect(throws: EdgeError.forbidden("this source requires signed URLs")) {
            try SignatureVerifier(source: proxy).verify(target: Substring(target + "?w=100"), now: Self.now)
        }
        #expect(try SignatureVerifier(source: proxy).verify(target: Substring(Self.signed(target, "w=100")), now: Self.now).signed)
        proxy.secureToken = nil
        #expect(throws: EdgeError.self) {
            try SignatureVerifier(source: proxy).verify(target: Substring(Self.signed(target, "w=100")), now: Self.now)
        }
    }

    /// Should verify the proxied URLs imgix's Python library signs, and read each back to the URL it was given.
    @Test func imgixProxyURLs() throws {
        let expected = ["proxied absolute URL": "https://origin.example.com/photos/a%20b.jpg?v=2&x=1",
                        "proxied URL, no parameters": "http://origin.example.com/cat.jpg",
                        "UrlHelper, proxied URL": "https://origin.example.com/a%20b.jpg"]
        for (name, url) in expected {
            let c = try #require(ImgixFixtures.named(name))
            var proxy = SourceConfig(name: "p", kind: .proxy)
            proxy.secureToken = c.token
            #expect(try SignatureVerifier(source: proxy).verify(target: Substring(c.target), now: Self.now).signed)
            #expect(try proxy.originPath(raw: c.target.prefix { $0 != "?" }).description == url, "\(name)")
        }
    }

    /// Should split the query on the bytes `&` and `=` (the signature is over bytes), also where a neighbouring
    /// character joins one into a grapheme cluster: U+0600–U+0605 before it, a combining mark after it. Found by
    /// FuzzSignature (Fuzz/Signature/regressions/crash-8303f7fa7d2598c9aedd5c8175dd1ab0b3e45e1d): a correctly
    /// signed URL whose query ended in U+0603 was refused, the `&` before `s` being part of a character.
    @Test func splitsQueryOnBytes() throws {
        // The fuzzer's input as the raw target (empty path, query "?%\u{603}"), signed as imgix signs it.
        let target = String(decoding: [0x3F, 0x3F, 0x25, 0xD8, 0x83] as [UInt8], as: UTF8.self)
        let query = target.dropFirst()
        let signed = "?" + query + "&s=" + SignatureVerifier.signature(token: Self.token, path: "", query: query)
        #expect(try Self.verify(signed) == SignatureVerifier.Verdict(signed: true, expires: nil))
        #expect(try Self.verify(Self.signed("/photos/cat.jpg", "txt=\u{600}")).signed)
        // A value starting with a combining mark is still an `s`, and checked where signatures are optional.
        #expect(Self.status("/photos/cat.jpg?w=1&s=\u{301}abc", required: false) == 403)
    }

    /// Should find the fixture cases (a missing fixture must fail, not pass vacuously).
    @Test func fixturePresent() throws {
        #expect(ImgixFixtures.all.count >= 15)
        let past = try #require(ImgixFixtures.named("expires in the past"))
        #expect(Self.status(past.target, token: past.token, now: Self.now) == 403)
        let future = try #require(ImgixFixtures.named("expires in the future"))
        #expect(try Self.verify(future.target, token: future.token).expires == 4_102_444_800)
    }
}

extension String {
    /// Spaces as `%20` (for building targets in tests).
    var replacingSpaces: String { replacingOccurrences(of: " ", with: "%20") }
}
