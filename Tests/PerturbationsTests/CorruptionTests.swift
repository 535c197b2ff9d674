import Foundation
import Tensors
import Testing
@testable import Perturbations

/// Hand-computed small cases, one or more per corruption kind.
@Suite struct CorruptionTests {
    func image(_ values: [Float], channels: Int = 1, side: Int) -> Tensor {
        Tensor(shape: [1, channels, side, side], scalars: values)
    }

    func apply(_ corruption: some Corruption, _ images: Tensor, seed: UInt64 = 1) -> [Float] {
        var rng = RandomSource(seed: seed)
        return corruption.apply(to: images, rng: &rng).scalars
    }

    /// The severity tables give the factor lists of the published NumPy ranges
    /// (`np.arange(1, 1.06, 0.01)` has 7 values, its float end included).
    @Test func zoomBlurFactorsAreThePublishedRanges() {
        let counts = { (table: [(maxZoom: Double, step: Double)]) in table.map { ZoomBlur.factors(maxZoom: $0.maxZoom, step: $0.step).count } }
        #expect(counts(ZoomBlur.table.cifar) == [7, 12, 16, 21, 26])
        #expect(counts(ZoomBlur.table.imagenet) == [12, 16, 11, 13, 11])
        #expect(abs(ZoomBlur.factors(maxZoom: 1.24, step: 0.02).last! - 1.24) < 1e-12)
    }

    /// Factors 1 and 2 on a 3×3 impulse: the ×2 zoom about the centre spreads it bilinearly
    /// (½ on edges, ¼ on corners), and the unzoomed image counts twice: (2x + zoom) / 3.
    @Test func zoomBlurAveragesTheImageAndItsZooms() {
        let impulse = image([0, 0, 0, 0, 1, 0, 0, 0, 0], side: 3)
        let out = apply(ZoomBlur(maxZoom: 2, step: 1), impulse)
        let expected: [Float] = [0.25, 0.5, 0.25, 0.5, 3, 0.5, 0.25, 0.5, 0.25].map { $0 / 3 }
        #expect(zip(out, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(out)")
        let flat = image([Float](repeating: 0.3, count: 16), side: 4)
        #expect(apply(ZoomBlur(severity: 5), flat).allSatisfy { abs($0 - 0.3) < 1e-6 })
    }

    @Test func poissonSamplesHaveTheirMeanAndVariance() {
        var rng = RandomSource(seed: 3)
        for lambda in [0.5, 3.0, 30.0, 500.0] {
            let samples = (0..<20000).map { _ in rng.poisson(lambda) }
            let mean = samples.reduce(0, +) / Double(samples.count)
            let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(samples.count - 1)
            // Standard error of the mean √(λ/n): 4 of them.
            #expect(abs(mean - lambda) < 4 * (lambda / 20000).squareRoot(), "λ \(lambda): mean \(mean)")
            #expect(abs(variance / lambda - 1) < 0.05, "λ \(lambda): variance \(variance)")
            #expect(samples.allSatisfy { $0 >= 0 && $0 == $0.rounded() })
        }
    }

    @Test func shotNoiseIsPhotonCounting() {
        // rate 4 at x = 0.5: counts Poisson(2) / 4, so values are multiples of 0.25, clipped at 1.
        let out = apply(ShotNoise(rate: 4), Tensor(shape: [1, 1, 50, 50], repeating: 0.5))
        #expect(out.allSatisfy { ($0 * 4).rounded() == $0 * 4 && (0...1).contains($0) })
        #expect(apply(ShotNoise(rate: 4), Tensor(shape: [1, 1, 3, 3], repeating: 0)) == Array(repeating: 0, count: 9))
    }

    @Test func impulseNoiseSetsValuesToTheExtremes() {
        let out = apply(ImpulseNoise(amount: 1), Tensor(shape: [1, 1, 40, 40], repeating: 0.5))
        let salt = out.filter { $0 == 1 }.count
        #expect(out.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(abs(Double(salt) / 1600 - 0.5) < 0.05)
        let none = apply(ImpulseNoise(amount: 0.0001), Tensor(shape: [1, 1, 10, 10], repeating: 0.5))
        #expect(none.filter { $0 != 0.5 }.count <= 1)
    }

    @Test func speckleNoiseScalesWithIntensity() {
        #expect(apply(SpeckleNoise(std: 0.5), Tensor(shape: [1, 1, 5, 5], repeating: 0)) == Array(repeating: 0, count: 25))
        let out = apply(SpeckleNoise(std: 0.2), Tensor(shape: [1, 1, 60, 60], repeating: 0.5))
        let deltas = out.map { Double($0 - 0.5) }
        let std = (deltas.reduce(0) { $0 + $1 * $1 } / Double(deltas.count)).squareRoot()
        #expect(abs(std - 0.1) < 0.005)  // x · std = 0.5 · 0.2
    }

