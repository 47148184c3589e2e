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
        // The typed Swift client; Examples/ClientPackage depends on it as a user's package would.
        .library(name: "ImageGenClient", targets: ["ImageGenClient"]),
        .executable(name: "imagegen", targets: ["imagegen"]),
        .executable(name: "imagegen-server", targets: ["imagegen-server"]),
        .executable(name: "imagegen-interop-server", targets: ["imagegen-interop-server"]),
        .executable(name: "imagegen-fake-gemini", targets: ["imagegen-fake-gemini"]),
        .executable(name: "imagegen-render", targets: ["imagegen-render"]),
        .executable(name: "imagegen-bench", targets: ["imagegen-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // ---- C at the edge ----
        // protoc-c output for Proto/*.proto (regenerate with scripts/generate-proto) and a bounded allocator.
        .target(
            name: "CImageGenWire",
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),
        // Process hardening (prctl) for the server executables.
        .target(name: "CImageGenSystem"),
        // Descriptor-relative file operations that never follow a link or leave a project (openat2).
        .target(name: "CProjectFS"),
        // Typed, non-variadic wrappers around libcurl.
        .target(
            name: "CCurl",
            linkerSettings: [.linkedLibrary("curl"), .linkedLibrary("crypto")]
        ),
        // Whole-buffer zlib calls (deflateInit2/inflateInit2 are macros Swift cannot call).
        .target(
            name: "CZlib",
            linkerSettings: [.linkedLibrary("z")]
        ),

        // ---- Images: the one PNG writer, zlib streams and checksums behind it ----
        .target(
            name: "ImageGenPNG",
            dependencies: ["CZlib"],
            swiftSettings: strictSwift
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

        // The interop service: every kind of call, for testing clients in any language.
        .target(
            name: "ImageGenInterop",
            dependencies: ["ImageGenRPC", "ImageGenWire"],
            swiftSettings: strictSwift
        ),

        // ---- Engine: storyboards, styles, key pools, durable progress, providers ----
        .target(
            name: "ImageGenEngine",
            dependencies: [
                "CProjectFS",
                "ImageGenPNG",
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
                "ImageGenWire",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        // A loopback HTTP server that speaks Gemini's generateContent, with pace limits and faults.
        .target(
            name: "FakeGemini",
            dependencies: [
                "ImageGenPNG",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSwift
        ),

        // ---- Coordination: several servers share quotas through PostgreSQL (issue 13) ----
        .target(
            name: "ImageGenCoordination",
            dependencies: [
                "ImageGenEngine",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),

        // ---- Service: jobs, event logs and watchers, the ImageGeneration methods ----
        .target(
            name: "ImageGenService",
            dependencies: [
                "ImageGenEngine",
                "ImageGenRPC",
                "ImageGenWire",
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),

        // ---- Metrics: Prometheus counters fed by the RPC server, the engine's events and the
        // service, served as text on GET /metrics by a small SwiftNIO HTTP/1.1 listener ----
        .target(
            name: "ImageGenMetrics",
            dependencies: [
                "ImageGenCoordination",
                "ImageGenEngine",
                "ImageGenRPC",
                "ImageGenService",
                "ImageGenWire",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),

        // ---- Clients ----
        // A typed Swift client for imagegen.v1.ImageGeneration.
        .target(
            name: "ImageGenClient",
            dependencies: ["ImageGenRPC", "ImageGenWire"],
            path: "Clients/swift/ImageGenClient",
            swiftSettings: strictSwift
        ),
        // The imagegen CLI's commands and rendering (progress bars, plain and JSON lines). It reads
        // storyboard files through ImageGenClient (StoryboardFile); the engine and the service are
        // there only for `demo` (an in-process offline server), `serve` and `sheet` (progress records).
        .target(
            name: "ImageGenCLI",
            dependencies: [
                "ImageGenClient",
                "ImageGenWire",
                "ImageGenRPC",
                // demo, serve, sheet, estimate:
                "ImageGenEngine",
                "ImageGenServerRuntime",
                "ImageGenService",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Clients/swift/ImageGenCLI",
            swiftSettings: strictSwift
        ),

        // The imagegen command-line tool.
        .executableTarget(
            name: "imagegen",
            dependencies: ["ImageGenCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Clients/swift/imagegen",
            swiftSettings: strictSwift
        ),

        // Flags and start-up shared by the server executables.
        .target(
            name: "ImageGenServerRuntime",
            dependencies: [
                "CImageGenSystem",
                "ImageGenCoordination",
                "ImageGenEngine",
                "ImageGenGemini",
                "ImageGenMetrics",
                "ImageGenRPC",
                "ImageGenService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),

        // ---- Executables ----
        .executableTarget(
            name: "imagegen-server",
            dependencies: [
                "ImageGenServerRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "imagegen-interop-server",
            dependencies: [
                "ImageGenInterop",
                "ImageGenServerRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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

        // Benchmarks (issue 5): rate-bound throughput, continuity chains, scale, RPC. Built in
        // release and run by hand (see BENCHMARKS.md); not part of the test run.
        .executableTarget(
            name: "imagegen-bench",
            dependencies: [
                "ImageGenEngine",
                "ImageGenGemini",
                "FakeGemini",
                "ImageGenClient",
                "ImageGenRPC",
                "ImageGenService",
                "ImageGenWire",
                "ImageGenCoordination",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),

        // ---- Tests ----
        // Helpers shared by the test suites: real child processes of the package's executables,
        // engine job runs, frames.
        .target(
            name: "ImageGenTestSupport",
            dependencies: ["ImageGenEngine", "ImageGenWire"],
            path: "Tests/ImageGenTestSupport",
            swiftSettings: strictSwift
        ),
        // Runs a test's child process so that it dies with the test process (PR_SET_PDEATHSIG).
        .executableTarget(name: "imagegen-child-guard", path: "Tests/ImageGenChildGuard"),
        // A stand-in test process for the test that kills it and watches its child go.
        .executableTarget(
            name: "imagegen-test-parent",
            dependencies: ["ImageGenTestSupport", "imagegen-child-guard", "imagegen-server"],
            path: "Tests/ImageGenTestParent",
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ImageGenWireTests",
            dependencies: ["ImageGenWire", "CImageGenWire", "ImageGenTestSupport"],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ImageGenRPCTests",
            dependencies: [
                "imagegen-server",
                "imagegen-interop-server",
                "imagegen-child-guard",
                "ImageGenRPC",
                "ImageGenTestSupport",
                "ImageGenInterop",
                "ImageGenWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ImageGenServiceTests",
            dependencies: [
                "ImageGenService", "ImageGenRPC", "ImageGenWire", "ImageGenEngine", "ImageGenClient", "ImageGenTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ImageGenCLITests",
            dependencies: ["ImageGenCLI", "ImageGenClient", "ImageGenRPC", "ImageGenWire", "ImageGenTestSupport", "imagegen", "imagegen-server", "imagegen-child-guard", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ImageGenEngineTests",
            dependencies: [
                "ImageGenEngine", "ImageGenTestSupport", "imagegen-child-guard",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSwift
        ),
        // Crash, fault and load tests of the real server process on loopback (issue 5).
        .testTarget(
            name: "ImageGenProofTests",
            dependencies: [
                "ImageGenClient", "ImageGenWire", "ImageGenRPC", "FakeGemini", "ImageGenTestSupport",
                "imagegen-server", "imagegen-fake-gemini", "imagegen-child-guard", "imagegen-test-parent",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ImageGenGeminiTests",
            dependencies: [
                "ImageGenGemini", "ImageGenEngine", "FakeGemini", "imagegen-fake-gemini", "ImageGenTestSupport",
                "imagegen-child-guard", "ImageGenPNG",
            ],
            swiftSettings: strictSwift
        ),
        // The coordination of several servers over a real PostgreSQL cluster the tests start.
        .testTarget(
            name: "ImageGenCoordinationTests",
            dependencies: [
                "ImageGenCoordination", "ImageGenEngine", "ImageGenGemini", "ImageGenMetrics", "FakeGemini", "ImageGenTestSupport",
                "imagegen-child-guard",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        .testTarget(
            name: "ImageGenPNGTests",
            dependencies: ["ImageGenPNG", "ImageGenTestSupport", "imagegen-child-guard"],
            swiftSettings: strictSwift
        ),
    ],
    swiftLanguageModes: [.v6]
)
