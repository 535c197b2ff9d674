import ArgumentParser
import Catalog
import Spec
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

    /// An image folder of PNG and JPEG files (train and test folders), resized: the training
    /// images stream through the loader, the class names reach the cell; a training image whose
    /// data is cut short fails the trial with its path and keeps the results file readable.
    @Test func imageFolderRunsEndToEnd() throws {
        let workspace = try Workspace()
        let images = "\(Self.fixtures)/image-folder/folder"
        let layout = [
            ("bird/a-rgb.png", "train/bird/a.png"), ("bird/b-rgba.png", "train/bird/b.png"), ("bird/c-gray.png", "train/bird/c.png"),
            ("bird/nested/e-rgb.jpeg", "train/bird/e.jpeg"), ("cat/f-palette.png", "train/cat/f.png"), ("cat/g-gray.jpg", "train/cat/g.jpg"),
            ("bird/d-rgb.jpg", "test/bird/d.jpg"), ("cat/h-rgb.PNG", "test/cat/h.png"),
        ]
        for (from, to) in layout {
            let target = "\(workspace.directory)/images/\(to)"
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(images)/\(from)", toPath: target)
        }
        let text = """
            schema_version: 1
            name: folder_smoke
            dataset: {type: image_folder, root: images, resize: [8, 8], validation: 1, loader_threads: 2, prefetch: 1}
            models:
              - name: cnn
                layers:
                  - {type: conv2d, out_channels: 4, kernel_size: 3, padding: 1}
                  - {type: relu}
                  - {type: maxpool2d, kernel_size: 4}
                  - {type: flatten}
                  - {type: linear, out_features: 2}
            training: {optimizer: {type: adam, lr: 0.01}, epochs: 2, batch_size: 2, augmentation: {random_crop: 1, horizontal_flip: true}}
            noise: [{type: gaussian_noise, severity: 1}]
            attacks: [{type: fgsm, epsilon: 0.03}]
            """
        let spec = try workspace.write("folder.yaml", text)
        let output = "\(workspace.directory)/results"
        var run = try Gauntlet.parseAsRoot(["run", spec, "--output", output, "--in-process", "--quiet"])
        try run.run()
        let cells = try FileManager.default.contentsOfDirectory(atPath: "\(output)/folder_smoke/cells")
        let cell = try HDF5File.open("\(output)/folder_smoke/cells/\(try #require(cells.first))")
        #expect(try cell.attribute("status") == .string("completed"))
        #expect(try cell.readStrings("/class_names") == ["bird", "cat"])
        #expect(try cell.readIntegers("/test_labels").values == [0, 1])

        // Cut short the data (not the header) of every training image: the trial fails naming one.
        for (_, to) in layout.prefix(6) {
            let path = "\(workspace.directory)/images/\(to)"
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try bytes.prefix(bytes.count - 30).write(to: URL(fileURLWithPath: path))
        }
        let broken = try workspace.write(
            "broken.yaml",
            text.replacingOccurrences(of: "name: folder_smoke", with: "name: broken").replacingOccurrences(of: "validation: 1", with: "validation: 0"))
        // In a worker process, as runs go by default.
        run = try Gauntlet.parseAsRoot(["run", broken, "--output", output, "--quiet"])
        #expect(throws: ExitCode.failure) { try run.run() }
        let file = try HDF5File.open("\(output)/broken/broken.h5")
        let group = try trialGroup("cnn", in: file)
        #expect(try file.attribute("status", on: group) == .string("failed"))
        guard case .string(let message)? = try file.attribute("message", on: group) else {
            Issue.record("no failure message")
            return
        }
        #expect(message.hasPrefix("training data, epoch 1: \(workspace.directory)/images/train/"), "\(message)")
        #expect(message.contains(": corrupt "), "\(message)")
    }

    /// A CSV table with a categorical label: an MLP learns it, the class names reach the cell;
    /// an attack on its feature rows is refused at the key.
    @Test func csvClassificationRunsEndToEnd() throws {
        let workspace = try Workspace()
        let colours = ["red", "green", "blue"]
        let rows = (0..<90).map { i in "\(Double(i % 3) + Double(i % 7) * 0.01),\(Double(i % 5) * 0.1),\(colours[i % 3])" }
        _ = try workspace.write("table.csv", (["x1,x2,colour"] + rows).joined(separator: "\n"))
        let text = """
            schema_version: 1
            name: csv_classes
            dataset: {type: csv, path: table.csv, label: colour}
            models:
              - name: mlp
                layers: [{type: linear, out_features: 16}, {type: relu}, {type: linear, out_features: 3}]
            training: {optimizer: {type: adam, lr: 0.05}, epochs: 20, batch_size: 16}
            """
        let spec = try workspace.write("csv.yaml", text)
        let output = "\(workspace.directory)/results"
        var run = try Gauntlet.parseAsRoot(["run", spec, "--output", output, "--in-process", "--quiet"])
        try run.run()
        let cells = try FileManager.default.contentsOfDirectory(atPath: "\(output)/csv_classes/cells")
        let cell = try HDF5File.open("\(output)/csv_classes/cells/\(try #require(cells.first))")
        #expect(try cell.readStrings("/class_names") == ["blue", "green", "red"])
        let accuracy = try cell.readDoubles("/metrics/accuracy").values[0]
        #expect(accuracy > 0.9, "the colour is the first feature's integer part: \(accuracy)")
        let attacked = try workspace.write("attacked.yaml", text + "\nattacks: [{type: fgsm, epsilon: 0.1}]\n")
        do {
            _ = try ResolvedGrid.load(attacked)
            Issue.record("an attack on feature rows must be refused")
        } catch {
            #expect(
                error.issues.map(\.description) == [
                    "\(attacked):8:11: attacks[0]: attacks perturb images in [0, 1] pixels within a pixel budget; the dataset 'csv' has feature rows of 2 value(s), not images"
                ])
        }
    }

    /// The CIFAR recipe's crops and flips change what training sees, the same way on every run;
    /// they are refused for feature rows and for a padding as large as the image.
    @Test func augmentationIsSeededAndChecked() throws {
        let workspace = try Workspace()
        func spec(_ name: String, augmentation: String) throws -> String {
            try workspace.write(
                "\(name).yaml",
                """
                schema_version: 1
                name: \(name)
                dataset: {type: cifar10, path: \(Self.fixtures)/cifar10-bin, validation: 4}
                models:
                  - name: cnn
                    layers: [{type: conv2d, out_channels: 2, kernel_size: 3}, {type: relu}, {type: flatten}, {type: linear, out_features: 10}]
                training: {optimizer: {type: sgd, lr: 0.01}, epochs: 2, batch_size: 8\(augmentation)}
                """)
        }
        func trainLoss(_ file: String) throws -> [Double] {
            let output = "\(workspace.directory)/results"
            var run = try Gauntlet.parseAsRoot(["run", file, "--output", output, "--in-process", "--quiet"])
            try run.run()
            let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
            let cells = try FileManager.default.contentsOfDirectory(atPath: "\(output)/\(name)/cells")
            return try HDF5File.open("\(output)/\(name)/cells/\(try #require(cells.first))").readDoubles("/learning_curve/train_loss").values
        }
        let augmented = ", augmentation: {random_crop: 4, horizontal_flip: true}"
        let first = try trainLoss(try spec("first", augmentation: augmented))
        let second = try trainLoss(try spec("second", augmentation: augmented))
        let plain = try trainLoss(try spec("plain", augmentation: ""))
        #expect(first == second, "seeded: the same crops and flips on every run")
        #expect(first != plain, "the augmentation changes the training images")
        let large = try spec("large", augmentation: ", augmentation: {random_crop: 32}")
        do {
            _ = try ResolvedGrid.load(large)
            Issue.record("a crop padding as large as the image must be refused")
        } catch {
            #expect(error.issues.map(\.message) == ["random_crop (32) must be smaller than the images' sides (32×32)"])
        }
    }

    /// A CIFAR-10-C-layout set: every corruption and severity is an evaluation of its own type,
    /// so the report's robustness table (mean corruption error, mCE) covers them.
    @Test func precomputedCorruptionSetIsEvaluated() throws {
        let workspace = try Workspace()
        let noise = (1...5).flatMap { s in
            ["fog", "gaussian_noise"].map { "  - {type: corruption_set, path: \(Self.fixtures)/corruption-set, corruption: \($0), severity: \(s)}" }
        }
        let spec = try workspace.write(
            "set.yaml",
            """
            schema_version: 1
            name: set_smoke
            dataset: {type: numpy, path: \(Self.fixtures)/numpy/arrays.npz, validation: 2}
            models:
              - name: mlp
                layers: [{type: flatten}, {type: linear, out_features: 3}]
            training: {optimizer: {type: adam, lr: 0.01}, epochs: 1, batch_size: 4}
            noise:
            \(noise.joined(separator: "\n"))
            """)
        let output = "\(workspace.directory)/results"
        var run = try Gauntlet.parseAsRoot(["run", spec, "--output", output, "--in-process", "--quiet"])
        try run.run()
        let cells = try FileManager.default.contentsOfDirectory(atPath: "\(output)/set_smoke/cells")
        let cell = try HDF5File.open("\(output)/set_smoke/cells/\(try #require(cells.first))")
        #expect(try cell.attribute("status") == .string("completed"))
        let names = try cell.readStrings("/metrics/evaluation")
        #expect(names.count == 11 && names[1] == "fog(severity=1, precomputed)" && names[10] == "gaussian_noise(severity=5, precomputed)")
        var report = try Gauntlet.parseAsRoot(["report", "\(output)/set_smoke"])
        try report.run()
        let markdown = try String(contentsOfFile: "\(output)/set_smoke/report.md", encoding: .utf8)
        #expect(markdown.contains("mean corruption error"), "the robustness table")
    }
}
