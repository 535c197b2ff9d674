import Datasets
import Foundation
import Perturbations
import Tensors
import Testing

/// Precomputed corruption sets in the CIFAR-10-C layout, on the files of
/// `scripts/make_dataset_fixtures.py`: the 6 test images of `numpy/arrays.npz` shifted by 40·s
/// (fog) per severity s, stored NHWC, labels tiled per severity.
@Suite struct CorruptionSetTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../DatasetsTests/Fixtures")
        .standardizedFileURL.path
    static let folder = "\(fixtures)/corruption-set"

    @Test func severityBlocksReplaceTheTestImages() throws {
        let test = try NumpySource(path: "\(Self.fixtures)/numpy/arrays.npz", validation: 2).load().test
        for severity in 1...5 {
            let set = CorruptionSet(path: Self.folder, corruption: "fog", severity: severity)
            #expect(set.problems().isEmpty && set.problems(sampleShape: [3, 4, 5]).isEmpty)
            #expect(set.evaluationType == "fog" && set.label == "fog(severity=\(severity), precomputed)")
            let images = try #require(try set.precomputedTestImages(labels: test.labels, sampleShape: test.sampleShape))
            let batch = images.images(2..<6)
            #expect(batch.shape == [4, 3, 4, 5])
            for (k, value) in batch.scalars.enumerated() {
                let clean = Int((test.images.scalars[2 * 60 + k] * 255).rounded())
                #expect(Int((value * 255).rounded()) == (clean + 40 * severity) % 256)
            }
        }
    }

    @Test func mismatchesAreNamed() throws {
        let test = try NumpySource(path: "\(Self.fixtures)/numpy/arrays.npz", validation: 2).load().test
        #expect(
            CorruptionSet(path: Self.folder, corruption: "frost", severity: 1).problems()
                == ["corruption 'frost' has no file \(Self.folder)/frost.npy; the set's corruptions: fog, gaussian_noise"])
        #expect(CorruptionSet(path: Self.folder, corruption: "fog", severity: 6).problems() == ["severity must be in 1…5, got 6"])
        #expect(
            CorruptionSet(path: Self.folder, corruption: "fog", severity: 1).problems(sampleShape: [1, 4, 5]) == [
                "\(Self.folder)/fog.npy holds images of [3, 4, 5], the dataset's are [1, 4, 5]"
            ])
        // A test split in another order: the labels differ, and the message says where.
        var shuffled = test.labels
        shuffled.swapAt(0, 1)
        #expect {
            _ = try CorruptionSet(path: Self.folder, corruption: "fog", severity: 2).precomputedTestImages(labels: shuffled, sampleShape: [3, 4, 5])
        } throws: { error in
            "\(error)".hasPrefix("\(Self.folder)/labels.npy: label 0 of image 0 differs from the test split's 1")
        }
        #expect(throws: DatasetError.self) {
            try CorruptionSet(path: Self.folder, corruption: "fog", severity: 1).precomputedTestImages(
                labels: Array(repeating: 0, count: 7), sampleShape: [3, 4, 5])
        }
    }
}
