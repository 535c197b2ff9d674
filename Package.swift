// swift-tools-version:6.0
import PackageDescription

// MARK: - Shared settings

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// Hot numerical modules drop exclusivity checks in release builds; debug builds keep them.
let kernelSettings: [SwiftSetting] =
    swiftSettings + [
        .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
    ]

let package = Package(
    name: "Gauntlet",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gauntlet", targets: ["gauntlet"]),
        .executable(name: "gauntlet-bench", targets: ["gauntlet-bench"]),
        .library(name: "GauntletCLI", targets: ["GauntletCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        // MARK: - C libraries (each imported by exactly one Swift file)
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CProcessControl"),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        // Gauntlet's own kernel families, AVX-512 and AVX2 (imported by Tensors/BLAS+MicroKernels.swift):
        // optimised in debug builds too, which run the tests through them.
        .target(name: "CMicroKernels", cSettings: [.unsafeFlags(["-O2"])]),
        // The helper threads of Tensors/Parallel.swift (spinning between jobs needs a pause
        // instruction and C11 atomics).
        .target(name: "CWorkerThreads", linkerSettings: [.linkedLibrary("pthread")]),

        // MARK: - Light modules (no C)
        .target(name: "Spec", dependencies: [.product(name: "Yams", package: "Yams")], exclude: ["README.md"], swiftSettings: swiftSettings),
        .target(name: "Grid", dependencies: ["Spec"], exclude: ["README.md"], swiftSettings: swiftSettings),
        .target(name: "Reporting", exclude: ["README.md"], swiftSettings: swiftSettings),

        // MARK: - Engine
        .target(
            name: "Tensors", dependencies: ["CBLAS", "CMicroKernels", "CProcessControl", "CWorkerThreads"], exclude: ["README.md"],
            swiftSettings: kernelSettings),
        .target(name: "Layers", dependencies: ["Spec", "Tensors"], exclude: ["README.md"], swiftSettings: kernelSettings),
        .target(
            name: "Perturbations", dependencies: ["Spec", "Tensors", "Layers", "Datasets", "Evaluation"], exclude: ["README.md"], swiftSettings: kernelSettings),
        .target(name: "Evaluation", dependencies: ["Spec", "Tensors", "Layers"], exclude: ["README.md"], swiftSettings: kernelSettings),
        .target(
            name: "Datasets", dependencies: ["Spec", "Tensors", "CZlib", "CTurboJPEG", "CPNG", "Storage"], exclude: ["README.md"], swiftSettings: kernelSettings
        ),
        .target(name: "Storage", dependencies: ["CHDF5"], exclude: ["README.md"], swiftSettings: swiftSettings),

        // ONNX's protobuf messages, generated once from proto/onnx/onnx.proto
        // (scripts/generate-onnx-proto.sh) and committed.
        .target(name: "OnnxProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // ONNX models imported as graphs of layers.
        .target(
            name: "Onnx", dependencies: ["OnnxProto", "Spec", "Tensors", "Layers", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["README.md"], swiftSettings: kernelSettings),

        // MARK: - Composition
        .target(
            name: "Catalog",
            dependencies: ["Spec", "Grid", "Tensors", "Layers", "Datasets", "Perturbations", "Evaluation", "Onnx"],
            exclude: ["README.md"], swiftSettings: swiftSettings),
        // The results layout (cells, index, state dicts) and its reader, for reports.
        .target(
            name: "Results",
            dependencies: ["Spec", "Grid", "Catalog", "Tensors", "Layers", "Datasets", "Evaluation", "Storage", "Reporting"],
            exclude: ["README.md"], swiftSettings: swiftSettings),
        // Scheduling and executing trials: in process or in child processes.
        .target(
            name: "Runner",
            dependencies: [
                "Spec", "Grid", "Catalog", "Tensors", "Layers", "Datasets", "Perturbations",
                "Evaluation", "Storage", "Results",
            ],
            exclude: ["README.md"], swiftSettings: swiftSettings),
        // Slurm submission, the work list of shards, and the status of a results folder.
        .target(
            name: "Cluster",
            dependencies: ["Spec", "Grid", "Catalog", "Storage", "Results"],
            exclude: ["README.md"], swiftSettings: swiftSettings),
        .target(
            name: "GauntletCLI",
            dependencies: [
                "Spec", "Grid", "Catalog", "Runner", "Results", "Cluster", "Reporting", "Tensors", "Layers", "Datasets", "Onnx", "CProcessControl",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["README.md"], swiftSettings: swiftSettings),

        // MARK: - Executables
        .executableTarget(name: "gauntlet", dependencies: ["GauntletCLI"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "gauntlet-bench",
            dependencies: ["Tensors", "Layers", "Datasets", "Catalog", "Spec", "Perturbations", "Evaluation", "Results", "Reporting"],
            swiftSettings: kernelSettings),

        // MARK: - Tests
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"], swiftSettings: swiftSettings),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "Tensors"], swiftSettings: swiftSettings),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tensors", "Storage"], exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PerturbationsTests", dependencies: ["Perturbations", "Layers", "Tensors", "Datasets", "Evaluation"], exclude: ["Fixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "EvaluationTests", dependencies: ["Evaluation", "Tensors", "Layers", "Datasets"], exclude: ["Fixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OnnxTests",
            dependencies: ["Onnx", "OnnxProto", "Layers", "Tensors", "Catalog", "Datasets", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(name: "StorageTests", dependencies: ["Storage"], swiftSettings: swiftSettings),
        .testTarget(name: "SpecTests", dependencies: ["Spec"], swiftSettings: swiftSettings),
        .testTarget(name: "GridTests", dependencies: ["Grid", "Spec"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RunnerTests",
            dependencies: ["Runner", "Results", "Reporting", "Grid", "Catalog", "Spec", "Datasets", "Evaluation", "Layers", "Tensors", "Storage"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CatalogTests", dependencies: ["Catalog", "Spec", "Layers", "Tensors", "Evaluation", "Datasets", "Perturbations"],
            exclude: ["BrokenSpecs"],
            swiftSettings: swiftSettings),
        .target(name: "GoldenFiles", path: "Tests/GoldenFiles", swiftSettings: swiftSettings),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "GoldenFiles"], exclude: ["Golden"], swiftSettings: swiftSettings),
        .testTarget(
            name: "GauntletCLITests",
            dependencies: [
                "GauntletCLI", "GoldenFiles", "Runner", "Results", "Cluster", "Reporting", "Storage", "Spec", "Catalog", "Datasets", "Tensors", "Grid", "Onnx",
                "Layers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["Golden"], swiftSettings: swiftSettings),
    ]
)
