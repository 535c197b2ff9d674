import Foundation
import Spec
import Tensors

/// Labelled image files as an experiment's dataset (`type: image_folder`), in torchvision's
/// ImageFolder convention: `root/<class>/…/*.{png,jpg,jpeg}`, classes sorted by folder name; or
/// `root/train/<class>/…` with `root/test/<class>/…` (or `root/val/…`) as the files' own split.
/// Without test folders a seeded `test_fraction` of the images is the test set; a seeded
/// `validation` share of the rest is the validation set.
///
/// Images are decoded with libpng and libjpeg-turbo (`ImageCodec`), converted to `color`,
/// resized (`resize` or `resize_shorter`, antialiased, `ImageResampling`) and centre-cropped
/// (`center_crop`), the same way for every split, so training, evaluation and attacks see the
/// same pixels. Every image's header is read at load: an unreadable file and images of several
/// sizes without a resize are errors before training. The training split stays in its files and
/// streams through a `BatchLoader` (`loader_threads` decoding threads, `prefetch` batches
/// ahead); the validation and test splits are decoded into memory once, as evaluation passes
/// over them many times (`test_limit` bounds them).
public struct ImageFolderSource: FileBackedSource, Equatable {
    public static let kind = "image_folder"
    public static let summary =
        "PNG / JPEG files in root/<class>/ (torchvision's ImageFolder), or root/train and root/test; resized, cropped, the training split streamed."
    public static let defaults = [
        "color": "the first image's (grayscale or rgb)", "resize": "no resize (every image the same size)", "resize_shorter": "no resize",
        "center_crop": "no crop", "validation": "10 % of the training images", "test_fraction": "0.2 (without test folders)", "split_seed": "0",
        "train_limit": "every training image", "test_limit": "every test image", "loader_threads": "2", "prefetch": "4",
        "normalize": "no normalisation",
    ]

    public enum Color: String, ParameterChoice { case grayscale, rgb }

    /// The folder of class folders (or of `train` and `test` / `val`); a relative path is
    /// relative to the experiment file.
    public var root: String
    /// Channels of the model's input: grayscale (1) or rgb (3); other files are converted.
    public var color: Color?
    /// `[height, width]` every image is resized to.
    public var resize: [Int]?
    /// The length every image's shorter side is resized to, keeping the aspect ratio.
    public var resizeShorter: Int?
    /// `[height, width]` of the centre kept after resizing.
    public var centerCrop: [Int]?
    /// Training images held out for validation (default 10 %).
    public var validation: Int?
    /// The test share of the images when there are no test folders (default 0.2).
    public var testFraction: Double?
    public var splitSeed: UInt64?
    /// Only the first N training images after the split, and the first N test images.
    public var trainLimit: Int?
    public var testLimit: Int?
    /// Threads decoding the training images while the model trains (default 2).
    public var loaderThreads: Int?
    /// Training batches decoded ahead of the model (default 4).
    public var prefetch: Int?
    public var normalize: NormalizationParameters?

    public init(
        root: String, color: Color? = nil, resize: [Int]? = nil, resizeShorter: Int? = nil, centerCrop: [Int]? = nil, validation: Int? = nil,
        testFraction: Double? = nil, splitSeed: UInt64? = nil, trainLimit: Int? = nil, testLimit: Int? = nil, loaderThreads: Int? = nil,
        prefetch: Int? = nil, normalize: NormalizationParameters? = nil
    ) {
        self.root = root
        self.color = color
        self.resize = resize
        self.resizeShorter = resizeShorter
        self.centerCrop = centerCrop
        self.validation = validation
        self.testFraction = testFraction
        self.splitSeed = splitSeed
        self.trainLimit = trainLimit
        self.testLimit = testLimit
        self.loaderThreads = loaderThreads
        self.prefetch = prefetch
        self.normalize = normalize
    }

    public func resolvingPaths(relativeTo directory: String) -> ImageFolderSource {
        guard !root.hasPrefix("/") else { return self }
        var copy = self
        copy.root = URL(fileURLWithPath: directory).appendingPathComponent(root).standardizedFileURL.path
        return copy
    }

    var pipeline: ImagePipeline {
        ImagePipeline(
            resize: resize.flatMap { $0.count == 2 ? ($0[0], $0[1]) : nil }, resizeShorter: resizeShorter,
            crop: centerCrop.flatMap { $0.count == 2 ? ($0[0], $0[1]) : nil })
    }

