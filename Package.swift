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
        .executable(name: "sentra-fuzz", targets: ["sentra-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        // C libraries: one module each, wrapped by exactly one Swift target.
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),

        // The hot path (every reading) lives in these two; dynamic exclusivity checks on their
        // class and global state cost ~8% of a reading (measured with perf, BENCHMARKS.md).
        .target(name: "SentraCore", swiftSettings: hotPath),
        // Every format Sentra writes or reads (API answers, reports, alert events, plugin
        // messages, ingest counts) as Codable types: one definition for writer and reader.
        .target(name: "SentraWire", dependencies: ["SentraCore"]),
        .target(name: "SentraConfig", dependencies: ["SentraCore", "SentraLocale", .product(name: "Yams", package: "Yams")]),
        // The receive journal: what the broker handed over, kept in a file until it is counted.
        .target(name: "SentraJournal"),
        // Every word a person reads, one catalogue per language; numbers and dates by hand (no ICU).
        .target(
            name: "SentraLocale",
            resources: [.embedInCode("Catalogues/en.strings"), .embedInCode("Catalogues/id.strings")]),
        .target(name: "SentraMQTT", dependencies: ["CMosquitto", .product(name: "Logging", package: "swift-log")]),
        .target(name: "SentraSystemd", dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "SentraStore", dependencies: ["SentraCore", "SentraWire", "SentraLocale", .product(name: "GRDB", package: "GRDB.swift")]),
        // The rule engine: sees every reading on the ingest thread, emits alert events; no I/O.
        .target(
            name: "SentraAlerts",
            dependencies: ["SentraCore", "SentraWire", "SentraLocale", .product(name: "Logging", package: "swift-log")],
            swiftSettings: hotPath),
        // The append-only alert log: its writer thread, rotation, reading and following it.
        .target(
            name: "SentraAlertLog",
            dependencies: ["SentraCore", "SentraWire", "SentraLocale", .product(name: "Logging", package: "swift-log")]),
        // Plugins: the host that follows the alert log, external programs, in-process sinks.
        .target(
            name: "SentraPlugins",
            dependencies: [
                "SentraCore", "SentraWire", "SentraLocale", "SentraAlertLog", "SentraSystemd",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // What the daemon shows: its status, the ingest thread's live snapshot, workshop health.
        .target(
            name: "SentraReadModel",
            dependencies: [
                "SentraCore", "SentraWire", "SentraStore", "SentraAlerts", "SentraAlertLog", "SentraPlugins", "SentraLocale",
                "SentraCoop",
            ]),
        // The HTTP face (API, /metrics, dashboard, pay pages): reads the read model; writes only orders (admin token).
        .target(
            name: "SentraHTTP",
            dependencies: [
                "SentraCore", "SentraWire", "SentraStore", "SentraAlertLog", "SentraPlugins", "SentraReadModel", "SentraLocale",
                "SentraCoop", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                // A connection's deadlines: a channel handler on Hummingbird's HTTP/1 pipeline.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            resources: [
                .embedInCode("Dashboard/index.html"), .embedInCode("Dashboard/app.js"), .embedInCode("Dashboard/style.css"),
            ]
        ),
        // The composition: every service of sentrad, HTTP included, in one ServiceGroup.
        .target(
            name: "SentraDaemon",
            dependencies: [
                "SentraCore", "SentraWire", "SentraConfig", "SentraMQTT", "SentraJournal", "SentraSystemd", "SentraStore",
                "SentraAlerts", "SentraAlertLog", "SentraPlugins", "SentraReadModel", "SentraHTTP", "SentraLocale",
                "SentraCoop", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // A region of sentras: their alert events from the regional broker, each line once, and
        // their state from the regional Prometheus.
        .target(
            name: "SentraRegion",
            dependencies: [
                "SentraCore", "SentraWire", "SentraConfig", "SentraMQTT", "SentraAlertLog", .product(name: "Logging", package: "swift-log"),
            ]),
        // Orders, their split, progress and ETA, and piece-rate pay: one facade for sentractl and HTTP.
        .target(name: "SentraCoop", dependencies: ["SentraCore", "SentraWire", "SentraStore", "SentraLocale"]),
        // Process and loopback helpers shared by the benchmarks and the integration tests.
        .target(name: "SentraProcess"),
        .target(name: "SentraSim", dependencies: ["SentraCore"]),

        .executableTarget(
            name: "sentrad",
            dependencies: [
                "SentraDaemon", "SentraConfig", "SentraCore", "SentraSystemd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "sentractl",
            dependencies: [
                "SentraCore", "SentraWire", "SentraConfig", "SentraStore", "SentraAlertLog", "SentraPlugins", "SentraRegion",
                "SentraCoop", "SentraLocale",
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
                "SentraCore", "SentraConfig", "SentraStore", "SentraAlerts", "SentraMQTT", "SentraProcess",
                "SentraJournal", "SentraWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Fuzz targets (docs/fuzzing.md): each reader of outside input behind one entry; the
        // executable runs them under libFuzzer (scripts/fuzz) or replays files.
        .target(
            name: "SentraFuzzTargets",
            dependencies: [
                "SentraCore", "SentraWire", "SentraConfig", "SentraAlertLog", "SentraStore", "SentraReadModel",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(name: "sentra-fuzz", dependencies: ["SentraFuzzTargets"]),

        // Tests mirror the targets; SentraTestSupport holds what several of them share.
        .target(name: "SentraTestSupport", dependencies: ["SentraCore", "SentraWire"], path: "Tests/SentraTestSupport"),
        .testTarget(name: "SentraCoreTests", dependencies: ["SentraCore", "SentraTestSupport"]),
        .testTarget(name: "SentraWireTests", dependencies: ["SentraWire", "SentraCore"]),
        .testTarget(name: "SentraConfigTests", dependencies: ["SentraConfig", "SentraCore", "SentraLocale"]),
        .testTarget(name: "SentraLocaleTests", dependencies: ["SentraLocale"]),
        .testTarget(
            name: "SentraStoreTests",
            dependencies: [
                "SentraStore", "SentraCore", "SentraConfig", "SentraSim", "SentraTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(name: "SentraJournalTests", dependencies: ["SentraJournal"]),
        .testTarget(name: "SentraSystemdTests", dependencies: ["SentraSystemd", "SentraTestSupport"]),
        .testTarget(
            name: "SentraAlertsTests", dependencies: ["SentraAlerts", "SentraWire", "SentraCore", "SentraLocale", "SentraTestSupport"]),
        .testTarget(name: "SentraAlertLogTests", dependencies: ["SentraAlertLog", "SentraWire", "SentraCore", "SentraTestSupport"]),
        .testTarget(
            name: "SentraPluginsTests",
            dependencies: ["SentraPlugins", "SentraAlertLog", "SentraWire", "SentraCore", "SentraProcess", "SentraTestSupport"]),
        .testTarget(name: "SentraSimTests", dependencies: ["SentraSim", "SentraCore", "SentraConfig", "sentra-sim"]),
        .testTarget(name: "SentraReadModelTests", dependencies: ["SentraReadModel", "SentraAlerts", "SentraWire", "SentraCore"]),
        .testTarget(
            name: "SentraHTTPTests",
            dependencies: [
                "SentraHTTP", "SentraReadModel", "SentraAlertLog", "SentraStore", "SentraWire", "SentraCore", "SentraLocale",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]),
        .testTarget(
            name: "SentraCoopTests",
            dependencies: ["SentraCoop", "SentraStore", "SentraWire", "SentraCore", "SentraLocale", "SentraConfig", "SentraTestSupport"]),
        .testTarget(name: "SentraRegionTests", dependencies: ["SentraRegion", "SentraConfig", "SentraWire", "SentraCore"]),
        .testTarget(name: "SentraFuzzTests", dependencies: ["SentraFuzzTargets", "SentraAlertLog", "SentraCore"]),
        .testTarget(
            name: "SentraIntegrationTests", dependencies: ["SentraWire", "SentraSim", "SentraProcess"]),
    ]
)
