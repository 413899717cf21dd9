import EdgeCore
import Testing

/// 2023-11-14 22:13:20 UTC: every test's "now".
private let t0 = 1_700_000_000.0

private func date(_ t: Double) -> String { HTTPDate.format(t) }

/// Decides for a 200 (unless told) received at `t0` for a request sent one second earlier, with `Date: t0` added
/// unless the headers carry their own Date or `addDate` is false.
private func decide(_ headers: [(name: String, value: String)], policy: CachePolicy = CachePolicy(defaultTTL: 3_600),
                    status: Int = 200, requestTime: Double = t0 - 1, responseTime: Double = t0,
                    addDate: Bool = true) -> CacheDecision {
    var h = headers
    if addDate, !h.contains(where: { $0.name == "date" }) { h.append(("date", date(t0))) }
    return policy.decide(status: status, headers: h, requestTime: requestTime, responseTime: responseTime)
}

// MARK: - HTTP-date

@Suite struct HTTPDateTests {
    /// Should read the three formats of RFC 9110 §5.6.7's example as the same instant.
    @Test func rfcExampleInAllThreeFormats() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: t0) == 784_111_777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: t0) == 784_111_777)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994", now: t0) == 784_111_777)
    }

    /// Should take a two-digit year more than 50 years ahead of now from the previous century (RFC 9110 §5.6.7).
    @Test func twoDigitYears() {
        #expect(HTTPDate.parse("Thursday, 01-Jan-60 00:00:00 GMT", now: t0) == HTTPDate.parse("Thu, 01 Jan 2060 00:00:00 GMT", now: t0))
        #expect(HTTPDate.parse("Friday, 01-Jan-99 00:00:00 GMT", now: t0) == HTTPDate.parse("Fri, 01 Jan 1999 00:00:00 GMT", now: t0))
        #expect(HTTPDate.parse("Saturday, 01-Jan-00 00:00:00 GMT", now: t0) == HTTPDate.parse("Sat, 01 Jan 2000 00:00:00 GMT", now: t0))
    }

    /// Should read only the formats as RFC 9110 §5.6.7 spells them: names' case, digits' count and single spaces
    /// (asctime's day padded with a space), surrounding spaces aside.
    @Test func strictFormats() {
        #expect(HTTPDate.parse("  Sun, 06 Nov 1994 08:49:37 GMT\t", now: t0) == 784_111_777)
        #expect(HTTPDate.parse("Wed Nov 16 08:49:37 1994", now: t0) == 784_975_777)
        for bad in ["sun, 06 nov 1994 08:49:37 GMT", "SUN, 06 NOV 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
                    "Sun,06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994  08:49:37 GMT", "Sun 06 Nov 1994 08:49:37 GMT",
                    "Sun, 06 Nov 1994 08:49:37 gmt", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06-Nov-1994 08:49:37 GMT",
                    "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun, 06-Nov-94 08:49:37 GMT", "Sunday, 06 Nov 94 08:49:37 GMT",
                    "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 1994 GMT", "Sun Nov 06 08:49:37 94",
                    "Nov  6 08:49:37 1994", "06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT,"] {
            #expect(HTTPDate.parse(bad, now: t0) == nil, "\(bad)")
        }
    }

    /// Should refuse what is not an HTTP-date, including the `0` that origins put in Expires.
    @Test func rejectsGarbage() {
        for bad in ["0", "", "-1", "now", "Sun, 31 Feb 2023 00:00:00 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                    "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 06 Nov 1994", "06 Nov 1994 08:49",
                    "Sun, 06 Nov 1994 08:49:37 GMT GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 94994 08:49:37 GMT",
                    "Sun, 06 Nov 1994 8:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1899 08:49:37 GMT",
                    String(repeating: "Sun, 06 Nov 1994 08:49:37 GMT ", count: 3)] {
            #expect(HTTPDate.parse(bad, now: t0) == nil, "\(bad)")
        }
    }

    /// Should know leap years, including the century rules.
    @Test func leapYears() {
        #expect(HTTPDate.parse("Thu, 29 Feb 2024 12:00:00 GMT", now: t0) != nil)
        #expect(HTTPDate.parse("Tue, 29 Feb 2000 12:00:00 GMT", now: t0) != nil)
        #expect(HTTPDate.parse("Wed, 29 Feb 2023 12:00:00 GMT", now: t0) == nil)
        #expect(HTTPDate.parse("Thu, 29 Feb 2100 12:00:00 GMT", now: t0) == nil)
    }

    /// Should write IMF-fixdate and read back what it wrote.
    @Test func formatRoundTrip() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(t0 + 0.9) == "Tue, 14 Nov 2023 22:13:20 GMT")
        #expect(HTTPDate.format(1_709_208_000) == "Thu, 29 Feb 2024 12:00:00 GMT")
        for t in stride(from: 0.0, to: 4_000_000_000, by: 86_399 * 37 + 13) {
            #expect(HTTPDate.parse(HTTPDate.format(t), now: t0) == t)
        }
    }
}

// MARK: - Cache-Control parsing

@Suite struct CacheControlParsingTests {
    /// Should read every directive this cache acts on.
    @Test func everyDirective() {
        let cc = CacheControl("max-age=60, s-maxage=120, public, must-revalidate, proxy-revalidate, immutable, "
            + "stale-while-revalidate=30, stale-if-error=600, no-store, no-cache, private")
        #expect(cc.maxAge == 60)
        #expect(cc.sMaxAge == 120)
        #expect(cc.public && cc.mustRevalidate && cc.proxyRevalidate && cc.immutable && cc.noStore)
        #expect(cc.staleWhileRevalidate == 30)
        #expect(cc.staleIfError == 600)
        #expect(cc.noCache == .whole)
        #expect(cc.private == .whole)
        #expect(!cc.oversized && !cc.isEmpty)
    }

    /// Should compare directive names case-insensitively.
    @Test func caseInsensitiveNames() {
        let cc = CacheControl("MAX-AGE=60, No-Store, S-MaxAge=5")
        #expect(cc.maxAge == 60 && cc.noStore && cc.sMaxAge == 5)
    }

    /// Should accept the quoted form of a delta-seconds (RFC 9111 §5.2: recipients accept both forms).
    @Test func quotedNumber() {
        #expect(CacheControl("max-age=\"60\"").maxAge == 60)
        #expect(CacheControl("s-maxage=\"0\"").sMaxAge == 0)
    }

    /// Should skip empty list members and surrounding whitespace.
    @Test func emptyMembersAndWhitespace() {
        let cc = CacheControl(" ,, max-age=60 ,\t, no-store ,")
        #expect(cc.maxAge == 60 && cc.noStore)
    }

    /// Should read several field lines as one list.
    @Test func severalLines() {
        let cc = CacheControl(lines: ["max-age=60", "no-store", "stale-if-error=5"])
        #expect(cc.maxAge == 60 && cc.noStore && cc.staleIfError == 5)
    }

    /// Should read the field-list forms of no-cache and private, lower-cased and deduplicated, in both forms.
    @Test func fieldLists() {
        #expect(CacheControl("no-cache=\"Set-Cookie, X-Foo, set-cookie\"").noCache == .fields(["set-cookie", "x-foo"]))
        #expect(CacheControl("no-cache=Set-Cookie").noCache == .fields(["set-cookie"]))
        #expect(CacheControl("private=\"Authorization\"").private == .fields(["authorization"]))
        #expect(CacheControl("private=\"a\", private=\"b\"").private == .fields(["a", "b"]))
    }

