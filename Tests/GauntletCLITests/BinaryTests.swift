import Foundation
import Testing

/// Runs the built `gauntlet` executable (built by `swift build --build-tests`, as `make test` does).
struct Binary {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let path = "\(packageRoot)/.build/debug/gauntlet"

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }
}

@Suite(.serialized) struct BinaryTests {
    init() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Binary.path), "build the executable first: swift build --build-tests")
    }

    func fashionSpec(path: String) -> String {
        syntheticExperiment
            .replacingOccurrences(
                of: "{type: synthetic, train: 300, validation: 60, test: 120, classes: 4, side: 8, noise: 0.6}",
                with: "{type: fashion_mnist, path: \(path)}"
            )
            .replacingOccurrences(of: "out_features: 4}", with: "out_features: 10}")
    }

    @Test func missingDatasetFileIsOneLineNamingTheFile() throws {
        let workspace = try Workspace()
        let spec = try workspace.write("missing.yaml", fashionSpec(path: "\(workspace.directory)/nowhere"))
        let result = try Binary.run(["run", spec, "--quiet", "--output", workspace.directory])
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.hasPrefix("error: \(workspace.directory)/nowhere/train-images-idx3-ubyte.gz: no such file") == true)
    }

    @Test func malformedIDXFileIsOneLineNamingTheFile() throws {
        let workspace = try Workspace()
        try FileManager.default.createDirectory(atPath: "\(workspace.directory)/data", withIntermediateDirectories: true)
        _ = try workspace.write("data/train-images-idx3-ubyte", "this is not an IDX file")
        let spec = try workspace.write("malformed.yaml", fashionSpec(path: "\(workspace.directory)/data"))
        let result = try Binary.run(["run", spec, "--quiet", "--output", workspace.directory])
        #expect(result.status != 0)
        #expect(
            result.stderr
                == "error: \(workspace.directory)/data/train-images-idx3-ubyte: not a valid IDX file: bad magic number (first two bytes must be zero)\n")
    }

    @Test func unreadableYAMLIsOneLineNamingTheFile() throws {
        let workspace = try Workspace()
        let missing = try Binary.run(["run", "\(workspace.directory)/absent.yaml"])
        #expect(missing.status == 2 && missing.stderr == "error: \(workspace.directory)/absent.yaml: no such file\n")
        let broken = try workspace.write("broken.yaml", "schema_version: 1\nname: [oops\n")
        let syntax = try Binary.run(["run", broken])
        #expect(syntax.status == 2)
        #expect(syntax.stderr.split(separator: "\n").count == 1)
        #expect(syntax.stderr.hasPrefix("error: \(broken):3:1: invalid YAML: "), "\(syntax.stderr)")
    }

    @Test func everyCheckedInExperimentValidates() throws {
        let directory = "\(Binary.packageRoot)/experiments"
        // The CIFAR-10 study reads data a user puts in experiments/data/cifar10: checked below on generated data.
        let study = "cifar10-study.yaml"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") && $0 != study }.sorted()
        #expect(files.count >= 4)
        let result = try Binary.run(["validate"] + files.map { "\(directory)/\($0)" })
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == files.count)

        let workspace = try Workspace()
        let generator = Process()
        generator.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        generator.arguments = [
            "python3", "\(Binary.packageRoot)/scripts/make_cifar_like.py", "\(workspace.directory)/data/cifar10", "--train-per-batch", "1001", "--test", "20",
        ]
        try generator.run()
        generator.waitUntilExit()
        #expect(generator.terminationStatus == 0)
        try FileManager.default.copyItem(atPath: "\(directory)/\(study)", toPath: "\(workspace.directory)/\(study)")
        let cifar = try Binary.run(["validate", "\(workspace.directory)/\(study)"])
        #expect(cifar.status == 0 && cifar.stdout == "\(workspace.directory)/\(study): valid; 2 trial(s)\n", "\(cifar.stderr)")
    }

    @Test func validateReportsEveryProblemAndSucceedsOnAGoodFile() throws {
        let workspace = try Workspace()
        let good = try workspace.write("good.yaml", syntheticExperiment)
        let ok = try Binary.run(["validate", good])
        #expect(ok.status == 0 && ok.stdout == "\(good): valid; 2 trial(s)\n")
        let bad = try workspace.write(
            "bad.yaml",
            syntheticExperiment
                .replacingOccurrences(of: "epochs: 3", with: "epochs: 3, epoch: 4")
                .replacingOccurrences(of: "type: fgsm", with: "type: fgsn"))
        let result = try Binary.run(["validate", bad])
        #expect(result.status == 2)
        #expect(result.stderr.contains("training.epoch: unknown key 'epoch' (did you mean 'epochs'?)"))
        #expect(result.stderr.contains("attacks[0].type: unknown attack 'fgsn' (did you mean 'fgsm'?)"))
        #expect(result.stderr.hasSuffix("\(bad): 2 problems\n"))
    }
}