    /// The sample shape from the parameters and the first image (nil when it cannot be read).
    private var firstSample: [Int]? {
        guard let listing = try? ImageFolderListing(root: root), listing.paths.count > 0,
            let header = try? ImageFolderReader.header(listing.paths[0], codec: ImageCodec())
        else { return nil }
        let size = pipeline.outputSize(of: (header.height, header.width))
        return [color.map { $0 == .grayscale ? 1 : 3 } ?? header.channels, size.height, size.width]
    }

    public var sampleShape: [Int] { firstSample ?? [] }
    public var classCount: Int { (try? ImageFolderListing(root: root))?.classes.count ?? 0 }
    public var classNames: [String]? { (try? ImageFolderListing(root: root))?.classes }
    public var normalization: (mean: [Float], std: [Float])? { normalize.map { ($0.mean, $0.std) } }

    /// Training, validation and test sizes from the number of training and test images.
    func splitSizes(training total: Int, test: Int?) -> (training: Int, validation: Int, test: Int) {
        let heldTest = test == nil ? Int((testFraction ?? 0.2) * Double(total)) : 0
        let rest = total - heldTest
        let held = validation ?? rest / 10
        return (min(rest - held, trainLimit ?? .max), held, min(test ?? heldTest, testLimit ?? .max))
    }

    public var sampleCounts: (training: Int, validation: Int, test: Int) {
        guard let listing = try? ImageFolderListing(root: root) else { return (0, 0, 0) }
        return splitSizes(training: listing.trainingCount, test: listing.testCount)
    }

    public func problems() -> [String] {
        var found: [String] = []
        if let resize, resize.count != 2 || resize.contains(where: { $0 < 1 }) { found.append("resize must be [height, width], each ≥ 1, got \(resize)") }
        if let resizeShorter, resizeShorter < 1 { found.append("resize_shorter must be ≥ 1, got \(resizeShorter)") }
        if resize != nil, resizeShorter != nil { found.append("resize and resize_shorter exclude each other: give one") }
        if let centerCrop, centerCrop.count != 2 || centerCrop.contains(where: { $0 < 1 }) {
            found.append("center_crop must be [height, width], each ≥ 1, got \(centerCrop)")
        }
        if let resize, let centerCrop, resize.count == 2, centerCrop.count == 2, centerCrop[0] > resize[0] || centerCrop[1] > resize[1] {
            found.append("center_crop \(centerCrop) is larger than resize \(resize)")
        }
        if let validation, validation < 0 { found.append("validation must be ≥ 0, got \(validation)") }
        if let testFraction, !(testFraction > 0 && testFraction < 1) { found.append("test_fraction must be in (0, 1), got \(testFraction)") }
        if let trainLimit, trainLimit < 1 { found.append("train_limit must be ≥ 1, got \(trainLimit)") }
        if let testLimit, testLimit < 1 { found.append("test_limit must be ≥ 1, got \(testLimit)") }
        if let loaderThreads, loaderThreads < 1 { found.append("loader_threads must be ≥ 1, got \(loaderThreads)") }
        if let prefetch, prefetch < 1 { found.append("prefetch must be ≥ 1, got \(prefetch)") }
        guard found.isEmpty else { return found }
        let listing: ImageFolderListing
        do { listing = try ImageFolderListing(root: root) } catch { return ["root cannot be used: \(error)"] }
        let sizes = splitSizes(training: listing.trainingCount, test: listing.testCount)
        if sizes.training < 1 || sizes.test < 1 {
            found.append(
                "the split leaves \(sizes.training) training, \(sizes.validation) validation and \(sizes.test) test images; training and test need ≥ 1")
        }
        if let shape = firstSample { found += normalize?.problems(channels: shape[0]) ?? [] }
        return found
    }

    /// The folder's listing and every image's header: a file that is not a PNG or JPEG image,
    /// and images of several sizes without a resize, are found here.
    public func verify() throws(DatasetError) { _ = try scan() }

