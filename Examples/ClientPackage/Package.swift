// swift-tools-version:6.1
// A package outside imagegen that depends on its ImageGenClient library, as a user's would:
// scripts/test builds and runs it, so the products stay usable from another package.
import PackageDescription

let package = Package(
    name: "ClientPackage",
    platforms: [.macOS(.v15)],
    dependencies: [
        // A user would write .package(url: "<imagegen's git URL>", from: "<version>").
        .package(name: "imagegen", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "imagegen-client-example",
            dependencies: [
                .product(name: "ImageGenClient", package: "imagegen"),
                .product(name: "ImageGenWire", package: "imagegen"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
