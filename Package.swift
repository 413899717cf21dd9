// swift-tools-version:6.1
import PackageDescription

// Strict layering: adapters (Imaging, Store, Origin) import only EdgeCore and their own C module;
// EdgeNode wires them together; the executable holds @main only.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "imgedge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "imgedge", targets: ["imgedge"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // MARK: C libraries
        .systemLibrary(name: "CVipsLib", path: "Sources/CVipsLib", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .target(name: "CVips", dependencies: ["CVipsLib"], path: "Sources/CVips"),
        .systemLibrary(name: "CCurlLib", path: "Sources/CCurlLib", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CCurl", dependencies: ["CCurlLib"], path: "Sources/CCurl"),
        .systemLibrary(name: "CLMDB", path: "Sources/CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CSealedFile", path: "Sources/CSealedFile"),

        // MARK: Swift modules
        .target(name: "EdgeCore", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: strict),
        .target(name: "EdgePrivacy", dependencies: [
            "EdgeCore",
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: strict),
        .target(name: "EdgeGossip", dependencies: [
            "EdgeCore",
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: strict),
        .target(name: "EdgeImaging", dependencies: ["EdgeCore", "CVips", "CVipsLib"], swiftSettings: strict),
        .target(name: "EdgeStore", dependencies: ["EdgeCore", "CLMDB", "CZlib"], swiftSettings: strict),
        .target(name: "EdgeOrigin", dependencies: ["EdgeCore", "CCurl", "CCurlLib"], swiftSettings: strict),
        .target(name: "EdgeNode", dependencies: [
            "EdgeCore", "EdgePrivacy", "EdgeImaging", "EdgeStore", "EdgeOrigin", "EdgeGossip", "CSealedFile",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            .product(name: "NIOHPACK", package: "swift-nio-http2"),
            .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], swiftSettings: strict),
        .executableTarget(name: "imgedge", dependencies: [
            "EdgeNode", "EdgeCore", "EdgePrivacy",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // What tests and benchmarks run the product against, never part of it: plain LRU (the baseline S3-FIFO is
        // measured against) and a simulated network of gossip state machines. Only test targets and EdgeBench depend
        // on it; a product module that did would ship simulation code in the node.
        .target(name: "EdgeSimulation", dependencies: ["EdgeCore", "EdgeGossip"], swiftSettings: strict),
        // Offline benchmarks of EdgeCore's pure parts and the LMDB store (tools/bench/eviction, churn), and the bare-NIO
        // floor servers tools/bench/hit and tools/bench/h2 compare against (the latter with the node's TLS write
        // batching, so that the node and its floor differ by the node's own work alone); not a product.
        .executableTarget(name: "EdgeBench", dependencies: [
            "EdgeCore", "EdgeStore", "EdgeGossip", "EdgeSimulation", "EdgeNode", "EdgeImaging",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"),
        ], swiftSettings: strict),

        // MARK: Tests
        .target(name: "EdgeTestSupport", dependencies: [
            "EdgeCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], path: "Tests/EdgeTestSupport", swiftSettings: strict),
        .testTarget(name: "EdgeCoreTests", dependencies: ["EdgeCore", "EdgeSimulation", "EdgeTestSupport"], swiftSettings: strict),
        .testTarget(name: "EdgePrivacyTests", dependencies: ["EdgePrivacy", "EdgeCore", "EdgeTestSupport"], swiftSettings: strict),
        .testTarget(name: "EdgeGossipTests", dependencies: ["EdgeGossip", "EdgeCore", "EdgeSimulation"], swiftSettings: strict),
        .testTarget(name: "EdgeImagingTests", dependencies: ["EdgeImaging", "EdgeCore", "EdgeTestSupport"], swiftSettings: strict),
        .testTarget(name: "EdgeStoreTests", dependencies: ["EdgeStore", "EdgeCore", "EdgeTestSupport"], swiftSettings: strict),
        .testTarget(name: "EdgeOriginTests", dependencies: ["EdgeOrigin", "EdgeCore", "EdgeTestSupport"], swiftSettings: strict),
        .testTarget(name: "EdgeNodeTests", dependencies: [
            "EdgeNode", "EdgeCore", "EdgeGossip", "EdgeStore", "EdgeTestSupport",
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (tools/fuzz NAME SECONDS), in the package only when IMGEDGE_FUZZ is set: each holds nothing but
// `LLVMFuzzerTestOneInput`, which links only under `--sanitize=fuzzer` (an ordinary build would find no `main`).
if Context.environment["IMGEDGE_FUZZ"] != nil {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency], exclude: [String])] = [
        ("TransformParser", ["EdgeCore"], []),
        ("CacheEntry", ["EdgeCore"], []),
        ("Signature", ["EdgePrivacy", "EdgeCore"], ["regressions"]),
        ("Config", ["EdgeNode"], ["regressions"]),
        ("GossipCodec", ["EdgeGossip"], []),
        ("PeerAnswer", ["EdgeCore"], []),
        ("RequestDecoder", ["EdgeNode", .product(name: "NIOCore", package: "swift-nio")], []),
    ]
    for target in fuzzTargets {
        package.targets.append(.executableTarget(name: "Fuzz\(target.name)", dependencies: target.dependencies,
                                                 path: "Fuzz/\(target.name)", exclude: ["seeds", "dict"] + target.exclude))
        package.products.append(.executable(name: "Fuzz\(target.name)", targets: ["Fuzz\(target.name)"]))
    }
}
