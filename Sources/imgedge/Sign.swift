import ArgumentParser
import EdgePrivacy
import Foundation

/// `imgedge sign --token TOKEN URL`: prints URL with the imgix secure-URL signature appended, as imgix's
/// client libraries write it (see `URLSigner` for how the path and query are encoded).
struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print URL with the imgix-compatible `s=` signature appended.",
        discussion: """
        URL is absolute (https://images.example.com/photos/cat 1.jpg?w=400) or a path (/photos/cat.jpg?w=400). \
        The path is encoded as imgix's client libraries encode it (spaces as %20, unicode as UTF-8 escapes; an \
        absolute http(s) URL as the path is encoded whole, as for a web proxy source); an `s` already present \
        is replaced. Add `expires=<Unix seconds>` to the query to make the URL stop working at that time.
        """)

    // Optional here and checked in run(), so that a missing one exits 2 with a one-line reason, as the
    // contract asks of every usage error (ArgumentParser's own validation exits 64).
    @Option(name: .long, help: "The source's secureToken.")
    var token: String?

    @Argument(help: "The URL to sign.")
    var url: String?

    func run() throws {
        guard let token else { throw configurationFailure("sign: --token TOKEN is required") }
        guard let url else { throw configurationFailure("sign: the URL to sign is required") }
        do throws(URLSigner.Failure) {
            print(try URLSigner.sign(url, token: token))
        } catch {
            throw configurationFailure("sign: " + error.description)
        }
    }
}