    /// Should let the unqualified no-cache/private win over a field list, in either order.
    @Test func unqualifiedWins() {
        #expect(CacheControl("private=\"x\", private").private == .whole)
        #expect(CacheControl("no-cache, no-cache=\"x\"").noCache == .whole)
    }

    /// Should take an empty, malformed or overlong field list as the unqualified directive.
    @Test func badFieldListsAreWhole() {
        #expect(CacheControl("private=\"\"").private == .whole)
        #expect(CacheControl("private=\"a b\"").private == .whole)
        #expect(CacheControl("no-cache=\"a,,b\"").noCache == .whole)
        let many = (0...40).map { "h\($0)" }.joined(separator: ", ")
        #expect(CacheControl("no-cache=\"\(many)\"").noCache == .whole)
    }

    /// Should not split at a comma inside a quoted string.
    @Test func commaInsideQuotes() {
        let cc = CacheControl("private=\"a, b\", max-age=5")
        #expect(cc.private == .fields(["a", "b"]))
        #expect(cc.maxAge == 5)
    }

    /// Should keep a repeated directive with one value and read conflicting values as 0 (RFC 9111 §4.2.1: stale).
    @Test func duplicates() {
        #expect(CacheControl("max-age=60, max-age=60").maxAge == 60)
        #expect(CacheControl("max-age=60, max-age=120").maxAge == 0)
        #expect(CacheControl(lines: ["s-maxage=10", "s-maxage=20"]).sMaxAge == 0)
        #expect(CacheControl("stale-if-error=60, stale-if-error=5").staleIfError == 0)
    }

    /// Should read a delta-seconds that is not one (negative, decimal, text, missing, trailing junk) as 0.
    @Test func invalidNumbersAreStale() {
        for bad in ["max-age=-1", "max-age=1.5", "max-age=abc", "max-age", "max-age=", "max-age=60junk",
                    "max-age=60 x", "max-age=+60", "max-age=6 0", "max-age=60;x", "max-age=\"60", "max-age=0x10"] {
            #expect(CacheControl(bad).maxAge == 0, "\(bad)")
        }
    }

    /// Should cap a huge delta-seconds at 2^31 (RFC 9111 §1.2.2).
    @Test func hugeNumbersCapped() {
        #expect(CacheControl("max-age=2147483647").maxAge == 2_147_483_647)
        #expect(CacheControl("max-age=2147483648").maxAge == 2_147_483_648)
        #expect(CacheControl("max-age=99999999999999999999999999999999").maxAge == 2_147_483_648)
        #expect(CacheControl("stale-while-revalidate=\(String(repeating: "9", count: 5000))").staleWhileRevalidate == 2_147_483_648)
    }

    /// Should ignore directives it does not know, with or without values.
    @Test func unknownIgnored() {
        let cc = CacheControl("community=\"UCI\", foo, bar=baz, max-agex=5, x-max-age=7")
        #expect(cc.isEmpty)
    }

    /// Should keep a directive swallowed by an unterminated quote from counting, and take the quoted one as malformed.
    @Test func unterminatedQuote() {
        let cc = CacheControl("no-cache=\"set-cookie, max-age=60")
        #expect(cc.noCache == .whole)
        #expect(cc.maxAge == nil)
    }

    /// Should still see no-store and the directives after junk members.
    @Test func junkMembers() {
        let cc = CacheControl("=60, ;;;, \"x\", max-age=60 garbage \"a,b\", no-store, @@@")
        #expect(cc.noStore)
        #expect(cc.maxAge == 0)
    }

    /// Should refuse to read a field over 16 KiB and mark it oversized, all lines counted together.
    @Test func oversizedField() {
        #expect(CacheControl(String(repeating: "a", count: 20_000)).oversized)
        #expect(CacheControl(lines: Array(repeating: String(repeating: "b", count: 9_000), count: 2)).oversized)
        #expect(!CacheControl(String(repeating: ",", count: 16_000)).oversized)
    }

    /// Should parse a hostile field under the cap in linear time.
    @Test func hostileUnderCap() {
        let many = CacheControl(String(repeating: "max-age=1,", count: 1_600))
        #expect(many.maxAge == 1)
        let quotes = CacheControl(String(repeating: "a=\"\\\"", count: 3_000))
        #expect(quotes.isEmpty)
        let longName = CacheControl(String(repeating: "x", count: 16_000) + ", no-store")
        #expect(longName.noStore)
    }
}

// MARK: - Targeted fields and Surrogate-Control

@Suite struct TargetedCacheControlTests {
    /// Should read a CDN-Cache-Control dictionary.
    @Test func validDictionary() throws {
        let cc = try #require(CacheControl.targeted(lines: ["max-age=600, no-store, stale-if-error=30, must-revalidate"]))
        #expect(cc.maxAge == 600 && cc.noStore && cc.staleIfError == 30 && cc.mustRevalidate)
    }

    /// Should ignore the whole field when it is not a valid Structured Fields Dictionary (RFC 9213 §2.1).
    @Test func invalidIsIgnored() {
        for bad in ["Max-Age=60", "max-age=60,", "max-age=60,,no-store", "max-age=\"unterminated", "max-age=60 no-store",
                    "max-age=1234567890123456", "max-age=60;", "private=\"a\\b\"", "no-store=?2", "max-age=:abc",
                    "max-age=(1 2", "1max=5", "max-age=é"] {
            #expect(CacheControl.targeted(lines: [bad]) == nil, "\(bad)")
        }
    }

    /// Should treat an empty or absent field as absent.
    @Test func emptyIsAbsent() {
        #expect(CacheControl.targeted(lines: []) == nil)
        #expect(CacheControl.targeted(lines: [""]) == nil)
        #expect(CacheControl.targeted(lines: ["   "]) == nil)
    }

    /// Should apply Structured Fields rules: later duplicates replace earlier ones, parameters are ignored.
    @Test func structuredRules() throws {
        #expect(try #require(CacheControl.targeted(lines: ["max-age=60, max-age=120"])).maxAge == 120)
        #expect(try #require(CacheControl.targeted(lines: ["max-age=60;foo=bar;baz"])).maxAge == 60)
        #expect(try #require(CacheControl.targeted(lines: ["max-age=60", "no-store"])).noStore)
        #expect(try #require(CacheControl.targeted(lines: ["private=\"set-cookie\""])).private == .fields(["set-cookie"]))
        #expect(try #require(CacheControl.targeted(lines: ["no-cache"])).noCache == .whole)
        #expect(try #require(CacheControl.targeted(lines: ["foo=(a b \"c\");x=1, bar=:aGk=:, baz=?1, max-age=5"])).maxAge == 5)
    }

    /// Should read a max-age that is not a non-negative Integer as 0 (stale).
    @Test func nonIntegerMaxAge() throws {
        #expect(try #require(CacheControl.targeted(lines: ["max-age=1.5"])).maxAge == 0)
        #expect(try #require(CacheControl.targeted(lines: ["max-age=-5"])).maxAge == 0)
        #expect(try #require(CacheControl.targeted(lines: ["max-age=abc"])).maxAge == 0)
        #expect(try #require(CacheControl.targeted(lines: ["max-age=999999999999999"])).maxAge == 2_147_483_648)
    }

