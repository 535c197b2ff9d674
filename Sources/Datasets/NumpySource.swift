import Foundation
import Spec
import Tensors

/// Labelled arrays from NumPy files as an experiment's dataset (`type: numpy`): images
/// `[N, H, W]`, `[N, C, H, W]` or `[N, H, W, C]` (uint8 pixels, divided by 255, or floats in
/// [0, 1]) or feature rows `[N, F]`, with integer labels `[N]`.
///
/// Either one `.npz` archive (`path`) whose members `x_train`, `y_train`, `x_test`, `y_test`
/// (names changeable) hold the arrays, or one `.npy` file per array (`x_train: FILE`, …). Without
/// test arrays, a seeded `test_fraction` of the training samples is the test set; `validation`
/// samples of the rest (seeded) are the validation set.
public struct NumpySource: FileBackedSource, Equatable {
    public static let kind = "numpy"
    public static let summary = "Labelled arrays from a NumPy .npz archive or .npy files (uint8 or float, NCHW or NHWC); the files' or a seeded test split."
    public static let defaults = [
        "path": "none: x_train … are .npy files", "x_train": "x_train (a member of path)", "y_train": "y_train (a member of path)",
        "x_test": "x_test if path has it, else a seeded test_fraction", "y_test": "y_test with x_test", "layout": "inferred from the shape",
        "classes": "the largest label + 1", "validation": "10 % of the training samples", "test_fraction": "0.2 (without test arrays)",
        "split_seed": "0", "normalize": "no normalisation",
    ]

    public enum Layout: String, ParameterChoice { case nchw, nhwc }

    /// An `.npz` archive holding the arrays (a relative path is relative to the experiment file).
    public var path: String?
    /// Members of `path`, or `.npy` files without it.
    public var xTrain: String?
    public var yTrain: String?
    public var xTest: String?
    public var yTest: String?
    /// The image axes' order (default: the axis of 1 or 3 entries, else of 4, among the second
    /// and the last, is the channels; both alike is an error asking for `layout`).
    public var layout: Layout?
    /// Classes (default: the largest label + 1).
    public var classes: Int?
    /// Training samples held out for validation (default 10 %).
    public var validation: Int?
    /// The test share of the samples when there are no test arrays (default 0.2).
    public var testFraction: Double?
    public var splitSeed: UInt64?
    public var normalize: NormalizationParameters?

    public init(
        path: String? = nil, xTrain: String? = nil, yTrain: String? = nil, xTest: String? = nil, yTest: String? = nil, layout: Layout? = nil,
        classes: Int? = nil, validation: Int? = nil, testFraction: Double? = nil, splitSeed: UInt64? = nil, normalize: NormalizationParameters? = nil
    ) {
        self.path = path
        self.xTrain = xTrain
        self.yTrain = yTrain
        self.xTest = xTest
        self.yTest = yTest
        self.layout = layout
        self.classes = classes
        self.validation = validation
        self.testFraction = testFraction
        self.splitSeed = splitSeed
        self.normalize = normalize
    }

    public func resolvingPaths(relativeTo directory: String) -> NumpySource {
        func resolved(_ file: String?) -> String? {
            guard let file, !file.hasPrefix("/") else { return file }
            return URL(fileURLWithPath: directory).appendingPathComponent(file).standardizedFileURL.path
        }
        var copy = self
        if path != nil {
            copy.path = resolved(path)
        } else {
            (copy.xTrain, copy.yTrain, copy.xTest, copy.yTest) = (resolved(xTrain), resolved(yTrain), resolved(xTest), resolved(yTest))
        }
        return copy
    }

    /// The four arrays (test ones nil when absent), each with the name errors use.
    struct Arrays {
        var xTrain: (name: String, array: NumpyArray)
        var yTrain: (name: String, array: NumpyArray)
        var test: (x: (name: String, array: NumpyArray), y: (name: String, array: NumpyArray))?
    }

