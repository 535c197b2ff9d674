import Foundation
import Spec
import Storage
import Tensors

/// Labelled arrays at named paths of an HDF5 file as an experiment's dataset (`type: hdf5`):
/// images `[N, H, W]`, `[N, C, H, W]` or `[N, H, W, C]` (8-bit unsigned pixels, divided by 255,
/// or floats in [0, 1]) or rows `[N, F]`, with integer labels `[N]`; the file's test arrays or a
/// seeded test split, as the `numpy` kind.
public struct HDF5Source: LabelledArraySource, Equatable {
    public static let kind = "hdf5"
    public static let summary = "Labelled arrays at named paths of an HDF5 file (uint8 or float, NCHW or NHWC); the file's or a seeded test split."
    public static let defaults = [
        "x_train": "/x_train", "y_train": "/y_train", "x_test": "/x_test if the file has it, else a seeded test_fraction", "y_test": "/y_test with x_test",
        "layout": "inferred from the shape", "classes": "the largest label + 1", "validation": "10 % of the training samples",
        "test_fraction": "0.2 (without test arrays)", "split_seed": "0", "normalize": "no normalisation",
    ]

    /// The file (a relative path is relative to the experiment file).
    public var path: String
    /// Dataset paths inside the file.
    public var xTrain: String?
    public var yTrain: String?
    public var xTest: String?
    public var yTest: String?
    public var layout: ArrayLayout?
    public var classes: Int?
    public var validation: Int?
    public var testFraction: Double?
    public var splitSeed: UInt64?
    public var normalize: NormalizationParameters?

    public init(
        path: String, xTrain: String? = nil, yTrain: String? = nil, xTest: String? = nil, yTest: String? = nil, layout: ArrayLayout? = nil,
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

    public func resolvingPaths(relativeTo directory: String) -> HDF5Source {
        guard !path.hasPrefix("/") else { return self }
        var copy = self
        copy.path = URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path
        return copy
    }

    /// One dataset of the file as an array: 8-bit unsigned integers as bytes, other integers
    /// as Int64, floating point as Float32.
    static func array(_ file: HDF5File, _ name: String) throws(StorageError) -> NumpyArray {
        let type = try file.elementType(of: name)
        func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
        if type.isInteger {
            let (shape, values) = try file.readIntegers(name)
            if type.size == 1, !type.isSigned { return NumpyArray(descriptor: "|u1", shape: shape, fortranOrder: false, bytes: values.map { UInt8($0) }) }
            return NumpyArray(descriptor: "<i8", shape: shape, fortranOrder: false, bytes: bytes(values.map { $0.littleEndian }))
        }
        let (shape, values) = try file.readFloats(name)
        return NumpyArray(descriptor: "<f4", shape: shape, fortranOrder: false, bytes: bytes(values.map { $0.bitPattern.littleEndian }))
    }

    func arrays() throws(DatasetError) -> LabelledArrays {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingTable(path) }
        let file: HDF5File
        do { file = try HDF5File.open(path) } catch { throw .invalidData(path, "not a readable HDF5 file (truncated or corrupt?)") }
        defer { file.close() }
        func named(_ name: String) -> String { name.hasPrefix("/") ? name : "/" + name }
        func member(_ name: String?, _ fallback: String, required: Bool) throws(DatasetError) -> (name: String, array: NumpyArray)? {
            let key = named(name ?? fallback)
            guard file.exists(key) else {
                guard required || name != nil else { return nil }
                throw .invalidData(path, "has no dataset '\(key)'")
            }
            do { return ("\(path)[\(key)]", try Self.array(file, key)) } catch { throw .invalidData(path, "\(key): \(error)") }
        }
        let xTrain = try member(xTrain, "x_train", required: true)!, yTrain = try member(yTrain, "y_train", required: true)!
        let xTest = try member(xTest, "x_test", required: false), yTest = try member(yTest, "y_test", required: xTest != nil)
        return LabelledArrays(xTrain: xTrain, yTrain: yTrain, test: xTest.flatMap { x in yTest.map { (x, $0) } })
    }

    public func problems() -> [String] {
        if yTest != nil, xTest == nil { return ["y_test names the test labels; give x_test with it"] }
        return arrayProblems()
    }
}
