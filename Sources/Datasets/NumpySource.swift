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
public struct NumpySource: LabelledArraySource, Equatable {
    public static let kind = "numpy"
    public static let summary = "Labelled arrays from a NumPy .npz archive or .npy files (uint8 or float, NCHW or NHWC); the files' or a seeded test split."
    public static let defaults = [
        "path": "none: x_train … are .npy files", "x_train": "x_train (a member of path)", "y_train": "y_train (a member of path)",
        "x_test": "x_test if path has it, else a seeded test_fraction", "y_test": "y_test with x_test", "layout": "inferred from the shape",
        "classes": "the largest label + 1", "validation": "10 % of the training samples", "test_fraction": "0.2 (without test arrays)",
        "split_seed": "0", "normalize": "no normalisation",
    ]

    public typealias Layout = ArrayLayout

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

    func arrays() throws(DatasetError) -> LabelledArrays {
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
            return LabelledArrays(xTrain: xTrain, yTrain: yTrain, test: xTest.flatMap { x in yTest.map { (x, $0) } })
        }
        guard let xTrain, let yTrain else { throw .invalidData("dataset", "numpy needs path (an .npz) or x_train and y_train (.npy files)") }
        func single(_ file: String) throws(DatasetError) -> (name: String, array: NumpyArray) {
            guard let array = try NumpyFile.arrays(file).first?.value else { throw .invalidData(file, "holds no array") }
            return (file, array)
        }
        let test: ((name: String, array: NumpyArray), (name: String, array: NumpyArray))?
        if let xTest, let yTest { test = (try single(xTest), try single(yTest)) } else { test = nil }
        return LabelledArrays(xTrain: try single(xTrain), yTrain: try single(yTrain), test: test)
    }

    public func problems() -> [String] {
        var found: [String] = []
        if path == nil, xTrain == nil || yTrain == nil { found.append("numpy needs path (an .npz archive) or x_train and y_train (.npy files)") }
        if path == nil, (xTest == nil) != (yTest == nil) { found.append("x_test and y_test go together") }
        return found.isEmpty ? arrayProblems() : found
    }
}