    /// Should mark an oversized targeted field rather than ignore it, so its no-store cannot be lost.
    @Test func oversizedTargeted() throws {
        #expect(try #require(CacheControl.targeted(lines: [String(repeating: "a", count: 17_000)])).oversized)
    }

    /// Should read Surrogate-Control: max-age, content ignored, device-targeted directives skipped.
    @Test func surrogateControl() throws {
        let sc = try #require(CacheControl.surrogate(lines: ["max-age=3600, content=\"ESI/1.0\""]))
        #expect(sc.maxAge == 3_600 && !sc.noStore)
        let targetedAway = try #require(CacheControl.surrogate(lines: ["no-store;edge1, max-age=60"]))
        #expect(!targetedAway.noStore && targetedAway.maxAge == 60)
        #expect(try #require(CacheControl.surrogate(lines: ["no-store-remote"])).noStore)
        #expect(try #require(CacheControl.surrogate(lines: ["max-age=30+60"])).maxAge == 30)
        #expect(CacheControl.surrogate(lines: ["content=\"ESI/1.0\""]) == nil)
        #expect(CacheControl.surrogate(lines: []) == nil)
    }
}

// MARK: - Precedence of freshness sources

@Suite struct CachePolicyPrecedenceTests {
    /// Should take the lifetime from max-age.
    @Test func maxAge() {
        let d = decide([("cache-control", "max-age=60")])
        #expect(d.storable)
        #expect(d.freshness.lifetime == 60)
        #expect(d.lifetimeSource == .maxAge)
        #expect(d.governingField == .cacheControl)
        #expect(!d.mustRevalidate)
        #expect(d.downstreamCacheControl == nil)
    }

    /// Should prefer s-maxage to max-age and take it to imply proxy-revalidate (RFC 9111 §5.2.2.10).
    @Test func sMaxAgeWins() {
        let d = decide([("cache-control", "max-age=60, s-maxage=300")])
        #expect(d.freshness.lifetime == 300)
        #expect(d.lifetimeSource == .sMaxAge)
        #expect(d.mustRevalidate)
    }

    /// Should let CDN-Cache-Control replace Cache-Control entirely, and pass the origin's Cache-Control downstream.
    @Test func cdnCacheControlReplacesCacheControl() {
        let d = decide([("cache-control", "no-store"), ("cdn-cache-control", "max-age=600")])
        #expect(d.storable)
        #expect(d.freshness.lifetime == 600)
        #expect(d.governingField == .cdnCacheControl)
        #expect(d.downstreamCacheControl == "no-store")
        let p = decide([("cache-control", "private, max-age=60"), ("cdn-cache-control", "max-age=600")])
        #expect(p.storable && p.downstreamCacheControl == "private, max-age=60")
    }

    /// Should obey no-store and private in CDN-Cache-Control whatever Cache-Control says.
    @Test func cdnCacheControlNoStore() {
        #expect(decide([("cache-control", "max-age=600"), ("cdn-cache-control", "no-store")]).notStoredReason == .noStore)
        #expect(decide([("cache-control", "max-age=600"), ("cdn-cache-control", "private")]).notStoredReason == .private)
    }

    /// Should fall back to Cache-Control when CDN-Cache-Control does not parse.
    @Test func invalidCdnCacheControlFallsBack() {
        let d = decide([("cache-control", "max-age=60"), ("cdn-cache-control", "Max-Age=600")])
        #expect(d.governingField == .cacheControl)
        #expect(d.freshness.lifetime == 60)
    }

    /// Should ignore Expires under CDN-Cache-Control (RFC 9213 §2.2).
    @Test func cdnCacheControlIgnoresExpires() {
        let headers: [(name: String, value: String)] = [("cdn-cache-control", "public"), ("expires", date(t0 + 7_200))]
        let d = decide(headers)
        #expect(d.lifetimeSource == .defaultTTL)
        #expect(d.freshness.lifetime == 3_600)
        #expect(decide(headers, policy: CachePolicy(defaultTTL: 0)).notStoredReason == .noFreshness)
    }

    /// Should prefer CDN-Cache-Control to Surrogate-Control.
    @Test func cdnBeforeSurrogate() {
        let d = decide([("surrogate-control", "max-age=100"), ("cdn-cache-control", "max-age=200")])
        #expect(d.freshness.lifetime == 200)
        #expect(d.governingField == .cdnCacheControl)
    }

    /// Should prefer Surrogate-Control max-age to Cache-Control s-maxage, and pass Cache-Control downstream.
    @Test func surrogateBeforeSMaxAge() {
        let d = decide([("cache-control", "s-maxage=60, max-age=0"), ("surrogate-control", "max-age=86400")])
        #expect(d.freshness.lifetime == 86_400)
        #expect(d.governingField == .surrogateControl)
        #expect(!d.mustRevalidate)
        #expect(d.downstreamCacheControl == "s-maxage=60, max-age=0")
    }

    /// Should store under Surrogate-Control although Cache-Control says no-cache (for browsers), and tell browsers.
    @Test func surrogateWithBrowserNoCache() {
        let d = decide([("cache-control", "public, no-cache"), ("surrogate-control", "max-age=2592000")])
        #expect(d.storable && d.freshness.lifetime == 2_592_000 && !d.mustRevalidate)
        #expect(d.downstreamCacheControl == "public, no-cache")
    }

    /// Should keep obeying Cache-Control no-store and private beside Surrogate-Control.
    @Test func surrogateKeepsCacheControlPrivacy() {
        #expect(decide([("cache-control", "private"), ("surrogate-control", "max-age=60")]).notStoredReason == .private)
        #expect(decide([("cache-control", "no-store"), ("surrogate-control", "max-age=60")]).notStoredReason == .noStore)
    }

    /// Should obey Surrogate-Control no-store even without a max-age of its own.
    @Test func surrogateNoStore() {
        let d = decide([("cache-control", "max-age=60"), ("surrogate-control", "no-store")])
        #expect(d.notStoredReason == .noStore)
        #expect(d.downstreamCacheControl == "no-store")
    }

    /// Should use Expires minus Date when Cache-Control has no lifetime.
    @Test func expiresMinusDate() {
        let d = decide([("expires", date(t0 + 120))])
        #expect(d.freshness.lifetime == 120)
        #expect(d.lifetimeSource == .expires)
    }

    /// Should ignore Expires when max-age is present (RFC 9111 §5.3).
    @Test func maxAgeBeatsExpires() {
        let d = decide([("cache-control", "max-age=10"), ("expires", date(t0 + 1_000))])
        #expect(d.freshness.lifetime == 10)
    }

    /// Should take `Expires: 0`, an invalid date and a past date as already expired, storable only with a validator.
    @Test func expiredExpires() {
        // Near misses of a future date are invalid too (RFC 9110 §5.6.7 formats only): no zone, lower case, a
        // one-digit day in IMF-fixdate, a two-digit year there, an ISO date, a numeric zone.
        let future = date(t0 + 3_600)
        let nearMisses = [String(future.dropLast(4)), future.lowercased(), "Tue, 7 Nov 2023 22:13:20 GMT",
                          "Tue, 14 Nov 23 22:13:20 GMT", "2023-11-14T23:13:20Z", future.replacingOccurrences(of: "GMT", with: "+0000"),
                          "Tue,  14 Nov 2023 23:13:20 GMT"]
        for value in ["0", "-1", "yesterday", date(t0 - 60)] + nearMisses {
            let bare = decide([("expires", value)])
            #expect(bare.lifetimeSource == .expires, "\(value)")
            #expect(bare.freshness.lifetime == 0)
            #expect(bare.notStoredReason == .noFreshness)
            let tagged = decide([("expires", value), ("etag", "\"v1\"")])
            #expect(tagged.storable)
            #expect(!tagged.freshness.isFresh(at: t0))
        }
    }