    @Test func gaussianBlurSpreadsAnImpulseAsTheNormalDensity() {
        var values = [Float](repeating: 0, count: 81)
        values[40] = 1
        let out = apply(GaussianBlur(sigma: 1), image(values, side: 9))
        // 1-D weights at σ = 1 cut at 4σ: w(i) = e^(−i²/2) / Σ_{|j|≤4} e^(−j²/2) = e^(−i²/2) / 2.506628.
        let w0: Float = 1 / 2.5066283, w1: Float = exp(-0.5) / 2.5066283
        #expect(abs(out[40] - w0 * w0) < 1e-6)
        #expect(abs(out[41] - w0 * w1) < 1e-6 && abs(out[31] - w0 * w1) < 1e-6)
        #expect(abs(out.reduce(0, +) - 1) < 1e-5)
    }

    @Test func defocusBlurIsADisk() {
        // Radius 1: the disk is the centre and its four neighbours, 1/5 each; the 3×3 Gaussian
        // with σ = 0.01 leaves it unchanged.
        let kernel = DefocusBlur.kernel(radius: 1, aliasBlur: 0.01)
        #expect(kernel.size == 17)
        let centre = 8 * 17 + 8
        for offset in [0, 1, -1, 17, -17] { #expect(abs(kernel.values[centre + offset] - 0.2) < 1e-6) }
        #expect(abs(kernel.values[centre + 18]) < 1e-6)
        var values = [Float](repeating: 0, count: 49)
        values[24] = 1
        let out = apply(DefocusBlur(radius: 1, aliasBlur: 0.01), image(values, side: 7))
        #expect(abs(out[24] - 0.2) < 1e-6 && abs(out[25] - 0.2) < 1e-6 && abs(out[17] - 0.2) < 1e-6 && abs(out[18]) < 1e-6)
    }

    @Test func motionBlurTapsLieOnARay() {
        let taps = MotionBlur.taps(radius: 1, sigma: 1, degrees: 0)
        let total: Float = 1 + exp(-0.5) + exp(-2)
        #expect(taps.map(\.dx) == [0, 1, 2] && taps.map(\.dy) == [0, 0, 0])
        #expect(abs(taps[0].weight - 1 / total) < 1e-6 && abs(taps[2].weight - exp(-2) / total) < 1e-6)
        let diagonal = MotionBlur.taps(radius: 1, sigma: 1, degrees: 45)
        #expect(diagonal.map(\.dx) == [0, 1, 1] && diagonal.map(\.dy) == [0, 1, 1])
    }

    @Test func contrastMovesTowardTheMean() {
        #expect(apply(Contrast(factor: 0.5), image([0, 0, 1, 1], side: 2)) == [0.25, 0.25, 0.75, 0.75])
    }

    @Test func brightnessRaisesTheHSVValue() {
        #expect(apply(Brightness(delta: 0.1), image([0.5, 0.95, 0, 1], side: 2)) == [0.6, 1, 0.1, 1])
        // RGB (0.5, 0.25, 0): V 0.5 → 0.6, every channel × 1.2, hue and saturation kept.
        let rgb = apply(Brightness(delta: 0.1), Tensor(shape: [1, 3, 1, 1], scalars: [0.5, 0.25, 0]))
        #expect(abs(rgb[0] - 0.6) < 1e-6 && abs(rgb[1] - 0.3) < 1e-6 && rgb[2] == 0)
    }

    @Test func saturateScalesTheHSVSaturation() {
        // (0.8, 0.4, 0.4): V 0.8, S 0.5 → 0.25; the others become V − (V − x)·S'/S = 0.6.
        let out = apply(Saturate(factor: 0.5, shift: 0), Tensor(shape: [1, 3, 1, 1], scalars: [0.8, 0.4, 0.4]))
        #expect(abs(out[0] - 0.8) < 1e-6 && abs(out[1] - 0.6) < 1e-6 && abs(out[2] - 0.6) < 1e-6)
    }

    @Test func invertIsAnInvolution() {
        let x = image([0, 0.2, 0.7, 1], side: 2)
        #expect(apply(Invert(), x) == [1, 0.8, 0.3, 0])
        var rng = RandomSource(seed: 1)
        #expect(Invert().apply(to: Invert().apply(to: x, rng: &rng), rng: &rng).scalars.map { ($0 * 10).rounded() } == x.scalars.map { ($0 * 10).rounded() })
    }

    @Test func pixelateAveragesBlocks() {
        // 4×4 at factor 0.5: 2×2 block means, then each block repeated.
        let values: [Float] = [0, 0.2, 1, 1, 0.4, 0.2, 1, 0, 0, 0, 0.5, 0.5, 0, 0, 0.5, 0.5]
        let out = apply(Pixelate(factor: 0.5), image(values, side: 4))
        let expected: [Float] = [0.2, 0.2, 0.75, 0.75, 0.2, 0.2, 0.75, 0.75, 0, 0, 0.5, 0.5, 0, 0, 0.5, 0.5]
        #expect(zip(out, expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func jpegKeepsFlatImagesAndLosesDetailAtLowQuality() {
        let flat = apply(JPEGCompression(quality: 10), Tensor(shape: [2, 1, 16, 16], repeating: Float(128) / 255))
        #expect(flat.allSatisfy { abs($0 - Float(128) / 255) < 1.5 / 255 })
        var rng = RandomSource(seed: 2)
        let noise = Tensor.uniform(shape: [1, 3, 16, 16], using: &rng)
        func error(_ quality: Int) -> Float {
            zip(apply(JPEGCompression(quality: quality), noise), noise.scalars).map { abs($0 - $1) }.reduce(0, +) / Float(noise.count)
        }
        #expect(error(95) < error(50) && error(50) < error(10))
        // Grayscale has no chroma subsampling: quality 100 is nearly lossless.
        let gray = Tensor.uniform(shape: [1, 1, 16, 16], using: &rng)
        let kept = zip(apply(JPEGCompression(quality: 100), gray), gray.scalars).map { abs($0 - $1) }.reduce(0, +) / Float(gray.count)
        #expect(kept < 0.01, "mean error \(kept)")
    }

    @Test func elasticTransformWithoutStrengthIsTheIdentity() {
        var rng = RandomSource(seed: 5)
        let x = Tensor.uniform(shape: [2, 1, 8, 8], using: &rng)
        let out = apply(ElasticTransform(alpha: 0, sigma: 0, affine: 0), x)
        #expect(zip(out, x.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
        // The affine map through three points and its images.
        let map = AffineMap(through: [(0, 0), (1, 0), (0, 1)], onto: [(2, 3), (4, 3), (2, 6)])!
        #expect(map.apply(1, 1) == (4, 6))
    }

    @Test func occlusionFillsOneSquare() {
        let out = apply(Occlusion(size: 0.5, fill: 0.25), Tensor(shape: [1, 1, 8, 8], repeating: 1))
        let filled = (0..<64).filter { out[$0] == 0.25 }
        let rows = Set(filled.map { $0 / 8 }), columns = Set(filled.map { $0 % 8 })
        #expect(filled.count == rows.count * columns.count, "a rectangle")
        #expect((2...4).contains(rows.count) && (2...4).contains(columns.count))
        #expect(rows.max()! - rows.min()! == rows.count - 1 && columns.max()! - columns.min()! == columns.count - 1)
    }

    @Test func featureOutliersLeaveTheRange() {
        let out = apply(FeatureOutliers(fraction: 1, excess: 2), Tensor(shape: [1, 1, 10, 10], repeating: 0.5))
        #expect(out.allSatisfy { $0 == -2 || $0 == 3 })
        #expect(FeatureOutliers(severity: 3).label == "feature_outliers(severity=3)")
    }

    @Test func rotationTurnsCounterClockwise() {
        // A bright pixel right of the centre of a 5×5 image is above it after 90°.
        var values = [Float](repeating: 0, count: 25)
        values[2 * 5 + 4] = 1
        let out = apply(Rotation(degrees: 90), image(values, side: 5))
        #expect(abs(out[0 * 5 + 2] - 1) < 1e-5 && out.reduce(0, +) - 1 < 1e-5)
        #expect(apply(Rotation(degrees: 0), image(values, side: 5)) == values)
    }

    @Test func translationAndScalingMovePixels() {
        let values: [Float] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
        let right = apply(Translation(dx: 0.25), image(values, side: 4))
        #expect(right == [0, 0.1, 0.2, 0.3, 0, 0.5, 0.6, 0.7, 0, 0.9, 1, 0.1, 0, 0.3, 0.4, 0.5])
        #expect(apply(Scaling(factor: 1), image(values, side: 4)) == values)
        var centre = [Float](repeating: 0, count: 9)
        centre[4] = 1
        let zoomed = apply(Scaling(factor: 2), image(centre, side: 3))
        #expect(zoomed[4] == 1 && abs(zoomed[3] - 0.5) < 1e-6 && abs(zoomed[0] - 0.25) < 1e-6)
    }

    @Test func severityLabelsAndExplicitLabels() {
        #expect(GaussianNoise(severity: 3).label == "gaussian_noise(severity=3)")
        #expect(GaussianNoise(std: 0.1).label == "gaussian_noise(std=0.1)")
        #expect(DefocusBlur(radius: 2, aliasBlur: 0.5).label == "defocus_blur(radius=2,alias_blur=0.5)")
        #expect(JPEGCompression(quality: 30).label == "jpeg_compression(quality=30)")
        #expect(GaussianNoise(severity: 2).severity == 2 && Rotation(degrees: 5).severity == nil)
    }
}