    /// The listing and a reader of every image, its header read and its final size checked.
    func scan() throws(DatasetError) -> (listing: ImageFolderListing, reader: ImageFolderReader) {
        let listing = try ImageFolderListing(root: root)
        let codec = ImageCodec()
        var channels: Int?
        var first: (path: String, size: (height: Int, width: Int))?
        let pipeline = self.pipeline
        for index in 0..<listing.paths.count {
            let path = listing.paths[index]
            let header = try ImageFolderReader.header(path, codec: codec)
            channels = channels ?? header.channels
            if let crop = pipeline.crop {
                let resized = pipeline.resizedSize(of: (header.height, header.width))
                guard crop.height <= resized.height, crop.width <= resized.width else {
                    throw .invalidData(
                        path,
                        "is \(resized.height)×\(resized.width) (height × width) after resizing, smaller than center_crop \([crop.height, crop.width])")
                }
            }
            let size = pipeline.outputSize(of: (header.height, header.width))
            if let first, first.size != size {
                throw .invalidData(
                    path,
                    "is \(size.height)×\(size.width) (height × width) but \(first.path) is \(first.size.height)×\(first.size.width); images of several sizes need resize: [height, width] (or resize_shorter with center_crop)"
                )
            }
            first = first ?? (path, size)
        }
        let size = first!.size
        let shape = [color.map { $0 == .grayscale ? 1 : 3 } ?? channels!, size.height, size.width]
        return (listing, ImageFolderReader(paths: listing.paths, pipeline: pipeline, sampleShape: shape))
    }

    /// Every image of the folder (training and test files) as one streamed dataset, headers
    /// checked: for the loader benchmark and for looking at a folder without splitting it.
    public func everyImageStreamed() throws(DatasetError) -> ImageDataset {
        let (listing, reader) = try scan()
        let samples = StreamedSamples(reader: reader, indices: Array(0..<listing.paths.count), threads: loaderThreads ?? 2, prefetch: prefetch ?? 4)
        return ImageDataset(streaming: samples, labels: listing.labels, classCount: listing.classes.count)
    }

    public func load() throws(DatasetError) -> DatasetSplits {
        let (listing, reader) = try scan()
        let threads = loaderThreads ?? 2
        let samples = StreamedSamples(reader: reader, indices: [], threads: threads, prefetch: prefetch ?? 4)
        func dataset(_ range: Range<Int>) -> ImageDataset {
            var streamed = samples
            streamed.indices = Array(range)
            return ImageDataset(streaming: streamed, labels: Array(listing.labels[range]), classCount: listing.classes.count)
        }
        var train = dataset(0..<listing.trainingCount)
        var test: ImageDataset
        if let testCount = listing.testCount {
            test = dataset(listing.trainingCount..<(listing.trainingCount + testCount))
        } else {
            (train, test) = try train.split(validationCount: Int((testFraction ?? 0.2) * Double(train.count)), seed: (splitSeed ?? 0) &+ 1)
        }
        let held = validation ?? train.count / 10
        var (training, validationSet) = try train.split(validationCount: held, seed: splitSeed ?? 0)
        if let trainLimit { training = training.prefix(trainLimit) }
        if let testLimit { test = test.prefix(testLimit) }
        return DatasetSplits(
            training: training, validation: try validationSet.materialized(threads: threads), test: try test.materialized(threads: threads))
    }
}

/// Resizing then cropping, as declared; each optional.
struct ImagePipeline: Sendable {
    var resize: (height: Int, width: Int)?
    var resizeShorter: Int?
    var crop: (height: Int, width: Int)?

    /// The size after resizing an image of `size`.
    func resizedSize(of size: (height: Int, width: Int)) -> (height: Int, width: Int) {
        if let resize { return resize }
        if let resizeShorter { return ImageResampling.size(resizingShorterSideOf: size, to: resizeShorter) }
        return size
    }

    /// The size of a decoded image of `size` after the whole pipeline.
    func outputSize(of size: (height: Int, width: Int)) -> (height: Int, width: Int) { crop ?? resizedSize(of: size) }

    /// Planar pixels of an image of `size` after the pipeline (the crop must fit).
    func apply(_ planes: [Float], channels: Int, size: (height: Int, width: Int)) -> [Float] {
        let resized = resizedSize(of: size)
        let planes = ImageResampling.resize(planes, channels: channels, from: size, to: resized)
        guard let crop else { return planes }
        return ImageResampling.centerCrop(planes, channels: channels, from: resized, to: crop)
    }
}

