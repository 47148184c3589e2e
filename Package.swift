// swift-tools-version:6.1
// imagegen: renders a storyboard into images in several styles at once through Gemini,
// driven over a length-prefixed protobuf-c RPC protocol. See README.md.
import PackageDescription

let strictSwift: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "imagegen",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ImageGenWire", targets: ["ImageGenWire"]),
        .library(name: "ImageGenRPC", targets: ["ImageGenRPC"]),
        .library(name: "ImageGenEngine", targets: ["ImageGenEngine"]),
        .library(name: "ImageGenGemini", targets: ["ImageGenGemini"]),
        .executable(name: "imagegen-server", targets: ["imagegen-server"]),
        .executable(name: "imagegen-fake-gemini", targets: ["imagegen-fake-gemini"]),
        .executable(name: "imagegen-render", targets: ["imagegen-render"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // ---- C at the edge ----
        // protoc-c output for Proto/*.proto (regenerate with scripts/generate-proto) and a bounded allocator.
        .target(
            name: "CImageGenWire",
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),
        // Typed, non-variadic wrappers around libcurl.
        .target(
            name: "CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),

        // ---- Wire codec: Swift value types for every message, framing ----
        .target(
            name: "ImageGenWire",
            dependencies: ["CImageGenWire"],
            swiftSettings: strictSwift
        ),

        // ---- RPC: call handling, SwiftNIO TCP server, Swift client ----
        .target(
            name: "ImageGenRPC",
            dependencies: [
                "ImageGenWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),

        // ---- Engine: storyboards, styles, key pools, durable progress, providers ----
        .target(
            name: "ImageGenEngine",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["CONFIGURATION.md"],
            swiftSettings: strictSwift
        ),
        // The Gemini provider over libcurl.
        .target(
            name: "ImageGenGemini",
            dependencies: [
                "CCurl",
                "ImageGenEngine",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        // A loopback HTTP server that speaks Gemini's generateContent, with pace limits and faults.
        .target(
            name: "FakeGemini",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),

        // ---- Executables ----
        .executableTarget(
            name: "imagegen-server",
            dependencies: [
                "ImageGenRPC",
                "ImageGenWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "imagegen-fake-gemini",
            dependencies: [
                "FakeGemini",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),

        // Renders a storyboard locally with the engine, one line per event.
        .executableTarget(
            name: "imagegen-render",
            dependencies: [
                "ImageGenEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),

        // ---- Tests ----
        .testTarget(
            name: "ImageGenWireTests",
            dependencies: ["ImageGenWire", "CImageGenWire"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ImageGenRPCTests",
            dependencies: [
                "ImageGenRPC",
                "ImageGenWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ImageGenEngineTests",
            dependencies: [
                "ImageGenEngine",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ImageGenGeminiTests",
            dependencies: ["ImageGenGemini", "ImageGenEngine", "FakeGemini"],
            swiftSettings: strictSwift
        ),
    ],
    swiftLanguageModes: [.v6]
)
