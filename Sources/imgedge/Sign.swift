import ArgumentParser
import EdgePrivacy
import Foundation

/// `imgedge sign --token TOKEN URL`: prints URL, exactly as given, with the imgix secure-URL signature appended;
/// `imgedge sign --token TOKEN [--domain HOST] --path PATH [--param NAME=VALUE ...]`: builds the URL as imgix's
/// client libraries do and signs it (see `URLSigner`).
struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a URL with the imgix-compatible `s=` signature appended.",
        discussion: """
        With URL (absolute, https://images.example.com/photos/cat%201.jpg?w=400, or a path,         /photos/cat%201.jpg?w=400): the path and query are signed exactly as given, byte for byte, as imgix's         libraries sign the URL they built — so write them encoded as they will be requested. Only spaces, control         characters and non-ASCII text, which no client sends raw, are percent-encoded first. An `s` already         present is replaced.         With --path (and --param, --domain): the URL is built as imgix's client libraries build it — the path         encoded as a file name (spaces as %20, unicode as UTF-8 escapes), or, when it is an absolute http(s) URL         (a web proxy source), encoded whole; parameters sorted by name and their values encoded, those of names         ending in 64 base64url-encoded first. Add expires=<Unix seconds> to make the URL stop working then.
        """)

    // Optional here and checked in run(), so that a missing one exits 2 with a one-line reason, as the
    // contract asks of every usage error (ArgumentParser's own validation exits 64).
    @Option(name: .long, help: "The source's secureToken.")
    var token: String?

    @Option(name: .long, help: "Build the URL from this path (as a person writes it: unencoded) instead of signing URL.")
    var path: String?

    @Option(name: .long, help: "With --path: a parameter NAME=VALUE (repeatable; VALUE unencoded).")
    var param: [String] = []

    @Option(name: .long, help: "With --path: the host to put in front (https://HOST); without it the path alone is printed.")
    var domain: String?

    @Argument(help: "The URL to sign, as it will be requested.")
    var url: String?

    func run() throws {
        guard let token else { throw configurationFailure("sign: --token TOKEN is required") }
        var params: [(name: String, value: String)] = []
        for p in param {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
                throw configurationFailure("sign: --param \(p): expected NAME=VALUE")
            }
            params.append((String(p[..<eq]), String(p[p.index(after: eq)...])))
        }
        if path != nil, url != nil { throw configurationFailure("sign: give either a URL or --path, not both") }
        if path == nil, url == nil { throw configurationFailure("sign: the URL to sign (or --path PATH) is required") }
        if path == nil, !param.isEmpty || domain != nil {
            throw configurationFailure("sign: --param and --domain go with --path; a URL is signed as given")
        }
        do throws(URLSigner.Failure) {
            if let path {
                print(try URLSigner.build(path: path, params: params, token: token, domain: domain))
            } else if let url {
                print(try URLSigner.sign(url, token: token))
            }
        } catch {
            throw configurationFailure("sign: " + error.description)
        }
    }
}
