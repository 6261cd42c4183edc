// Package benchmarks (ordo-one/benchmark): `ENABLE_BENCHMARKS=1 swift package benchmark`. Gated so that the
// test build and CI do not compile the benchmark framework.
import Foundation
// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "petrel",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "petrel", targets: ["petrel"]),
        // The benchmarks (`petrel-bench`), apart so that the shipped binary does not carry them.
        .executable(name: "petrel-bench", targets: ["petrel-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
    ],
    targets: [
        .target(
            name: "PetrelCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PetrelAPI",
            dependencies: [
                "PetrelCore", "PetrelStore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PetrelStore",
            dependencies: [
                "PetrelCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PetrelSMPP",
            dependencies: [
                "PetrelCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PetrelDelivery",
            dependencies: [
                "PetrelCore",
                "PetrelStore",
                "PetrelSMPP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PetrelServer",
            dependencies: [
                "PetrelCore", "PetrelAPI", "PetrelStore", "PetrelDelivery", "PetrelSMPP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "petrel",
            dependencies: [
                "PetrelServer", "PetrelStore", "PetrelCore", "PetrelAPI", "PetrelSMPP", "PetrelDelivery",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "petrel-bench",
            dependencies: [
                "PetrelServer", "PetrelStore", "PetrelCore", "PetrelAPI", "PetrelDelivery",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PetrelCoreTests", dependencies: ["PetrelCore"], swiftSettings: swiftSettings),
        .testTarget(name: "PetrelAPITests", dependencies: ["PetrelAPI", "PetrelStore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PetrelStoreTests",
            dependencies: ["PetrelStore", .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PetrelSMPPTests",
            dependencies: [
                "PetrelSMPP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PetrelDeliveryTests",
            dependencies: [
                "PetrelDelivery", "PetrelStore", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PetrelServerTests",
            dependencies: [
                "PetrelServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

if ProcessInfo.processInfo.environment["ENABLE_BENCHMARKS"] != nil {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"])
    )
    package.targets.append(
        .executableTarget(
            name: "SMPPBenchmarks",
            dependencies: [
                "PetrelSMPP",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/SMPPBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
}

// libFuzzer targets: `scripts/fuzz.sh` builds them with `--sanitize=fuzzer --sanitize=address` and runs them on
// the committed corpus. Gated so that ordinary builds do not compile them.
if ProcessInfo.processInfo.environment["ENABLE_FUZZING"] != nil {
    package.targets += [
        .executableTarget(
            name: "FuzzSMPP",
            dependencies: ["PetrelSMPP", .product(name: "NIOCore", package: "swift-nio")],
            path: "Fuzz/SMPP"
        ),
        .executableTarget(name: "FuzzRPC", dependencies: ["PetrelAPI"], path: "Fuzz/RPC"),
        .executableTarget(name: "FuzzJSONArrays", dependencies: ["PetrelAPI"], path: "Fuzz/JSONArrays"),
        .executableTarget(name: "FuzzCSV", dependencies: ["PetrelCore"], path: "Fuzz/CSV"),
        // Multipart.swift is linked in from PetrelAPI: the parser alone, without PetrelAPI's store and crypto.
        .executableTarget(name: "FuzzMultipart", path: "Fuzz/Multipart"),
        // The door's parser, framer and state machine: their source files, linked into Fuzz/HTTP (not PetrelServer).
        .executableTarget(
            name: "FuzzHTTP",
            dependencies: ["PetrelAPI", "PetrelCore", .product(name: "NIOCore", package: "swift-nio")],
            path: "Fuzz/HTTP"
        ),
    ]
}