    /// Should subtract from Expires the time of receipt when Date is missing.
    @Test func expiresWithoutDate() {
        let d = decide([("expires", date(t0 + 300))], responseTime: t0, addDate: false)
        #expect(d.freshness.lifetime == 300)
    }

    /// Should use the first Expires line when there are several.
    @Test func severalExpires() {
        let d = decide([("expires", date(t0 + 100)), ("expires", date(t0 + 900))])
        #expect(d.freshness.lifetime == 100)
    }

    /// Should guess 10 % of Date − Last-Modified when nothing explicit is present.
    @Test func heuristic() {
        let d = decide([("last-modified", date(t0 - 5 * 86_400))])
        #expect(d.lifetimeSource == .heuristic)
        #expect(d.freshness.lifetime == 43_200)
        #expect(d.lastModified == date(t0 - 5 * 86_400))
    }

    /// Should cap the heuristic lifetime (one day by default, configurable).
    @Test func heuristicCap() {
        #expect(decide([("last-modified", date(t0 - 400 * 86_400))]).freshness.lifetime == 86_400)
        let tight = CachePolicy(defaultTTL: 60, heuristicFraction: 0.5, maxHeuristicLifetime: 600)
        #expect(decide([("last-modified", date(t0 - 100))], policy: tight).freshness.lifetime == 50)
        #expect(decide([("last-modified", date(t0 - 10_000))], policy: tight).freshness.lifetime == 600)
    }

    /// Should never guess when an explicit lifetime is present, even a zero one.
    @Test func noHeuristicWithExplicitFreshness() {
        let lm: (name: String, value: String) = ("last-modified", date(t0 - 100 * 86_400))
        #expect(decide([lm, ("cache-control", "max-age=0")]).lifetimeSource == .maxAge)
        #expect(decide([lm, ("cache-control", "max-age=0")]).freshness.lifetime == 0)
        #expect(decide([lm, ("expires", "0")]).lifetimeSource == .expires)
        #expect(decide([lm, ("cache-control", "no-cache")]).lifetimeSource == .noCache)
    }

    /// Should not guess from a Last-Modified later than Date or unreadable; defaultTTL applies instead.
    @Test func noHeuristicFromBadLastModified() {
        #expect(decide([("last-modified", date(t0 + 50))]).lifetimeSource == .defaultTTL)
        let bad = decide([("last-modified", "last tuesday")])
        #expect(bad.lifetimeSource == .defaultTTL)
        #expect(bad.lastModified == nil)
    }

    /// Should use defaultTTL when the origin says nothing.
    @Test func defaultTTL() {
        let d = decide([])
        #expect(d.lifetimeSource == .defaultTTL)
        #expect(d.freshness.lifetime == 3_600)
        #expect(d.storable)
    }

    /// Should, with defaultTTL 0, store only what the origin marks cacheable: no default, no heuristic.
    @Test func defaultTTLZero() {
        let zero = CachePolicy(defaultTTL: 0)
        let none = decide([("etag", "\"a\"")], policy: zero)
        #expect(none.notStoredReason == .noFreshness)
        #expect(none.lifetimeSource == .none)
        #expect(none.downstreamCacheControl == "private, no-cache")
        #expect(decide([("last-modified", date(t0 - 86_400 * 30))], policy: zero).notStoredReason == .noFreshness)
        #expect(decide([("cache-control", "max-age=60")], policy: zero).storable)
        #expect(decide([("expires", date(t0 + 60))], policy: zero).storable)
    }
}

@Suite struct CacheControlBoundingTests {
    /// Should replace longer stated lifetimes by the bound, keep shorter ones and every other directive as written.
    @Test func bounding() {
        #expect(CacheControl.bounding("public, max-age=3600", maxAge: 60) == "public, max-age=60")
        #expect(CacheControl.bounding("max-age=30, s-maxage=600", maxAge: 60) == "max-age=30")
        #expect(CacheControl.bounding("private, no-cache=\"a, b\"", maxAge: 60) == "private, no-cache=\"a, b\", max-age=60")
        #expect(CacheControl.bounding("MAX-AGE=9999 , must-revalidate", maxAge: 5) == "must-revalidate, max-age=5")
        #expect(CacheControl.bounding("max-age=abc", maxAge: 60) == "max-age=0")
        #expect(CacheControl.bounding("", maxAge: 0) == "max-age=0")
    }
}

// MARK: - Storability, source overrides, stale windows

@Suite struct CachePolicyStorageTests {
    /// Should not store no-store and tell downstream no-store.
    @Test func noStore() {
        let d = decide([("cache-control", "no-store, max-age=600")])
        #expect(d.notStoredReason == .noStore)
        #expect(d.downstreamCacheControl == "no-store")
        #expect(d.originCacheControl == "no-store, max-age=600")
    }

    /// Should not store unqualified private and pass it on as private.
    @Test func privateResponse() {
        let d = decide([("cache-control", "private, max-age=600")])
        #expect(d.notStoredReason == .private)
        #expect(d.downstreamCacheControl == "private")
    }

    /// Should store a qualified private, withholding the fields it names.
    @Test func qualifiedPrivate() {
        let d = decide([("cache-control", "private=\"Set-Cookie\", max-age=60")])
        #expect(d.storable)
        #expect(d.withheldFields == ["set-cookie"])
    }

    /// Should store no-cache with a validator, stale at once, never served stale, browsers told no-cache.
    @Test func noCache() {
        let policy = CachePolicy(defaultTTL: 3_600, source: .init(staleWhileRevalidate: 60, staleIfError: 600))
        let d = decide([("cache-control", "no-cache, max-age=600, stale-if-error=60"), ("etag", "\"v\"")], policy: policy)
        #expect(d.storable)
        #expect(d.lifetimeSource == .noCache)
        #expect(d.freshness.lifetime == 0)
        #expect(d.mustRevalidate)
        #expect(d.freshness.staleWhileRevalidate == 0 && d.freshness.staleIfError == 0)
        #expect(d.downstreamCacheControl == "no-cache")
        #expect(decide([("cache-control", "no-cache")]).notStoredReason == .noFreshness)
    }

    /// Should not let a qualified no-cache force revalidation; it only withholds the named fields.
    @Test func qualifiedNoCache() {
        let d = decide([("cache-control", "no-cache=\"set-cookie\", max-age=60")])
        #expect(d.freshness.lifetime == 60)
        #expect(!d.mustRevalidate)
        #expect(d.withheldFields == ["set-cookie"])
        #expect(d.downstreamCacheControl == nil)
    }

    /// Should store any final status but 206 that states its freshness (RFC 9111 §3), 5xx included.
    @Test(arguments: [200, 203, 204, 300, 301, 302, 303, 307, 308, 403, 404, 405, 410, 414, 500, 501, 503])
    func explicitFreshnessAnyStatus(status: Int) {
        let d = decide([("cache-control", "max-age=60")], status: status)
        #expect(d.storable)
        #expect(d.freshness.lifetime == 60)
        for expires in [decide([("expires", date(t0 + 30))], status: status)] {
            #expect(expires.storable && expires.lifetimeSource == .expires)
        }
    }

