import Foundation
import Tensors
import Testing

@testable import Datasets

/// IDX files of the MNIST family as a dataset kind, on the files of
/// `scripts/make_dataset_fixtures.py`: pixel (i, j) of image n is (13·n + 4·i + 9·j) mod 256,
/// labels n mod 7; the training pair gzipped, the test pair plain.
@Suite struct IDXSourceTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/idx").path

    /// The image index of each sample, checking every pixel and label by the formula.
    static func indices(_ set: ImageDataset) -> [Int]? {
        var found: [Int] = []
        for sample in 0..<set.count {
            let values = set.images.scalars[(sample * 24)..<((sample + 1) * 24)].map { Int(($0 * 255).rounded()) }
            guard let n = (0..<20).first(where: { (13 * $0) % 256 == values.first! }) else { return nil }
            for i in 0..<4 { for j in 0..<6 where values[i * 6 + j] != (13 * n + 4 * i + 9 * j) % 256 { return nil } }
            guard set.labels[sample] == n % 7 else { return nil }
            found.append(n)
        }
        return found
    }

    @Test func mnistNamedFilesGzippedOrPlain() throws {
        let source = IDXSource(path: Self.folder, validation: 3, splitSeed: 2)
        #expect(source.problems().isEmpty, "\(source.problems())")
        #expect(source.sampleShape == [1, 4, 6] && source.classCount == 7)
        #expect(source.sampleCounts == (7, 3, 5))
        let splits = try source.load()
        #expect(try (#require(Self.indices(splits.training)) + #require(Self.indices(splits.validation))).sorted() == Array(0..<10))
        #expect(Self.indices(splits.test) == Array(10..<15))
    }

    /// EMNIST stores images column by column: `transpose` reads them back upright.
    @Test func transposedImagesOfEMNIST() throws {
        let source = IDXSource(
            path: Self.folder, trainImages: "emnist-train-images-idx3-ubyte.gz", testImages: "emnist-test-images-idx3-ubyte.gz", transpose: true,
            validation: 2)
        #expect(source.problems().isEmpty, "\(source.problems())")
        let splits = try source.load()
        #expect(splits.training.sampleShape == [1, 4, 6])
        #expect(try (#require(Self.indices(splits.training)) + #require(Self.indices(splits.validation))).sorted() == Array(0..<10))
        #expect(Self.indices(splits.test) == Array(10..<15))
        // Without transpose the images are 6×4 and the test images 4×6: refused, naming the file.
        #expect(
            IDXSource(path: Self.folder, trainImages: "emnist-train-images-idx3-ubyte.gz").problems()
                == ["the files cannot be used: \(Self.folder)/t10k-images-idx3-ubyte: not a valid IDX file: images are 4×6, the training images 6×4"])
    }

    @Test func badFilesAreNamed() throws {
        let directory = NSTemporaryDirectory() + "gauntlet-idx-\(UUID())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func message(_ source: IDXSource) -> String {
            do {
                _ = try source.load()
                return "loaded"
            } catch { return error.description }
        }
        #expect(message(IDXSource(path: directory)) == "\(directory)/train-images-idx3-ubyte(.gz): no such file")
        for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte"] {
            try FileManager.default.copyItem(atPath: "\(Self.folder)/\(name)", toPath: "\(directory)/\(name)")
        }
        // Test labels: 4 for 5 images; then 5 with one out of the given classes.
        func labels(_ values: [UInt8]) throws {
            try Data([0, 0, 8, 1, 0, 0, 0, UInt8(values.count)] + values).write(to: URL(fileURLWithPath: "\(directory)/t10k-labels-idx1-ubyte"))
        }
        try labels([1, 2, 3, 4])
        #expect(
            message(IDXSource(path: directory))
                == "\(directory)/t10k-labels-idx1-ubyte: not a valid IDX file: 4 labels for 5 images in \(directory)/t10k-images-idx3-ubyte")
        try labels([1, 2, 9, 4, 0])
        #expect(message(IDXSource(path: directory, classes: 7, validation: 1)) == "\(directory)/t10k-labels-idx1-ubyte: label 9 at index 2 is outside 0..<7")
        // A truncated test image file.
        let images = try Data(contentsOf: URL(fileURLWithPath: "\(Self.folder)/t10k-images-idx3-ubyte"))
        try images.prefix(images.count - 5).write(to: URL(fileURLWithPath: "\(directory)/t10k-images-idx3-ubyte"))
        #expect(
            message(IDXSource(path: directory, classes: 10, validation: 1)).hasPrefix(
                "\(directory)/t10k-images-idx3-ubyte: not a valid IDX file: header announces 5×4×6"))
    }
}
