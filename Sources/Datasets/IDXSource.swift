import Foundation
import Spec
import Tensors

/// Any IDX image/label pair as an experiment's dataset (`type: idx`): MNIST, KMNIST, EMNIST and
/// the rest of the MNIST family, gzipped or not. Files default to MNIST's names in `path`
/// (`train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte`, `t10k-…`); each can be named
/// instead (relative to `path`, or to the experiment file without it). The training images are
/// split by a seeded permutation into training and `validation`.
public struct IDXSource: FileBackedSource, Equatable {
    public static let kind = "idx"
    public static let summary = "Grayscale images and labels from IDX files of the MNIST family (MNIST, KMNIST, EMNIST; .gz or plain); seeded validation split."
    public static let defaults = [
        "path": "the experiment file's folder", "train_images": "train-images-idx3-ubyte(.gz)", "train_labels": "train-labels-idx1-ubyte(.gz)",
        "test_images": "t10k-images-idx3-ubyte(.gz)", "test_labels": "t10k-labels-idx1-ubyte(.gz)", "classes": "the largest label + 1",
        "transpose": "false", "validation": "10 % of the training images", "split_seed": "0", "train_limit": "every training image",
        "test_limit": "every test image", "normalize": "no normalisation",
    ]
    /// The folder of the files (a relative path is relative to the experiment file).
    public var path: String?
    public var trainImages: String?
    public var trainLabels: String?
    public var testImages: String?
    public var testLabels: String?
    /// Classes (default: the largest label + 1).
    public var classes: Int?
    /// Images stored column by column (EMNIST): transposed when read.
    public var transpose: Bool?
    public var validation: Int?
    public var splitSeed: UInt64?
    public var trainLimit: Int?
    public var testLimit: Int?
    public var normalize: NormalizationParameters?

    public init(
        path: String? = nil, trainImages: String? = nil, trainLabels: String? = nil, testImages: String? = nil, testLabels: String? = nil,
        classes: Int? = nil, transpose: Bool? = nil, validation: Int? = nil, splitSeed: UInt64? = nil, trainLimit: Int? = nil,
        testLimit: Int? = nil, normalize: NormalizationParameters? = nil
    ) {
        self.path = path
        self.trainImages = trainImages
        self.trainLabels = trainLabels
        self.testImages = testImages
        self.testLabels = testLabels
        self.classes = classes
        self.transpose = transpose
        self.validation = validation
        self.splitSeed = splitSeed
        self.trainLimit = trainLimit
        self.testLimit = testLimit
        self.normalize = normalize
    }

    /// The folder the experiment file is in, for a source without `path`.
    var base: String = ""

    private enum CodingKeys: String, CodingKey {
        case path, trainImages, trainLabels, testImages, testLabels, classes, transpose, validation, splitSeed, trainLimit, testLimit, normalize
    }

    public func resolvingPaths(relativeTo directory: String) -> IDXSource {
        var copy = self
        copy.base = directory
        if let path, !path.hasPrefix("/") { copy.path = URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path }
        return copy
    }

    /// The four files: as named (relative to the folder), else MNIST's names, compressed first.
    func files() throws(DatasetError) -> (trainImages: String, trainLabels: String, testImages: String, testLabels: String) {
        let folder = path ?? base
        func locate(_ name: String?, _ standard: String) throws(DatasetError) -> String {
            if let name {
                let file = name.hasPrefix("/") ? name : URL(fileURLWithPath: folder).appendingPathComponent(name).standardizedFileURL.path
                guard FileManager.default.fileExists(atPath: file) else { throw .missingTable(file) }
                return file
            }
            let file = URL(fileURLWithPath: folder).appendingPathComponent(standard).standardizedFileURL.path
            for candidate in [file + ".gz", file] where FileManager.default.fileExists(atPath: candidate) { return candidate }
            throw .missingTable(file + "(.gz)")
        }
        return (
            try locate(trainImages, "train-images-idx3-ubyte"), try locate(trainLabels, "train-labels-idx1-ubyte"),
            try locate(testImages, "t10k-images-idx3-ubyte"), try locate(testLabels, "t10k-labels-idx1-ubyte")
        )
    }

    /// The extents in an IDX file's header, checked for `rank`.
    static func header(_ path: String, rank: Int) throws(DatasetError) -> [Int] {
        let bytes = try GzipFile.prefix(of: path, count: 4 + 4 * rank)
        try IDXFile.checkHeader(bytes, path: path)
        guard Int(bytes[3]) == rank, bytes.count == 4 + 4 * rank else {
            throw .malformed(path, "expected \(rank) axes (\(rank == 3 ? "images, rows, columns" : "labels")), got \(bytes[3])")
        }
        return (0..<rank).map { axis in (0..<4).reduce(0) { ($0 << 8) | Int(bytes[4 + 4 * axis + $1]) } }
    }

