import Foundation
import Spec
import Tensors

/// The files of a CIFAR-10 or CIFAR-100 folder in either layout people download (Krizhevsky,
/// 2009): the binary version (records of label byte(s) then 3,072 pixel bytes, red, green and
/// blue planes of 32×32) and the Python version (pickled dicts with a `data` uint8 array
/// `[N, 3072]` in the same order and the labels as a list).
enum CIFARFiles {
    enum Variant: Sendable {
        case ten
        case hundred(fine: Bool)

        var classes: Int {
            switch self {
            case .ten: 10
            case let .hundred(fine): fine ? 100 : 20
            }
        }
        var name: String {
            switch self {
            case .ten: "CIFAR-10"
            case .hundred: "CIFAR-100"
            }
        }
        /// Label bytes before each binary record's pixels.
        var labelBytes: Int {
            switch self {
            case .ten: 1
            case .hundred: 2
            }
        }
    }

    enum Layout { case binary, python }

    /// Training files in order, the test file, and the class-name file, per layout.
    static func names(_ variant: Variant, _ layout: Layout, trainingBatches: Int = 5) -> (training: [String], test: String, meta: String) {
        switch (variant, layout) {
        case (.ten, .binary): ((1...trainingBatches).map { "data_batch_\($0).bin" }, "test_batch.bin", "batches.meta.txt")
        case (.ten, .python): ((1...trainingBatches).map { "data_batch_\($0)" }, "test_batch", "batches.meta")
        case (.hundred(let fine), .binary): (["train.bin"], "test.bin", fine ? "fine_label_names.txt" : "coarse_label_names.txt")
        case (.hundred, .python): (["train"], "test", "meta")
        }
    }

