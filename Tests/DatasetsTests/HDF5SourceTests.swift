import Foundation
import Storage
import Tensors
import Testing

@testable import Datasets

/// Arrays at named paths of an HDF5 file (written by h5py in `scripts/make_dataset_fixtures.py`):
/// the NumPy fixture's images, uint8 NHWC for training and float32 NCHW for test.
@Suite struct HDF5SourceTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/hdf5/arrays.h5").path

    @Test func namedDatasetsOfBothTypesAndLayouts() throws {
        let source = HDF5Source(path: Self.file, xTest: "test/images", yTest: "/test/labels", validation: 2)
        #expect(source.problems().isEmpty, "\(source.problems())")
        #expect(source.sampleShape == [3, 4, 5] && source.classCount == 3)
        #expect(source.sampleCounts == (10, 2, 6))
        let splits = try source.load()
        #expect(NumpyTests.indices(splits.test) == Array(12..<18), "float32 NCHW test images, uint8 labels")
        #expect(try (#require(NumpyTests.indices(splits.training)) + #require(NumpyTests.indices(splits.validation))).sorted() == Array(0..<12))
        // Without test datasets named, /x_test is absent: a seeded test split of the training arrays.
        let split = try HDF5Source(path: Self.file, validation: 1, testFraction: 0.25).load()
        #expect(split.training.count == 8 && split.validation.count == 1 && split.test.count == 3)
    }

    @Test func problemsNameTheFileAndDataset() throws {
        func message(_ source: HDF5Source) -> String {
            do {
                _ = try source.load()
                return "loaded"
            } catch { return error.description }
        }
        #expect(message(HDF5Source(path: Self.file, xTrain: "images")) == "\(Self.file): has no dataset '/images'")
        #expect(message(HDF5Source(path: Self.file, xTest: "test/images")) == "\(Self.file): has no dataset '/y_test'")
        #expect(HDF5Source(path: Self.file, yTest: "test/labels").problems() == ["y_test names the test labels; give x_test with it"])
        let directory = NSTemporaryDirectory() + "gauntlet-h5-\(UUID())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.file))
        try data.prefix(1000).write(to: URL(fileURLWithPath: "\(directory)/cut.h5"))
        #expect(message(HDF5Source(path: "\(directory)/cut.h5")) == "\(directory)/cut.h5: not a readable HDF5 file (truncated or corrupt?)")
        // Labels stored as strings are not a numeric dataset.
        let strings = try HDF5File.create("\(directory)/strings.h5")
        try strings.write("/x_train", floats: [Float](repeating: 0.5, count: 8), shape: [2, 4])
        try strings.write("/y_train", strings: ["a", "b"])
        strings.close()
        #expect(message(HDF5Source(path: "\(directory)/strings.h5")).hasPrefix("\(directory)/strings.h5: /y_train: "))
    }

    /// With `stream`, the training inputs stay in the file and arrive batch by batch, the same
    /// images, order and labels as the in-memory load; the other splits are in memory.
    @Test func streamedTrainingEqualsTheInMemoryLoad() throws {
        for source in [
            HDF5Source(path: Self.file, xTest: "test/images", yTest: "/test/labels", validation: 2),
            HDF5Source(path: Self.file, validation: 1, testFraction: 0.25),
        ] {
            var streamed = source
            streamed.stream = true
            let memory = try source.load(), file = try streamed.load()
            #expect(memory.training.streamed == nil && file.training.streamed != nil && file.test.streamed == nil && file.validation.streamed == nil)
            #expect(try file.training.materialized().images == memory.training.images && file.training.labels == memory.training.labels)
            #expect(file.validation.images == memory.validation.images && file.test.images == memory.test.images)
            #expect(file.test.labels == memory.test.labels)
            var rng: RandomSource? = RandomSource(seed: 3)
            let loader = file.training.loader(batchSize: 3, shuffledWith: &rng, threads: 2, prefetch: 1)
            rng = RandomSource(seed: 3)
            let expected = memory.training.batches(size: 3, shuffledWith: &rng)
            var batches: [Batch] = []
            while let batch = try loader.next() { batches.append(batch) }
            #expect(batches.map(\.images) == expected.map(\.images) && batches.map(\.labels) == expected.map(\.labels))
        }
    }

    @Test func streamedFloatImagesOutOfRangeAreNamedWhenRead() throws {
        let directory = NSTemporaryDirectory() + "gauntlet-h5-\(UUID())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = try HDF5File.create("\(directory)/floats.h5")
        var values = (0..<(10 * 4)).map { Float($0 % 7) / 7 }
        values[6 * 4 + 2] = 3
        try file.write("/x_train", floats: values, shape: [10, 1, 2, 2])
        try file.write("/y_train", integers: (0..<10).map { Int64($0 % 2) }, shape: [10])
        file.close()
        let source = HDF5Source(path: "\(directory)/floats.h5", validation: 0, testFraction: 0.1, stream: true)
        #expect(source.sampleShape == [1, 2, 2] && source.classCount == 2)
        let splits = try source.load()
        var none: RandomSource?
        let loader = splits.training.loader(batchSize: 100, shuffledWith: &none)
        do {
            _ = try loader.next()
            Issue.record("an image value of 3 must be refused")
        } catch {
            #expect(
                error.description
                    == "\(directory)/floats.h5[/x_train]: image values must be in [0, 1] (attacks and corruptions work on that range): 3.0 in row 6; store uint8 pixels or divide by 255"
            )
        }
    }
}
