import Foundation
import Tensors
import Testing

@testable import Datasets

/// CIFAR-10 and CIFAR-100 in both download layouts, on the files of
/// `scripts/make_dataset_fixtures.py` (written by Python's pickle and NumPy): pixel k of image n
/// is (31·n + 7·k + offset) mod 256, so every value is checked by formula.
@Suite struct CIFARTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// The image index n of a sample, from its first pixel (31 · 223 ≡ 1 mod 256), after
    /// checking every pixel against the formula.
    static func index(_ images: Tensor, _ sample: Int, offset: Int) -> Int? {
        let row = Array(images.scalars[(sample * 3072)..<((sample + 1) * 3072)]).map { Int(($0 * 255).rounded()) }
        let n = ((row[0] - offset + 256) % 256 * 223) % 256
        for k in 0..<3072 where row[k] != (31 * n + 7 * k + offset) % 256 { return nil }
        return n
    }

    @Test(arguments: ["cifar10-bin", "cifar10-py"])
    func cifar10ReadsEveryPixelAndLabel(_ folder: String) throws {
        let source = CIFAR10Source(path: "\(Self.fixtures)/\(folder)", validation: 4, splitSeed: 3)
        #expect(source.problems().isEmpty, "\(source.problems())")
        try source.verify()
        #expect(source.sampleCounts == (16, 4, 20))
        #expect(source.classNames == ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"])
        let splits = try source.load()
        #expect(splits.training.images.shape == [16, 3, 32, 32] && splits.validation.count == 4 && splits.test.count == 20)
        // Training and validation together are the 20 training images (both batches), each once.
        var seen: [Int] = []
        for split in [splits.training, splits.validation] {
            for sample in 0..<split.count {
                let n = try #require(Self.index(split.images, sample, offset: 0), "\(folder): training pixels")
                #expect(split.labels[sample] == n % 10)
                seen.append(n)
            }
        }
        #expect(seen.sorted() == Array(0..<20))
        for sample in 0..<20 {
            #expect(Self.index(splits.test.images, sample, offset: 100) == sample)
            #expect(splits.test.labels[sample] == sample % 10)
        }
    }

    @Test(arguments: ["cifar100-bin", "cifar100-py"])
    func cifar100ReadsFineAndCoarseLabels(_ folder: String) throws {
        for labels in [CIFAR100Source.Labels.fine, .coarse] {
            let source = CIFAR100Source(path: "\(Self.fixtures)/\(folder)", labels: labels, validation: 5)
            #expect(source.problems().isEmpty, "\(source.problems())")
            #expect(source.classCount == (labels == .fine ? 100 : 20))
            #expect(source.classNames?.count == source.classCount)
            #expect(source.classNames?[7] == (labels == .fine ? "fine_7" : "coarse_7"))
            let splits = try source.load()
            #expect(splits.training.count == 15 && splits.validation.count == 5)
            for sample in 0..<20 {
                #expect(Self.index(splits.test.images, sample, offset: 100) == sample)
                #expect(splits.test.labels[sample] == (labels == .fine ? 3 * sample % 100 : sample % 20))
            }
        }
    }

    /// Both layouts of one set give the same splits.
    @Test func binaryAndPythonLayoutsAgree() throws {
        let binary = try CIFAR10Source(path: "\(Self.fixtures)/cifar10-bin", validation: 4).load()
        let python = try CIFAR10Source(path: "\(Self.fixtures)/cifar10-py", validation: 4).load()
        #expect(binary.training.images == python.training.images && binary.training.labels == python.training.labels)
        #expect(binary.test.images == python.test.images)
    }

    /// A pickle as Python 2's cPickle writes it (SHORT_BINSTRING keys and data, memo puts, the
    /// array through `_reconstruct`): `{'data': array([[5, 7]], uint8), 'labels': [3, 4]}`,
    /// checked against `pickle.loads(..., encoding='bytes')`.
    @Test func pythonTwoPickle() throws {
        let text =
            "\u{80}\u{02}}q\u{00}(U\u{04}dataq\u{01}cnumpy.core.multiarray\n_reconstruct\nq\u{02}cnumpy\nndarray\nq\u{03}K\u{00}\u{85}U\u{01}b\u{87}Rq\u{04}"
            + "(K\u{01}K\u{01}K\u{02}\u{86}cnumpy\ndtype\nq\u{05}U\u{02}u1K\u{00}K\u{01}\u{87}Rq\u{06}(K\u{03}U\u{01}|NNNJ\u{ff}\u{ff}\u{ff}\u{ff}J\u{ff}\u{ff}\u{ff}\u{ff}K\u{00}tb"
            + "\u{89}U\u{02}\u{05}\u{07}tbU\u{06}labelsq\u{07}]q\u{08}(K\u{03}K\u{04}eu."
        let bytes = text.unicodeScalars.map { UInt8($0.value) }
        let object = try PickleFile.parse(bytes)
        let data = try #require(object["data"]?.array)
        #expect(data == NumpyArray(descriptor: "u1", shape: [1, 2], fortranOrder: false, bytes: [5, 7]))
        #expect(object["labels"]?.elements?.compactMap(\.int) == [3, 4])
        #expect(throws: PickleFile.Failure.self) { try PickleFile.parse(Array(bytes.prefix(100))) }
    }

    /// Bad folders and files: one message each, naming the path (and the image where there is one).
    @Test func badDataIsNamed() throws {
        let directory = NSTemporaryDirectory() + "gauntlet-cifar-\(UUID())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func message(_ source: CIFAR10Source) -> String {
            do {
                _ = try source.load()
                return "loaded"
            } catch { return error.description }
        }
        #expect(message(CIFAR10Source(path: "\(directory)/missing")) == "\(directory)/missing: no such file")
        #expect(message(CIFAR10Source(path: directory)).hasPrefix("\(directory): holds no CIFAR-10 files: expected the binary version (data_batch_1.bin"))
        let source = "\(Self.fixtures)/cifar10-bin"
        for name in ["data_batch_1.bin", "data_batch_2.bin"] { try FileManager.default.copyItem(atPath: "\(source)/\(name)", toPath: "\(directory)/\(name)") }
        #expect(message(CIFAR10Source(path: directory)) == "\(directory): has binary CIFAR-10 files but no test_batch.bin")
        // A truncated test file; then one with a label out of range at image 3.
        var test = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(source)/test_batch.bin")))
        try Data(test.dropLast(100)).write(to: URL(fileURLWithPath: "\(directory)/test_batch.bin"))
        let truncated = "\(directory)/test_batch.bin: 61360 bytes is not a whole number of 3073-byte CIFAR-10 records (truncated?)"
        #expect(message(CIFAR10Source(path: directory, validation: 2)) == truncated)
        #expect(throws: DatasetError.self) { try CIFAR10Source(path: directory).verify() }
        test[3 * 3073] = 12
        try Data(test).write(to: URL(fileURLWithPath: "\(directory)/test_batch.bin"))
        #expect(message(CIFAR10Source(path: directory, validation: 2)) == "\(directory)/test_batch.bin: image 3 has label 12, outside 0..<10")
        #expect(CIFAR10Source(path: directory).problems() == ["validation must be below the 20 training images of \(directory), got 5000"])
        // A Python batch that is not one.
        let python = "\(directory)/py"
        try FileManager.default.createDirectory(atPath: python, withIntermediateDirectories: true)
        for name in ["data_batch_1", "test_batch"] { try Data([0x80, 0x02, 0x7D, 0x2E]).write(to: URL(fileURLWithPath: "\(python)/\(name)")) }
        #expect(message(CIFAR10Source(path: python, validation: 0)) == "\(python)/data_batch_1: has no 'data' array (not a CIFAR-10 Python batch)")
        try Data([0x80, 0x02, 0x7D]).write(to: URL(fileURLWithPath: "\(python)/data_batch_1"))
        #expect(
            message(CIFAR10Source(path: python, validation: 0)).hasPrefix(
                "\(python)/data_batch_1: cannot read: not a Python pickle this reader understands: truncated"))
    }
}
