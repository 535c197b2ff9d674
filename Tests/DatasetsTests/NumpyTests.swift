import Foundation
import Tensors
import Testing

@testable import Datasets

/// NumPy arrays as datasets, on the files of `scripts/make_dataset_fixtures.py` (written by
/// NumPy's own `save`, `savez` and `savez_compressed`): element (c, i, j) of image n is
/// (17·n + 5·c + 3·i + 7·j) mod 256, labels n mod 3.
@Suite struct NumpyTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/numpy").path

    /// Whether every image of `set` is image n (found from its first pixel) by the formula, with
    /// its label; returns the image indices in order.
    static func indices(_ set: ImageDataset, channels: Int = 3, height: Int = 4, width: Int = 5, scale: Float = 255) -> [Int]? {
        var found: [Int] = []
        let size = channels * height * width
        for sample in 0..<set.count {
            let values = set.images.scalars[(sample * size)..<((sample + 1) * size)].map { Int(($0 * scale).rounded()) }
            guard let n = (0..<64).first(where: { (17 * $0) % 256 == values.first! }) else { return nil }
            for c in 0..<channels {
                for i in 0..<height {
                    for j in 0..<width where values[(c * height + i) * width + j] != (17 * n + 5 * c + 3 * i + 7 * j) % 256 { return nil }
                }
            }
            guard set.labels[sample] == n % 3 else { return nil }
            found.append(n)
        }
        return found
    }

    @Test(arguments: ["nchw", "nhwc"])
    func npyFilesInBothLayouts(_ layout: String) throws {
        let source = NumpySource(
            xTrain: "\(Self.folder)/images-\(layout)-x.npy", yTrain: "\(Self.folder)/images-\(layout)-y.npy", validation: 2, testFraction: 0.25)
        #expect(source.problems().isEmpty, "\(source.problems())")
        #expect(source.sampleShape == [3, 4, 5] && source.classCount == 3)
        #expect(source.sampleCounts == (7, 2, 3))
        let splits = try source.load()
        let all = try #require(Self.indices(splits.training)) + #require(Self.indices(splits.validation)) + #require(Self.indices(splits.test))
        #expect(all.sorted() == Array(0..<12), "every image once, pixels and labels by formula")
        #expect(splits.training.count == 7 && splits.validation.count == 2 && splits.test.count == 3)
    }

    @Test func compressedArchiveWithItsOwnTestSplit() throws {
        let source = NumpySource(path: "\(Self.folder)/arrays.npz", validation: 3)
        #expect(source.problems().isEmpty, "\(source.problems())")
        #expect(source.sampleCounts == (9, 3, 6))
        let splits = try source.load()
        #expect(try #require(Self.indices(splits.test)) == Array(12..<18))
        #expect(try (#require(Self.indices(splits.training)) + #require(Self.indices(splits.validation))).sorted() == Array(0..<12))
    }

    @Test func storedArchiveWithOtherNamesAndFloatImages() throws {
        let stored = try NumpySource(path: "\(Self.folder)/stored.npz", xTrain: "images", yTrain: "labels", validation: 1).load()
        #expect(stored.training.count + stored.validation.count + stored.test.count == 12)
        let floats = NumpySource(xTrain: "\(Self.folder)/float-x.npy", yTrain: "\(Self.folder)/float-y.npy", validation: 0, testFraction: 0.5)
        #expect(floats.sampleShape == [1, 5, 5])
        let splits = try floats.load()
        #expect(Self.indices(splits.training, channels: 1, height: 5, width: 5) != nil)
        // A missing member is named with the archive's members.
        #expect(throws: DatasetError.invalidData("\(Self.folder)/stored.npz", "has no array 'x_train'; its arrays: images, labels")) {
            try NumpySource(path: "\(Self.folder)/stored.npz").load()
        }
    }

    /// Bad arrays: one message each, naming the file (and the index where there is one).
    @Test func badArraysAreNamed() throws {
        let directory = NSTemporaryDirectory() + "gauntlet-numpy-\(UUID())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func npy(_ name: String, descriptor: String, shape: [Int], bytes: [UInt8]) throws -> String {
            var header =
                "{'descr': '\(descriptor)', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", "))\(shape.count == 1 ? "," : "")), }"
            while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
            header += "\n"
            let data = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8) + bytes
            let path = "\(directory)/\(name)"
            try Data(data).write(to: URL(fileURLWithPath: path))
            return path
        }
        func message(_ source: NumpySource) -> String {
            do {
                _ = try source.load()
                return "loaded"
            } catch { return error.description }
        }
        let x = try npy("x.npy", descriptor: "|u1", shape: [4, 3, 6, 6], bytes: [UInt8](repeating: 7, count: 432))
        let y3 = try npy("y3.npy", descriptor: "<i8", shape: [3], bytes: [UInt8](repeating: 0, count: 24))
        #expect(message(NumpySource(xTrain: x, yTrain: y3)).hasPrefix("\(y3): labels of shape [3] for 4 inputs"))
        var labels = [UInt8](repeating: 0, count: 32)
        labels[16] = 9
        let bad = try npy("bad.npy", descriptor: "<i8", shape: [4], bytes: labels)
        #expect(message(NumpySource(xTrain: x, yTrain: bad, classes: 3, validation: 1, testFraction: 0.25)) == "\(bad): label 9 at index 2 is outside 0..<3")
        let floatLabels = try npy("f.npy", descriptor: "<f4", shape: [4], bytes: [UInt8](repeating: 0, count: 16))
        #expect(message(NumpySource(xTrain: x, yTrain: floatLabels)) == "\(floatLabels): labels are <f4; they must be integers")
        let big = try npy("big.npy", descriptor: "<f4", shape: [4, 1, 6, 6], bytes: Array(repeating: [0, 0, 0, 0x40], count: 144).flatMap { $0 })
        let y4 = try npy("y4.npy", descriptor: "<i8", shape: [4], bytes: [UInt8](repeating: 0, count: 32))
        #expect(message(NumpySource(xTrain: big, yTrain: y4, validation: 1, testFraction: 0.25)).hasPrefix("\(big): image values must be in [0, 1]"))
        let ambiguous = try npy("a.npy", descriptor: "|u1", shape: [4, 3, 5, 3], bytes: [UInt8](repeating: 1, count: 180))
        #expect(
            message(NumpySource(xTrain: ambiguous, yTrain: y4))
                == "\(ambiguous): shape [4, 3, 5, 3] could be NCHW or NHWC; say which with layout: nchw or layout: nhwc")
        #expect(NumpySource(xTrain: ambiguous, yTrain: y4, layout: .nhwc, validation: 1, testFraction: 0.25).sampleShape == [3, 3, 5])
        let truncated = try npy("t.npy", descriptor: "|u1", shape: [4, 3, 6, 6], bytes: [UInt8](repeating: 7, count: 400))
        #expect(message(NumpySource(xTrain: truncated, yTrain: y4)).hasSuffix("the file holds 400 (truncated?)"))
        try Data("not numpy".utf8).write(to: URL(fileURLWithPath: "\(directory)/junk.npy"))
        #expect(message(NumpySource(xTrain: "\(directory)/junk.npy", yTrain: y4)) == "\(directory)/junk.npy: not a NumPy .npy array: no \\x93NUMPY magic")
        #expect(message(NumpySource(xTrain: "\(directory)/none.npy", yTrain: y4)) == "\(directory)/none.npy: no such file")
        // A truncated archive.
        let archive = try Data(contentsOf: URL(fileURLWithPath: "\(Self.folder)/arrays.npz"))
        try archive.prefix(archive.count - 30).write(to: URL(fileURLWithPath: "\(directory)/cut.npz"))
        #expect(message(NumpySource(path: "\(directory)/cut.npz")).hasPrefix("\(directory)/cut.npz: not a valid .npz (zip) archive"))
    }
}
