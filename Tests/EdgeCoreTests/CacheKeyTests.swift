import EdgeCore
import Testing

@Suite struct CacheKeyTests {
    /// Should give the same key to w=400, width=400, w=400.0 and w=+400.
    @Test func equivalentSpellings() throws {
        let k = try key("w=400")
        #expect(try key("width=400") == k)
        #expect(try key("w=400.0") == k)
        #expect(try key("w=%2B400") == k)
        #expect(try key("w=200&dpr=2") == k)
    }

    /// Should key what a source permits of metadata where it changes the output: IPTC for JPEG, location for JSON.
    @Test func metadataPermissionsInKey() throws {
        func keyed(_ query: String, exposeLocation: Bool = false) throws -> CacheKey {
            var s = try spec(query)
            s.output.exposeLocation = exposeLocation
            return CacheKey(source: "demo", path: "/a.jpg", spec: s, format: NegotiatedFormat(spec: s, accept: nil))
        }
        #expect(try keyed("fm=json", exposeLocation: true) != keyed("fm=json"))
        #expect(try keyed("fm=png", exposeLocation: true) == keyed("fm=png"))
        #expect(try keyed("fm=jpg&iptc=allow") != keyed("fm=jpg"))
        #expect(try keyed("fm=png&iptc=allow") == keyed("fm=png"))
        #expect(try keyed("fm=jpg&iptc=block") == keyed("fm=jpg"))
    }

    /// Should not depend on parameter order.
    @Test func orderIrrelevant() throws {
        #expect(try key("w=400&h=300&fit=crop&crop=top&fm=webp") == key("fm=webp&crop=top&fit=crop&h=300&w=400"))
    }

    /// Should treat q=75 as the absent default.
    @Test func defaultQuality() throws {
        #expect(try key("w=10&q=75") == key("w=10"))
        #expect(try key("w=10&q=74") != key("w=10"))
    }

    /// Should ignore crop without fit=crop, and fit or crop without a size.
    @Test func noOpsOmitted() throws {
        #expect(try key("w=10&crop=top") == key("w=10"))
        #expect(try key("fit=crop&crop=top") == key(""))
        #expect(try key("fit=clip&w=10") == key("w=10"))
        #expect(try key("w=10&h=10&fit=crop&crop=top") != key("w=10&h=10&fit=crop"))
    }

    /// Should give different sizes, fits, sources and paths different keys.
    @Test func differencesMatter() throws {
        let base = try key("w=400")
        #expect(try key("w=401") != base)
        #expect(try key("h=400") != base)
        #expect(try key("w=0.4") != base)
        #expect(try key("w=400&h=400") != key("w=400&h=400&fit=crop"))
        #expect(try key("w=400", source: "other") != base)
        #expect(try key("w=400", path: "/b.jpg") != base)
    }

    /// Should give different negotiated formats different keys.
    @Test func formatMatters() throws {
        let source = try key("w=10")
        let webp = try key("w=10&fm=webp")
        let avif = try key("w=10&fm=avif")
        #expect(source != webp && webp != avif && source != avif)
        // auto=format resolves through Accept, so equal negotiated formats share a key.
        #expect(try key("w=10&auto=format", accept: "image/webp") == key("w=10&auto=format", accept: "image/webp,*/*"))
        #expect(try key("w=10&auto=format", accept: "image/avif") != key("w=10&auto=format", accept: "image/webp"))
    }

    /// Should ignore q for PNG and GIF but not for lossy outputs.
    @Test func qualityOnlyForLossy() throws {
        #expect(try key("fm=png&q=50") == key("fm=png"))
        #expect(try key("fm=gif&q=50") == key("fm=gif"))
        #expect(try key("fm=jpg&q=50") != key("fm=jpg"))
        #expect(try key("fm=webp&q=50") != key("fm=webp"))
        // The source's own format may be lossy.
        #expect(try key("q=50") != key(""))
    }

    /// Should count bg only where it shows: JPEG flattening and fill padding.
    @Test func backgroundOnlyWhereVisible() throws {
        #expect(try key("fm=png&bg=000") == key("fm=png"))
        #expect(try key("fm=jpg&bg=000") != key("fm=jpg"))
        #expect(try key("fm=png&w=10&h=10&fit=fill&bg=000") != key("fm=png&w=10&h=10&fit=fill"))
        #expect(try key("fm=jpg&bg=fff") == key("fm=jpg&bg=ffffff"))
    }

    /// Should print 64 lower-case hex digits and hash a canonical text.
    @Test func descriptionAndCanonical() throws {
        let k = try key("w=400")
        #expect(k.bytes.count == 32)
        #expect(k.description.count == 64)
        #expect(k.description.allSatisfy { "0123456789abcdef".contains($0) })
        let s = try spec("w=400&h=0.5&fit=crop&crop=left,top&fm=webp&q=60")
        #expect(s.canonical(for: .format(.webp)) == "w=400&h=0.5x&fit=crop&crop=left,top&q=60")
        #expect(try spec("w=400").canonical(for: .sourceFormat) == "w=400&q=75&bg=ffffffff")
        #expect(Hex.encode([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
    }
}

