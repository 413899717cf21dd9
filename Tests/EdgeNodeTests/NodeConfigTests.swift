import EdgeCore
import EdgeNode
import EdgeTestSupport
import Foundation
import Testing

@Suite struct NodeConfigTests {
    /// Should read every documented key, resolve relative paths against the file's folder and parse units.
    @Test func readsKeys() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path + "/images", withIntermediateDirectories: true)
        let yaml = """
        node: {id: edge-1, defaultSource: local}
        http: {host: 0.0.0.0, port: 9000}
        admin: {port: 9001}
        cache: {path: cache, maxBytes: 512MiB, defaultTTL: 2h}
        limits: {maxSourceBytes: 10MB, maxSourcePixels: 5000000, maxConcurrentTransforms: 3}
        origin: {timeout: 10s, connectTimeout: 500ms}
        sources:
          - {name: local, kind: folder, root: images, hosts: [Img.Example.com]}
          - {name: remote, kind: web, baseURL: "https://origin.example.com/base/", ttl: 1d}
        """
        let c = try NodeConfig.parse(yaml: yaml, baseDirectory: dir.path, environment: [:], cores: 2)
        #expect(c.nodeID == "edge-1")
        #expect(c.httpHost == "0.0.0.0" && c.httpPort == 9000 && c.adminPort == 9001)
        #expect(c.cachePath == dir.path + "/cache")
        #expect(c.cacheMaxBytes == 512 << 20)
        #expect(c.defaultTTL == 7200)
        #expect(c.maxSourceBytes == 10_000_000)
        #expect(c.maxSourcePixels == 5_000_000)
        #expect(c.maxConcurrentTransforms == 3)
        #expect(c.originTimeout == 10 && c.originConnectTimeout == 0.5)
        #expect(c.sources.count == 2)
        #expect(c.sources[0].root == dir.path + "/images")
        #expect(c.sources[0].hosts == ["img.example.com"])
        #expect(c.sources[1].baseURL == "https://origin.example.com/base")
        #expect(c.sources[1].ttl == 86_400)
    }

    /// Should read the connection limits: `http.headerTimeout` and `http.maxConnections` (none: derived from the
    /// open-file limit at start), `limits.maxConnections` as the former name, and refuse values out of range.
    @Test func connectionKeys() throws {
        let plain = try NodeConfig.parse(yaml: "cache: {path: /tmp/x}\n", baseDirectory: "/etc", environment: [:])
        #expect(plain.headerTimeout == 10 && plain.maxConnections == nil)
        let c = try NodeConfig.parse(yaml: "http: {headerTimeout: 3s, maxConnections: 500}\ncache: {path: /tmp/x}\n",
                                     baseDirectory: "/etc", environment: [:])
        #expect(c.headerTimeout == 3 && c.maxConnections == 500)
        let former = try NodeConfig.parse(yaml: "limits: {maxConnections: 7}\ncache: {path: /tmp/x}\n", baseDirectory: "/etc", environment: [:])
        #expect(former.maxConnections == 7)
        let keys = Set(problems("http: {headerTimeout: soon, maxConnections: 0}\n").map(\.key))
        #expect(keys.isSuperset(of: ["http.headerTimeout", "http.maxConnections"]), "\(keys)")
    }

    /// Should let IMGEDGE_SECTION_KEY environment variables override the file.
    @Test func environmentOverrides() throws {
        let yaml = "http: {port: 8080}\ncache: {path: /tmp/x}\n"
        let c = try NodeConfig.parse(yaml: yaml, baseDirectory: "/etc", environment: ["IMGEDGE_HTTP_PORT": "8090",
                                                                                      "IMGEDGE_CACHE_MAXBYTES": "2GiB"])
        #expect(c.httpPort == 8090)
        #expect(c.cacheMaxBytes == 2 << 30)
        #expect(throws: ConfigError.self) {
            try NodeConfig.parse(yaml: yaml, baseDirectory: "/etc", environment: ["IMGEDGE_HTTP_PORT": "eighty"])
        }
    }

    /// Should report every problem at once, each naming its key.
    @Test func reportsEveryProblem() throws {
        let yaml = """
        http: {port: 99999, colour: blue}
        cache: {maxBytes: lots}
        surprise: 1
        node: {defaultSource: ghost}
        sources:
          - {name: a, kind: ftp}
          - {name: b, kind: web}
          - {name: c, kind: folder, root: /definitely/not/here}
          - {kind: web, baseURL: "file:///etc/passwd"}
        """
        let found = problems(yaml)
        let keys = Set(found.map(\.key))
        for k in ["http.port", "http.colour", "cache.maxBytes", "surprise", "node.defaultSource", "sources[0].kind",
                  "sources[1].baseURL", "sources[2].root", "sources[3].name", "sources[3].baseURL"] {
            #expect(keys.contains(k), "missing a problem for \(k): \(found)")
        }
        #expect(found.first { $0.key == "http.colour" }?.message == "unknown key")
    }

    /// Should read customers (no field beyond id, name, email, company, plan), check that sources and customer keys
    /// name configured customers, and read the sources' metadata permissions.
    @Test func customersAndPermissions() throws {
        let yaml = """
        customers:
          - {id: acme, name: Acme, email: ops@acme.test, company: Acme Ltd, plan: pro}
        admin:
          keys:
            - {id: k, secret: 'acme-customer-secret-01', scope: 'customer:acme'}
        sources:
          - {name: a, kind: web, baseURL: 'http://x', customer: acme, exposeLocation: true, allowIPTC: true}
        """
        let c = try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: [:])
        #expect(c.customers == [CustomerConfig(id: "acme", name: "Acme", email: "ops@acme.test", company: "Acme Ltd", plan: "pro")])
        #expect(c.sources[0].exposeLocation && c.sources[0].allowIPTC)
        let bad = """
        customers:
          - {id: acme, cardNumber: '4111111111111111'}
          - {id: acme}
          - {name: nobody}
        admin:
          keys:
            - {id: k, secret: 'ghost-customer-secret-01', scope: 'customer:ghost'}
        sources:
          - {name: a, kind: web, baseURL: 'http://x', customer: ghost}
        """
        let found = problems(bad)
        let keys = Set(found.map(\.key))
        for k in ["customers[0].cardNumber", "customers[1].id", "customers[2].id", "admin.keys[0].scope", "sources[0].customer"] {
            #expect(keys.contains(k), "\(k): \(found)")
        }
    }

    /// Should read gossip.* (peers from YAML or a comma-separated environment variable) and report bad values.
    @Test func gossipKeys() throws {
        let yaml = """
        gossip: {host: 10.0.0.5, port: 7000, peers: ['10.0.0.6:7000', 'edge-b.internal:7946'], secret: 'cluster-secret-000001', syncTimeout: 2s}
        sources:
          - {name: a, kind: web, baseURL: 'http://x'}
        """
        let c = try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: [:])
        #expect(c.gossip.address == "10.0.0.5:7000")
        #expect(c.gossip.peers == ["10.0.0.6:7000", "edge-b.internal:7946"])
        #expect(c.gossip.syncTimeout == 2 && c.gossip.lossRate == 0)
        let env = try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: ["IMGEDGE_GOSSIP_PEERS": "a:1, b:2"])
        #expect(env.gossip.peers == ["a:1", "b:2"])
        let bad = "gossip: {host: 0.0.0.0, peers: ['nohost', 'x:99999'], secret: short, lossRate: 1.5}\nsources: []\n"
        let found = problems(bad)
        let keys = found.map(\.key)
        #expect(keys.filter { $0 == "gossip.peers" }.count == 2)
        for k in ["gossip.host", "gossip.secret", "gossip.lossRate"] { #expect(keys.contains(k), "\(k): \(found)") }
        let noSecret = "gossip: {peers: ['a:1']}\nsources: []\n"
        #expect(throws: ConfigError.self) { try NodeConfig.parse(yaml: noSecret, baseDirectory: "/", environment: [:]) }
    }

    /// Should read cluster.* (peer fill), off unless cluster.port is set, and refuse it without gossip.
    @Test func clusterKeys() throws {
        let base = "gossip: {secret: 'cluster-secret-000001'}\nsources: []\n"
        let off = try NodeConfig.parse(yaml: base, baseDirectory: "/", environment: [:])
        #expect(!off.cluster.isEnabled && off.cluster.weight == 1 && off.cluster.peerTimeout == 0.2 && off.cluster.storeCopies)
        let on = try NodeConfig.parse(yaml: base + "cluster: {port: 7947, weight: 2.5, peerTimeout: 150ms, storeCopies: false}\n",
                                      baseDirectory: "/", environment: [:])
        #expect(on.cluster == {
            var c = ClusterSettings()
            c.port = 7947
            c.weight = 2.5
            c.peerTimeout = 0.15
            c.storeCopies = false
            return c
        }())
        let env = try NodeConfig.parse(yaml: base, baseDirectory: "/", environment: ["IMGEDGE_CLUSTER_PORT": "9000"])
        #expect(env.cluster.port == 9000)
        let keys = problems("cluster: {port: 7947, weight: -1, peerTimeout: soon}\nsources: []\n").map(\.key)
        for k in ["cluster.port", "cluster.weight", "cluster.peerTimeout"] { #expect(keys.contains(k), "\(k): \(keys)") }
        #expect(problems(base + "cluster: {port: 7946}\n").map(\.key) == ["cluster.port"], "the gossip port")
    }

    /// Should read cache.shared (an S3 bucket, its keys as an s3 source's, and timeout), with the gossip retention as
    /// its horizon, and refuse what is not a bucket.
    @Test func sharedTierKeys() throws {
        let yaml = """
        cache: {shared: {kind: s3, bucket: results, region: eu-west-1, endpoint: 'http://minio:9000', prefix: variants,
                         accessKeyId: AK, secretAccessKey: SK, timeout: 300ms}}
        gossip: {retention: 2h}
        sources: []
        """
        let c = try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: [:])
        let shared = try #require(c.shared)
        #expect(shared.location == S3Location(bucket: "results", region: "eu-west-1", endpoint: "http://minio:9000",
                                              prefix: "variants", credentials: .init(accessKeyID: "AK", secretAccessKey: "SK")))
        #expect(shared.timeout == 0.3 && shared.horizon == 7200)
        #expect(try NodeConfig.parse(yaml: "sources: []\n", baseDirectory: "/", environment: [:]).shared == nil)
        for (bad, key) in [("{kind: web, bucket: b, region: r}", "cache.shared.kind"), ("{kind: s3, region: r}", "cache.shared.bucket"),
                           ("{kind: s3, bucket: b, region: r, prefix: a/b}", "cache.shared.prefix"),
                           ("{kind: s3, bucket: b, region: r, colour: red}", "cache.shared.colour"), ("yes", "cache.shared")] {
            #expect(problems("cache: {shared: \(bad)}\nsources: []\n").map(\.key).contains(key), "\(bad)")
        }
    }

    /// Should read log.access (relative to the file) and log.accessMaxBytes.
    @Test func accessLogKeys() throws {
        let yaml = "log: {access: logs/access.log, accessMaxBytes: 1MiB}\nsources: []\n"
        let c = try NodeConfig.parse(yaml: yaml, baseDirectory: "/etc/imgedge", environment: [:])
        #expect(c.accessLogPath == "/etc/imgedge/logs/access.log" && c.accessLogMaxBytes == 1 << 20)
        let off = try NodeConfig.parse(yaml: "log: {access: ''}\nsources: []\n", baseDirectory: "/", environment: [:])
        #expect(off.accessLogPath == nil)
    }

    /// Should read admin.keys (secret as itself or as sha256:<hex>) and report every bad key by its path.
    @Test func adminKeys() throws {
        let digest = String(repeating: "ab", count: 32)
        let yaml = """
        admin:
          keys:
            - {id: ops, secret: 'operator-secret-0000001', scope: operator}
            - {id: acme, secret: 'sha256:\(digest)', scope: 'customer:acme'}
        sources:
          - {name: a, kind: web, baseURL: 'http://x'}
        """
        let config = try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: [:])
        #expect(config.adminKeys.map(\.id) == ["ops", "acme"])
        #expect(config.adminKeys[1].scope == .customer("acme"))
        let bad = """
        admin:
          keys:
            - {id: a, secret: short, scope: operator}
            - {id: a, secret: 'operator-secret-0000001', scope: root}
            - {secret: 'operator-secret-0000001', scope: operator, extra: 1}
        sources:
          - {name: a, kind: web, baseURL: 'http://x'}
        """
        let found = problems(bad)
        let keys = Set(found.map(\.key))
        for k in ["admin.keys[0].secret", "admin.keys[1].id", "admin.keys[1].scope", "admin.keys[2].id", "admin.keys[2].extra"] {
            #expect(keys.contains(k), "\(k)")
        }
    }

    /// Should read a source's keepMetadata (default false) and refuse a value that is not a boolean.
    @Test func keepMetadata() throws {
        let yaml = "sources:\n  - {name: a, kind: web, baseURL: 'http://x', keepMetadata: true}\n  - {name: b, kind: web, baseURL: 'http://y'}\n"
        let config = try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: [:])
        #expect(config.sources.map(\.keepMetadata) == [true, false])
        #expect(throws: ConfigError.self) {
            try NodeConfig.parse(yaml: "sources:\n  - {name: a, kind: web, baseURL: 'http://x', keepMetadata: maybe}\n",
                                 baseDirectory: "/", environment: [:])
        }
    }

    /// Should parse sizes and durations in the units the contract names.
    @Test func units() {
        #expect(Units.bytes("512MiB") == 512 << 20)
        #expect(Units.bytes("1GiB") == 1 << 30)
        #expect(Units.bytes("64MB") == 64_000_000)
        #expect(Units.bytes("1000") == 1000)
        #expect(Units.bytes("-1") == nil)
        #expect(Units.bytes("lots") == nil)
        #expect(Units.seconds("30s") == 30)
        #expect(Units.seconds("5m") == 300)
        #expect(Units.seconds("1d") == 86_400)
        #expect(Units.seconds("250ms") == 0.25)
        #expect(Units.seconds("soon") == nil)
    }

    /// Should accept the shipped demo configuration.
    @Test func demoConfigIsValid() throws {
        let file = Corpus.packageRoot.appendingPathComponent("conf/imgedge.yaml").path
        let c = try NodeConfig.load(file: file, environment: [:])
        #expect(c.defaultSource == "demo")
        #expect(c.httpPort == 8080)
    }

    /// Should refuse, not trap on, what Yams parses but its constructor would trap on: a list or mapping as a
    /// mapping key (also in a `!!set`), a base-60 integer beyond `Int` (and read one within it as before). Found by
    /// FuzzConfig: its input is Fuzz/Config/regressions/crash-9c295298ad950738b48647732c95959a9f14894a.
    @Test func refusesWhatYamsWouldTrapOn() throws {
        let found = try String(contentsOf: Corpus.packageRoot.appendingPathComponent(
            "Fuzz/Config/regressions/crash-9c295298ad950738b48647732c95959a9f14894a"), encoding: .utf8)
        let key = "a mapping key must be a plain value, not a list or mapping", big = " is too large an integer"
        let cases: [(yaml: String, message: String)] = [
            (found, key + " (line 9)"),
            ("? [a]\n: b\n", key + " (line 1)"),
            ("http: !!set {a, [b]}\n", key + " (line 1)"),
            ("http: {port: 9223372036854775807:00}\n", "9223372036854775807:00" + big),
            ("http: {port: 1:00:00:00:00:00:00:00:00:00:00}\n", "1" + String(repeating: ":00", count: 10) + big),
            ("http: {port: !!int -+0:-9223372036854775808}\n", "-+0:-9223372036854775808" + big),
        ]
        for c in cases {
            #expect(problems(c.yaml).map(\.description) == ["(file): " + c.message], "\(c.yaml)")
        }
        #expect(try NodeConfig.parse(yaml: "http: {port: 2:30}\n", baseDirectory: "/", environment: [:]).httpPort
                == 150)
    }

    /// Should refuse, before Yams composes it, a document nested deeper than 64 (Yams recurses: found by FuzzConfig,
    /// 3,000 `{` overflowed the stack) or holding more than 100,000 values once aliases are expanded (aliases of
    /// aliases grow exponentially); read anchors and aliases, and 64 levels, as before.
    @Test func refusesDeepOrExplodingDocuments() throws {
        // Read as the fuzz target reads it (bytes as UTF-8, invalid ones replaced).
        let found = String(decoding: try Data(contentsOf: Corpus.packageRoot.appendingPathComponent(
            "Fuzz/Config/regressions/crash-4480d9938dec7abecc6f3cc9532b5e4041fa2e75")), as: UTF8.self)
        #expect(problems(found).map(\.description) == ["(file): nested more than 64 deep"])
        let deep = { (n: Int) in "x: " + String(repeating: "[", count: n) + String(repeating: "]", count: n) + "\n" }
        #expect(problems(deep(65)).map(\.description) == ["(file): nested more than 64 deep"])
        #expect(!problems(deep(63)).map(\.description).contains { $0.contains("nested") })
        var laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...6 { laughs += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        #expect(problems(laughs).map(\.description) == ["(file): more than 100000 values with aliases expanded"])
        let anchored = "http: &h {port: 8088}\nadmin: {port: 9099}\nx: *h\n"
        #expect(!problems(anchored).map(\.description).contains { $0.contains("(file)") })
    }

    /// Should read an `s3` source: bucket and region required, credentials from the file or the AWS_* environment,
    /// endpoint checked, keys of other kinds refused.
    @Test func s3Sources() throws {
        let yaml = """
        sources:
          - {name: b, kind: s3, bucket: photos, region: eu-west-3, prefix: site/, accessKeyId: AK, secretAccessKey: SK}
          - {name: c, kind: s3, bucket: other, region: us-east-1, endpoint: "http://127.0.0.1:9000", allowPrivateNetwork: true}
        """
        let c = try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: ["AWS_ACCESS_KEY_ID": "EK", "AWS_SECRET_ACCESS_KEY": "ES"])
        #expect(c.sources[0].s3 == S3Location(bucket: "photos", region: "eu-west-3", prefix: "site",
                                              credentials: .init(accessKeyID: "AK", secretAccessKey: "SK")))
        #expect(c.sources[1].s3?.credentials == .init(accessKeyID: "EK", secretAccessKey: "ES"))
        #expect(c.sources[1].s3?.pathStyle == true)
        #expect(try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: [:]).sources[1].s3?.credentials == nil)
        #expect(problems("sources: [{name: b, kind: s3}]").map(\.description)
                == ["sources[0].bucket: required for an s3 source", "sources[0].region: required for an s3 source (us-east-1 for most compatibles)"])
        #expect(problems("sources: [{name: b, kind: s3, bucket: x, region: r, endpoint: 'ftp://h', accessKeyId: a, baseURL: 'http://h'}]")
            .map(\.description) == ["sources[0].endpoint: must be an http:// or https:// URL with no path",
                                    "sources[0].secretAccessKey: required with accessKeyId",
                                    "sources[0].baseURL: not for an s3 source"])
        #expect(problems("sources: [{name: w, kind: web, baseURL: 'http://h', bucket: x}]").map(\.description)
                == ["sources[0].bucket: only for s3 sources"])
    }

    /// Should read `cache.originalsBytes` (0 turns the tier off) and refuse a bound too small to hold an original.
    @Test func originalsBytes() throws {
        #expect(try NodeConfig.parse(yaml: "", baseDirectory: "/").originalsBytes == 256 << 20)
        #expect(try NodeConfig.parse(yaml: "cache: {originalsBytes: 2GiB}\n", baseDirectory: "/").originalsBytes == 2 << 30)
        #expect(try NodeConfig.parse(yaml: "cache: {originalsBytes: 0}\n", baseDirectory: "/").originalsBytes == 0)
        #expect(problems("cache: {originalsBytes: 1000}\n").map(\.description)
                == ["cache.originalsBytes: must be 0 (off) or at least 1MiB"])
    }

    /// The problems parsing `yaml` reports (an issue is recorded when it parses without any).
    func problems(_ yaml: String) -> [ConfigProblem] {
        do {
            _ = try NodeConfig.parse(yaml: yaml, baseDirectory: "/", environment: [:])
            Issue.record("expected a ConfigError")
            return []
        } catch let e as ConfigError {
            return e.problems
        } catch {
            Issue.record("unexpected \(error)")
            return []
        }
    }
}