    /// Should never store a partial response or one that is not final.
    @Test(arguments: [100, 199, 206])
    func neverStored(status: Int) {
        let d = decide([("cache-control", "max-age=60")], status: status)
        #expect(d.notStoredReason == .status)
        #expect(d.downstreamCacheControl == "no-store")
    }

    /// Should give heuristically cacheable statuses without freshness the default lifetime (2xx, 3xx) or the
    /// negative one (4xx), never store 5xx or the other statuses without it, and not let the source's ttl
    /// lengthen an error's life.
    @Test func withoutFreshness() {
        let policy = CachePolicy(defaultTTL: 3_600, negativeTTL: 60, source: .init(ttl: 86_400))
        for status in [200, 203, 204, 300, 301, 308] {
            let d = decide([], policy: policy, status: status)
            #expect(d.storable && d.lifetimeSource == .sourceTTL && d.freshness.lifetime == 86_400, "\(status)")
            #expect(decide([], status: status).lifetimeSource == .defaultTTL, "\(status)")
        }
        for status in [404, 405, 410, 414] {
            let d = decide([], policy: policy, status: status)
            #expect(d.storable && d.lifetimeSource == .negativeTTL && d.freshness.lifetime == 60, "\(status)")
            // Not from Last-Modified either.
            let lm = decide([("last-modified", date(t0 - 86_400))], policy: policy, status: status)
            #expect(lm.lifetimeSource == .negativeTTL, "\(status)")
        }
        for status in [302, 303, 307, 401, 403, 409, 500, 501, 502, 503, 504] {
            let d = decide([], policy: policy, status: status)
            #expect(d.notStoredReason == .status, "\(status)")
            #expect(d.downstreamCacheControl == "no-store")
        }
        // `public` makes a status below 500 heuristically cacheable; never a 5xx.
        #expect(decide([("cache-control", "public")], policy: policy, status: 403).lifetimeSource == .negativeTTL)
        #expect(decide([("cache-control", "public")], policy: policy, status: 302).lifetimeSource == .sourceTTL)
        #expect(decide([("cache-control", "public")], policy: policy, status: 500).notStoredReason == .status)
        // negativeTTL 0: errors are stored only with explicit freshness.
        let none = CachePolicy(defaultTTL: 3_600, negativeTTL: 0)
        #expect(decide([], policy: none, status: 404).notStoredReason == .noFreshness)
        #expect(decide([("cache-control", "max-age=5")], policy: none, status: 404).freshness.lifetime == 5)
    }

    /// Should replace the origin's lifetime with the source's ttl.
    @Test func sourceTTLOverrides() {
        let policy = CachePolicy(defaultTTL: 3_600, source: .init(ttl: 86_400))
        let d = decide([("cache-control", "max-age=60, s-maxage=30"), ("expires", "0")], policy: policy)
        #expect(d.freshness.lifetime == 86_400)
        #expect(d.lifetimeSource == .sourceTTL)
        #expect(!d.mustRevalidate)
        #expect(decide([("cdn-cache-control", "max-age=5")], policy: policy).freshness.lifetime == 86_400)
        #expect(decide([], policy: CachePolicy(defaultTTL: 0, source: .init(ttl: 10))).storable)
    }

    /// Should never let the source's ttl store no-store or private responses.
    @Test func sourceTTLKeepsNoStoreAndPrivate() {
        let policy = CachePolicy(defaultTTL: 3_600, source: .init(ttl: 86_400))
        #expect(decide([("cache-control", "no-store")], policy: policy).notStoredReason == .noStore)
        #expect(decide([("cache-control", "private")], policy: policy).notStoredReason == .private)
        #expect(decide([("cdn-cache-control", "no-store")], policy: policy).notStoredReason == .noStore)
        #expect(decide([("surrogate-control", "no-store")], policy: policy).notStoredReason == .noStore)
        #expect(decide([("vary", "*")], policy: policy).notStoredReason == .vary)
    }

    /// Should let the source's ttl override no-cache's lifetime but not an explicit must-revalidate.
    @Test func sourceTTLAndRevalidation() {
        let policy = CachePolicy(defaultTTL: 3_600, source: .init(ttl: 600, staleIfError: 60))
        let noCache = decide([("cache-control", "no-cache")], policy: policy)
        #expect(noCache.freshness.lifetime == 600 && !noCache.mustRevalidate && noCache.freshness.staleIfError == 60)
        let must = decide([("cache-control", "must-revalidate")], policy: policy)
        #expect(must.mustRevalidate && must.freshness.staleIfError == 0)
    }

    /// Should clamp configured durations: negatives and NaN to 0, infinity and huge values to 2^31.
    @Test func configuredDurationsClamped() {
        #expect(decide([], policy: CachePolicy(defaultTTL: 3_600, source: .init(ttl: -5))).freshness.lifetime == 0)
        #expect(decide([], policy: CachePolicy(defaultTTL: 3_600, source: .init(ttl: .nan))).freshness.lifetime == 0)
        #expect(decide([], policy: CachePolicy(defaultTTL: .infinity)).freshness.lifetime == 2_147_483_648)
        #expect(decide([], policy: CachePolicy(defaultTTL: 1e300)).freshness.lifetime == 2_147_483_648)
        let neg = decide([], policy: CachePolicy(defaultTTL: 60, source: .init(staleWhileRevalidate: -1, staleIfError: .nan)))
        #expect(neg.freshness.staleWhileRevalidate == 0 && neg.freshness.staleIfError == 0)
    }

    /// Should take stale windows from the origin's directives before the source's settings.
    @Test func staleWindowsFromOrigin() {
        let policy = CachePolicy(defaultTTL: 3_600, source: .init(staleWhileRevalidate: 5, staleIfError: 5))
        let d = decide([("cache-control", "max-age=60, stale-while-revalidate=30, stale-if-error=600")], policy: policy)
        #expect(d.freshness.staleWhileRevalidate == 30)
        #expect(d.freshness.staleIfError == 600)
        let zero = decide([("cache-control", "max-age=60, stale-while-revalidate=0")], policy: policy)
        #expect(zero.freshness.staleWhileRevalidate == 0)
        #expect(zero.freshness.staleIfError == 5)
    }

    /// Should use the source's stale windows when the origin sends none, and none when neither does.
    @Test func staleWindowsFromSource() {
        let policy = CachePolicy(defaultTTL: 3_600, source: .init(staleWhileRevalidate: 20, staleIfError: 86_400))
        let d = decide([("cache-control", "max-age=60")], policy: policy)
        #expect(d.freshness.staleWhileRevalidate == 20 && d.freshness.staleIfError == 86_400)
        let plain = decide([("cache-control", "max-age=60")])
        #expect(plain.freshness.staleWhileRevalidate == 0 && plain.freshness.staleIfError == 0)
    }

    /// Should serve nothing stale under must-revalidate or proxy-revalidate, not even the origin's own windows.
    @Test func mustRevalidateBarsStale() {
        let policy = CachePolicy(defaultTTL: 3_600, source: .init(staleWhileRevalidate: 20, staleIfError: 20))
        for cc in ["max-age=60, must-revalidate, stale-while-revalidate=30, stale-if-error=30",
                   "max-age=60, proxy-revalidate, stale-if-error=30"] {
            let d = decide([("cache-control", cc)], policy: policy)
            #expect(d.mustRevalidate)
            #expect(d.freshness.staleWhileRevalidate == 0 && d.freshness.staleIfError == 0)
        }
    }

