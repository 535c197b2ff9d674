import ArgumentParser
import Foundation
@testable import GauntletCLI
import Storage
import Testing

/// Dataset kinds read from files, run end to end: a CIFAR-10 folder of each layout trains a
/// small CNN, is attacked, and its class names reach the cell and the report.
@Suite struct DatasetKindRunTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../DatasetsTests/Fixtures").standardizedFileURL.path

    @Test(arguments: ["cifar10-bin", "cifar10-py"])
    func cifarFolderRunsEndToEnd(_ folder: String) throws {
        let workspace = try Workspace()
        let spec = try workspace.write(
            "cifar.yaml",
            """
            schema_version: 1
            name: cifar_smoke
            dataset: {type: cifar10, path: \(Self.fixtures)/\(folder), validation: 4, normalize: {mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26]}}
            models:
              - name: cnn
                layers:
                  - {type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
                  - {type: relu}
                  - {type: maxpool2d, kernel_size: 4}
                  - {type: flatten}
                  - {type: linear, out_features: 10}
            training: {optimizer: {type: adam, lr: 0.01}, epochs: 1, batch_size: 8}
            attacks: [{type: fgsm, epsilon: 0.03}]
            metrics: [{type: accuracy}, {type: confusion_matrix}]
            """)
        let output = "\(workspace.directory)/results"
        var run = try Gauntlet.parseAsRoot(["run", spec, "--output", output, "--in-process", "--quiet"])
        try run.run()
        let cells = try FileManager.default.contentsOfDirectory(atPath: "\(output)/cifar_smoke/cells")
        let cell = try HDF5File.open("\(output)/cifar_smoke/cells/\(try #require(cells.first))")
        #expect(try cell.attribute("status") == .string("completed"))
        #expect(try cell.readStrings("/class_names") == ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"])
        #expect(try cell.readIntegers("/test_labels").values == (0..<20).map { Int64($0 % 10) })
        var report = try Gauntlet.parseAsRoot(["report", "\(output)/cifar_smoke"])
        try report.run()
        let html = try String(contentsOfFile: "\(output)/cifar_smoke/report.html", encoding: .utf8)
        #expect(html.contains(">automobile</text>"), "the confusion matrix names the classes")
    }
}