@Suite struct NegotiatedFormatTests {
    func negotiate(_ query: String, _ accept: String?) throws -> NegotiatedFormat {
        NegotiatedFormat(spec: try spec(query), accept: accept.map { Substring($0) })
    }

    /// Should prefer AVIF, then WebP, then fm, then the source's format.
    @Test func preferenceOrder() throws {
        #expect(try negotiate("auto=format", "image/avif,image/webp,*/*") == .format(.avif))
        #expect(try negotiate("auto=format&fm=png", "image/webp,image/avif") == .format(.avif))
        #expect(try negotiate("auto=format&fm=png", "image/webp,*/*") == .format(.webp))
        #expect(try negotiate("auto=format&fm=png", "image/png,*/*") == .format(.png))
        #expect(try negotiate("auto=format", "*/*") == .sourceFormat)
        #expect(try negotiate("auto=format", nil) == .sourceFormat)
        #expect(try negotiate("auto=format&fm=jpg", nil) == .format(.jpg))
    }

    /// Should split Accept on bytes: a comma joined into a grapheme cluster with its neighbour still separates.
    @Test func acceptSplitOnBytes() throws {
        #expect(try negotiate("auto=format", "text/html\u{0600},image/avif") == .format(.avif))
        #expect(try negotiate("auto=format", "image/avif;q=0,image/webp\u{0600},*/*") == .sourceFormat)
    }

    /// Should split like Swift's split on ASCII text, and on bytes where Characters would not split.
    @Test func byteSplitting() {
        for text in ["a&b", "&a&&b&", "", "&", "abc", "a=b=c"] {
            for sep in ["&", "="] {
                let byte = UInt8(ascii: sep.unicodeScalars.first!)
                #expect(text.split(byte: byte) == text.split(separator: Character(sep)), "\(text)")
                #expect(text.split(byte: byte, omittingEmptySubsequences: false)
                        == text.split(separator: Character(sep), omittingEmptySubsequences: false), "\(text)")
                #expect(text.split(byte: byte, maxSplits: 1, omittingEmptySubsequences: false)
                        == text.split(separator: Character(sep), maxSplits: 1, omittingEmptySubsequences: false), "\(text)")
            }
        }
        #expect("a\u{0600}&b".split(byte: UInt8(ascii: "&")) == ["a\u{0600}", "b"])
        #expect("a&\u{0301}b".split(byte: UInt8(ascii: "&")) == ["a", "\u{0301}b"])
    }

    /// Should ignore Accept without auto=format.
    @Test func acceptNeedsAutoFormat() throws {
        #expect(try negotiate("", "image/avif,image/webp") == .sourceFormat)
        #expect(try negotiate("fm=png", "image/avif,image/webp") == .format(.png))
    }

    /// Should exclude media types with q=0, and read media types and parameters case-insensitively.
    @Test func qualityZeroExcluded() throws {
        #expect(try negotiate("auto=format", "image/avif;q=0,image/webp") == .format(.webp))
        #expect(try negotiate("auto=format", "image/avif; q=0.0, image/webp;q=0") == .sourceFormat)
        #expect(try negotiate("auto=format", "image/avif;q=0.5") == .format(.avif))
        #expect(try negotiate("auto=format", "IMAGE/WEBP; Q=1") == .format(.webp))
        #expect(try negotiate("auto=format", "text/html, image/webp ;q=0.9") == .format(.webp))
        #expect(try negotiate("auto=format", "image/webpx") == .sourceFormat)
    }

    /// Should resolve "source format" by source type, choosing PNG for transparent unknown types.
    @Test func resolveSourceFormat() {
        let f = NegotiatedFormat.sourceFormat
        #expect(f.resolve(source: .jpeg, hasAlpha: false) == .jpg)
        #expect(f.resolve(source: .png, hasAlpha: false) == .png)
        #expect(f.resolve(source: .webp, hasAlpha: true) == .webp)
        #expect(f.resolve(source: .gif, hasAlpha: false) == .gif)
        #expect(f.resolve(source: .heif, hasAlpha: false) == .avif)
        #expect(f.resolve(source: .other, hasAlpha: false) == .jpg)
        #expect(f.resolve(source: .other, hasAlpha: true) == .png)
        #expect(NegotiatedFormat.format(.webp).resolve(source: .png, hasAlpha: true) == .webp)
        #expect(f.description == "source")
        #expect(NegotiatedFormat.format(.pjpg).description == "pjpg")
    }
}