    /// Should bar the source's stale windows under s-maxage but honour the origin's own beside it.
    @Test func sMaxAgeAndStaleWindows() {
        let policy = CachePolicy(defaultTTL: 3_600, source: .init(staleWhileRevalidate: 20, staleIfError: 20))
        let bare = decide([("cache-control", "s-maxage=60")], policy: policy)
        #expect(bare.freshness.staleWhileRevalidate == 0 && bare.freshness.staleIfError == 0)
        let explicit = decide([("cache-control", "s-maxage=1, stale-while-revalidate=59")], policy: policy)
        #expect(explicit.freshness.staleWhileRevalidate == 59)
        #expect(explicit.freshness.staleIfError == 0)
    }

    /// Should read stale windows from the governing targeted field only.
    @Test func staleWindowsFromGoverningField() {
        let d = decide([("cache-control", "max-age=5, stale-if-error=999"),
                        ("surrogate-control", "max-age=60, stale-while-revalidate=30")])
        #expect(d.freshness.staleWhileRevalidate == 30)
        #expect(d.freshness.staleIfError == 0)
    }

    /// Should read Vary names lower-cased and deduplicated, across lines.
    @Test func vary() {
        let d = decide([("vary", "Accept, accept-encoding,Accept"), ("vary", "DPR")])
        #expect(d.vary == ["accept", "accept-encoding", "dpr"])
        #expect(decide([("vary", " , ")]).vary.isEmpty)
    }

    /// Should not store Vary: *, alone or in a list, nor a Vary it cannot key on.
    @Test func varyStar() {
        #expect(decide([("vary", "*")]).notStoredReason == .vary)
        #expect(decide([("vary", "Accept"), ("vary", "*")]).notStoredReason == .vary)
        #expect(decide([("vary", "Accept, *")]).downstreamCacheControl == "private, no-cache")
        #expect(decide([("vary", "Accept Encoding")]).notStoredReason == .vary)
        let many = (0...16).map { "x-h\($0)" }.joined(separator: ", ")
        #expect(decide([("vary", many)]).notStoredReason == .vary)
        #expect(decide([("vary", String(repeating: "a", count: 3_000))]).notStoredReason == .vary)
    }

    /// Should read surrogate keys space-separated, deduplicated, across lines.
    @Test func surrogateKeys() {
        let d = decide([("surrogate-key", " a b\tc  a "), ("surrogate-key", "d b")])
        #expect(d.surrogateKeys == ["a", "b", "c", "d"])
        #expect(decide([]).surrogateKeys.isEmpty)
    }

    /// Should refuse to store rather than drop a surrogate key: too many, too long, control characters.
    @Test func surrogateKeyBounds() {
        let many = (0...256).map { "k\($0)" }.joined(separator: " ")
        #expect(decide([("surrogate-key", many)]).notStoredReason == .surrogateKeys)
        #expect(decide([("surrogate-key", String(repeating: "k", count: 1_025))]).notStoredReason == .surrogateKeys)
        #expect(decide([("surrogate-key", "a\u{1}b")]).notStoredReason == .surrogateKeys)
        let fine = (0..<256).map { "k\($0)" }.joined(separator: " ")
        #expect(decide([("surrogate-key", fine)]).surrogateKeys.count == 256)
    }

    /// Should keep well-formed validators and offer them as conditional request headers.
    @Test func validators() {
        let lm = date(t0 - 86_400)
        let d = decide([("etag", " \"abc\" "), ("last-modified", lm)])
        #expect(d.etag == "\"abc\"")
        #expect(d.lastModified == lm)
        let conditional = d.conditionalHeaders.map { "\($0.name): \($0.value)" }
        #expect(conditional == ["if-none-match: \"abc\"", "if-modified-since: \(lm)"])
        #expect(decide([("etag", "W/\"weak\"")]).etag == "W/\"weak\"")
        for bad in ["abc", "\"a\"b\"", "W/abc", "\"", "\"\u{7F}\"", "\"" + String(repeating: "x", count: 1_100) + "\""] {
            #expect(decide([("etag", bad)]).etag == nil, "\(bad)")
        }
        #expect(decide([]).conditionalHeaders.isEmpty)
    }

    /// Should keep the caching header lines for a later 304, add Date when missing and leave Age out.
    @Test func cacheHeadersKept() {
        let d = decide([("cache-control", "max-age=60"), ("content-type", "image/png"), ("age", "5"), ("etag", "\"x\""),
                        ("surrogate-key", "a")], addDate: false)
        let kept = d.cacheHeaders.map { "\($0.name): \($0.value)" }
        #expect(kept == ["cache-control: max-age=60", "etag: \"x\"", "surrogate-key: a", "date: \(date(t0))"])
        let dated = decide([("Cache-Control", "max-age=60"), ("Date", date(t0 - 3))], addDate: false)
        #expect(dated.cacheHeaders.map(\.name) == ["cache-control", "date"])
        #expect(dated.freshness.lifetime == 60)
    }

    /// Should not store a response whose caching header is too long to read whole.
    @Test func oversizedHeaders() {
        let huge = String(repeating: "x", count: 20_000)
        #expect(decide([("cache-control", huge)]).notStoredReason == .oversizedHeader)
        #expect(decide([("cache-control", huge)]).downstreamCacheControl == "no-store")
        #expect(decide([("cdn-cache-control", huge)]).notStoredReason == .oversizedHeader)
        #expect(decide([("surrogate-control", huge)]).notStoredReason == .oversizedHeader)
        // Under a valid CDN-Cache-Control, Cache-Control is ignored even when oversized (RFC 9213 §2.2).
        let d = decide([("cache-control", huge), ("cdn-cache-control", "max-age=60")])
        #expect(d.storable && d.downstreamCacheControl == "private, no-cache")
    }

    /// Should decide quickly on a megabyte of hostile headers.
    @Test func hostileHeadersBounded() {
        let mb = String(repeating: "max-age=1, \"", count: 90_000)
        let headers: [(name: String, value: String)] = [
            ("cache-control", mb), ("cdn-cache-control", mb), ("surrogate-control", mb), ("vary", mb),
            ("surrogate-key", mb), ("expires", mb), ("date", mb), ("age", mb), ("last-modified", mb), ("etag", mb),
        ]
        let d = decide(headers, addDate: false)
        #expect(d.notStoredReason == .oversizedHeader)
    }

    /// Should report immutable from the governing field.
    @Test func immutable() {
        #expect(decide([("cache-control", "max-age=31536000, immutable")]).immutable)
        #expect(!decide([("cache-control", "max-age=60")]).immutable)
    }

    /// Should treat conflicting duplicate max-age values as stale (RFC 9111 §4.2.1).
    @Test func conflictingMaxAge() {
        let d = decide([("cache-control", "max-age=600"), ("cache-control", "max-age=60"), ("etag", "\"e\"")])
        #expect(d.freshness.lifetime == 0)
        #expect(d.storable)
    }

    /// Should take an invalid max-age as stale rather than fall through to Expires or defaultTTL.
    @Test func invalidMaxAgeIsStale() {
        let d = decide([("cache-control", "max-age=-1"), ("expires", date(t0 + 600))])
        #expect(d.lifetimeSource == .maxAge)
        #expect(d.freshness.lifetime == 0)
        #expect(d.notStoredReason == .noFreshness)
    }
}

