// swift-tools-version: 6.0
import PackageDescription

// Layering (data flows one way):
//   CFFmpeg (C shim) → ClipKitMedia (owns every av* call) → ClipKitCore value types
//   ClipKitCore ← ClipKitAudit (pure Swift: price book, records, checks)
//   front ends: ClipKitCLI (the `clipkit` executable)
let package = Package(
    name: "ClipKit",
    products: [
        .executable(name: "clipkit", targets: ["ClipKitCLI"]),
        .library(name: "ClipKit", targets: ["ClipKitCore", "ClipKitMedia", "ClipKitAudit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CFFmpeg",
            path: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev"])]
        ),
        .target(name: "ClipKitCore"),
        .target(name: "ClipKitMedia", dependencies: ["CFFmpeg", "ClipKitCore"]),
        .target(name: "ClipKitAudit", dependencies: ["ClipKitCore"]),
        .executableTarget(
            name: "ClipKitCLI",
            dependencies: [
                "ClipKitCore", "ClipKitMedia", "ClipKitAudit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fixtures made with ffmpeg and ffprobe/ffmpeg oracles, shared by the test targets.
        .target(name: "ClipKitTestSupport", dependencies: ["ClipKitMedia"], path: "Tests/ClipKitTestSupport"),
        .testTarget(name: "ClipKitMediaTests", dependencies: ["ClipKitMedia", "ClipKitCore", "ClipKitTestSupport"]),
        .testTarget(name: "ClipKitAuditTests", dependencies: ["ClipKitAudit", "ClipKitCore"]),
        .testTarget(name: "ClipKitCLITests", dependencies: ["ClipKitCLI", "ClipKitMedia", "ClipKitTestSupport"]),
    ]
)
