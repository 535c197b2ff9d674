import Catalog
import Perturbations
import Spec
import Tensors
import Testing

/// Per registered corruption, its one fixture: a setting that `CatalogTests` decodes, applies
/// with a seed and round-trips (explicit parameters or a severity), and its ladder of settings
/// of increasing strength for the conformance tests below (the published severities 1–5 where
/// the kind has them). A corruption added to the registry without an entry here fails
/// `everyCorruptionHasALadder` and `everyKindHasAFixture`.
let corruptionFixtures: [String: (fixture: String, ladder: [String])] = [
    "gaussian_noise": (
        fixture: "{type: gaussian_noise, std: 0.2}",
        ladder: severities("gaussian_noise")
    ),
    "shot_noise": (
        fixture: "{type: shot_noise, severity: 2}",
        ladder: severities("shot_noise")
    ),
    "impulse_noise": (
        fixture: "{type: impulse_noise, amount: 0.1}",
        ladder: severities("impulse_noise")
    ),
    "speckle_noise": (
        fixture: "{type: speckle_noise, severity: 5}",
        ladder: severities("speckle_noise")
    ),
    "gaussian_blur": (
        fixture: "{type: gaussian_blur, sigma: 1.5}",
        ladder: severities("gaussian_blur")
    ),
    "defocus_blur": (
        fixture: "{type: defocus_blur, radius: 1, alias_blur: 0.3}",
        ladder: severities("defocus_blur")
    ),
    "motion_blur": (
        fixture: "{type: motion_blur, severity: 3}",
        ladder: severities("motion_blur")
    ),
    "contrast": (
        fixture: "{type: contrast, factor: 0.3}",
        ladder: severities("contrast")
    ),
    "brightness": (
        fixture: "{type: brightness, severity: 4}",
        ladder: severities("brightness")
    ),
    "saturate": (
        fixture: "{type: saturate, factor: 2, shift: 0.1}",
        ladder: severities("saturate")
    ),
    "invert": (
        fixture: "{type: invert}",
        ladder: ["{type: invert}"]
    ),
    "pixelate": (
        fixture: "{type: pixelate, factor: 0.5}",
        ladder: severities("pixelate")
    ),
    "jpeg_compression": (
        fixture: "{type: jpeg_compression, quality: 30}",
        ladder: severities("jpeg_compression")
    ),
    "elastic_transform": (
        fixture: "{type: elastic_transform, severity: 2}",
        ladder: [0.02, 0.04, 0.06, 0.08, 0.1].map { "{type: elastic_transform, alpha: \($0), sigma: 0.05, affine: 0}" }
    ),
    "zoom_blur": (
        fixture: "{type: zoom_blur, max_zoom: 1.1, step: 0.02}",
        ladder: severities("zoom_blur")
    ),
    "occlusion": (
        fixture: "{type: occlusion, size: 0.4, fill: 0.5}",
        ladder: severities("occlusion")
    ),
    "feature_outliers": (
        fixture: "{type: feature_outliers, fraction: 0.1}",
        ladder: severities("feature_outliers")
    ),
    "rotation": (
        fixture: "{type: rotation, degrees: 30}",
        ladder: [5, 10, 20, 30, 45].map { "{type: rotation, degrees: \($0)}" }
    ),
    "translation": (
        fixture: "{type: translation, dx: 0.2, dy: -0.1}",
        ladder: [0.05, 0.1, 0.15, 0.2, 0.3].map { "{type: translation, dx: \($0)}" }
    ),
    "scaling": (
        fixture: "{type: scaling, factor: 1.3}",
        ladder: [1.1, 1.2, 1.4, 1.6, 2].map { "{type: scaling, factor: \($0)}" }
    ),
    "class_prior": (
        fixture: "{type: class_prior, imbalance: 10}",
        ladder: ["{type: class_prior, imbalance: 10}"]
    ),
    // Images read from files, not computed: no ladder to apply (CorruptionSetTests).
    "corruption_set": (fixture: "{type: corruption_set, path: \(datasetFixtures)/corruption-set, corruption: fog, severity: 2}", ladder: []),
]

/// The published severities 1–5 of a kind, as settings.
func severities(_ kind: String) -> [String] { (1...5).map { "{type: \(kind), severity: \($0)}" } }

/// Every corruption's ladder.
let ladders = corruptionFixtures.mapValues(\.ladder)

/// Structured RGB test images 28×28: a smooth gradient, a disk and seeded random rectangles
/// (nothing periodic, so that geometric shifts move the image away from itself), different per
/// image, so that blurs, resampling and compression all change them.
func structuredImages(count: Int, channels: Int = 3, side: Int = 28) -> Tensor {
    var images = Tensor(shape: [count, channels, side, side])
    var rng = RandomSource(seed: 77)
    for n in 0..<count {
        var plane = (0..<(side * side)).map { i in 0.1 + 0.3 * Float(i % side + i / side) / Float(2 * side) }
        for _ in 0..<6 {
            let x0 = rng.nextIndex(below: side - 4), y0 = rng.nextIndex(below: side - 4)
            let w = 2 + rng.nextIndex(below: 8), h = 2 + rng.nextIndex(below: 8), value = rng.uniform(0.2, 0.5)
            for y in y0..<min(side, y0 + h) { for x in x0..<min(side, x0 + w) { plane[y * side + x] += value } }
        }
        for y in 0..<side {
            for x in 0..<side where (x - 14) * (x - 14) + (y - 12 - n) * (y - 12 - n) < 30 { plane[y * side + x] += 0.3 }
        }
        for c in 0..<channels {
            for i in 0..<(side * side) { images.scalars[(n * channels + c) * side * side + i] = min(1, plane[i] * (1 - 0.2 * Float(c))) }
        }
    }
    return images
}

