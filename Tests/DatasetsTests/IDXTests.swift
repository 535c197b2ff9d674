import Datasets
import Foundation
import Tensors
import Testing

@Suite struct IDXTests {
    static func idx(shape: [Int], bytes: [UInt8]) -> [UInt8] {
        var data: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
        for extent in shape { data += [24, 16, 8, 0].map { UInt8((extent >> $0) & 0xff) } }
        return data + bytes
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-idx-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func parsesHeaderAndBytes() throws {
        let file = try IDXFile.parse(Self.idx(shape: [2, 3], bytes: [1, 2, 3, 4, 5, 6]), path: "x")
        #expect(file.shape == [2, 3] && file.bytes == [1, 2, 3, 4, 5, 6])
    }

    @Test func malformedFilesNameTheProblemAndTheFile() {
        let cases: [([UInt8], String)] = [
            ([0, 0], "shorter than the header"),
            ([1, 0, 8, 1, 0, 0, 0, 1, 7], "bad magic number"),
            ([0, 0, 0x0d, 1, 0, 0, 0, 1, 7], "is not unsigned byte"),
            (Self.idx(shape: [2, 2], bytes: [1, 2, 3]), "header announces 2×2 = 4 bytes, file holds 3"),
        ]
        for (bytes, fragment) in cases {
            do {
                _ = try IDXFile.parse(bytes, path: "/data/broken-idx")
                Issue.record("accepted a malformed file (\(fragment))")
            } catch {
                #expect(error.description.hasPrefix("/data/broken-idx: "))
                #expect(error.description.contains(fragment), "\(error.description)")
            }
        }
    }

    @Test func readsGzipAndPlainAlike() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let images = Self.idx(shape: [3, 2, 2], bytes: (0..<12).map { UInt8($0 * 20) })
        let labels = Self.idx(shape: [3], bytes: [0, 2, 1])
        try Data(images).write(to: URL(fileURLWithPath: "\(directory)/train-images-idx3-ubyte"))
        try Data(labels).write(to: URL(fileURLWithPath: "\(directory)/train-labels-idx1-ubyte"))
        let plain = try MNISTFamily.load(prefix: "train", directory: directory, classCount: 3)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["\(directory)/train-images-idx3-ubyte", "\(directory)/train-labels-idx1-ubyte"]
        try gzip.run()
        gzip.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: "\(directory)/train-images-idx3-ubyte.gz"))
        let compressed = try MNISTFamily.load(prefix: "train", directory: directory, classCount: 3)
        #expect(compressed.images == plain.images && compressed.labels == [0, 2, 1])
        #expect(plain.images.shape == [3, 1, 2, 2])
        #expect(plain.images[0, 0, 0, 1] == 20 / 255 && plain.images.scalars.max()! <= 1)
    }

    @Test func missingAndCorruptFilesAreNamed() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: DatasetError.missingFile("\(directory)/t10k-images-idx3-ubyte.gz")) {
            try FashionMNIST.load(split: .test, directory: directory)
        }
        // A file that claims to be gzip but is cut short.
        try Data([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2]).write(to: URL(fileURLWithPath: "\(directory)/t10k-images-idx3-ubyte.gz"))
        do {
            _ = try FashionMNIST.load(split: .test, directory: directory)
            Issue.record("accepted a corrupt gzip file")
        } catch {
            #expect(error.description.hasPrefix("\(directory)/t10k-images-idx3-ubyte.gz: "))
        }
    }

    @Test func fashionMNISTFromTheDebianPackage() throws {
        // Installed by `make test` (scripts/install-deps.sh): dataset-fashion-mnist.
        let train = try FashionMNIST.load(split: .train)
        let test = try FashionMNIST.load(split: .test)
        #expect(train.images.shape == [60000, 1, 28, 28] && test.count == 10000)
        #expect((0..<10).allSatisfy { c in train.labels.filter { $0 == c }.count == 6000 })
        #expect(train.images.scalars.min()! == 0 && train.images.scalars.max()! == 1)
    }
}

@Suite struct ImageDatasetTests {
    let data = SyntheticImages.make(count: 50, classCount: 5, side: 6, seed: 1)

    @Test func splitIsDeterministicDisjointAndComplete() throws {
        let a = try data.split(validationCount: 10, seed: 3), b = try data.split(validationCount: 10, seed: 3)
        #expect(a.training.images == b.training.images && a.validation.labels == b.validation.labels)
        #expect(a.training.count == 40 && a.validation.count == 10)
        let c = try data.split(validationCount: 10, seed: 4)
        #expect(c.validation.images != a.validation.images)
        // Every image appears exactly once across the two parts (images are distinct with noise).
        let all = (a.training.images.scalars.chunked(36) + a.validation.images.scalars.chunked(36)).sorted { $0.lexicographicallyPrecedes($1) }
        #expect(all == data.images.scalars.chunked(36).sorted { $0.lexicographicallyPrecedes($1) })
        #expect(throws: DatasetError.self) { try data.split(validationCount: 50, seed: 0) }
    }

    @Test func batchesCoverEverySampleOnceAndShuffleIsSeeded() {
        var rng: RandomSource? = RandomSource(seed: 8)
        let batches = data.batches(size: 16, shuffledWith: &rng)
        #expect(batches.map(\.labels.count) == [16, 16, 16, 2])
        #expect(batches.flatMap(\.labels).sorted() == data.labels.sorted())
        var again: RandomSource? = RandomSource(seed: 8)
        #expect(data.batches(size: 16, shuffledWith: &again).flatMap(\.labels) == batches.flatMap(\.labels))
        #expect(data.batches(size: 16).flatMap(\.labels) == data.labels)
        let secondEpoch = data.batches(size: 16, shuffledWith: &rng)  // the generator advanced
        #expect(secondEpoch.flatMap(\.labels) != batches.flatMap(\.labels))
    }

    @Test func syntheticIsDeterministicAndInRange() {
        let again = SyntheticImages.make(count: 50, classCount: 5, side: 6, seed: 1)
        #expect(again.images == data.images && again.labels == data.labels)
        #expect(data.images.scalars.allSatisfy { (0...1).contains($0) })
        #expect(Set(data.labels) == Set(0..<5))
    }
}

extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