/// `https.*`: listener keys, and every problem with the certificate files reported at once.
@Suite struct HTTPSConfigTests {
    /// Should read the listener, its certificates (paths resolved against the file's folder), HSTS, the reload
    /// interval and the redirect.
    @Test func readsKeys() throws {
        let certs = try TestCertificates()
        try certs.issue("images", hosts: ["images.example.com"])
        try certs.issue("cdn", hosts: ["*.cdn.example.com"], key: .rsa)
        let yaml = """
        http: {redirectToHTTPS: true}
        https:
          host: 0.0.0.0
          port: 9443
          hsts: max-age=31536000
          reloadInterval: 5m
          certificates:
            - {cert: images.pem, key: images.key, hosts: [images.example.com]}
            - {cert: cdn.pem, key: cdn.key, hosts: ["*.cdn.example.com"]}
        """
        let c = try NodeConfig.parse(yaml: yaml, baseDirectory: certs.dir.path, environment: [:], cores: 2)
        #expect(c.https.host == "0.0.0.0" && c.https.port == 9443 && c.https.isEnabled)
        #expect(c.https.certificates.map(\.cert) == [certs.dir.path + "/images.pem", certs.dir.path + "/cdn.pem"])
        #expect(c.https.certificates[1].hosts == ["*.cdn.example.com"])
        #expect(c.https.hsts == "max-age=31536000" && c.https.reloadInterval == 300 && c.redirectToHTTPS)
        #expect(c.httpEnabled)
    }