/// The image files of an image folder with their labels: training files first, then test files
/// (when the folder has its own split), each in class order then path order.
struct ImageFolderListing {
    static let extensions: Set<String> = ["png", "jpg", "jpeg"]
    var classes: [String]
    /// Every image's path, and its class.
    var paths = PathTable()
    var labels: [Int] = []
    var trainingCount: Int
    /// Test images of the folder's own split (nil without `test` / `val` folders).
    var testCount: Int?

    init(root: String) throws(DatasetError) {
        let manager = FileManager.default
        func isDirectory(_ path: String) -> Bool {
            var directory: ObjCBool = false
            return manager.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
        }
        guard manager.fileExists(atPath: root) else { throw .invalidData(root, "no such folder") }
        guard isDirectory(root) else { throw .invalidData(root, "is a file; root names a folder of class folders (root/<class>/*.png)") }
        func subfolders(_ path: String) throws(DatasetError) -> [String] {
            guard let names = try? manager.contentsOfDirectory(atPath: path) else { throw .unreadable(path, "cannot list the folder") }
            return names.filter { !$0.hasPrefix(".") && isDirectory("\(path)/\($0)") }.sorted()
        }
        let testFolder = ["test", "val"].first { isDirectory("\(root)/\($0)") }
        let split = isDirectory("\(root)/train") && testFolder != nil
        let trainingRoot = split ? "\(root)/train" : root
        classes = try subfolders(trainingRoot)
        guard !classes.isEmpty else {
            throw .invalidData(trainingRoot, "has no class folders; images go in \(trainingRoot)/<class>/*.png (or .jpg, .jpeg), one folder per class")
        }
        let labels = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var paths = PathTable(), fileLabels: [Int] = []
        func classFiles(_ base: String, classes names: [String]) throws(DatasetError) {
            for name in names {
                var found: [String] = []
                try Self.walk("\(base)/\(name)", relative: "", into: &found)
                guard !found.isEmpty else { throw .invalidData("\(base)/\(name)", "holds no .png, .jpg or .jpeg image (an empty class folder)") }
                for file in found.sorted() { paths.append(folder: "\(base)/\(name)", file: file) }
                fileLabels += repeatElement(labels[name]!, count: found.count)
            }
        }
        try classFiles(trainingRoot, classes: classes)
        trainingCount = paths.count
        if split, let testFolder {
            let testRoot = "\(root)/\(testFolder)"
            let testClasses = try subfolders(testRoot)
            if let unknown = testClasses.first(where: { labels[$0] == nil }) {
                throw .invalidData("\(testRoot)/\(unknown)", "is a class that \(trainingRoot) does not have (its classes: \(classes.joined(separator: ", ")))")
            }
            try classFiles(testRoot, classes: testClasses)
            testCount = paths.count - trainingCount
        }
        self.paths = paths
        self.labels = fileLabels
    }
}

extension ImageFolderListing {
    /// The image files under `folder` (relative paths, subfolders walked, hidden entries
    /// skipped), read with `readdir` (no Foundation objects per file: a folder of a million
    /// images lists in little memory).
    static func walk(_ folder: String, relative: String, into found: inout [String]) throws(DatasetError) {
        let path = relative.isEmpty ? folder : "\(folder)/\(relative)"
        guard let directory = opendir(path) else { throw .unreadable(path, "cannot list the folder: \(String(cString: strerror(errno)))") }
        defer { closedir(directory) }
        var subfolders: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard !name.hasPrefix(".") else { continue }
            let child = relative.isEmpty ? name : "\(relative)/\(name)"
            var isFolder = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) || entry.pointee.d_type == UInt8(DT_LNK) {
                var status = stat()
                isFolder = stat("\(folder)/\(child)", &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
            }
            if isFolder {
                subfolders.append(child)
            } else if let dot = name.lastIndex(of: "."), extensions.contains(name[name.index(after: dot)...].lowercased()) {
                found.append(child)
            }
        }
        for subfolder in subfolders { try walk(folder, relative: subfolder, into: &found) }
    }
}

/// Decodes the images of an image folder through `ImagePipeline` into `[C, H, W]` floats.
final class ImageFolderReader: SampleReader {
    let paths: PathTable
    let pipeline: ImagePipeline
    let sampleShape: [Int]