    /// The layout of `directory` and its training files (CIFAR-10: `data_batch_1` on, as many as
    /// there are in sequence).
    static func files(_ directory: String, _ variant: Variant) throws(DatasetError) -> (layout: Layout, training: [String], test: String, meta: String) {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory) else { throw .missingTable(directory) }
        guard isDirectory.boolValue else {
            throw .invalidData(directory, "is a file; path names the folder of the \(variant.name) files (cifar-10-batches-bin, cifar-10-batches-py, …)")
        }
        for layout in [Layout.binary, .python] {
            let first = names(variant, layout, trainingBatches: 1)
            guard manager.fileExists(atPath: "\(directory)/\(first.training[0])") || manager.fileExists(atPath: "\(directory)/\(first.test)") else { continue }
            var batches = 1
            if case .ten = variant {
                while manager.fileExists(atPath: "\(directory)/\(names(variant, layout, trainingBatches: batches + 1).training.last!)") { batches += 1 }
            }
            let found = names(variant, layout, trainingBatches: batches)
            for file in found.training + [found.test] where !manager.fileExists(atPath: "\(directory)/\(file)") {
                throw .invalidData(directory, "has \(layout == .binary ? "binary" : "Python") \(variant.name) files but no \(file)")
            }
            return (layout, found.training.map { "\(directory)/\($0)" }, "\(directory)/\(found.test)", "\(directory)/\(found.meta)")
        }
        let binary = names(variant, .binary), python = names(variant, .python)
        throw .invalidData(
            directory,
            "holds no \(variant.name) files: expected the binary version (\(binary.training[0]), …, \(binary.test)) or the Python version (\(python.training[0]), …, \(python.test))"
        )
    }

    /// Pixels (`[N, 3072]` bytes) and labels of one file.
    static func read(_ path: String, _ variant: Variant, _ layout: Layout) throws(DatasetError) -> (pixels: [UInt8], labels: [Int]) {
        switch layout {
        case .binary:
            let bytes: [UInt8]
            do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                throw .unreadable(path, (error as NSError).localizedFailureReason ?? error.localizedDescription)
            }
            let record = variant.labelBytes + 3072
            guard bytes.count % record == 0, !bytes.isEmpty else {
                throw .invalidData(path, "\(bytes.count) bytes is not a whole number of \(record)-byte \(variant.name) records (truncated?)")
            }
            let count = bytes.count / record
            var pixels = [UInt8](repeating: 0, count: count * 3072)
            var labels = [Int](repeating: 0, count: count)
            let labelOffset: Int
            if case let .hundred(fine) = variant { labelOffset = fine ? 1 : 0 } else { labelOffset = 0 }
            for i in 0..<count {
                labels[i] = Int(bytes[i * record + labelOffset])
                pixels.replaceSubrange(i * 3072..<(i + 1) * 3072, with: bytes[(i * record + variant.labelBytes)..<((i + 1) * record)])
            }
            return (pixels, labels)
        case .python:
            let object = try PickleFile.read(path)
            let labelKey: String
            switch variant {
            case .ten: labelKey = "labels"
            case let .hundred(fine): labelKey = fine ? "fine_labels" : "coarse_labels"
            }
            guard let data = object["data"]?.array else { throw .invalidData(path, "has no 'data' array (not a \(variant.name) Python batch)") }
            guard data.descriptor.hasSuffix("u1"), data.shape.count == 2, data.shape[1] == 3072, !data.fortranOrder, data.bytes.count == data.count else {
                throw .invalidData(path, "'data' is a \(data.descriptor) array of shape \(data.shape); \(variant.name) batches hold uint8 [N, 3072]")
            }
            guard let labels = object[labelKey]?.elements?.compactMap(\.int), labels.count == data.shape[0] else {
                throw .invalidData(path, "has no list of \(data.shape[0]) integer '\(labelKey)'")
            }
            return (data.bytes, labels)
        }
    }

    /// The class names, or nil when the folder has no meta file.
    static func classNames(_ meta: String, _ variant: Variant, _ layout: Layout) -> [String]? {
        guard FileManager.default.fileExists(atPath: meta) else { return nil }
        switch layout {
        case .binary:
            guard let text = try? String(contentsOfFile: meta, encoding: .utf8) else { return nil }
            let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return names.count == variant.classes ? names : nil
        case .python:
            let key: String
            switch variant {
            case .ten: key = "label_names"
            case let .hundred(fine): key = fine ? "fine_label_names" : "coarse_label_names"
            }
            guard let names = (try? PickleFile.read(meta))?[key]?.elements?.compactMap(\.text), names.count == variant.classes else { return nil }
            return names
        }
    }

    /// Images `[N, 3, 32, 32]` in [0, 1] and labels, checked against the class count.
    static func dataset(_ paths: [String], _ variant: Variant, _ layout: Layout) throws(DatasetError) -> ImageDataset {
        var pixels: [UInt8] = [], labels: [Int] = []
        for path in paths {
            let part = try read(path, variant, layout)
            if let bad = part.labels.firstIndex(where: { !(0..<variant.classes).contains($0) }) {
                throw .invalidData(path, "image \(bad) has label \(part.labels[bad]), outside 0..<\(variant.classes)")
            }
            pixels += part.pixels
            labels += part.labels
        }
        let images = Tensor(shape: [labels.count, 3, 32, 32], scalars: pixels.map { Float($0) / 255 })
        return ImageDataset(images: images, labels: labels, classCount: variant.classes)
    }

    /// Training and test image counts without decoding pixels (binary: from the file sizes).
    static func counts(_ directory: String, _ variant: Variant) -> (training: Int, test: Int)? {
        guard let found = try? files(directory, variant) else { return nil }
        func count(_ path: String) -> Int? {
            switch found.layout {
            case .binary:
                guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else { return nil }
                return size / (variant.labelBytes + 3072)
            case .python:
                return (try? PickleFile.read(path))?["data"]?.array?.shape.first
            }
        }
        var training = 0
        for path in found.training {
            guard let n = count(path) else { return nil }
            training += n
        }
        guard let test = count(found.test) else { return nil }
        return (training, test)
    }
}

/// Shared parameters and behaviour of the CIFAR kinds.
protocol CIFARSource: FileBackedSource {
    var path: String { get set }
    var validation: Int? { get }
    var splitSeed: UInt64? { get }
    var trainLimit: Int? { get }
    var testLimit: Int? { get }
    var normalize: NormalizationParameters? { get }
    var variant: CIFARFiles.Variant { get }
}

extension CIFARSource {
    public var sampleShape: [Int] { [3, 32, 32] }
    public var classCount: Int { variant.classes }
    public var normalization: (mean: [Float], std: [Float])? { normalize.map { ($0.mean, $0.std) } }

    public var sampleCounts: (training: Int, validation: Int, test: Int) {
        let (training, test) = CIFARFiles.counts(path, variant) ?? (50_000, 10_000)
        let held = min(validation ?? 5000, max(0, training - 1))
        return (min(training - held, trainLimit ?? .max), held, min(test, testLimit ?? .max))
    }

    public var classNames: [String]? {
        guard let found = try? CIFARFiles.files(path, variant) else { return nil }
        return CIFARFiles.classNames(found.meta, variant, found.layout)
    }

    public func resolvingPaths(relativeTo directory: String) -> Self {
        guard !path.hasPrefix("/") else { return self }
        var copy = self
        copy.path = URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path
        return copy
    }

