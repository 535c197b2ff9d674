import Foundation
import Tensors
import Testing

@testable import Datasets

/// Image folders, on the files of `scripts/make_image_fixtures.py` (written by Pillow): two
/// classes of 6×8 PNG and JPEG images in every colour type, and what Pillow decodes from them.
@Suite struct ImageFolderTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/image-folder").path
    static let folder = "\(fixtures)/folder"
    static let files = [
        "bird/a-rgb.png", "bird/b-rgba.png", "bird/c-gray.png", "bird/d-rgb.jpg", "bird/nested/e-rgb.jpeg", "cat/f-palette.png", "cat/g-gray.jpg",
        "cat/h-rgb.PNG",
    ]

    /// Pillow's decoding of the fixture files in listing order: RGB `[N, 6, 8, 3]` and luma `[N, 6, 8]`.
    static func reference() throws -> (rgb: [UInt8], gray: [UInt8]) {
        let arrays = try NumpyFile.arrays("\(fixtures)/reference.npz")
        return (arrays["rgb"]!.doubles()!.map { UInt8($0) }, arrays["gray"]!.doubles()!.map { UInt8($0) })
    }

    /// A scratch folder, removed after `body`.
    static func withScratch(_ body: (String) throws -> Void) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("image-folder-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try body(scratch)
    }

    /// Copies fixture `file` to `scratch/relative`.
    static func copy(_ file: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(folder)/\(file)", toPath: path)
    }

    static func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return "no error"
    }

    @Test func listsClassesAndFilesAsImageFolderDoes() throws {
        let listing = try ImageFolderListing(root: Self.folder)
        #expect(listing.classes == ["bird", "cat"])
        #expect(
            (0..<listing.paths.count).map { listing.paths[$0] } == Self.files.map { "\(Self.folder)/\($0)" },
            "nested folders walked, notes.txt ignored, .PNG taken")
        #expect(listing.labels == [0, 0, 0, 0, 0, 1, 1, 1])
        #expect(listing.testCount == nil)
    }

    @Test func decodesEveryColourTypeAsPillowDoes() throws {
        let (rgb, gray) = try Self.reference()
        let codec = ImageCodec()
        let size = 6 * 8
        for (n, file) in Self.files.enumerated() {
            let bytes = try ImageFolderReader.bytes("\(Self.folder)/\(file)")
            let colour = try codec.decode(bytes, channels: 3, path: file)
            #expect(colour.header.width == 8 && colour.header.height == 6)
            #expect(colour.pixels == Array(rgb[(n * size * 3)..<((n + 1) * size * 3)]), "\(file) as RGB")
            let luma = try codec.decode(bytes, channels: 1, path: file)
            #expect(luma.pixels == Array(gray[(n * size)..<((n + 1) * size)]), "\(file) as grayscale")
        }
    }

    @Test func resizeIsPillowsAntialiasedBilinear() throws {
        let arrays = try NumpyFile.arrays("\(Self.fixtures)/resize.npz")
        let input = arrays["input"]!.doubles()!.map { Float($0) }
        for (height, width) in [(5, 7), (20, 30), (6, 25)] {
            let expected = arrays["out_\(height)x\(width)"]!.doubles()!.map { Float($0) }
            let resized = ImageResampling.resize(input, channels: 3, from: (13, 17), to: (height, width))
            let worst = zip(resized, expected).map { abs($0 - $1) }.max()!
            #expect(resized.count == expected.count && worst < 1e-5, "\(height)×\(width): largest difference \(worst)")
        }
    }

    @Test func centerCropRoundsHalfToEvenAsTorchvision() {
        // 7×9 → 4×6: top (7-4)/2 = 1.5 → 2, left (9-6)/2 = 1.5 → 2; 9×9 → 4×4: 2.5 → 2.
        let image = (0..<63).map(Float.init)
        let crop = ImageResampling.centerCrop(image, channels: 1, from: (7, 9), to: (4, 6))
        #expect(crop == (2..<6).flatMap { y in (2..<8).map { Float(y * 9 + $0) } })
        let square = ImageResampling.centerCrop((0..<81).map(Float.init), channels: 1, from: (9, 9), to: (4, 4))
        #expect(square == (2..<6).flatMap { y in (2..<6).map { Float(y * 9 + $0) } })
        #expect(ImageResampling.size(resizingShorterSideOf: (240, 320), to: 32) == (32, 42))
        #expect(ImageResampling.size(resizingShorterSideOf: (500, 300), to: 32) == (53, 32))
    }

    @Test func streamsTheTrainingSplitAndHoldsTheRest() throws {
        let source = ImageFolderSource(root: Self.folder, validation: 1, testFraction: 0.25, loaderThreads: 3, prefetch: 1)
        #expect(source.problems().isEmpty, "\(source.problems())")
        #expect(source.sampleShape == [3, 6, 8] && source.classCount == 2 && source.classNames == ["bird", "cat"])
        #expect(source.sampleCounts == (5, 1, 2))
        let splits = try source.load()
        #expect(splits.training.streamed != nil && splits.validation.streamed == nil && splits.test.streamed == nil)
        #expect(splits.training.count == 5 && splits.validation.count == 1 && splits.test.count == 2)
        // Every image once, its pixels Pillow's / 255 and its label its folder's.
        let (rgb, _) = try Self.reference()
        func file(of image: ArraySlice<Float>) -> Int? {
            (0..<8).first { n in zip(image, (0..<(3 * 48)).map { rgb[n * 144 + ($0 % 48) * 3 + $0 / 48] }).allSatisfy { $0.0 == Float($0.1) / 255 } }
        }
        var seen: [Int] = []
        for split in [try splits.training.materialized(), splits.validation, splits.test] {
            for sample in 0..<split.count {
                let n = try #require(file(of: split.images.scalars[(sample * 144)..<((sample + 1) * 144)]))
                #expect(split.labels[sample] == (n < 5 ? 0 : 1))
                seen.append(n)
            }
        }
        #expect(seen.sorted() == Array(0..<8))
    }

    @Test func loaderBatchesEqualTheInMemoryOnesWhateverTheThreads() throws {
        let training = try ImageFolderSource(root: Self.folder, validation: 0, testFraction: 0.25).load().training
        let memory = try training.materialized()
        func pass(_ set: ImageDataset, threads: Int, prefetch: Int) throws -> [Batch] {
            var rng: RandomSource? = RandomSource(seed: 5)
            let loader = set.loader(batchSize: 4, shuffledWith: &rng, threads: threads, prefetch: prefetch)
            var batches: [Batch] = []
            while let batch = try loader.next() { batches.append(batch) }
            #expect(batches.count == loader.count)
            return batches
        }
        let expected = try pass(memory, threads: 1, prefetch: 1)
        #expect(expected.map(\.count) == [4, 2])
        for (threads, prefetch) in [(1, 1), (2, 4), (4, 2)] {
            let streamed = try pass(training, threads: threads, prefetch: prefetch)
            #expect(streamed.map(\.images.scalars) == expected.map(\.images.scalars) && streamed.map(\.labels) == expected.map(\.labels))
        }
    }

    /// The loader over an in-memory regression set serves what `batches` serves: inputs and
    /// targets, shuffled alike.
    @Test func loaderServesRegressionBatchesAsBatchesDoes() throws {
        var rng = RandomSource(seed: 2)
        let set = ImageDataset(inputs: Tensor.uniform(shape: [10, 3], using: &rng), targets: Tensor.uniform(shape: [10, 2], using: &rng))
        var order: RandomSource? = RandomSource(seed: 7)
        let loader = set.loader(batchSize: 4, shuffledWith: &order)
        order = RandomSource(seed: 7)
        let expected = set.batches(size: 4, shuffledWith: &order)
        var served: [Batch] = []
        while let batch = try loader.next() { served.append(batch) }
        #expect(served.map(\.images) == expected.map(\.images) && served.count == 3)
        for (a, b) in zip(served, expected) {
            guard case .targets(let x) = a.supervision, case .targets(let y) = b.supervision else {
                Issue.record("regression batches carry targets")
                continue
            }
            #expect(x == y)
        }
    }

    /// A reader of generated samples that counts what it has decoded.
    final class CountingReader: SampleReader, @unchecked Sendable {
        let sampleShape = [1, 2, 2]
        let lock = NSLock()
        var decoded = 0
        func makeDecoder() -> any SampleDecoder { Decoder(reader: self) }
        final class Decoder: SampleDecoder {
            let reader: CountingReader
            init(reader: CountingReader) { self.reader = reader }
            func decode(_ index: Int, into destination: UnsafeMutableBufferPointer<Float>) throws(DatasetError) {
                reader.lock.withLock { reader.decoded += 1 }
                _ = destination.initialize(from: repeatElement(Float(index) / 1000, count: 4))
            }
        }
    }

    @Test func decodingStaysWithinThePrefetchWindow() throws {
        let reader = CountingReader()
        let set = ImageDataset(streaming: StreamedSamples(reader: reader, indices: Array(0..<1000)), labels: [Int](repeating: 0, count: 1000), classCount: 1)
        var none: RandomSource?
        let loader = set.loader(batchSize: 10, shuffledWith: &none, threads: 3, prefetch: 2)
        let first = try #require(try loader.next())
        #expect(first.images.scalars[0..<8] == [0, 0, 0, 0, 0.001, 0.001, 0.001, 0.001])
        Thread.sleep(forTimeInterval: 0.2)
        // Batch 0 taken: the threads may start batches 1 and 2 only.
        #expect(reader.lock.withLock { reader.decoded } <= 30)
        var taken = 1
        while try loader.next() != nil { taken += 1 }
        #expect(taken == 100 && reader.lock.withLock { reader.decoded } == 1000)
    }

    @Test func trainAndTestFoldersAreTheFilesOwnSplit() throws {
        try Self.withScratch { root in
            for file in Self.files.prefix(3) + Self.files.suffix(2) { try Self.copy(file, to: "\(root)/train/\(file)") }
            try Self.copy(Self.files[3], to: "\(root)/val/bird/x.jpg")
            try Self.copy(Self.files[5], to: "\(root)/val/cat/y.png")
            let source = ImageFolderSource(root: root, color: .grayscale, validation: 1)
            #expect(source.sampleShape == [1, 6, 8] && source.sampleCounts == (4, 1, 2))
            let splits = try source.load()
            #expect(splits.test.labels == [0, 1] && splits.training.count == 4)
            let (_, gray) = try Self.reference()
            #expect(splits.test.images.scalars[0..<48].map { UInt8(($0 * 255).rounded()) } == Array(gray[(3 * 48)..<(4 * 48)]))
            try Self.copy(Self.files[0], to: "\(root)/val/dog/z.png")
            #expect(Self.message { _ = try source.load() } == "\(root)/val/dog: is a class that \(root)/train does not have (its classes: bird, cat)")
        }
    }

    @Test func resizeAndCropApplyToEveryImage() throws {
        try Self.withScratch { root in
            try Self.copy(Self.files[0], to: "\(root)/a/small.png")
            try Self.copy(Self.files[3], to: "\(root)/b/small.jpg")
            // A 12×20 image beside the 6×8 ones: refused without a resize, naming both.
            let large = ImageCodec().encodeJPEG([UInt8](repeating: 128, count: 12 * 20 * 3), width: 20, height: 12, channels: 3, quality: 90)
            FileManager.default.createFile(atPath: "\(root)/b/large.jpg", contents: Data(large))
            let plain = ImageFolderSource(root: root, validation: 0, testFraction: 0.34)
            #expect(
                Self.message { try plain.verify() }
                    == "\(root)/b/large.jpg: is 12×20 (height × width) but \(root)/a/small.png is 6×8; images of several sizes need resize: [height, width] (or resize_shorter with center_crop)"
            )
            let resized = ImageFolderSource(root: root, resizeShorter: 5, centerCrop: [4, 6], validation: 0, testFraction: 0.34)
            #expect(resized.problems().isEmpty && resized.sampleShape == [3, 4, 6])
            let all = try resized.load()
            let images = try all.training.materialized()
            #expect(images.sampleShape == [3, 4, 6] && all.test.sampleShape == [3, 4, 6])
            // The large grey image stays 128/255 after any resize and crop.
            let grey = Float(128) / 255
            let found =
                (0..<images.count).contains { images.images.scalars[($0 * 72)..<(($0 + 1) * 72)].allSatisfy { abs($0 - grey) < 1e-6 } }
                || all.test.images.scalars.allSatisfy { abs($0 - grey) < 1e-6 }
            #expect(found)
            let tooLarge = ImageFolderSource(root: root, resize: [6, 8], centerCrop: [7, 8])
            #expect(tooLarge.problems() == ["center_crop [7, 8] is larger than resize [6, 8]"])
        }
    }

    @Test func badFilesAreNamed() throws {
        try Self.withScratch { root in
            #expect(Self.message { try ImageFolderSource(root: "\(root)/none").verify() } == "\(root)/none: no such folder")
            FileManager.default.createFile(atPath: "\(root)/file", contents: Data("x".utf8))
            #expect(Self.message { try ImageFolderSource(root: "\(root)/file").verify() }.hasPrefix("\(root)/file: is a file; root names a folder"))
            try FileManager.default.createDirectory(atPath: "\(root)/flat", withIntermediateDirectories: true)
            try Self.copy(Self.files[0], to: "\(root)/flat/loose.png")
            #expect(Self.message { try ImageFolderSource(root: "\(root)/flat").verify() }.hasPrefix("\(root)/flat: has no class folders"))
            try FileManager.default.createDirectory(atPath: "\(root)/flat/empty", withIntermediateDirectories: true)
            #expect(
                Self.message { try ImageFolderSource(root: "\(root)/flat").verify() }
                    == "\(root)/flat/empty: holds no .png, .jpg or .jpeg image (an empty class folder)")
            #expect(ImageFolderSource(root: "\(root)/flat").problems().first?.hasPrefix("root cannot be used: \(root)/flat/empty: holds no") == true)

            // Not an image, an empty file, a truncated PNG: found by verify (headers) or at load.
            for file in Self.files.prefix(4) + [Self.files[7]] { try Self.copy(file, to: "\(root)/set/train/\(file)") }
            try Self.copy(Self.files[5], to: "\(root)/set/test/cat/ok.png")
            let set = ImageFolderSource(root: "\(root)/set", validation: 0)
            try set.verify()
            FileManager.default.createFile(atPath: "\(root)/set/train/bird/z-text.png", contents: Data("hello, world".utf8))
            #expect(Self.message { try set.verify() } == "\(root)/set/train/bird/z-text.png: not a PNG or JPEG image (its first bytes are 68 65 6c 6c)")
            FileManager.default.createFile(atPath: "\(root)/set/train/bird/z-text.png", contents: Data())
            #expect(Self.message { try set.verify() } == "\(root)/set/train/bird/z-text.png: is empty (0 bytes)")
            try FileManager.default.removeItem(atPath: "\(root)/set/train/bird/z-text.png")
            let png = try Data(contentsOf: URL(fileURLWithPath: "\(root)/set/test/cat/ok.png"))
            try png.prefix(png.count / 2).write(to: URL(fileURLWithPath: "\(root)/set/test/cat/ok.png"))
            try set.verify()  // the header is whole; the image data is not
            #expect(Self.message { _ = try set.load() }.hasPrefix("\(root)/set/test/cat/ok.png: corrupt PNG image: "))
            try png.write(to: URL(fileURLWithPath: "\(root)/set/test/cat/ok.png"))

            // A truncated JPEG among the streamed training images fails the pass when met, by path.
            let jpeg = try Data(contentsOf: URL(fileURLWithPath: "\(root)/set/train/bird/d-rgb.jpg"))
            try jpeg.prefix(jpeg.count - 30).write(to: URL(fileURLWithPath: "\(root)/set/train/bird/d-rgb.jpg"))
            let training = try set.load().training
            var none: RandomSource?
            let loader = training.loader(batchSize: 2, shuffledWith: &none)
            let failure = Self.message { while try loader.next() != nil {} }
            #expect(failure.hasPrefix("\(root)/set/train/bird/d-rgb.jpg: corrupt JPEG image: "), "\(failure)")
        }
    }
}
