import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

/// A real S3 API on loopback (moto's server, SigV4 checked on every request): `Tests/Fixtures/s3/moto_s3.py`, run
/// through `tools/lib/moto-python.sh`, which installs moto on first use.
final class MotoS3: Sendable {
    let process: SpawnedProcess
    let port: Int
    let accessKeyID: String
    let secretAccessKey: String
    static let bucket = "imgedge-test"

    /// Whether moto can run here: installed (or installable from PyPI) by `tools/lib/moto-python.sh`. Checked once.
    static let available: Bool = {
        guard let r = try? SpawnedProcess.run(Corpus.packageRoot.path + "/tools/lib/moto-python.sh", ["-c", "import moto"]) else {
            return false
        }
        return r.status == 0
    }()

    init(files: [String]) async throws {
        let root = Corpus.packageRoot.path
        process = try SpawnedProcess(root + "/tools/lib/moto-python.sh",
                                     [root + "/Tests/Fixtures/s3/moto_s3.py", Self.bucket] + files,
                                     captureStdout: true, captureStderr: false, pipeStdin: true)
        let line = try await process.firstLine()
        struct Started: Decodable { var port: Int; var accessKeyId: String; var secretAccessKey: String }
        guard let started = try? JSONDecoder().decode(Started.self, from: Data(line.utf8)) else {
            process.terminate()
            throw POSIXError(.EIO)
        }
        (port, accessKeyID, secretAccessKey) = (started.port, started.accessKeyId, started.secretAccessKey)
    }

    func stop() async {
        try? process.stdin?.close()
        process.terminate()
        _ = await process.exit()
    }

    /// An `s3` source on this server (`secret` to sign with a wrong one).
    func source(prefix: String = "", secret: String? = nil) -> SourceConfig {
        var s = SourceConfig(name: "bucket", kind: .s3, hosts: ["s3.test"])
        s.s3 = S3Location(bucket: Self.bucket, region: "us-east-1", endpoint: "http://127.0.0.1:\(port)", prefix: prefix,
                          credentials: .init(accessKeyID: accessKeyID, secretAccessKey: secret ?? secretAccessKey))
        s.networkPolicy = .anyUnicast
        return s
    }
}

/// Skipped, and said so, only where moto cannot be installed (no PyPI); tools/test warns about it too.
@Suite(.serialized, .enabled(if: MotoS3.available, "moto (the S3 API server these tests run against) could not be installed"))
struct S3SourceNodeTests {
    static let file = Corpus.root.appendingPathComponent("basics/jpeg_baseline_testorig.jpg").path

    func node(_ s3: MotoS3, _ source: SourceConfig, clock: ManualClock? = nil) async throws -> TestNode {
        try await TestNode.start(clock: clock) { c in c.sources.append(source) }
    }

    /// Should serve an object's variants and the original from a bucket, signed, with and without a key prefix,
    /// and answer a missing key 404.
    @Test func servesObjects() async throws {
        let s3 = try await MotoS3(files: [Self.file])
        defer { Task { await s3.stop() } }
        for source in [s3.source(), s3.source(prefix: "/photos/")] {
            let node = try await node(s3, source)
            let variant = try await node.get("/jpeg_baseline_testorig.jpg?w=50&fm=png", host: "s3.test")
            #expect(variant.status == 200 && variant.header("content-type") == "image/png")
            let original = try await node.get("/jpeg_baseline_testorig.jpg", host: "s3.test")
            #expect(original.status == 200 && original.header("content-type") == "image/jpeg")
            #expect(original.body.count > 1000)
            let missing = try await node.get("/nothing-here.jpg?w=50", host: "s3.test")
            #expect(missing.status == 404)
            await node.stopAll()
        }
    }

    /// Should answer 502 when S3 refuses the signature, saying nothing of S3's reason.
    @Test func wrongSecretIsBadGateway() async throws {
        let s3 = try await MotoS3(files: [Self.file])
        defer { Task { await s3.stop() } }
        let node = try await node(s3, s3.source(secret: "not-the-secret-at-all"))
        defer { Task { await node.stopAll() } }
        for target in ["/jpeg_baseline_testorig.jpg?w=50", "/jpeg_baseline_testorig.jpg"] {
            let r = try await node.get(target, host: "s3.test")
            #expect(r.status == 502)
            #expect(!r.text.contains("Signature") && !r.text.contains("S3"))
        }
    }

    /// Should revalidate a stale variant with S3's ETag and keep it on a 304.
    @Test func revalidatesWithETag() async throws {
        let s3 = try await MotoS3(files: [Self.file])
        defer { Task { await s3.stop() } }
        var source = s3.source()
        source.ttl = 10
        let clock = ManualClock()
        let node = try await node(s3, source, clock: clock)
        defer { Task { await node.stopAll() } }
        let first = try await node.get("/jpeg_baseline_testorig.jpg?w=40", host: "s3.test")
        #expect(first.status == 200 && first.header("x-cache") == "MISS")
        clock.advance(11)
        let again = try await node.get("/jpeg_baseline_testorig.jpg?w=40", host: "s3.test")
        #expect(again.status == 200)
        #expect(again.header("x-cache") == "HIT")
        #expect(again.body == first.body)
        let stats = try await node.stats()
        #expect((stats["revalidations"] as? [String: Int])?["not-modified"] == 1)
    }
}