    public func problems() -> [String] {
        var found: [String] = []
        if let validation, validation < 0 { found.append("validation must be ≥ 0, got \(validation)") }
        if let trainLimit, trainLimit < 1 { found.append("train_limit must be ≥ 1, got \(trainLimit)") }
        if let testLimit, testLimit < 1 { found.append("test_limit must be ≥ 1, got \(testLimit)") }
        do { _ = try CIFARFiles.files(path, variant) } catch { return found + ["path cannot be used: \(error)"] }
        if let (training, _) = CIFARFiles.counts(path, variant), (validation ?? 5000) >= training {
            found.append("validation must be below the \(training) training images of \(path), got \(validation ?? 5000)")
        }
        return found + (normalize?.problems(channels: 3) ?? [])
    }

    public func verify() throws(DatasetError) {
        let found = try CIFARFiles.files(path, variant)
        if found.layout == .binary {
            for file in found.training + [found.test] {
                let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int ?? 0
                guard size > 0, size % (variant.labelBytes + 3072) == 0 else {
                    throw .invalidData(file, "\(size) bytes is not a whole number of \(variant.labelBytes + 3072)-byte \(variant.name) records (truncated?)")
                }
            }
        }
    }

    public func load() throws(DatasetError) -> DatasetSplits {
        let found = try CIFARFiles.files(path, variant)
        let train = try CIFARFiles.dataset(found.training, variant, found.layout)
        let test = try CIFARFiles.dataset([found.test], variant, found.layout)
        var (training, validationSet) = try train.split(validationCount: validation ?? 5000, seed: splitSeed ?? 0)
        if let trainLimit { training = training.prefix(trainLimit) }
        return DatasetSplits(training: training, validation: validationSet, test: testLimit.map { test.prefix($0) } ?? test)
    }
}

/// CIFAR-10 as an experiment's dataset (`type: cifar10`): the 50,000 training images (every
/// `data_batch_*` of the folder) split by a seeded permutation into training and `validation`,
/// and the 10,000 test images; either download layout.
public struct CIFAR10Source: CIFARSource, Equatable {
    public static let kind = "cifar10"
    public static let summary = "CIFAR-10 32×32 RGB, 10 classes, from its binary or Python download folder; seeded validation split."
    public static let defaults = [
        "validation": "5000", "split_seed": "0", "train_limit": "every training image", "test_limit": "every test image", "normalize": "no normalisation",
    ]
    /// The folder of the download (`cifar-10-batches-bin` or `cifar-10-batches-py`); a relative
    /// path is relative to the experiment file.
    public var path: String
    /// Training images held out for validation (default 5000).
    public var validation: Int?
    /// Seed of the training/validation split (default 0).
    public var splitSeed: UInt64?
    /// Only the first N training images after the split, and the first N test images.
    public var trainLimit: Int?
    public var testLimit: Int?
    public var normalize: NormalizationParameters?

    public init(
        path: String, validation: Int? = nil, splitSeed: UInt64? = nil, trainLimit: Int? = nil, testLimit: Int? = nil,
        normalize: NormalizationParameters? = nil
    ) {
        self.path = path
        self.validation = validation
        self.splitSeed = splitSeed
        self.trainLimit = trainLimit
        self.testLimit = testLimit
        self.normalize = normalize
    }

    var variant: CIFARFiles.Variant { .ten }
}

/// CIFAR-100 as an experiment's dataset (`type: cifar100`): like `cifar10`, with the 100 fine
/// labels or the 20 coarse ones (`labels: coarse`).
public struct CIFAR100Source: CIFARSource, Equatable {
    public static let kind = "cifar100"
    public static let summary = "CIFAR-100 32×32 RGB, 100 fine or 20 coarse classes, from its binary or Python download folder; seeded validation split."
    public static let defaults = [
        "labels": "fine", "validation": "5000", "split_seed": "0", "train_limit": "every training image", "test_limit": "every test image",
        "normalize": "no normalisation",
    ]
    public enum Labels: String, ParameterChoice { case fine, coarse }
    /// The folder of the download (`cifar-100-binary` or `cifar-100-python`).
    public var path: String
    /// Which labels to learn (default fine: 100 classes; coarse: 20 superclasses).
    public var labels: Labels?
    public var validation: Int?
    public var splitSeed: UInt64?
    public var trainLimit: Int?
    public var testLimit: Int?
    public var normalize: NormalizationParameters?

    public init(
        path: String, labels: Labels? = nil, validation: Int? = nil, splitSeed: UInt64? = nil, trainLimit: Int? = nil, testLimit: Int? = nil,
        normalize: NormalizationParameters? = nil
    ) {
        self.path = path
        self.labels = labels
        self.validation = validation
        self.splitSeed = splitSeed
        self.trainLimit = trainLimit
        self.testLimit = testLimit
        self.normalize = normalize
    }

    var variant: CIFARFiles.Variant { .hundred(fine: labels != .coarse) }
}
