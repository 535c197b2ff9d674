import Foundation
import Spec
import Tensors

/// The image axes' order of an array of images.
public enum ArrayLayout: String, ParameterChoice { case nchw, nhwc }

/// The inputs and labels of a dataset read as arrays (NumPy files, HDF5 datasets): training
/// arrays and, where the files have them, test arrays, each with the name errors use.
struct LabelledArrays {
    var xTrain: (name: String, array: NumpyArray)
    var yTrain: (name: String, array: NumpyArray)
    var test: (x: (name: String, array: NumpyArray), y: (name: String, array: NumpyArray))?
}

/// A dataset kind made of labelled arrays: images `[N, H, W]`, `[N, C, H, W]` or
/// `[N, H, W, C]` (uint8 pixels, divided by 255, or floats in [0, 1]) or rows `[N, F]`, and
/// integer labels `[N]`; the files' test split or a seeded `test_fraction`, and a seeded
/// `validation` share of the rest.
protocol LabelledArraySource: FileBackedSource {
    var layout: ArrayLayout? { get }
    var classes: Int? { get }
    var validation: Int? { get }
    var testFraction: Double? { get }
    var splitSeed: UInt64? { get }
    var normalize: NormalizationParameters? { get }
    func arrays() throws(DatasetError) -> LabelledArrays
    /// The arrays for checks before loading: the labels read, the inputs' shapes and types
    /// (their values may be left unread). By default `arrays()`.
    func arrayShapes() throws(DatasetError) -> LabelledArrays
}

extension LabelledArraySource {
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

    func arrayShapes() throws(DatasetError) -> LabelledArrays { try arrays() }

    /// The labels `y` of the inputs `x`, checked: one integer label per input, each in
    /// `0..<classes`.
    func labels(_ x: (name: String, array: NumpyArray), _ y: (name: String, array: NumpyArray), classes: Int) throws(DatasetError) -> [Int] {
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
        return labels
    }

    /// Inputs and labels of one split as a dataset, checked.
    func dataset(_ x: (name: String, array: NumpyArray), _ y: (name: String, array: NumpyArray), classes: Int) throws(DatasetError) -> ImageDataset {
        let (shape, channelsLast) = try sampleLayout(x)
        let n = x.array.shape[0]
        let labels = try self.labels(x, y, classes: classes)
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
        guard let arrays = try? arrayShapes(), let (shape, _) = try? sampleLayout(arrays.xTrain) else { return nil }
        return (shape, classCount(of: arrays), arrays.xTrain.array.shape[0], arrays.test?.x.array.shape[0])
    }

    /// `classes`, or the largest label of the arrays + 1.
    func classCount(of arrays: LabelledArrays) -> Int {
        if let classes { return classes }
        let labels = ([arrays.yTrain.array] + (arrays.test.map { [$0.y.array] } ?? [])).compactMap { $0.doubles() }.joined()
        return Int(labels.max() ?? 0) + 1
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

    /// Range checks of the shared parameters, then the arrays' shapes and the split's sizes.
    func arrayProblems() -> [String] {
        var found: [String] = []
        if let classes, classes < 1 { found.append("classes must be ≥ 1, got \(classes)") }
        if let validation, validation < 0 { found.append("validation must be ≥ 0, got \(validation)") }
        if let testFraction, !(testFraction > 0 && testFraction < 1) { found.append("test_fraction must be in (0, 1), got \(testFraction)") }
        guard found.isEmpty else { return found }
        let arrays: LabelledArrays
        do {
            arrays = try arrayShapes()
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

    public func load() throws(DatasetError) -> DatasetSplits { try loadInMemory() }

    /// Every array read into memory, then split.
    func loadInMemory() throws(DatasetError) -> DatasetSplits {
        let arrays = try self.arrays()
        let classes = classCount(of: arrays)
        let train = try dataset(arrays.xTrain, arrays.yTrain, classes: classes)
        return try splits(
            train: train, test: try arrays.test.map { pair throws(DatasetError) in try dataset(pair.x, pair.y, classes: classes) },
            testName: arrays.test?.x.name)
    }

    /// The splits from the training samples and the files' test samples (named `testName` in
    /// errors), if any: without them a seeded `test_fraction` of the training samples, then a
    /// seeded `validation` share of the rest. Validation and test are held in memory (decoded
    /// when `train` is streamed).
    func splits(train: ImageDataset, test fileTest: ImageDataset?, testName: String?) throws(DatasetError) -> DatasetSplits {
        var train = train
        let test: ImageDataset
        if let fileTest {
            guard fileTest.sampleShape == train.sampleShape else {
                throw .invalidData(testName ?? "x_test", "samples are \(fileTest.sampleShape), the training samples \(train.sampleShape)")
            }
            test = fileTest
        } else {
            (train, test) = try train.split(validationCount: splitSizes(training: train.count, test: nil).test, seed: (splitSeed ?? 0) &+ 1)
        }
        let (training, validationSet) = try train.split(validationCount: splitSizes(training: train.count, test: 0).validation, seed: splitSeed ?? 0)
        return DatasetSplits(training: training, validation: try validationSet.materialized(), test: try test.materialized())
    }
}
