import EdgeTestSupport
import Foundation
import Testing

/// Signed URLs built by imgix's Python client library (imgix 4.0.0), committed as JSON by
/// Tests/Fixtures/imgix-signing/generate.py so these tests need no Python.
struct ImgixFixtures: Decodable {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        /// `UrlBuilder` (the current API) or `UrlHelper` (the older one, encoding differently).
        var library: String
        var token: String
        /// The path as given to the library, unencoded.
        var path: String
        var params: [String: String]
        var unsigned: String
        var url: String
        /// Path and query as on the request line.
        var target: String
        var signature: String

        var testDescription: String { name }
    }

    var library: String
    var cases: [Case]

    static let all: [Case] = {
        let url = Corpus.packageRoot.appendingPathComponent("Tests/Fixtures/imgix-signing/signed-urls.json")
        guard let data = try? Data(contentsOf: url), let f = try? JSONDecoder().decode(ImgixFixtures.self, from: data) else {
            return []
        }
        return f.cases
    }()

    static func named(_ name: String) -> Case? { all.first { $0.name == name } }
}
