import EdgeCore
import EdgeNode
import EdgePrivacy
import EdgeTestSupport
import Foundation
import Testing

/// The shared result tier (`cache.shared`) against a real S3 API (moto, SigV4 checked): variants written through
/// after a fill and read by another node before the origin, purges applied to what is read, sweeps deleting what
/// purges cover. Skipped, and said so, only where moto cannot be installed.
@Suite(.serialized, .enabled(if: MotoS3.available, "moto (the S3 API server these tests run against) could not be installed"))
struct SharedTierNodeTests {
    static func shared(_ s3: MotoS3) -> SharedTierSettings {
        SharedTierSettings(location: S3Location(bucket: MotoS3.bucket, region: "us-east-1", endpoint: "http://127.0.0.1:\(s3.port)",
                                                prefix: "variants",
                                                credentials: .init(accessKeyID: s3.accessKeyID, secretAccessKey: s3.secretAccessKey)))
    }

    static func node(_ s3: MotoS3, origin: TestOrigin) async throws -> TestNode {
        try await TestNode.start(origin: origin) { c in
            c.shared = shared(s3)
            c.sweepInterval = 0.1
            c.adminKeys = [AdminKey(id: "ops", secret: PurgeNodeTests.operatorSecret, scope: .operator)!]
        }
    }

    static func sharedCounts(_ node: TestNode, _ group: String) async throws -> [String: Int] {
        ((try await node.stats()["shared"] as? [String: Any])?[group] as? [String: Int]) ?? [:]
    }

    static func waitWrites(_ node: TestNode, _ n: Int) async throws {
        _ = try await node.stats { s in (((s["shared"] as? [String: Any])?["writes"] as? [String: Int])?["ok"] ?? 0) >= n }
    }

    /// Should serve a new node from what another node wrote through, refuse what a purge covers, and sweep it away.
    @Test func newNodeWarmsFromTheSharedTier() async throws {
        let s3 = try await MotoS3(files: [])
        defer { Task { await s3.stop() } }
        let origin = try await TestOrigin.start()
        defer { Task { try? await origin.shutdown() } }
        for p in ["/a.jpg", "/b.jpg"] { origin.route(p, body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=3600")]) }
        let first = try await Self.node(s3, origin: origin)
        let made = try await first.get("/a.jpg?w=20")
        #expect(made.status == 200 && made.header("x-cache") == "MISS")
        _ = try await first.get("/b.jpg?w=20")
        try await Self.waitWrites(first, 2)
        #expect(try await Self.sharedCounts(first, "writes")["ok"] == 2)
        await first.stop()

        // A new node (its own empty cache) is served by the shared tier, not the origin.
        let second = try await Self.node(s3, origin: origin)
        defer { Task { await second.stop() } }
        let warmed = try await second.get("/a.jpg?w=20")
        #expect(warmed.status == 200 && warmed.body == made.body)
        #expect(warmed.header("server-timing")?.contains("shared;") == true)
        #expect(origin.count("/a.jpg") == 1)
        #expect(try await second.get("/a.jpg?w=20").header("x-cache") == "HIT")
        #expect(try await Self.sharedCounts(second, "reads")["hit"] == 1)

        // Purged here: the object the first node wrote before the purge is not used, and the sweep deletes it.
        #expect(try await PurgeNodeTests.purge(second, #"{"url": "http://web.test/b.jpg"}"#).status == 202)
        let sweeps = try await second.stats { s in
            (((s["shared"] as? [String: Any])?["sweeps"] as? [String: Int])?["deleted"] ?? 0) >= 1
        }
        #expect(((sweeps["shared"] as? [String: Any])?["sweeps"] as? [String: Int])?["deleted"] == 1)
        let third = try await Self.node(s3, origin: origin)
        defer { Task { await third.stop() } }
        let remade = try await third.get("/b.jpg?w=20")
        #expect(remade.status == 200 && remade.header("server-timing")?.contains("shared;") != true)
        #expect(origin.count("/b.jpg") == 2)
        #expect(try await Self.sharedCounts(third, "reads")["miss"] == 1)
        // On the node that knows the purge, even an object written before it that a sweep has not reached yet is
        // refused: the first node's copy of /a.jpg, purged now.
        #expect(try await PurgeNodeTests.purge(third, #"{"url": "http://web.test/a.jpg"}"#).status == 202)
        let refused = try await third.get("/a.jpg?w=20")
        #expect(refused.status == 200 && refused.header("server-timing")?.contains("shared;") != true)
        #expect(origin.count("/a.jpg") == 2)
    }
}

/// A shared tier that does not answer, or answers nothing but errors, costs a miss its timeout at most and never
/// fails a request.
@Suite struct SharedTierFailureTests {
    @Test func slowOrFailingBucketNeverFailsARequest() async throws {
        let bucket = try await TestOrigin.start()
        defer { Task { try? await bucket.shutdown() } }
        bucket.hold("/imgedge-test/variants/*")
        for (endpoint, hold) in [("http://127.0.0.1:\(bucket.port)", true), ("http://127.0.0.1:1", false)] {
            let node = try await TestNode.start { c in
                var settings = SharedTierSettings(location: S3Location(
                    bucket: "imgedge-test", region: "us-east-1", endpoint: endpoint, prefix: "variants",
                    credentials: .init(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")))
                settings.timeout = 0.2
                c.shared = settings
            }
            node.origin.route("/a.jpg", body: photo, headers: jpegHeaders + [("Cache-Control", "max-age=3600")])
            let r = try await node.get("/a.jpg?w=20")
            #expect(r.status == 200 && r.header("x-cache") == "MISS")
            #expect(try await node.get("/a.jpg?w=20").header("x-cache") == "HIT")
            let reads = ((try await node.stats()["shared"] as? [String: Any])?["reads"] as? [String: Int]) ?? [:]
            #expect(reads["error"] == 1, "\(endpoint): \(reads)")
            if hold { #expect(bucket.totalRequests >= 1) }
            await node.stopAll()
        }
        bucket.release()
    }
}
