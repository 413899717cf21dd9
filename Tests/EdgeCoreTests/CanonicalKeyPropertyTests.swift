import EdgeCore
import EdgeTestSupport
import Foundation
import Testing

/// A query as a list of (name, value) pairs, with every way imgix lets one spell the same request.
struct QueryPlan {
    var pairs: [(String, String)]

    /// The aliases imgix defines for each canonical name (from parameters.json).
    static let aliases: [String: [String]] = {
        var out: [String: [String]] = [:]
        for (alias, name) in ImgixTable.aliases { out[name, default: []].append(alias) }
        return out
    }()

    /// Spellings of a number that mean the same: 400, 400.0, +400, 400.00.
    static func numberSpellings(_ v: String) -> [String] {
        guard let d = Double(v) else { return [v] }
        var s = [v]
        if d == d.rounded() && !v.contains(".") { s += ["\(v).0", "+\(v)", "\(v).00"] }
        return s
    }

    /// An equivalent query: aliases, number spellings, base64 values, shuffled order, ignored extras.
    func respelled<G: RandomNumberGenerator>(_ g: inout G) -> String {
        var out: [(String, String)] = []
        for (name, value) in pairs {
            let names = [name] + (QueryPlan.aliases[name] ?? [])
            var n = names.randomElement(using: &g)!
            var v = QueryPlan.numberSpellings(value).randomElement(using: &g)!
            if !["auto", "ch"].contains(name), Bool.random(using: &g), Double(v) == nil {
                n += "64"
                v = Base64URL.encode(Array(v.utf8))
            }
            if Bool.random(using: &g) { n = n.uppercased() }
            out.append((n, v))
        }
        out.shuffle(using: &g)
        // Parameters imgix ignores, and later duplicates (the first occurrence wins).
        if Bool.random(using: &g) { out.append(("utm_source", "newsletter")) }
        if let first = pairs.first, Bool.random(using: &g) { out.append((first.0, "999")) }
        return out.map { "\($0.0)=\(Self.encode($0.1))" }.joined(separator: "&")
    }

    static func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~,:"))) ?? s
    }

    var plain: String { pairs.map { "\($0.0)=\(Self.encode($0.1))" }.joined(separator: "&") }
}

/// imgix's parameters.json, from the test fixtures.
enum ImgixTable {
    nonisolated(unsafe) static let json: [String: Any] = {
        // Tests/EdgeCoreTests/<this file> → Tests/Fixtures/imgix/parameters.json
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/imgix/parameters.json")
        let data = (try? Data(contentsOf: url)) ?? Data("{}".utf8)
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }()
    static var parameters: [String: [String: Any]] { json["parameters"] as? [String: [String: Any]] ?? [:] }
    static let aliases: [String: String] = {
        var out: [String: String] = [:]
        for (name, p) in parameters { for a in p["aliases"] as? [String] ?? [] { out[a] = name } }
        return out
    }()
}

@Suite struct CanonicalKeyPropertyTests {
    /// Requests whose parameters all change the output, to respell many ways.
    static let requests: [[(String, String)]] = [
        [("w", "400")],
        [("w", "400"), ("h", "300"), ("fit", "crop"), ("crop", "top,left")],
        [("h", "250"), ("fm", "webp"), ("q", "60")],
        [("w", "0.5"), ("fit", "max")],
        [("w", "320"), ("dpr", "2"), ("fm", "png")],
        [("w", "200"), ("h", "200"), ("fit", "fill"), ("bg", "ff0000")],
        [("rect", "10,10,100,100"), ("w", "50")],
        [("w", "100"), ("h", "100"), ("fit", "crop"), ("crop", "focalpoint"), ("fp-x", "0.3"), ("fp-y", "0.7")],
        [("orient", "6"), ("w", "120")],
        [("trim", "color"), ("trim-color", "ffffff"), ("w", "90")],
        [("w", "100"), ("h", "50"), ("fit", "crop"), ("ar", "16:9")],
    ]

    /// Should give every equivalent spelling of a request (aliases, numbers, base64, order, case, ignored
    /// extras, later duplicates) the same cache key.
    @Test(arguments: 0..<requests.count)
    func equivalentSpellingsShareAKey(index: Int) throws {
        let plan = QueryPlan(pairs: Self.requests[index])
        let reference = try key(plan.plain)
        var g = SeededGenerator(seed: UInt64(index) &* 7919)
        for _ in 0..<60 {
            let q = plan.respelled(&g)
            #expect(try key(q) == reference, "\(q) ≠ \(plan.plain)")
        }
    }

    /// Should give different keys to requests that differ in any effective value.
    @Test func effectiveChangesChangeTheKey() throws {
        let base = "w=400&h=300&fit=crop&fm=jpg&q=70"
        let variants = ["w=401&h=300&fit=crop&fm=jpg&q=70", "w=400&h=301&fit=crop&fm=jpg&q=70",
                        "w=400&h=300&fit=clip&fm=jpg&q=70", "w=400&h=300&fit=crop&fm=png&q=70",
                        "w=400&h=300&fit=crop&fm=jpg&q=71", "w=400&h=300&fit=crop&fm=jpg&q=70&crop=top",
                        "w=400&h=300&fit=crop&fm=jpg&q=70&dpr=2", "w=400&h=300&fit=crop&fm=jpg&q=70&or=3",
                        "w=400&h=300&fit=crop&fm=jpg&q=70&rect=0,0,10,10", "w=400&h=300&fit=crop&fm=jpg&q=70&trim=auto",
                        "w=400&h=300&fit=crop&fm=jpg&q=70&ar=1:1", "w=400&h=300&fit=crop&fm=jpg&q=70&crop=entropy",
                        "w=400&h=300&fit=crop&fm=jpg&q=70&bg=000"]
        let keys = try [key(base)] + variants.map { try key($0) }
        #expect(Set(keys).count == keys.count, "two different requests share a key")
    }

    /// Should give a parameter spelled at its documented default the key of its absence (where imgix's
    /// default is a value, not a behaviour that depends on the output format).
    @Test func explicitDefaultsEqualAbsence() throws {
        let base = "w=300"
        var checked = 0
        for (name, p) in ImgixTable.parameters.sorted(by: { $0.key < $1.key }) {
            guard let d = p["default"] else { continue }
            let value: String
            switch d {
            case let b as Bool: value = b ? "true" : "false"
            case let n as NSNumber: value = "\(n)"
            case let s as String: value = s
            default: continue
            }
            let query = "\(base)&\(name)=\(QueryPlan.encode(value))"
            // Parameters this node refuses are not about keys.
            guard (try? TransformParser.parse(query: Substring(query))) != nil else { continue }
            #expect(try key(query) == key(base), "\(name)=\(value) changes the key")
            checked += 1
        }
        #expect(checked >= 10)
    }
}
