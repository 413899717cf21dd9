import EdgeCore
import EdgeOrigin
import EdgeTestSupport
import Foundation
import Testing

@Suite struct FolderOriginFetcherTests {
    let fetcher = FolderOriginFetcher()

    func read(_ root: String, _ path: String, maxBytes: Int = 1 << 20) throws -> OriginResponse {
        try fetcher.read(root: root, path: SourcePath(raw: Substring(path)), maxBytes: maxBytes)
    }

    func readError(_ root: String, _ path: String, maxBytes: Int = 1 << 20) -> EdgeError? {
        do {
            _ = try fetcher.read(root: root, path: SourcePath(raw: Substring(path)), maxBytes: maxBytes)
            return nil
        } catch {
            return error
        }
    }

    /// Should read a file under the root, decoding the path.
    @Test func readsFile() throws {
        let dir = try TemporaryDirectory()
        let bytes = pattern(5000)
        try dir.write("photos/a b.jpg", bytes: bytes)
        let r = try read(dir.path, "/photos/a%20b.jpg")
        #expect(r.body == bytes)
        #expect(r.headers.isEmpty)
        #expect(r.duration >= 0)
        // A root given with a trailing slash works the same.
        #expect(try read(dir.path + "/", "/photos/a%20b.jpg").body == bytes)
        // An empty file is a file.
        try dir.write("empty.jpg", bytes: [])
        #expect(try read(dir.path, "/empty.jpg").body == [])
    }

    /// Should answer 404 for a missing file or folder.
    @Test func missing() throws {
        let dir = try TemporaryDirectory()
        #expect(readError(dir.path, "/nope.jpg")?.status == 404)
        #expect(readError(dir.path, "/no/such/dir.jpg")?.status == 404)
    }

    /// Should answer 404 for a directory.
    @Test func directory() throws {
        let dir = try TemporaryDirectory()
        try dir.write("sub/a.jpg", bytes: [1])
        #expect(readError(dir.path, "/sub")?.status == 404)
    }

    /// Should refuse symbolic links that lead outside the root, to a file or through a folder.
    @Test func symlinkOutsideRoot() throws {
        let parent = try TemporaryDirectory()
        let root = parent.appending("root")
        try parent.write("root/inside.jpg", bytes: pattern(10))
        try parent.write("outside/secret.jpg", bytes: Array("secret".utf8))
        // A sibling whose name starts with the root's name must not pass a prefix check.
        try parent.write("root2/secret.jpg", bytes: Array("secret".utf8))
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("file.jpg").path,
                                  withDestinationPath: parent.appending("outside/secret.jpg").path)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("relative.jpg").path,
                                  withDestinationPath: "../outside/secret.jpg")
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("dir").path,
                                  withDestinationPath: parent.appending("outside").path)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("sibling.jpg").path,
                                  withDestinationPath: "../root2/secret.jpg")
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("etc").path, withDestinationPath: "/etc")
        for path in ["/file.jpg", "/relative.jpg", "/dir/secret.jpg", "/sibling.jpg", "/etc/hostname"] {
            let error = readError(root.path, path)
            #expect(error?.status == 404, "\(path) was \(error.map { "\($0.status)" } ?? "read")")
        }
        // A link that stays inside the root is followed.
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("alias.jpg").path, withDestinationPath: "inside.jpg")
        #expect(try read(root.path, "/alias.jpg").body == pattern(10))
        // A dangling link is a missing file.
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("dangling.jpg").path, withDestinationPath: "nothing.jpg")
        #expect(readError(root.path, "/dangling.jpg")?.status == 404)
    }

    /// Should answer 413 for a file over maxBytes, and read one of exactly maxBytes.
    @Test func sizeLimit() throws {
        let dir = try TemporaryDirectory()
        try dir.write("big.jpg", bytes: pattern(10_001))
        try dir.write("exact.jpg", bytes: pattern(10_000))
        #expect(readError(dir.path, "/big.jpg", maxBytes: 10_000)?.status == 413)
        #expect(try read(dir.path, "/exact.jpg", maxBytes: 10_000).body == pattern(10_000))
    }

    /// Should answer 502 when the root itself is missing (a configuration fault, not the client's).
    @Test func missingRoot() throws {
        let dir = try TemporaryDirectory()
        #expect(readError(dir.path + "/not-there", "/a.jpg")?.status == 502)
    }

    /// Should read folder sources through SourceOriginFetcher.
    @Test func folderSource() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("x/y.png", bytes: pattern(77))
        let source = SourceConfig(name: "files", kind: .folder, root: dir.path)
        let path = try SourcePath(raw: "/x/y.png")
        let r = try await offload { () throws(EdgeError) in try SourceOriginFetcher().fetch(source: source, path: path, maxBytes: 100) }
        #expect(r.body == pattern(77))
        let tooBig = await fetchError { () throws(EdgeError) in try SourceOriginFetcher().fetch(source: source, path: path, maxBytes: 76) }
        #expect(tooBig?.status == 413)
    }
}