    func arrays() throws(DatasetError) -> Arrays {
        if let path {
            let members = try NumpyFile.arrays(path)
            func member(_ name: String?, _ fallback: String, required: Bool) throws(DatasetError) -> (name: String, array: NumpyArray)? {
                let key = name ?? fallback
                if let array = members[key] { return ("\(path)[\(key)]", array) }
                guard required || name != nil else { return nil }
                throw .invalidData(path, "has no array '\(key)'; its arrays: \(members.keys.sorted().joined(separator: ", "))")
            }
            let xTrain = try member(xTrain, "x_train", required: true)!, yTrain = try member(yTrain, "y_train", required: true)!
            let xTest = try member(xTest, "x_test", required: false), yTest = try member(yTest, "y_test", required: xTest != nil)
            return Arrays(xTrain: xTrain, yTrain: yTrain, test: xTest.flatMap { x in yTest.map { (x, $0) } })
        }
        guard let xTrain, let yTrain else { throw .invalidData("dataset", "numpy needs path (an .npz) or x_train and y_train (.npy files)") }
        func single(_ file: String) throws(DatasetError) -> (name: String, array: NumpyArray) {
            guard let array = try NumpyFile.arrays(file).first?.value else { throw .invalidData(file, "holds no array") }
            return (file, array)
        }
        let test: ((name: String, array: NumpyArray), (name: String, array: NumpyArray))?
        if let xTest, let yTest { test = (try single(xTest), try single(yTest)) } else { test = nil }
        return Arrays(xTrain: try single(xTrain), yTrain: try single(yTrain), test: test)
    }

    /// The per-sample shape `[C, H, W]` or `[F]` of an input array, and whether it is NHWC.
    func sampleLayout(_ x: (name: String, array: NumpyArray)) throws(DatasetError) -> (shape: [Int], channelsLast: Bool) {
        let s = x.array.shape
        switch s.count {
        case 2: return ([s[1]], false)
        case 3: return ([1, s[1], s[2]], false)
        case 4:
            let channelsLast: Bool
            if let layout {
                channelsLast = layout == .nhwc
            } else {
                // Channels are 1 or 3 (grayscale, RGB), less often 4 (RGBA).
                func strength(_ extent: Int) -> Int { extent == 1 || extent == 3 ? 2 : extent == 4 ? 1 : 0 }
                guard strength(s[1]) != strength(s[3]) else {
                    throw .invalidData(x.name, "shape \(s) could be NCHW or NHWC; say which with layout: nchw or layout: nhwc")
                }
                channelsLast = strength(s[3]) > strength(s[1])
            }
            return (channelsLast ? [s[3], s[1], s[2]] : [s[1], s[2], s[3]], channelsLast)
        default:
            throw .invalidData(x.name, "shape \(s): inputs are [N, F] rows, [N, H, W] or [N, C, H, W] / [N, H, W, C] images")
        }
    }

