import Foundation
import Spec
import Storage
import Tensors

/// Labelled arrays at named paths of an HDF5 file as an experiment's dataset (`type: hdf5`):
/// images `[N, H, W]`, `[N, C, H, W]` or `[N, H, W, C]` (8-bit unsigned pixels, divided by 255,
/// or floats in [0, 1]) or rows `[N, F]`, with integer labels `[N]`; the file's test arrays or a
/// seeded test split, as the `numpy` kind. With `stream` (by default when the training inputs
/// exceed 1 GiB as 32-bit floats) the training inputs stay in the file and stream in batches
/// (`HDF5RowReader`); the labels and the test and validation inputs are read into memory.
public struct HDF5Source: LabelledArraySource, Equatable {
    public static let kind = "hdf5"
    public static let summary = "Labelled arrays at named paths of an HDF5 file (uint8 or float, NCHW or NHWC); the file's or a seeded test split."
    public static let defaults = [
        "x_train": "/x_train", "y_train": "/y_train", "x_test": "/x_test if the file has it, else a seeded test_fraction", "y_test": "/y_test with x_test",
        "layout": "inferred from the shape", "classes": "the largest label + 1", "validation": "10 % of the training samples",
        "test_fraction": "0.2 (without test arrays)", "split_seed": "0", "normalize": "no normalisation",
        "stream": "true when x_train is larger than 1 GiB as 32-bit floats",
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
    /// Whether the training inputs stream from the file in batches instead of being read whole.
    public var stream: Bool?

    public init(
        path: String, xTrain: String? = nil, yTrain: String? = nil, xTest: String? = nil, yTest: String? = nil, layout: ArrayLayout? = nil,
        classes: Int? = nil, validation: Int? = nil, testFraction: Double? = nil, splitSeed: UInt64? = nil, normalize: NormalizationParameters? = nil,
        stream: Bool? = nil
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
        self.stream = stream
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

    func arrays() throws(DatasetError) -> LabelledArrays { try arrays(trainingInputs: true, testInputs: true) }

    func arrayShapes() throws(DatasetError) -> LabelledArrays { try arrays(trainingInputs: false, testInputs: false) }

    /// The file's arrays; inputs not asked for are their shape and type only (no values).
    func arrays(trainingInputs: Bool, testInputs: Bool) throws(DatasetError) -> LabelledArrays {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingTable(path) }
        let file: HDF5File
        do { file = try HDF5File.open(path) } catch { throw .invalidData(path, "not a readable HDF5 file (truncated or corrupt?)") }
        defer { file.close() }
        func member(_ name: String?, _ fallback: String, required: Bool, values: Bool = true) throws(DatasetError) -> (name: String, array: NumpyArray)? {
            let key = Self.datasetName(name ?? fallback)
            guard file.exists(key) else {
                guard required || name != nil else { return nil }
                throw .invalidData(path, "has no dataset '\(key)'")
            }
            do {
                if values { return ("\(path)[\(key)]", try Self.array(file, key)) }
                let type = try file.elementType(of: key)
                let descriptor = type.isInteger ? (type.size == 1 && !type.isSigned ? "|u1" : "<i8") : "<f4"
                return ("\(path)[\(key)]", NumpyArray(descriptor: descriptor, shape: try file.shape(of: key), fortranOrder: false, bytes: []))
            } catch { throw .invalidData(path, "\(key): \(error)") }
        }
        let xTrain = try member(xTrain, "x_train", required: true, values: trainingInputs)!, yTrain = try member(yTrain, "y_train", required: true)!
        let xTest = try member(xTest, "x_test", required: false, values: testInputs), yTest = try member(yTest, "y_test", required: xTest != nil)
        return LabelledArrays(xTrain: xTrain, yTrain: yTrain, test: xTest.flatMap { x in yTest.map { (x, $0) } })
    }

    /// An absolute dataset path inside the file.
    static func datasetName(_ name: String) -> String { name.hasPrefix("/") ? name : "/" + name }

    /// Whether the training inputs stream: `stream`, or by default when they exceed 2^28 values.
    func streams(_ shapes: LabelledArrays) -> Bool { stream ?? (shapes.xTrain.array.count > 1 << 28) }

    public func load() throws(DatasetError) -> DatasetSplits {
        let shapes = try arrayShapes()
        guard streams(shapes) else { return try loadInMemory() }
        let classes = classCount(of: shapes)
        let (sample, channelsLast) = try sampleLayout(shapes.xTrain)
        let labels = try self.labels(shapes.xTrain, shapes.yTrain, classes: classes)
        let reader = HDF5RowReader(
            path: path, dataset: Self.datasetName(xTrain ?? "x_train"), name: shapes.xTrain.name, sampleShape: sample, channelsLast: channelsLast,
            bytes: shapes.xTrain.array.descriptor == "|u1")
        let train = ImageDataset(streaming: StreamedSamples(reader: reader, indices: Array(labels.indices)), labels: labels, classCount: classes)
        let pair = try arrays(trainingInputs: false, testInputs: true).test
        return try splits(
            train: train, test: try pair.map { pair throws(DatasetError) in try dataset(pair.x, pair.y, classes: classes) }, testName: pair?.x.name)
    }

    public func problems() -> [String] {
        if yTest != nil, xTest == nil { return ["y_test names the test labels; give x_test with it"] }
        return arrayProblems()
    }
}

/// Rows of an HDF5 dataset of inputs as samples: each batch's rows read together, 8-bit pixels
/// divided by 255, NHWC images reordered to NCHW, exactly as the in-memory load converts them.
final class HDF5RowReader: SampleReader {
    let path: String
    let dataset: String
    /// The dataset as errors name it (`file[/x_train]`).
    let name: String
    let sampleShape: [Int]
    let channelsLast: Bool
    let bytes: Bool

