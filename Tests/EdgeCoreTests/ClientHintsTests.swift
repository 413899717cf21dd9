import EdgeCore
import Testing

@Suite struct ClientHintsTests {
    static func spec(_ q: String, _ hints: ClientHints) throws -> TransformSpec {
        try TransformParser.parse(query: Substring(q), hints: hints)
    }

    /// Should let Width and DPR override w and dpr only where the URL opts in with ch.
    @Test func overridesOnlyWhenOptedIn() throws {
        let hints = ClientHints(width: 640, dpr: 3)
        #expect(try Self.spec("w=400&ch=width", hints).width == .pixels(640))
        #expect(try Self.spec("w=400", hints).width == .pixels(400))
        #expect(try Self.spec("w=400&ch=dpr", hints).width == .pixels(1200))
        #expect(try Self.spec("w=400&dpr=2&ch=dpr", hints).width == .pixels(1200))
        #expect(try Self.spec("w=400&dpr=2&ch=width", ClientHints()).width == .pixels(800))
        // Width is already in device pixels: DPR does not multiply it again.
        #expect(try Self.spec("w=400&ch=width,dpr", hints).width == .pixels(640))
    }

    /// Should lower quality to 45 with Save-Data: on, and put the ch list (not the hint values) in the key.
    @Test func saveDataAndKeys() throws {
        #expect(try Self.spec("w=10&ch=save-data", ClientHints(saveData: true)).quality == 45)
        #expect(try Self.spec("w=10&q=30&ch=save-data", ClientHints(saveData: true)).quality == 30)
        #expect(try Self.spec("w=10&ch=save-data", ClientHints()).quality == 75)
        let a = try Self.spec("w=10&ch=Width,DPR", ClientHints()), b = try Self.spec("w=10&ch=dpr,width", ClientHints())
        #expect(a == b)
        #expect(CacheKey(source: "s", path: "/a", spec: a, format: .sourceFormat)
            != CacheKey(source: "s", path: "/a", spec: try Self.spec("w=10", ClientHints()), format: .sourceFormat))
        #expect(a.clientHints.map(\.header) == ["DPR", "Width"])
        #expect(throws: EdgeError.self) { try Self.spec("ch=viewport-width", ClientHints()) }
    }

    /// Should read hint headers leniently: malformed or out-of-range values are no hint at all.
    @Test func headerParsing() {
        let h = ClientHints(width: "800", dpr: "2.5", saveData: "on")
        #expect(h.width == 800 && h.dpr == 2.5 && h.saveData)
        let bad = ClientHints(width: "wide", dpr: "9", saveData: "off")
        #expect(bad.width == nil && bad.dpr == nil && !bad.saveData)
    }
}

@Suite struct RepeatedAutoTests {
    /// Should add up repeated auto parameters, as imgix allows, while other parameters keep their first value.
    @Test func autoAccumulates() throws {
        let s = try TransformParser.parse(query: "auto=format&auto=compress&w=10&w=20")
        #expect(s.autoFormat && s.quality == 45 && s.width == .pixels(10))
        #expect(try key("auto=format&auto=compress") == key("auto=compress,format"))
    }
}

extension RepeatedAutoTests {
    /// Should let a URL's auto replace a source default's auto rather than add to it.
    @Test func urlAutoReplacesDefault() throws {
        let s = try TransformParser.parse(query: "auto=compress", defaults: [("auto", "format")])
        #expect(!s.autoFormat && s.quality == 45)
        #expect(try TransformParser.parse(query: "w=5", defaults: [("auto", "format")]).autoFormat)
    }
}