    /// Shapes from the headers and the class count (from the labels when not given).
    var summaryOfFiles: (sample: [Int], training: Int, test: Int, classes: Int)? {
        guard let files = try? files(), let train = try? Self.header(files.trainImages, rank: 3), let test = try? Self.header(files.testImages, rank: 3)
        else { return nil }
        var classCount = classes ?? 0
        if classes == nil {
            for file in [files.trainLabels, files.testLabels] {
                guard let labels = try? IDXFile.read(file) else { return nil }
                classCount = max(classCount, Int(labels.bytes.max() ?? 0) + 1)
            }
        }
        return ([1, transpose == true ? train[2] : train[1], transpose == true ? train[1] : train[2]], train[0], test[0], classCount)
    }

    public var sampleShape: [Int] { summaryOfFiles?.sample ?? [] }
    public var classCount: Int { summaryOfFiles?.classes ?? classes ?? 0 }
    public var normalization: (mean: [Float], std: [Float])? { normalize.map { ($0.mean, $0.std) } }

    public var sampleCounts: (training: Int, validation: Int, test: Int) {
        guard let summary = summaryOfFiles else { return (0, 0, 0) }
        let held = validation ?? summary.training / 10
        return (min(summary.training - held, trainLimit ?? .max), held, min(summary.test, testLimit ?? .max))
    }

    public func problems() -> [String] {
        var found: [String] = []
        if let classes, classes < 1 { found.append("classes must be ≥ 1, got \(classes)") }
        if let validation, validation < 0 { found.append("validation must be ≥ 0, got \(validation)") }
        if let trainLimit, trainLimit < 1 { found.append("train_limit must be ≥ 1, got \(trainLimit)") }
        if let testLimit, testLimit < 1 { found.append("test_limit must be ≥ 1, got \(testLimit)") }
        do { try verify() } catch { return found + ["the files cannot be used: \(error)"] }
        if let summary = summaryOfFiles, (validation ?? summary.training / 10) >= summary.training {
            found.append("validation must be below the \(summary.training) training images, got \(validation ?? 0)")
        }
        return found + (normalize?.problems(channels: 1) ?? [])
    }

    public func verify() throws(DatasetError) {
        let files = try files()
        let train = try Self.header(files.trainImages, rank: 3), test = try Self.header(files.testImages, rank: 3)
        guard train[1...] == test[1...] else {
            throw .malformed(files.testImages, "images are \(test[1])×\(test[2]), the training images \(train[1])×\(train[2])")
        }
        for (images, labels) in [(files.trainImages, files.trainLabels), (files.testImages, files.testLabels)] {
            let count = try Self.header(labels, rank: 1)[0], expected = try Self.header(images, rank: 3)[0]
            guard count == expected else { throw .malformed(labels, "\(count) labels for \(expected) images in \(images)") }
        }
    }

    /// One split's images and labels.
    func read(_ imagesPath: String, _ labelsPath: String, classes: Int) throws(DatasetError) -> ImageDataset {
        let images = try IDXFile.read(imagesPath), labels = try IDXFile.read(labelsPath)
        guard images.shape.count == 3 else { throw .malformed(imagesPath, "expected 3 axes (images, rows, columns), got \(images.shape.count)") }
        guard labels.shape.count == 1 else { throw .malformed(labelsPath, "expected 1 axis, got \(labels.shape.count)") }
        guard labels.shape[0] == images.shape[0] else {
            throw .malformed(labelsPath, "\(labels.shape[0]) labels for \(images.shape[0]) images in \(imagesPath)")
        }
        if let bad = labels.bytes.firstIndex(where: { Int($0) >= classes }) {
            throw .invalidData(labelsPath, "label \(labels.bytes[bad]) at index \(bad) is outside 0..<\(classes)")
        }
        var tensor = MNISTFamily.pixels(images)
        if transpose == true {
            let (n, h, w) = (images.shape[0], images.shape[1], images.shape[2])
            var transposed = Tensor(shape: [n, 1, w, h])
            for sample in 0..<n {
                for i in 0..<h { for j in 0..<w { transposed.scalars[(sample * w + j) * h + i] = tensor.scalars[(sample * h + i) * w + j] } }
            }
            tensor = transposed
        }
        return ImageDataset(images: tensor, labels: labels.bytes.map(Int.init), classCount: classes)
    }

    public func load() throws(DatasetError) -> DatasetSplits {
        try verify()
        let files = try files()
        let classes = classes ?? summaryOfFiles?.classes ?? 1
        let train = try read(files.trainImages, files.trainLabels, classes: classes)
        let test = try read(files.testImages, files.testLabels, classes: classes)
        var (training, validationSet) = try train.split(validationCount: validation ?? train.count / 10, seed: splitSeed ?? 0)
        if let trainLimit { training = training.prefix(trainLimit) }
        return DatasetSplits(training: training, validation: validationSet, test: testLimit.map { test.prefix($0) } ?? test)
    }
}