// MARK: - Age (RFC 9111 §4.2.3)

@Suite struct CachePolicyAgeTests {
    /// Should follow §4.2.3: the larger of the apparent age and the origin's Age plus the response delay.
    @Test func correctedInitialAge() {
        // Request sent at t0-2, response at t0; Date says t0-5 (apparent age 5); Age: 10 (+2 delay = 12).
        let d = decide([("cache-control", "max-age=60"), ("date", date(t0 - 5)), ("age", "10")], requestTime: t0 - 2)
        #expect(d.freshness.initialAge == 12)
        #expect(d.freshness.age(at: t0 + 8) == 20)
        #expect(d.freshness.remainingLifetime(at: t0 + 8) == 40)
        #expect(d.freshness.ageHeader(at: t0 + 8.7) == "20")
    }

    /// Should let the apparent age win when the Date is older than the Age accounts for.
    @Test func apparentAgeWins() {
        let d = decide([("cache-control", "max-age=60"), ("date", date(t0 - 30)), ("age", "3")], requestTime: t0 - 1)
        #expect(d.freshness.initialAge == 30)
    }

    /// Should ignore a Date in the future (origin clock ahead): the age is only the response delay.
    @Test func dateInTheFuture() {
        let d = decide([("cache-control", "max-age=60"), ("date", date(t0 + 300))], requestTime: t0 - 1)
        #expect(d.freshness.initialAge == 1)
        #expect(d.freshness.isFresh(at: t0 + 58))
    }

    /// Should age a response whose Date is far in the past (origin clock behind), possibly past its lifetime.
    @Test func dateInThePast() {
        let d = decide([("cache-control", "max-age=60"), ("date", date(t0 - 3_600))])
        #expect(d.freshness.initialAge == 3_600)
        #expect(!d.freshness.isFresh(at: t0))
    }

    /// Should keep Expires − Date free of clock skew (both are the origin's clock) while the age still counts.
    @Test func expiresUnderSkew() {
        let d = decide([("date", date(t0 - 1_000)), ("expires", date(t0 - 1_000 + 3_600))], requestTime: t0)
        #expect(d.freshness.lifetime == 3_600)
        #expect(d.freshness.initialAge == 1_000)
        #expect(d.freshness.remainingLifetime(at: t0) == 2_600)
    }

    /// Should ignore an invalid Age, cap a huge one at 2^31, and never let a negative delay count.
    @Test func ageEdgeCases() {
        #expect(decide([("cache-control", "max-age=60"), ("age", "abc")], requestTime: t0).freshness.initialAge == 0)
        #expect(decide([("cache-control", "max-age=60"), ("age", "-5")], requestTime: t0).freshness.initialAge == 0)
        #expect(decide([("cache-control", "max-age=60"), ("age", "1.5")], requestTime: t0).freshness.initialAge == 0)
        #expect(decide([("cache-control", "max-age=60"), ("age", "+5")], requestTime: t0).freshness.initialAge == 0)
        // A list: its first member (RFC 9111 §5.1), whether on one line or several.
        #expect(decide([("cache-control", "max-age=60"), ("age", "7, 30")], requestTime: t0).freshness.initialAge == 7)
        #expect(decide([("cache-control", "max-age=60"), ("age", " 8 "), ("age", "40")], requestTime: t0).freshness.initialAge == 8)
        let huge = decide([("cache-control", "max-age=60"), ("age", "99999999999999")], requestTime: t0)
        #expect(huge.freshness.initialAge == 2_147_483_648)
        #expect(!huge.freshness.isFresh(at: t0))
        #expect(decide([("cache-control", "max-age=60")], requestTime: t0 + 5).freshness.initialAge == 0)
    }

    /// Should take a missing or invalid Date as the time of receipt (apparent age 0).
    @Test func missingDate() {
        #expect(decide([("cache-control", "max-age=60")], requestTime: t0, addDate: false).freshness.initialAge == 0)
        let bad = decide([("cache-control", "max-age=60"), ("date", "soon")], requestTime: t0)
        #expect(bad.freshness.initialAge == 0)
        #expect(bad.cacheHeaders.map { "\($0.name): \($0.value)" }.contains("date: \(date(t0))"))
    }
}

// MARK: - EntryFreshness

@Suite struct EntryFreshnessTests {
    let entry = EntryFreshness(responseTime: t0, initialAge: 10, lifetime: 60, staleWhileRevalidate: 30, staleIfError: 600)

    /// Should be fresh while the lifetime exceeds the age, and stale from the moment they are equal.
    @Test func freshness() {
        #expect(entry.age(at: t0) == 10)
        #expect(entry.isFresh(at: t0 + 49.9))
        #expect(!entry.isFresh(at: t0 + 50))
        #expect(entry.freshUntil == t0 + 50)
        #expect(entry.remainingLifetime(at: t0 + 20) == 30)
        #expect(entry.remainingLifetime(at: t0 + 500) == 0)
    }

    /// Should allow stale-while-revalidate only once stale and within the window.
    @Test func staleWhileRevalidate() {
        #expect(!entry.canServeStaleWhileRevalidating(at: t0 + 49))
        #expect(entry.canServeStaleWhileRevalidating(at: t0 + 50))
        #expect(entry.canServeStaleWhileRevalidating(at: t0 + 79.9))
        #expect(!entry.canServeStaleWhileRevalidating(at: t0 + 80))
    }

    /// Should allow stale-if-error only once stale and within the window.
    @Test func staleIfError() {
        #expect(!entry.canServeStaleOnError(at: t0 + 10))
        #expect(entry.canServeStaleOnError(at: t0 + 200))
        #expect(entry.canServeStaleOnError(at: t0 + 649))
        #expect(!entry.canServeStaleOnError(at: t0 + 650))
        #expect(entry.servableUntil == t0 + 650)
    }

    /// Should serve nothing stale with no windows.
    @Test func noWindows() {
        let plain = EntryFreshness(responseTime: t0, initialAge: 0, lifetime: 60)
        #expect(!plain.canServeStaleWhileRevalidating(at: t0 + 61))
        #expect(!plain.canServeStaleOnError(at: t0 + 61))
    }

    /// Should add no resident time when the clock goes backwards.
    @Test func clockBackwards() {
        #expect(entry.age(at: t0 - 100) == 10)
        #expect(entry.isFresh(at: t0 - 100))
    }

    /// Should write Age as whole seconds, capped at 2^31.
    @Test func ageHeader() {
        #expect(entry.ageHeader(at: t0 + 0.99) == "10")
        let old = EntryFreshness(responseTime: t0, initialAge: 1e12, lifetime: 60)
        #expect(old.ageHeader(at: t0) == "2147483648")
    }

    /// Should sanitise negative and non-finite inputs to 0.
    @Test func sanitised() {
        let bad = EntryFreshness(responseTime: .nan, initialAge: -5, lifetime: .infinity, staleWhileRevalidate: -.infinity,
                                 staleIfError: .nan)
        #expect(bad.responseTime == 0 && bad.initialAge == 0 && bad.lifetime == 0)
        #expect(bad.staleWhileRevalidate == 0 && bad.staleIfError == 0)
        #expect(bad.age(at: .nan) == 0)
    }
}