    /// Inputs and labels of one split as a dataset, checked.
    func dataset(_ x: (name: String, array: NumpyArray), _ y: (name: String, array: NumpyArray), classes: Int) throws(DatasetError) -> ImageDataset {
        let (shape, channelsLast) = try sampleLayout(x)
        let n = x.array.shape[0]
        guard y.array.shape == [n] || y.array.shape == [n, 1] else {
            throw .invalidData(y.name, "labels of shape \(y.array.shape) for \(n) inputs (\(x.name)); x and y must have the same length, y one label each")
        }
        guard let kind = y.array.element?.kind, "uib".contains(kind), let labelValues = y.array.doubles() else {
            throw .invalidData(y.name, "labels are \(y.array.descriptor); they must be integers")
        }
        let labels = labelValues.map { Int($0) }
        if let bad = labels.firstIndex(where: { !(0..<classes).contains($0) }) {
            throw .invalidData(y.name, "label \(labels[bad]) at index \(bad) is outside 0..<\(classes)")
        }
        guard let values = x.array.doubles() else { throw .invalidData(x.name, "dtype '\(x.array.descriptor)' is not supported") }
        let isBytes = x.array.element?.kind == "u" && x.array.element?.size == 1
        var scalars = values.map { Float(isBytes ? $0 / 255 : $0) }
        if shape.count == 3, !isBytes, let bad = scalars.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw .invalidData(
                x.name,
                "image values must be in [0, 1] (attacks and corruptions work on that range): \(scalars[bad]) at element \(bad); store uint8 pixels or divide by 255"
            )
        }
        if channelsLast {
            let (c, h, w) = (shape[0], shape[1], shape[2])
            var planar = [Float](repeating: 0, count: scalars.count)
            for sample in 0..<n {
                for p in 0..<(h * w) {
                    for channel in 0..<c { planar[((sample * c) + channel) * h * w + p] = scalars[(sample * h * w + p) * c + channel] }
                }
            }
            scalars = planar
        }
        return ImageDataset(images: Tensor(shape: [n] + shape, scalars: scalars), labels: labels, classCount: classes)
    }

    /// Shapes and counts from the files, for checks before loading; nil when they cannot be read.
    var summaryOfFiles: (sample: [Int], classes: Int, training: Int, test: Int?)? {
        guard let arrays = try? arrays(), let (shape, _) = try? sampleLayout(arrays.xTrain) else { return nil }
        let labels = ([arrays.yTrain.array] + (arrays.test.map { [$0.y.array] } ?? [])).compactMap { $0.doubles() }.joined()
        return (shape, classes ?? (Int(labels.max() ?? 0) + 1), arrays.xTrain.array.shape[0], arrays.test?.x.array.shape[0])
    }

    public var sampleShape: [Int] { summaryOfFiles?.sample ?? [] }
    public var classCount: Int { summaryOfFiles?.classes ?? classes ?? 0 }
    public var normalization: (mean: [Float], std: [Float])? { normalize.map { ($0.mean, $0.std) } }

    func splitSizes(training total: Int, test: Int?) -> (training: Int, validation: Int, test: Int) {
        let heldTest = test == nil ? Int((testFraction ?? 0.2) * Double(total)) : 0
        let rest = total - heldTest
        let held = validation ?? rest / 10
        return (rest - held, held, test ?? heldTest)
    }

    public var sampleCounts: (training: Int, validation: Int, test: Int) {
        guard let summary = summaryOfFiles else { return (0, 0, 0) }
        return splitSizes(training: summary.training, test: summary.test)
    }

    public func problems() -> [String] {
        var found: [String] = []
        if path == nil, xTrain == nil || yTrain == nil { found.append("numpy needs path (an .npz archive) or x_train and y_train (.npy files)") }
        if path == nil, (xTest == nil) != (yTest == nil) { found.append("x_test and y_test go together") }
        if let classes, classes < 1 { found.append("classes must be ≥ 1, got \(classes)") }
        if let validation, validation < 0 { found.append("validation must be ≥ 0, got \(validation)") }
        if let testFraction, !(testFraction > 0 && testFraction < 1) { found.append("test_fraction must be in (0, 1), got \(testFraction)") }
        guard found.isEmpty else { return found }
        let arrays: Arrays
        do {
            arrays = try self.arrays()
            _ = try sampleLayout(arrays.xTrain)
        } catch { return ["the arrays cannot be used: \(error)"] }
        if let (sample, _) = try? sampleLayout(arrays.xTrain), let test = arrays.test, let (testSample, _) = try? sampleLayout(test.x), testSample != sample {
            found.append("x_test's samples are \(testSample), x_train's \(sample)")
        }
        let sizes = splitSizes(training: arrays.xTrain.array.shape[0], test: arrays.test?.x.array.shape[0])
        if sizes.training < 1 || sizes.test < 1 {
            found.append(
                "the split leaves \(sizes.training) training, \(sizes.validation) validation and \(sizes.test) test samples; training and test need ≥ 1")
        }
        if let shape = summaryOfFiles?.sample, shape.count == 3 { found += normalize?.problems(channels: shape[0]) ?? [] }
        return found
    }

    public func verify() throws(DatasetError) { _ = try load() }

    public func load() throws(DatasetError) -> DatasetSplits {
        let arrays = try self.arrays()
        let classes = classes ?? summaryOfFiles?.classes ?? 1
        var train = try dataset(arrays.xTrain, arrays.yTrain, classes: classes)
        var test: ImageDataset
        if let pair = arrays.test {
            test = try dataset(pair.x, pair.y, classes: classes)
            guard test.sampleShape == train.sampleShape else {
                throw .invalidData(pair.x.name, "samples are \(test.sampleShape), the training samples \(train.sampleShape)")
            }
        } else {
            let sizes = splitSizes(training: train.count, test: nil)
            (train, test) = try train.split(validationCount: sizes.test, seed: (splitSeed ?? 0) &+ 1)
        }
        let sizes = splitSizes(training: arrays.xTrain.array.shape[0], test: arrays.test?.x.array.shape[0])
        let (training, validationSet) = try train.split(validationCount: sizes.validation, seed: splitSeed ?? 0)
        return DatasetSplits(training: training, validation: validationSet, test: test)
    }
}
