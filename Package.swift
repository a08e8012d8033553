// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Tock",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tock", targets: ["tock"]),
        .library(name: "UDFKit", targets: ["UDFKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // MARK: Host — the engine and everything around it
        .target(name: "TockModel", path: "Host/Model", swiftSettings: swiftSettings),
        .target(name: "LineProtocol", dependencies: ["TockModel"], path: "Host/LineProtocol",
                swiftSettings: swiftSettings),
        .target(name: "TICKScript", path: "Host/TICKScript", swiftSettings: swiftSettings),
        .systemLibrary(name: "CZlib", path: "Host/CZlib"),
        .target(name: "Recording", dependencies: ["TockModel", "LineProtocol", "CZlib"], path: "Host/Recording",
                swiftSettings: swiftSettings),
        .target(name: "Engine", dependencies: ["TockModel", "TICKScript", .product(name: "Yams", package: "Yams")], path: "Host/Engine",
                swiftSettings: swiftSettings),
        .target(name: "PluginHost",
                dependencies: ["TockModel", "Engine", "UDFProtocol",
                               .product(name: "TOMLKit", package: "TOMLKit")],
                path: "Host/PluginHost", swiftSettings: swiftSettings),
        .target(name: "Storage", dependencies: [.product(name: "GRDB", package: "GRDB.swift")],
                path: "Host/Storage", swiftSettings: swiftSettings),
        .target(name: "Server",
                dependencies: ["TockModel", "LineProtocol", "TICKScript", "Engine", "PluginHost", "Storage",
                               .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "HummingbirdTLS", package: "hummingbird"),
                               .product(name: "CompressNIO", package: "compress-nio"),
                               .product(name: "TOMLKit", package: "TOMLKit"),
                               .product(name: "Yams", package: "Yams")],
                path: "Host/Server", swiftSettings: swiftSettings),
        .executableTarget(name: "tock",
                          dependencies: ["TockModel", "LineProtocol", "TICKScript", "Engine", "PluginHost", "Server", "Storage",
                                         "Recording",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                         .product(name: "Yams", package: "Yams"),
                                         .product(name: "NIOPosix", package: "swift-nio"),
                                         .product(name: "NIOHTTP1", package: "swift-nio"),
                                         .product(name: "NIOSSL", package: "swift-nio-ssl")],
                          path: "Host/tock", swiftSettings: swiftSettings),

        // MARK: Protocol — wire format and plugin SDKs (nothing of the host)
        .target(name: "UDFProtocol",
                dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
                path: "Protocol/Swift/UDFProtocol", swiftSettings: swiftSettings),
        .target(name: "UDFKit", dependencies: ["UDFProtocol"], path: "Protocol/Swift/UDFKit",
                swiftSettings: swiftSettings),

        // MARK: Sample UDFs written in Swift
        .executableTarget(name: "swift-mirror", dependencies: ["UDFKit"], path: "SampleUDFs/swift-mirror",
                          swiftSettings: swiftSettings),

        // MARK: Fuzzing — libFuzzer targets (Tests/Fuzz/run.sh); without the sanitizer they replay files
        .target(name: "FuzzSupport", path: "Tests/Fuzz/FuzzSupport", swiftSettings: swiftSettings),
        .target(name: "LineProtocolFuzzing", dependencies: ["FuzzSupport", "LineProtocol", "TockModel"],
                path: "Tests/Fuzz/LineProtocolFuzzing", swiftSettings: swiftSettings),
        .target(name: "TICKScriptFuzzing", dependencies: ["FuzzSupport", "TICKScript", "Engine"],
                path: "Tests/Fuzz/TICKScriptFuzzing", swiftSettings: swiftSettings),
        .target(name: "UDFFuzzing", dependencies: ["FuzzSupport", "PluginHost", "UDFProtocol",
                                                   .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                path: "Tests/Fuzz/UDFFuzzing", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-line-protocol", dependencies: ["FuzzSupport", "LineProtocolFuzzing"],
                          path: "Tests/Fuzz/FuzzLineProtocol", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-tickscript", dependencies: ["FuzzSupport", "TICKScriptFuzzing"],
                          path: "Tests/Fuzz/FuzzTICKScript", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-udf", dependencies: ["FuzzSupport", "UDFFuzzing"],
                          path: "Tests/Fuzz/FuzzUDF", swiftSettings: swiftSettings),

        // MARK: Tests
        .target(name: "InfluxDBTesting", path: "Tests/Support/InfluxDBTesting", swiftSettings: swiftSettings),
        .testTarget(name: "TockModelTests", dependencies: ["TockModel"], path: "Tests/TockModelTests"),
        .testTarget(name: "LineProtocolTests", dependencies: ["LineProtocol", "LineProtocolFuzzing"], path: "Tests/LineProtocolTests"),
        .testTarget(name: "TICKScriptTests", dependencies: ["TICKScript", "TICKScriptFuzzing"], path: "Tests/TICKScriptTests"),
        .testTarget(name: "RecordingTests", dependencies: ["Recording", "TockModel"], path: "Tests/RecordingTests"),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "LineProtocol", "TICKScript"],
                    path: "Tests/EngineTests"),
        .testTarget(name: "UDFProtocolTests", dependencies: ["UDFProtocol", "UDFKit"], path: "Tests/UDFProtocolTests"),
        .testTarget(name: "PluginHostTests", dependencies: ["PluginHost", "Engine", "LineProtocol", "UDFFuzzing"],
                    path: "Tests/PluginHostTests"),
        .testTarget(name: "StorageTests", dependencies: ["Storage", .product(name: "GRDB", package: "GRDB.swift")],
                    path: "Tests/StorageTests"),
        .testTarget(name: "ServerTests",
                    dependencies: ["Server", "Storage", "Engine",
                                   .product(name: "Hummingbird", package: "hummingbird"),
                                   .product(name: "CompressNIO", package: "compress-nio")],
                    path: "Tests/ServerTests"),
        .testTarget(name: "EndToEndTests", dependencies: ["Storage", "InfluxDBTesting"], path: "Tests/EndToEndTests"),
        .testTarget(name: "TockCommandTests", dependencies: ["tock", "Engine", "Server", "TockModel"], path: "Tests/TockCommandTests"),
    ]
)