    init(paths: PathTable, pipeline: ImagePipeline, sampleShape: [Int]) {
        self.paths = paths
        self.pipeline = pipeline
        self.sampleShape = sampleShape
    }

    func makeDecoder() -> any SampleDecoder { Decoder(reader: self) }

    /// A file's bytes (`limit`: at most that many from its start).
    static func bytes(_ path: String, limit: Int = .max) throws(DatasetError) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw FileManager.default.fileExists(atPath: path) ? .unreadable(path, String(cString: strerror(errno))) : .invalidData(path, "no such file")
        }
        defer { fclose(file) }
        fseek(file, 0, SEEK_END)
        let size = min(limit, ftell(file))
        fseek(file, 0, SEEK_SET)
        guard size > 0 else { throw .invalidData(path, "is empty (0 bytes)") }
        var bytes = [UInt8](repeating: 0, count: size)
        let read = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, file) }
        guard read == size else { throw .unreadable(path, "read \(read) of \(size) bytes") }
        return bytes
    }

    /// An image file's header, from its first 64 KiB (the whole file when a JPEG's frame header
    /// comes later).
    static func header(_ path: String, codec: ImageCodec) throws(DatasetError) -> ImageCodec.Header {
        let prefix = try bytes(path, limit: 1 << 16)
        if prefix.count == 1 << 16, ImageCodec.format(of: prefix) == .jpeg, (try? codec.header(prefix, path: path)) == nil {
            return try codec.header(try bytes(path), path: path)
        }
        return try codec.header(prefix, path: path)
    }

    final class Decoder: SampleDecoder {
        let reader: ImageFolderReader
        let codec = ImageCodec()
        /// The last image's interleaved pixels.
        var pixels: [UInt8] = []
        /// `Float(byte) / 255` for every byte value.
        static let unitValues = (0..<256).map { Float($0) / 255 }

        init(reader: ImageFolderReader) { self.reader = reader }

        func decode(_ index: Int, into destination: UnsafeMutableBufferPointer<Float>) throws(DatasetError) {
            let path = reader.paths[index]
            let channels = reader.sampleShape[0]
            let header = try codec.decode(try ImageFolderReader.bytes(path), channels: channels, path: path, into: &pixels)
            let size = (height: header.height, width: header.width), output = reader.pipeline.outputSize(of: size)
            guard output == (reader.sampleShape[1], reader.sampleShape[2]) else {
                throw .invalidData(
                    path,
                    "is \(output.height)×\(output.width) after resizing and cropping, the dataset's images \(reader.sampleShape[1])×\(reader.sampleShape[2])")
            }
            let area = header.height * header.width
            /// Interleaved bytes to planar values in [0, 1] (`byte / 255`, from a table).
            func planar(_ target: UnsafeMutableBufferPointer<Float>) {
                pixels.withUnsafeBufferPointer { bytes in
                    Self.unitValues.withUnsafeBufferPointer { unit in
                        for c in 0..<channels {
                            for p in 0..<area { target[c * area + p] = unit[Int(bytes[p * channels + c])] }
                        }
                    }
                }
            }
            if output == size {
                planar(destination)
                return
            }
            let planes = [Float](unsafeUninitializedCapacity: channels * area) { buffer, initialized in
                planar(buffer)
                initialized = channels * area
            }
            _ = destination.initialize(from: reader.pipeline.apply(planes, channels: channels, size: size))
        }
    }
}

/// File paths held compactly for folders of many images: each folder once, each file's path
/// inside it as UTF-8 in one shared buffer (about 15 bytes per image instead of a string each).
struct PathTable: Sendable {
    private var folders: [String] = []
    private var folderOf: [Int32] = []
    private var bytes: [UInt8] = []
    private var ends: [Int] = []

    var count: Int { ends.count }

    mutating func append(folder: String, file: String) {
        if folders.last != folder { folders.append(folder) }
        folderOf.append(Int32(folders.count - 1))
        bytes += file.utf8
        ends.append(bytes.count)
    }

    /// The full path of file `index`.
    subscript(index: Int) -> String {
        let start = index == 0 ? 0 : ends[index - 1]
        return "\(folders[Int(folderOf[index])])/\(String(decoding: bytes[start..<ends[index]], as: UTF8.self))"
    }
}
