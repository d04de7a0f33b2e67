// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "LaneKiosk",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "clearanced", targets: ["clearanced"]),
        .executable(name: "clearance-bench", targets: ["ClearanceBench"]),
        .executable(name: "laned", targets: ["laned"]),
        .executable(name: "lanectl", targets: ["lanectl"]),
        .executable(name: "lanesim", targets: ["lanesim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.20.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
    ],
    targets: [
        // What every long-running process shares: systemd's notify protocol,
        // the liveness watchdog, and the check that blocking work stays off
        // Swift concurrency's cooperative pool (docs/threads.md). Foundation only.
        .target(name: "ServiceSupport", swiftSettings: strict),
        // laned's control protocol: Codable requests, results and error codes
        // for laned, lanectl and the tests (docs/control-socket.md). Foundation only.
        .target(name: "LaneControl", dependencies: ["AnyJSON"], swiftSettings: strict),
        // Any JSON value as a tree: control requests' ids, lanectl's answers,
        // central's strict request decoding. Foundation only.
        .target(name: "AnyJSON", swiftSettings: strict),
        // Cargo domain: value types, parsing and validation. Foundation only.
        .target(name: "RoadCargo", swiftSettings: strict),
        // The clearance rules as pure functions over values and a clock.
        .target(
            name: "ClearanceCore",
            dependencies: ["RoadCargo", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        // Central persistence: SQLite through GRDB, PostgreSQL through PostgresNIO.
        .target(
            name: "CargoStore",
            dependencies: [
                "RoadCargo", "ClearanceCore", "ServiceSupport", "PostgresSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // A PostgreSQL database through PostgresNIO: its URL and password
        // source, the running pool, versioned migrations (docs/deploying-central.md).
        .target(
            name: "PostgresSupport",
            dependencies: [
                "ServiceSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The throwaway server of scripts/with-postgres.sh, a fresh database per test. Tests only.
        .target(
            name: "PostgresTestSupport",
            dependencies: [
                "PostgresSupport", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // Several clearanced nodes on one PostgreSQL database: who holds which
        // lane, lane commands across nodes, one simulated clock (issue 16,
        // docs/deploying-central.md "Several nodes"). No GRDB, no Central.
        .target(
            name: "CentralCluster",
            dependencies: [
                "RoadCargo", "LinkCore", "PostgresSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        // clearanced's services: HTTP API, help calls and the officers' console
        // (its page is plain files under Console/, served as they are).
        .target(
            name: "Central",
            dependencies: [
                "RoadCargo", "ClearanceCore", "CargoStore", "LaneLink", "LinkCore", "BoardLayout",
                "ServiceSupport", "AnyJSON", "CentralCluster",
                .product(name: "Hummingbird", package: "hummingbird"),
                // CentralAssembly's services: the lane link, SIGHUP key reload, the watchdog.
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                // Scrypt, the memory-hard KDF for officers' console passwords.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            resources: [.copy("Console")],
            swiftSettings: strict),
        .executableTarget(
            name: "clearanced",
            dependencies: [
                "Central", "CargoStore", "RoadCargo", "ClearanceCore", "LaneLink", "LinkCore",
                "ServiceSupport", "CentralCluster", "PostgresSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "ClearanceBench",
            dependencies: [
                "RoadCargo", "ClearanceCore", "CargoStore", "Central", "LaneLink", "LinkCore",
                "PostgresSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // The lane link's pure protocol: wire coding, messages, COBS, CRC32C,
        // frames, signing, Noise and the cipher, keys, sessions, limits,
        // backoff. Values and functions only: no NIO, GRDB, Logging or serial
        // port, and this list is what keeps it so (docs/link-protocol.md).
        .target(
            name: "LinkCore",
            dependencies: ["RoadCargo", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        // The lane link's I/O around LinkCore: transports (TCP, serial), the
        // endpoint that runs a session, the outbox and applied log (GRDB),
        // key files, LinkClient and LinkServer.
        .target(
            name: "LaneLink",
            dependencies: [
                "LinkCore", "RoadCargo", "SerialPort",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),

        // A lane-side test client of the link: sends decision requests from a
        // durable outbox and prints the decisions (kill tests, operations).
        .executableTarget(
            name: "linkprobe",
            dependencies: [
                "LaneLink", "LinkCore", "RoadCargo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // libFuzzer target for the frame decoder and message codec. A plain build
        // writes the seed corpus; scripts/fuzz-link.sh rebuilds it with
        // -sanitize=fuzzer -DLINK_FUZZ and runs it. Extern: @_extern(c) declares
        // libFuzzer's LLVMFuzzerRunDriver with the C calling convention.
        .executableTarget(
            name: "LinkFuzz", dependencies: ["LinkCore", "RoadCargo"],
            swiftSettings: strict + [.enableExperimentalFeature("Extern")]),

        // What every test target shares: one `eventually`, one seeded generator
        // (docs/testing.md). Foundation only, no Testing, so the simulator and
        // the benchmarks replay with the same generator.
        .target(name: "TestKit", swiftSettings: strict),

        // Test support for the link: a noisy-line proxy and pty helpers, used by
        // tests, benchmarks and the simulator, never by production code paths.
        .target(
            name: "LinkTestSupport",
            dependencies: [
                "LaneLink", "LinkCore", "TestKit", "AnyJSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),

        // lineproxy: the noisy-line proxy as a process the fault campaign puts
        // in front of lane links and database connections, steered over a
        // control socket (docs/lineproxy.md). A test tool, not a deliverable.
        .executableTarget(
            name: "lineproxy",
            dependencies: [
                "LaneLink", "LinkTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),

        // LinkBench: request/response latency over loopback, bare TCP beside the
        // link's layers (scripts/bench-link.sh). Figures, not a test.
        .executableTarget(
            name: "LinkBench",
            dependencies: [
                "LaneLink", "LinkCore", "LinkTestSupport", "RoadCargo",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),

        // CacheBench: a lane's offline cache for N bundles, push to install,
        // beside bare SQLite (scripts/bench-cache.sh). Figures, not a test.
        .executableTarget(
            name: "CacheBench",
            dependencies: [
                "LaneJournal", "LinkCore", "RoadCargo", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),

        // What the boards show, as pure values: board state to layout boxes.
        .target(name: "BoardLayout", dependencies: ["RoadCargo"], swiftSettings: strict),
        // The lane state machine: pure values, state + input -> state + actions.
        .target(name: "LaneCore", dependencies: ["RoadCargo", "BoardLayout"], swiftSettings: strict),
        // The lane's SQLite journal (WAL): every input, decision, instruction
        // shown and officer action; recovery after a crash; retention. The
        // link's outbox shares its file.
        .target(
            name: "LaneJournal",
            dependencies: [
                "LaneCore", "LaneControl", "RoadCargo", "ServiceSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        // laned's config file: parsing and validation that names file, key and expectation.
        .target(
            name: "LaneConfig",
            dependencies: ["RoadCargo", "LaneCore", "BoardLayout", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        // The imperative shell around LaneCore: executes its actions against
        // GPIO, displays, journal and link; control socket; sd_notify.
        .target(
            name: "LaneRuntime",
            dependencies: [
                "LaneCore", "LaneControl", "LaneJournal", "LaneConfig", "LaneLink", "LinkCore", "GPIO",
                "AnyJSON",
                "Displays",
                "BoardLayout", "RoadCargo", "ClearanceCore", "SerialPort", "ServiceSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "laned",
            dependencies: [
                "LaneRuntime", "LaneConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        // The simulator: a control point of real lanes and a real central on one clock.
        .target(
            name: "LaneSim",
            dependencies: [
                "LaneRuntime", "LaneConfig", "LaneJournal", "LaneLink", "LinkCore", "LinkTestSupport",
                "TestKit",
                "Central",
                "CargoStore",
                "ClearanceCore", "RoadCargo", "GPIO", "BoardLayout", "Displays",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "lanesim",
            dependencies: [
                "LaneSim", "Displays", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        // lanectl: a lane's control socket and clearanced's HTTP API from the shell.
        .executableTarget(
            name: "lanectl",
            dependencies: [
                "LaneControl", "AnyJSON", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // C libraries: one system-library module and one Swift wrapper each.
        .systemLibrary(
            name: "CGpiod", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .target(name: "GPIO", dependencies: ["CGpiod"], swiftSettings: strict),
        .systemLibrary(
            name: "CSerialPort", pkgConfig: "libserialport", providers: [.apt(["libserialport-dev"])]),
        .target(name: "SerialPort", dependencies: ["CSerialPort"], swiftSettings: strict),
        // No pkgConfig: sdl2.pc adds -D_REENTRANT, which SwiftPM refuses with a warning.
        .systemLibrary(name: "CSDL2", providers: [.apt(["libsdl2-dev", "libsdl2-ttf-dev"])]),
        .target(
            name: "Displays", dependencies: ["CSDL2", "PNG", "RoadCargo", "BoardLayout"],
            swiftSettings: strict),
        // libpng's simplified API: screenshots, pictures and golden images.
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .target(name: "PNG", dependencies: ["CPNG"], swiftSettings: strict),
        // DisplayBench: render + present time per screen on both boards beside a
        // plain full-frame fill (scripts/bench-displays.sh). Figures, not a test.
        .executableTarget(
            name: "DisplayBench", dependencies: ["Displays", "BoardLayout"], swiftSettings: strict),

        // Test support: re-runs the current Swift Testing test in a child of
        // the test binary with a TestSupport LD_PRELOAD shim loaded. Tests only.
        .target(name: "ShimmedChildSupport", swiftSettings: strict),

        .testTarget(name: "RoadCargoTests", dependencies: ["RoadCargo"], swiftSettings: strict),
        .testTarget(name: "ServiceSupportTests", dependencies: ["ServiceSupport"], swiftSettings: strict),
        .testTarget(
            name: "PostgresSupportTests",
            dependencies: [
                "PostgresSupport", "PostgresTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "CentralClusterTests",
            dependencies: [
                "CentralCluster", "PostgresSupport", "PostgresTestSupport", "RoadCargo", "LinkCore",
                "TestKit",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ClearanceCoreTests", dependencies: ["ClearanceCore", "RoadCargo"], swiftSettings: strict),
        .testTarget(
            name: "CargoStoreTests",
            dependencies: [
                "CargoStore", "ClearanceCore", "RoadCargo", "PostgresSupport", "PostgresTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "CentralTests",
            dependencies: [
                "Central", "CargoStore", "ClearanceCore", "RoadCargo", "LaneLink", "LinkCore",
                "LinkTestSupport",
                "TestKit", "AnyJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict),
        // The link's pure protocol: codec, frames, COBS, CRC, signing, sessions.
        .testTarget(
            name: "LinkCoreTests", dependencies: ["LinkCore", "RoadCargo", "TestKit"], swiftSettings: strict),
        // The link's I/O: transports, endpoints, outbox, key files, client and server.
        .testTarget(
            name: "LaneLinkTests",
            dependencies: [
                "LaneLink", "LinkCore", "LinkTestSupport", "TestKit", "RoadCargo", "SerialPort",
                "ShimmedChildSupport", "AnyJSON",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "GPIOTests", dependencies: ["GPIO", "ShimmedChildSupport", "TestKit"],
            swiftSettings: strict),
        .testTarget(
            name: "SerialPortTests", dependencies: ["SerialPort", "ShimmedChildSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "DisplaysTests", dependencies: ["Displays", "PNG", "TestKit", "BoardLayout", "RoadCargo"],
            // Golden PNGs, read by path (#filePath), not bundled as resources.
            exclude: ["Goldens"], swiftSettings: strict),
        .testTarget(
            name: "BoardLayoutTests", dependencies: ["BoardLayout", "RoadCargo"], swiftSettings: strict),
        .testTarget(
            name: "LaneCoreTests", dependencies: ["LaneCore", "BoardLayout", "RoadCargo", "TestKit"],
            swiftSettings: strict),
        .testTarget(
            name: "LaneJournalTests",
            dependencies: [
                "LaneJournal", "LaneCore", "RoadCargo", "TestKit",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "LaneConfigTests", dependencies: ["LaneConfig", "LaneCore", "RoadCargo"],
            swiftSettings: strict),
        .testTarget(
            name: "LaneRuntimeTests",
            dependencies: [
                "LaneRuntime", "LaneControl", "LaneCore", "LaneJournal", "LaneConfig", "LaneLink", "LinkCore",
                "AnyJSON",
                "Central",
                "CargoStore", "ClearanceCore", "RoadCargo", "GPIO", "BoardLayout", "TestKit",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "lanectlTests", dependencies: ["lanectl", "LaneControl", "AnyJSON", "TestKit"],
            swiftSettings: strict),
        // The protocol's types against docs/control-socket.md (read by #filePath).
        .testTarget(
            name: "LaneControlTests", dependencies: ["LaneControl", "AnyJSON"], swiftSettings: strict),
        .testTarget(
            name: "LaneSimTests",
            dependencies: ["LaneSim", "Displays", "BoardLayout", "RoadCargo", "TestKit"],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