    init(path: String, dataset: String, name: String, sampleShape: [Int], channelsLast: Bool, bytes: Bool) {
        self.path = path
        self.dataset = dataset
        self.name = name
        self.sampleShape = sampleShape
        self.channelsLast = channelsLast
        self.bytes = bytes
    }

    func makeDecoder() -> any SampleDecoder { Decoder(reader: self) }

    final class Decoder: SampleDecoder {
        let reader: HDF5RowReader
        private var file: HDF5File?

        init(reader: HDF5RowReader) { self.reader = reader }
        deinit { file?.close() }

        func decode(_ index: Int, into destination: UnsafeMutableBufferPointer<Float>) throws(DatasetError) {
            try decode([index], into: destination)
        }

        func decode(_ indices: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws(DatasetError) {
            if file == nil {
                do { file = try HDF5File.open(reader.path) } catch { throw .invalidData(reader.path, "not a readable HDF5 file: \(error)") }
            }
            let rows = Array(Set(indices)).sorted()
            let values: [Float]
            do { values = try file!.readFloats(reader.dataset, rows: rows) } catch { throw .invalidData(reader.name, "rows could not be read: \(error)") }
            let position = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1, $0) })
            let size = reader.sampleShape.reduce(1, *)
            let image = reader.sampleShape.count == 3
            for (slot, row) in indices.enumerated() {
                let source = position[row]! * size, target = slot * size
                for k in 0..<size {
                    // Element k of the NCHW sample: channel, then pixel.
                    let from: Int
                    if reader.channelsLast {
                        let (channels, area) = (reader.sampleShape[0], size / reader.sampleShape[0])
                        from = (k % area) * channels + k / area
                    } else {
                        from = k
                    }
                    let value = reader.bytes ? Float(Double(values[source + from]) / 255) : values[source + from]
                    if image, !reader.bytes, !(value >= 0 && value <= 1) {
                        throw .invalidData(
                            reader.name,
                            "image values must be in [0, 1] (attacks and corruptions work on that range): \(value) in row \(row); store uint8 pixels or divide by 255"
                        )
                    }
                    destination[target + k] = value
                }
            }
        }
    }
}