@Suite struct CorruptionConformanceTests {
    @Test func everyCorruptionHasALadder() {
        #expect(Set(Registries.corruptions.names) == Set(ladders.keys))
    }

    /// Shape kept, range kept (feature outliers leave it by design, to exactly −excess or
    /// 1 + excess), seeded determinism, and independence of the batch split.
    @Test(arguments: ladders.keys.sorted())
    func keepsShapeRangeAndDeterminism(_ kind: String) throws {
        let images = structuredImages(count: 4)
        for text in ladders[kind]! {
            let corruption = try Registries.corruptions.decode(try component(text))
            var a = RandomSource(seed: 9), b = RandomSource(seed: 9), split = RandomSource(seed: 9)
            let out = corruption.apply(to: images, rng: &a)
            #expect(out.shape == images.shape, "\(text)")
            #expect(out == corruption.apply(to: images, rng: &b), "\(text)")
            let halves = corruption.apply(to: images.slice(0..<1), rng: &split).scalars + corruption.apply(to: images.slice(1..<4), rng: &split).scalars
            #expect(halves == out.scalars, "\(text): the result depends on the batch split")
            if kind == "feature_outliers" {
                #expect(zip(out.scalars, images.scalars).allSatisfy { $0 == $1 || $0 == -1 || $0 == 2 }, "\(text)")
            } else {
                #expect(out.scalars.allSatisfy { (0...1).contains($0) }, "\(text)")
            }
        }
    }

    /// Steps of a published table that do not move the image further, and why. Every other
    /// step must increase the distance.
    static let flatSteps: [String: (step: Int, reason: String)] = [
        // Severities 1–2 desaturate (×0.3, ×0.1), 3–5 oversaturate (×1.5, ×2 + 0.1, ×2.5 + 0.2).
        "saturate": (3, "the table turns from desaturating to oversaturating"),
        // (6, 2) → (8, 2): the longer ray only adds taps at 13–16 px, weighted below 1e-9 at σ = 2.
        "motion_blur": (4, "the radius grows where the Gaussian weights are already negligible"),
        // At 28 px the factors 0.95, 0.9 give sides 26 and 25; 28 → 26 → 28 spreads every pixel
        // over two as much as 28 → 25 → 28 does.
        "pixelate": (2, "sides 26 and 25 blur a 28-pixel image about equally"),
    ]

    /// Stronger severity → larger distance from the clean images (same seed at every level).
    @Test(arguments: ladders.keys.sorted().filter { ladders[$0]!.count == 5 })
    func distanceGrowsWithSeverity(_ kind: String) throws {
        let images = structuredImages(count: 6)
        var distances: [Double] = []
        for text in ladders[kind]! {
            let corruption = try Registries.corruptions.decode(try component(text))
            var rng = RandomSource(seed: 11)
            let out = corruption.apply(to: images, rng: &rng)
            distances.append(zip(out.scalars, images.scalars).reduce(0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot())
        }
        for level in 1..<5 where Self.flatSteps[kind]?.step != level + 1 {
            #expect(distances[level] > distances[level - 1], "\(kind) level \(level + 1): distances \(distances)")
        }
        #expect(distances[4] > distances[0] * 1.1, "\(kind): distances \(distances)")
        if let (step, reason) = Self.flatSteps[kind], kind != "saturate" {
            // The exception is what its reason says: the two levels are about equally far.
            #expect(abs(distances[step - 1] - distances[step - 2]) < 0.05 * distances[step - 2], "\(kind): \(reason); \(distances)")
        }
    }

    /// A 28×28 image uses the CIFAR-10-C constants, a 224×224 one ImageNet-C's.
    @Test func theSeverityTableFollowsTheImageSize() throws {
        #expect(GaussianNoise.table.value(3, imageShape: [2, 1, 28, 28]) == 0.08)
        #expect(GaussianNoise.table.value(3, imageShape: [2, 3, 224, 224]) == 0.18)
        #expect(JPEGCompression.table.value(5, imageShape: [1, 3, 32, 32]) == 40)
        #expect(JPEGCompression.table.value(5, imageShape: [1, 3, 224, 224]) == 7)
    }

    @Test func strengthIsASeverityOrExplicitParametersNotBoth() throws {
        func problems(_ text: String) -> [String] {
            do {
                _ = try Registries.corruptions.decode(try component(text))
                return []
            } catch let error as SpecErrors {
                return error.issues.map(\.message)
            } catch {
                return ["\(error)"]
            }
        }
        #expect(problems("{type: gaussian_noise}") == ["severity (1–5) or std is needed"])
        #expect(problems("{type: gaussian_noise, severity: 6}") == ["severity must be 1–5, got 6"])
        #expect(problems("{type: gaussian_noise, severity: 2, std: 0.1}") == ["severity 2 and explicit std are both given; give one or the other"])
        #expect(problems("{type: defocus_blur, radius: 2}") == ["severity (1–5) or all of radius, alias_blur is needed; missing alias_blur"])
        #expect(problems("{type: jpeg_compression, quality: 0}") == ["quality must be 1–100, got 0"])
    }

    @Test func kindsThatNeedImagesSaySoForOtherShapes() throws {
        let saturate = try Registries.corruptions.decode(try component("{type: saturate, severity: 1}"))
        #expect(saturate.problems(sampleShape: [1, 28, 28]).first?.contains("use invert") == true)
        let blur = try Registries.corruptions.decode(try component("{type: gaussian_blur, severity: 1}"))
        #expect(blur.problems(sampleShape: [784]).first?.contains("needs image samples") == true)
        #expect(blur.problems(sampleShape: [1, 28, 28]).isEmpty)
    }
}
