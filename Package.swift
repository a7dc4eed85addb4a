// swift-tools-version:6.1
import PackageDescription

let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

// Dependencies point one way: SentraCore (domain, no I/O) at the bottom, the C wrappers
// beside it, the daemon composition on top, and thin executables above everything.
let package = Package(
    name: "sentra",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sentrad", targets: ["sentrad"]),
        .executable(name: "sentractl", targets: ["sentractl"]),
        .executable(name: "sentra-sim", targets: ["sentra-sim"]),
        .executable(name: "sentra-bench", targets: ["sentra-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // C libraries: one module each, wrapped by exactly one Swift target.
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),

        // The hot path (every reading) lives in these two; dynamic exclusivity checks on their
        // class and global state cost ~8% of a reading (measured with perf, BENCHMARKS.md).
        .target(name: "SentraCore", swiftSettings: hotPath),
        .target(name: "SentraConfig", dependencies: ["SentraCore", .product(name: "Yams", package: "Yams")]),
        // The receive journal: what the broker handed over, kept in a file until it is counted.
        .target(name: "SentraJournal"),
        .target(name: "SentraMQTT", dependencies: ["CMosquitto", .product(name: "Logging", package: "swift-log")]),
        .target(name: "SentraSystemd", dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")]),
        .target(name: "SentraStore", dependencies: ["SentraCore", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "SentraAlerts", dependencies: ["SentraCore", .product(name: "Logging", package: "swift-log")], swiftSettings: hotPath),
        .target(
            name: "SentraDaemon",
            dependencies: [
                "SentraCore", "SentraConfig", "SentraMQTT", "SentraJournal", "SentraSystemd", "SentraStore", "SentraAlerts",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The HTTP face (API, /metrics, dashboard): reads the daemon's parts, never writes them.
        .target(
            name: "SentraHTTP",
            dependencies: [
                "SentraCore", "SentraConfig", "SentraStore", "SentraAlerts", "SentraDaemon",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [
                .embedInCode("Dashboard/index.html"), .embedInCode("Dashboard/app.js"), .embedInCode("Dashboard/style.css"),
            ]
        ),
        // Process and loopback helpers shared by the benchmarks and the integration tests.
        .target(name: "SentraProcess"),
        .target(name: "SentraSim", dependencies: ["SentraCore", "SentraConfig", "SentraMQTT"]),

        .executableTarget(
            name: "sentrad",
            dependencies: [
                "SentraDaemon", "SentraHTTP", "SentraConfig", "SentraSystemd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "sentractl",
            dependencies: [
                "SentraCore", "SentraConfig", "SentraStore", "SentraAlerts",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "sentra-sim",
            dependencies: [
                "SentraSim", "SentraConfig", "SentraCore", "SentraMQTT",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "sentra-bench",
            dependencies: [
                "SentraCore", "SentraConfig", "SentraStore", "SentraAlerts", "SentraDaemon", "SentraSim", "SentraMQTT", "SentraProcess",
                "SentraJournal",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "SentraCoreTests", dependencies: ["SentraCore", "SentraConfig", "SentraStore", "SentraAlerts", "SentraSim"]),
        .testTarget(name: "SentraJournalTests", dependencies: ["SentraJournal"]),
        .testTarget(name: "SentraAlertsTests", dependencies: ["SentraAlerts", "SentraCore"]),
        .testTarget(name: "SentraSimTests", dependencies: ["SentraSim", "SentraCore", "SentraConfig", "sentra-sim"]),
        .testTarget(
            name: "SentraHTTPTests",
            dependencies: ["SentraHTTP", "SentraCore", .product(name: "HummingbirdTesting", package: "hummingbird")]),
        .testTarget(name: "SentraIntegrationTests", dependencies: ["SentraCore", "SentraConfig", "SentraSystemd", "SentraProcess"]),
    ]
)
