// swift-tools-version: 6.0
import PackageDescription

// Layering (data flows one way):
//   CFFmpeg (C shim) → ClipKitMedia (owns every av* call) → ClipKitCore value types
//   ClipKitMP4 (pure Swift MP4 index reader: the common-case probe without loading FFmpeg) → ClipKitCore;
//   ClipKitMedia tries it first
//   ClipKitRemote (the same reader over HTTP Range requests: a remote clip's head, moov and first sample) →
//   ClipKitMP4 + AsyncHTTPClient; kept out of ClipKitMP4 so that stays pure and fuzzable. ClipKitMedia
//   sends http(s) URLs to it and probes its full-download fallback locally
//   ClipKitCore ← ClipKitAudit (pure Swift: price book, records, checks)
//   ClipKitCore ← ClipKitProviders (HTTP clients: DashScope, WaveSpeed, ModelVerse; task runner); no FFmpeg:
//   probes and images go through a MediaToolkit the caller passes (ClipKitMedia.FFmpegToolkit)
//   ClipKitChain (storyboard → generations → verified clips → one video; durable, resumable)
//   ClipKitLedger (clips, tasks, money, budgets and the durable job queue; SQLite or PostgreSQL, no HTTP or FFmpeg)
//   ClipKitService (generation requests as durable jobs over the ledger: submit once, poll, download, verify)
//   ClipKit (what a pipeline imports: re-exports Core, Media, Audit, Providers and Chain)
//   ClipKitServer (`clipkit serve`: Hummingbird routes, bearer auth, dashboard over the ledger and the library)
//   front ends: ClipKitLauncher (the `clipkit` executable: probe without FFmpeg, the rest by exec),
//   ClipKitCLI (`clipkit-engine`, every command), ClipKitConsole (what both print), ClipKitArguments (what
//   both parse: probe and verify),
//   ClipKitSandbox (offline provider server, Hummingbird); ClipKitListening (start a Hummingbird server, learn its port)
//   ClipKitFuzz: libFuzzer target over ClipKitMP4's readers of untrusted bytes (fuzz/run.sh)
let package = Package(
    name: "ClipKit",
    products: [
        .executable(name: "clipkit", targets: ["ClipKitLauncher"]),
        .executable(name: "clipkit-engine", targets: ["ClipKitCLI"]),
        // `import ClipKit` is all a pipeline writes: the module re-exports the layers below.
        .library(name: "ClipKit", targets: ["ClipKit"]),
        .library(name: "ClipKitSandbox", targets: ["ClipKitSandbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Already in the graph through async-http-client; named so the clients can import NIOCore/NIOHTTP1.
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        // `swift package generate-documentation --target ClipKit`: the DocC catalog (not built by `swift build`).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // The ledger's two stores: SQLite (bundled, async over NIO's thread pool) and PostgreSQL.
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // Already in the graph through Hummingbird and postgres-nio; the job worker is a Service.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CFFmpeg",
            path: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev"])]
        ),
        .target(name: "ClipKitCore"),
        .target(name: "ClipKitMP4", dependencies: ["ClipKitCore"]),
        .target(
            name: "ClipKitRemote",
            dependencies: [
                "ClipKitCore", "ClipKitMP4",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(name: "ClipKitMedia", dependencies: ["CFFmpeg", "ClipKitCore", "ClipKitMP4", "ClipKitRemote"]),
        .target(name: "ClipKitAudit", dependencies: ["ClipKitCore"]),
        .target(
            name: "ClipKitProviders",
            dependencies: [
                // No ClipKitMedia: callers pass a MediaToolkit (FFmpegToolkit) for probes and images.
                "ClipKitCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The sandbox deliberately does not use the clients' wire types: it writes the providers' JSON
        // itself, so a misread protocol shows up as a failing test instead of agreeing with itself.
        .target(
            name: "ClipKitSandbox",
            dependencies: [
                "ClipKitCore", "ClipKitMedia", "ClipKitListening",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "ClipKitChain",
            dependencies: [
                "ClipKitCore", "ClipKitMedia", "ClipKitAudit", "ClipKitProviders",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The library's one import (Exports.swift) and its DocC catalog; the sandbox stays its own product,
        // so a pipeline links Hummingbird only if it rehearses offline.
        .target(name: "ClipKit", dependencies: ["ClipKitCore", "ClipKitMedia", "ClipKitAudit", "ClipKitProviders", "ClipKitChain"]),
        // The ledger and the durable job queue: one store protocol, SQLite and PostgreSQL behind it.
        // Knows nothing of HTTP or FFmpeg.
        .target(
            name: "ClipKitLedger",
            dependencies: [
                "ClipKitCore", "ClipKitAudit",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Generation requests as durable jobs (submit once, poll, download, verify) over the ledger; no HTTP
        // server: the front ends (`clipkit serve`, a worker) call it.
        .target(
            name: "ClipKitService",
            dependencies: [
                "ClipKitCore", "ClipKitMedia", "ClipKitAudit", "ClipKitProviders", "ClipKitLedger", "ClipKitChain",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Starting a Hummingbird server and learning the port it bound: shared by the sandbox and the server.
        .target(name: "ClipKitListening", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        // `clipkit serve`'s HTTP front end: routes, auth and the dashboard. No media or billing logic and no
        // FFmpeg: it calls ClipKitMedia's async API and keeps what it learns in the ledger.
        .target(
            name: "ClipKitServer",
            dependencies: [
                "ClipKitCore", "ClipKitMedia", "ClipKitAudit", "ClipKitLedger", "ClipKitConsole", "ClipKitProviders", "ClipKitService", "ClipKitListening",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Job throughput of both stores (bench/jobs.sh).
        .executableTarget(name: "ClipKitBench", dependencies: ["ClipKitLedger", "ClipKitPostgresHarness"]),
        .target(name: "ClipKitConsole", dependencies: ["ClipKitCore"]),
        // The arguments of the commands both binaries answer (probe, verify): one parser for both.
        .target(
            name: "ClipKitArguments",
            dependencies: ["ClipKitConsole", "ClipKitCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // libFuzzer's target over ClipKitMP4's readers of untrusted bytes (fuzz/run.sh); pure Swift.
        .executableTarget(name: "ClipKitFuzz", dependencies: ["ClipKitMP4"]),
        // Deliberately free of FFmpeg: loading its libraries costs more than a whole probe.
        // Links ClipKitRemote (AsyncHTTPClient, NIO: static Swift code, no new shared library) so that
        // `clipkit probe https://…` is answered here too; measured: local probes start no slower.
        .executableTarget(name: "ClipKitLauncher", dependencies: ["ClipKitArguments", "ClipKitConsole", "ClipKitCore", "ClipKitMP4", "ClipKitRemote"]),
        .executableTarget(
            name: "ClipKitCLI",
            dependencies: [
                "ClipKitArguments", "ClipKitConsole", "ClipKitCore", "ClipKitMedia", "ClipKitAudit", "ClipKitProviders", "ClipKitSandbox",
                "ClipKitChain", "ClipKitLedger", "ClipKitServer", "ClipKitService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // bench/probe-cost.sh: the in-process cost of one probe, ClipKitMP4 against FFmpeg.
        .executableTarget(name: "ClipKitProbeBench", dependencies: ["ClipKitMP4", "ClipKitMedia"], path: "bench/ProbeCost"),
        // A loopback server of real clip files with Range, faults and request counts: the remote-probe
        // tests and bench/remote-probe.sh (bench/RemoteProbe) measure against it.
        .target(
            name: "ClipKitFileServer",
            dependencies: ["ClipKitMedia", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/ClipKitFileServer"
        ),
        .testTarget(
            name: "ClipKitRemoteTests",
            dependencies: ["ClipKitRemote", "ClipKitMedia", "ClipKitCore", "ClipKitTestSupport", "ClipKitFileServer"]
        ),
        // bench/service.sh's burst generator: many connections, one request each at once, timed per request.
        .executableTarget(name: "ClipKitBurstBench", dependencies: [.product(name: "Crypto", package: "swift-crypto")], path: "bench/Burst"),
        // bench/remote-probe.sh's loopback server of clip URLs.
        .executableTarget(name: "ClipKitRemoteBench", dependencies: ["ClipKitFileServer"], path: "bench/RemoteProbe"),
        // Fixtures made with ffmpeg and ffprobe/ffmpeg oracles, shared by the test targets.
        .target(name: "ClipKitTestSupport", dependencies: ["ClipKitMedia"], path: "Tests/ClipKitTestSupport"),
        .testTarget(name: "ClipKitCoreTests", dependencies: ["ClipKitCore"]),
        // The README's and DocC's code, compiled and run against `import ClipKit` (and the sandbox).
        .testTarget(name: "ClipKitTests", dependencies: ["ClipKit", "ClipKitSandbox"]),
        .testTarget(name: "ClipKitMediaTests", dependencies: ["ClipKitMedia", "ClipKitCore", "ClipKitTestSupport"]),
        .testTarget(name: "ClipKitMP4Tests", dependencies: ["ClipKitMP4", "ClipKitMedia", "ClipKitCore", "ClipKitTestSupport"]),
        .testTarget(name: "ClipKitAuditTests", dependencies: ["ClipKitAudit", "ClipKitCore"]),
        // A private PostgreSQL cluster (Debian's binaries) for the ledger tests and the bench.
        .target(name: "ClipKitPostgresHarness", path: "Tests/ClipKitPostgresHarness"),
        .testTarget(
            name: "ClipKitLedgerTests",
            dependencies: [
                "ClipKitLedger", "ClipKitAudit", "ClipKitCore", "ClipKitPostgresHarness",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The server over real HTTP on loopback, on SQLite and PostgreSQL, against the built `clipkit`.
        .testTarget(
            name: "ClipKitServerTests",
            dependencies: [
                "ClipKitServer", "ClipKitLedger", "ClipKitCore", "ClipKitMedia", "ClipKitProviders", "ClipKitTestSupport",
                "ClipKitPostgresHarness", "ClipKitCLI", "ClipKitLauncher", "ClipKitSandbox", "ClipKitService", "ClipKitFileServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ClipKitServiceTests",
            dependencies: ["ClipKitService", "ClipKitLedger", "ClipKitProviders", "ClipKitSandbox", "ClipKitAudit", "ClipKitCore",
                           "ClipKitMedia", "ClipKitChain", "ClipKitTestSupport", "ClipKitSandboxTestSupport", "ClipKitPostgresHarness",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "ClipKitCLITests",
            dependencies: ["ClipKitCLI", "ClipKitLauncher", "ClipKitMedia", "ClipKitTestSupport", "ClipKitAudit", "ClipKitChain",
                           "ClipKitProviders", "ClipKitSandbox"]
        ),
        // A sandbox started and always stopped around one test, shared by the provider and chain tests.
        .target(
            name: "ClipKitSandboxTestSupport",
            dependencies: ["ClipKitProviders", "ClipKitSandbox", "ClipKitTestSupport"],
            path: "Tests/ClipKitSandboxTestSupport"
        ),
        .testTarget(
            name: "ClipKitChainTests",
            dependencies: ["ClipKitChain", "ClipKitProviders", "ClipKitSandbox", "ClipKitAudit", "ClipKitTestSupport",
                           "ClipKitSandboxTestSupport"]
        ),
        .testTarget(
            name: "ClipKitProvidersTests",
            dependencies: [
                // ClipKitAudit: the s2v tests audit what the sandbox billed.
                "ClipKitProviders", "ClipKitSandbox", "ClipKitCore", "ClipKitMedia", "ClipKitAudit", "ClipKitTestSupport",
                "ClipKitSandboxTestSupport", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