// MARK: - Freshening with a 304 (RFC 9111 §4.3.4)

@Suite struct CachePolicyFreshenTests {
    let policy = CachePolicy(defaultTTL: 3_600)

    /// The stored header lines of a response received at t0.
    func stored(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        decide(headers, policy: policy).cacheHeaders
    }

    /// Should restart the lifetime from the 304's Date when the 304 carries the same ETag.
    @Test func sameETagRefreshes() throws {
        let s = stored([("cache-control", "max-age=60"), ("etag", "\"v1\"")])
        let d = try #require(policy.freshen(stored: s, notModified: [("etag", "\"v1\""), ("date", date(t0 + 100))],
                                            requestTime: t0 + 100, responseTime: t0 + 100))
        #expect(d.storable)
        #expect(d.freshness.responseTime == t0 + 100)
        #expect(d.freshness.lifetime == 60)
        #expect(d.freshness.initialAge == 0)
        #expect(d.freshness.isFresh(at: t0 + 150))
        #expect(d.etag == "\"v1\"")
        #expect(d.cacheHeaders.contains { $0.name == "date" && $0.value == date(t0 + 100) })
        #expect(!d.cacheHeaders.contains { $0.name == "date" && $0.value == date(t0) })
    }

    /// Should let the 304's Cache-Control replace the stored one.
    @Test func newCacheControlReplaces() throws {
        let s = stored([("cache-control", "max-age=60, must-revalidate"), ("etag", "\"v1\"")])
        let d = try #require(policy.freshen(stored: s, notModified: [("cache-control", "max-age=300"), ("date", date(t0 + 100))],
                                            requestTime: t0 + 99, responseTime: t0 + 100))
        #expect(d.freshness.lifetime == 300)
        #expect(!d.mustRevalidate)
        #expect(d.cacheHeaders.filter { $0.name == "cache-control" }.map(\.value) == ["max-age=300"])
    }

    /// Should take the 304's receipt as its Date when it has none, so the old Date cannot make it look old.
    @Test func missingDateInNotModified() throws {
        let s = stored([("cache-control", "max-age=60"), ("etag", "\"v1\"")])
        let d = try #require(policy.freshen(stored: s, notModified: [("etag", "\"v1\"")],
                                            requestTime: t0 + 998, responseTime: t0 + 1_000))
        #expect(d.freshness.initialAge == 2)
        #expect(d.freshness.isFresh(at: t0 + 1_000))
    }

    /// Should count the 304's own Age and never the stored response's.
    @Test func ageFromNotModifiedOnly() throws {
        var s = stored([("cache-control", "max-age=600"), ("etag", "\"v1\"")])
        s.append(("age", "500"))
        let fresh = try #require(policy.freshen(stored: s, notModified: [("date", date(t0 + 60))],
                                                requestTime: t0 + 60, responseTime: t0 + 60))
        #expect(fresh.freshness.initialAge == 0)
        let aged = try #require(policy.freshen(stored: s, notModified: [("date", date(t0 + 60)), ("age", "20")],
                                               requestTime: t0 + 60, responseTime: t0 + 60))
        #expect(aged.freshness.initialAge == 20)
    }

    /// Should keep Expires absolute: a later Date leaves less lifetime.
    @Test func expiresStaysAbsolute() throws {
        let s = stored([("expires", date(t0 + 3_600)), ("last-modified", date(t0 - 86_400))])
        let d = try #require(policy.freshen(stored: s, notModified: [("date", date(t0 + 3_000))],
                                            requestTime: t0 + 3_000, responseTime: t0 + 3_000))
        #expect(d.freshness.lifetime == 600)
        #expect(d.lifetimeSource == .expires)
    }

    /// Should refuse to update when the 304 names another representation (strong ETag mismatch).
    @Test func etagMismatch() {
        let s = stored([("cache-control", "max-age=60"), ("etag", "\"v1\"")])
        #expect(policy.freshen(stored: s, notModified: [("etag", "\"v2\"")], requestTime: t0, responseTime: t0) == nil)
        let untagged = stored([("cache-control", "max-age=60")])
        #expect(policy.freshen(stored: untagged, notModified: [("etag", "\"v1\"")], requestTime: t0, responseTime: t0) == nil)
        #expect(policy.freshen(stored: s, notModified: [("etag", "v1")], requestTime: t0, responseTime: t0) == nil)
    }

    /// Should compare weakly when the 304's ETag is weak, strongly when it is strong.
    @Test func weakAndStrongComparison() {
        let strong = stored([("cache-control", "max-age=60"), ("etag", "\"v1\"")])
        let weak = stored([("cache-control", "max-age=60"), ("etag", "W/\"v1\"")])
        #expect(policy.freshen(stored: strong, notModified: [("etag", "W/\"v1\"")], requestTime: t0, responseTime: t0) != nil)
        #expect(policy.freshen(stored: weak, notModified: [("etag", "W/\"v1\"")], requestTime: t0, responseTime: t0) != nil)
        #expect(policy.freshen(stored: weak, notModified: [("etag", "\"v1\"")], requestTime: t0, responseTime: t0) == nil)
    }

    /// Should match on Last-Modified when the 304 has no ETag, and update when it has no validator at all.
    @Test func lastModifiedMatching() {
        let s = stored([("cache-control", "max-age=60"), ("last-modified", date(t0 - 86_400))])
        #expect(policy.freshen(stored: s, notModified: [("last-modified", date(t0 - 86_400))],
                               requestTime: t0, responseTime: t0) != nil)
        #expect(policy.freshen(stored: s, notModified: [("last-modified", date(t0 - 10))],
                               requestTime: t0, responseTime: t0) == nil)
        #expect(policy.freshen(stored: s, notModified: [], requestTime: t0, responseTime: t0) != nil)
    }

    /// Should make the entry unstorable when the 304 says no-store (serve once, then drop).
    @Test func notModifiedNoStore() throws {
        let s = stored([("cache-control", "max-age=60"), ("etag", "\"v1\"")])
        let d = try #require(policy.freshen(stored: s, notModified: [("cache-control", "no-store")],
                                            requestTime: t0, responseTime: t0))
        #expect(d.notStoredReason == .noStore)
    }

    /// Should keep surrogate keys and Vary from the stored response unless the 304 replaces them.
    @Test func keysAndVaryCarried() throws {
        let s = stored([("cache-control", "max-age=60"), ("surrogate-key", "a b"), ("vary", "Accept")])
        let kept = try #require(policy.freshen(stored: s, notModified: [], requestTime: t0, responseTime: t0))
        #expect(kept.surrogateKeys == ["a", "b"] && kept.vary == ["accept"])
        let replaced = try #require(policy.freshen(stored: s, notModified: [("surrogate-key", "c")],
                                                   requestTime: t0, responseTime: t0))
        #expect(replaced.surrogateKeys == ["c"])
    }

    /// Should re-apply the source's ttl on refresh.
    @Test func sourceTTLOnRefresh() throws {
        let withTTL = CachePolicy(defaultTTL: 3_600, source: .init(ttl: 900))
        let s = decide([("cache-control", "max-age=60")], policy: withTTL).cacheHeaders
        let d = try #require(withTTL.freshen(stored: s, notModified: [], requestTime: t0 + 5, responseTime: t0 + 5))
        #expect(d.freshness.lifetime == 900)
        #expect(d.freshness.responseTime == t0 + 5)
    }
}
