// swift-tools-version:6.0
import PackageDescription

// One settings list for every target, as hummingbird and swift-log do.
let strict: [SwiftSetting] = [
    // SE-0335: `any P` spelled out, so existential costs are visible.
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Roundtable",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "roundtable", targets: ["roundtable"]),
        .executable(name: "roundtable-bench", targets: ["roundtable-bench"]),
        .library(name: "RoundtableCore", targets: ["RoundtableCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // libwebsockets 4.1.6 (Debian) through pkg-config; shim.h exposes the macros Swift cannot import.
        .systemLibrary(
            name: "CLibWebSockets",
            pkgConfig: "libwebsockets",
            providers: [.apt(["libwebsockets-dev", "libssl-dev", "pkg-config"])]
        ),
        // libev (Debian libev-dev, no pkg-config file): the loop lws' evlib_ev plugin runs on when
        // `server.eventLoop` is libev (the plugin itself, libwebsockets-evlib-ev, is loaded by lws at run time).
        .systemLibrary(name: "CLibEv", providers: [.apt(["libev-dev", "libwebsockets-evlib-ev"])]),
        // The pure domain: no I/O, no clock, no randomness of its own.
        .target(name: "RoundtableCore", swiftSettings: strict),
        // JSON <-> requests and events.
        .target(name: "RoundtableWire", dependencies: ["RoundtableCore"], swiftSettings: strict),
        // Journal, snapshots, recovery: bytes and files only (it imports no Roundtable module).
        .target(
            name: "RoundtableStore",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .target(
            name: "RoundtableServer",
            dependencies: [
                "CLibWebSockets", "CLibEv", "RoundtableCore", "RoundtableWire", "RoundtableStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "roundtable",
            dependencies: [
                "CLibWebSockets", "RoundtableServer", "RoundtableStore", "RoundtableWire", "RoundtableCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict,
            // jemalloc (Debian libjemalloc-dev) replaces glibc malloc process-wide: the vote path's many
            // small, short-lived allocations cost ~8-10 % less CPU per vote (BENCHMARKS.md, "allocator").
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
        ),
        // In-process benchmarks (`roundtable-bench core|store|pairing`), linked like the server so they measure
        // the same allocator.
        .executableTarget(
            name: "roundtable-bench",
            dependencies: [
                "RoundtableServer", "RoundtableStore", "RoundtableWire", "RoundtableCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict,
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
        ),
        // Helpers shared by the test targets (the seeded generator); no product or shipped target depends on it.
        .target(name: "RoundtableTestSupport", dependencies: ["RoundtableCore"], path: "Tests/RoundtableTestSupport", swiftSettings: strict),
        .testTarget(name: "RoundtableCoreTests", dependencies: ["RoundtableCore", "RoundtableTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "RoundtableWireTests",
            dependencies: ["RoundtableWire", "RoundtableCore", "RoundtableTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RoundtableStoreTests",
            dependencies: ["RoundtableStore", "RoundtableWire", "RoundtableCore", "RoundtableTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RoundtableServerTests",
            dependencies: ["RoundtableServer", "RoundtableWire", "RoundtableCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