    /// Should report a missing file, a file that is not PEM, a key that is not the certificate's, an expired
    /// certificate and a host listed twice — all in one go, each under its entry.
    @Test func reportsEveryCertificateProblem() throws {
        let certs = try TestCertificates()
        try certs.issue("good", hosts: ["a.example.com"])
        try certs.issue("other", hosts: ["b.example.com"])
        try certs.issue("old", hosts: ["c.example.com"], notBefore: Date().addingTimeInterval(-86_400 * 10),
                        notAfter: Date().addingTimeInterval(-86_400))
        try "garbage".write(toFile: certs.dir.path + "/garbage.pem", atomically: true, encoding: .utf8)
        let yaml = """
        https:
          certificates:
            - {cert: missing.pem, key: good.key, hosts: [a.example.com]}
            - {cert: garbage.pem, key: good.key}
            - {cert: good.pem, key: other.key, hosts: [A.example.com]}
            - {cert: old.pem, key: old.key}
            - {key: good.key, colour: red}
            - {cert: good.pem, key: good.key, hosts: ["*.*.example.com"]}
        http: {enabled: false}
        """
        let error = try #require(throws: ConfigError.self) {
            try NodeConfig.parse(yaml: yaml, baseDirectory: certs.dir.path, environment: [:], cores: 2)
        }
        let text = error.problems.map(\.description)
        func has(_ key: String, _ fragment: String) -> Bool { text.contains { $0.hasPrefix(key + ":") && $0.contains(fragment) } }
        #expect(has("https.certificates[0]", "missing.pem does not exist"), "\(text)")
        #expect(has("https.certificates[1]", "holds no PEM certificate"), "\(text)")
        #expect(has("https.certificates[2]", "is not the key of the certificate"), "\(text)")
        #expect(has("https.certificates[3]", "expired on"), "\(text)")
        #expect(has("https.certificates[4].cert", "required") && has("https.certificates[4].colour", "unknown key"), "\(text)")
        #expect(has("https.certificates[5].hosts", "is not a host name"), "\(text)")
        #expect(has("https.certificates", "host a.example.com is listed by more than one certificate"), "\(text)")
        #expect(!text.contains { $0.hasPrefix("http.enabled") }, "certificates are given, so HTTPS is on: \(text)")
    }

    /// Should refuse a redirect to HTTPS, or no clear listener, when there is no HTTPS listener.
    @Test func redirectNeedsHTTPS() throws {
        let error = try #require(throws: ConfigError.self) {
            try NodeConfig.parse(yaml: "http: {redirectToHTTPS: true, enabled: false}", baseDirectory: "/tmp", environment: [:])
        }
        #expect(error.problems.map(\.key).sorted() == ["http.enabled", "http.redirectToHTTPS"])
    }
}
