import Catalog
import Datasets
import Evaluation
import Foundation
import Layers
import Perturbations
import Spec
import Tensors
import Testing

/// One fixture per registered kind: parameters as written in an experiment file. A kind added
/// to a registry without a fixture here fails `everyKindHasAFixture`.
let fixtures: [String: [String: String]] = [
    "layer": [
        "linear": "{type: linear, out_features: 5}",
        "conv2d": "{type: conv2d, out_channels: 2, kernel_size: 3, stride: 2, padding: 1}",
        "maxpool2d": "{type: maxpool2d, kernel_size: 2}",
        "avgpool2d": "{type: avgpool2d, kernel_size: 3, stride: 1, padding: 1}",
        "relu": "{type: relu}",
        "dropout": "{type: dropout, p: 0.3}",
        "flatten": "{type: flatten}",
        "batchnorm2d": "{type: batchnorm2d, momentum: 0.2}",
        "adaptive_avg_pool2d": "{type: adaptive_avg_pool2d, output_size: 2}",
        "add": "{type: add}",
        "batchnorm1d": "{type: batchnorm1d, momentum: 0.3}",
        "groupnorm": "{type: groupnorm, num_groups: 3}", "gather": "{type: gather, dim: 1, indices: [0, 2, 2]}",
        "gelu": "{type: gelu, approximate: tanh}", "silu": "{type: silu}", "sigmoid": "{type: sigmoid}", "tanh": "{type: tanh}",
        "leaky_relu": "{type: leaky_relu, negative_slope: 0.2}", "hardswish": "{type: hardswish}", "softmax": "{type: softmax}",
        "layernorm": "{type: layernorm, eps: 0.001}", "multiply": "{type: multiply}", "concat": "{type: concat, dim: 1}",
        "matmul": "{type: matmul}", "reshape": "{type: reshape, shape: [-1, 4]}", "permute": "{type: permute, dims: [2, 0, 1]}",
        "slice": "{type: slice, dim: 0, start: 1, end: 3}", "class_token": "{type: class_token}",
        "position_embedding": "{type: position_embedding}", "multihead_attention": "{type: multihead_attention, heads: 2, dropout: 0.1}",
    ],
    "architecture": [
        "resnet": "{type: resnet, depth: 20, width: 4}", "wide_resnet": "{type: wide_resnet, depth: 10, dropout: 0.1}",
        "vit": "{type: vit, patch: 4, dim: 8, depth: 1, heads: 2, dropout: 0.1}",
    ],
    "optimizer": ["sgd": "{type: sgd, lr: 0.1, momentum: 0.9}", "adam": "{type: adam, lr: 0.01}"],
    "schedule": [
        "constant": "{type: constant}", "step": "{type: step, step_size: 2}", "exponential": "{type: exponential, gamma: 0.9}",
        "cosine": "{type: cosine, eta_min: 0.0001}",
    ],
    "dataset": [
        "fashion_mnist": "{type: fashion_mnist, test_limit: 10}", "synthetic": "{type: synthetic, train: 20, validation: 5, test: 5}",
        "synthetic_regression": "{type: synthetic_regression, function: friedman1, features: 6, train: 20, validation: 5, test: 5}",
        "csv": "{type: csv, path: \(csvFixturePath), targets: [y], validation_fraction: 0.25, test_fraction: 0.25, standardize: false}",
        "cifar10": "{type: cifar10, path: \(datasetFixtures)/cifar10-bin, validation: 4}",
        "cifar100": "{type: cifar100, path: \(datasetFixtures)/cifar100-py, labels: coarse, validation: 4}",
        "numpy": "{type: numpy, path: \(datasetFixtures)/numpy/arrays.npz, validation: 2}",
        "idx": "{type: idx, path: \(datasetFixtures)/idx, validation: 2}",
        "hdf5": "{type: hdf5, path: \(datasetFixtures)/hdf5/arrays.h5, x_test: test/images, y_test: test/labels, validation: 2}",
        "image_folder": "{type: image_folder, root: \(datasetFixtures)/image-folder/folder, resize: [8, 8], center_crop: [6, 6], validation: 1}",
    ],
    "corruption": corruptionFixtures.mapValues(\.fixture),
    "attack": [
        "fgsm": "{type: fgsm, epsilon: 0.05}",
        "pgd": "{type: pgd, epsilon: 0.1, steps: 3, norm: l2, restarts: 2, schedule: cosine}",
        "apgd": "{type: apgd, epsilon: 0.1, steps: 5}",
        "square": "{type: square, epsilon: 0.1, queries: 20}",
        "fab": "{type: fab, epsilon: 0.1, steps: 5, norm: l2, target_classes: 2}",
        "autoattack": "{type: autoattack, epsilon: 0.1, version: rand}",
    ],
    "metric": [
        "accuracy": "{type: accuracy}", "top_k_accuracy": "{type: top_k_accuracy, k: 3}", "cross_entropy": "{type: cross_entropy}",
        "brier_score": "{type: brier_score}", "precision": "{type: precision, average: weighted}", "recall": "{type: recall, average: micro}",
        "f1": "{type: f1}", "confusion_matrix": "{type: confusion_matrix}", "auroc": "{type: auroc, average: weighted, curve_points: 50}",
        "average_precision": "{type: average_precision, curve_points: 0}", "best_threshold": "{type: best_threshold, criterion: youden}",
        "ece": "{type: ece, bins: 10, binning: equal_mass}", "mce": "{type: mce}", "classwise_ece": "{type: classwise_ece, bins: 5}",
        "mse": "{type: mse}", "mae": "{type: mae}", "r2": "{type: r2}", "gaussian_nll": "{type: gaussian_nll}",
        "interval_coverage": "{type: interval_coverage, level: 0.8}",
    ],
    "calibration method": [
        "temperature": "{type: temperature}", "vector_scaling": "{type: vector_scaling}",
        "histogram_binning": "{type: histogram_binning, bins: 10}", "isotonic": "{type: isotonic}",
    ],
    "attribution method": [
        "saliency": "{type: saliency}", "gradient_x_input": "{type: gradient_x_input}",
        "integrated_gradients": "{type: integrated_gradients, steps: 8, baseline: 0.5}", "smoothgrad": "{type: smoothgrad, samples: 4, noise: 0.1}",
        "grad_cam": "{type: grad_cam, layer: conv}", "occlusion": "{type: occlusion, window: 2, stride: 1, fill: 0.5}",
    ],
    "uncertainty method": ["mc_dropout": "{type: mc_dropout, passes: 5, per_layer: true}", "ensemble": "{type: ensemble, members: 3}"],
    "out-of-distribution set": [
        "held_out_classes": "{type: held_out_classes, classes: [1], samples: 10}",
        "uniform_images": "{type: uniform_images, samples: 10}", "gaussian_images": "{type: gaussian_images, mean: 0.4, std: 0.2}",
        "shuffled_pixels": "{type: shuffled_pixels}",
    ],
]

/// The dataset files of `scripts/make_dataset_fixtures.py`.
let datasetFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../DatasetsTests/Fixtures")
    .standardizedFileURL.path

/// The CSV file the `csv` dataset fixture reads (written by the tests that decode it).
let csvFixturePath = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-catalog-fixture.csv").path

func writeCSVFixture() throws {
    let rows = (0..<8).map { i in "\(i),\(i * i),\(2 * i + 1)" }
    try (["a,b,y"] + rows).joined(separator: "\n").write(toFile: csvFixturePath, atomically: true, encoding: .utf8)
}

/// Decodes one fixture through the registry as a component of a list in a small document.
func component(_ text: String) throws -> Component {
    struct Holder: Decodable { var items: [Component] }
    return try SpecDocument.parse("items:\n  - \(text)\n", file: "fixture.yaml").decode(Holder.self).items[0]
}

func canonicalJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    encoder.keyEncodingStrategy = .convertToSnakeCase
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Encodes a kind to JSON (valid YAML) and decodes it back through the strict decoder.
func roundTrip<T: Codable>(_ value: T, kind: String) throws -> String {
    let json = try canonicalJSON(value)
    let text = json == "{}" ? "{type: \(kind)}" : "{type: \(kind), " + json.dropFirst()
    return try canonicalJSON(try component(text).decode(as: T.self))
}

@Suite struct RegistryConformanceTests {
    @Test func everyKindHasAFixture() {
        for (point, kinds) in Registries.listing {
            #expect(Set(kinds) == Set(fixtures[point]?.keys.map { $0 } ?? []), "fixtures for \(point)")
        }
    }

    @Test func layersKeepShapesAndRoundTrip() throws {
        for (name, text) in fixtures["layer"]! {
            let spec = try Registries.layers.decode(try component(text))
            #expect(type(of: spec).kind == name)
            let tokens = ["class_token", "position_embedding", "multihead_attention", "layernorm", "concat", "batchnorm1d"]
            let input = name == "linear" ? [2, 12] : tokens.contains(name) ? [2, 5, 6] : [2, 3, 8, 8]
            var rng = RandomSource(seed: 1)
            let layer = try spec.makeLayer(inputShape: input, rng: &rng)
            let tape = Tape()
            var context = ForwardContext(tape: tape, mode: .training, rng: rng)
            let leaf = tape.leaf(Tensor.uniform(shape: input, using: &rng))
            // A merge layer reads two inputs (here the same one twice).
            let output = (layer as? any MergeLayer)?.forward([leaf, leaf], context: &context) ?? layer.forward(leaf, context: &context)
            let expected = try (spec as? any MergeLayerSpec)?.outputShape(forInputs: [input, input]) ?? spec.outputShape(for: input)
            #expect(output.shape == expected, "\(name)")
            func open<T: LayerSpec>(_ s: T) throws -> Bool { try roundTrip(s, kind: name) == canonicalJSON(s) }
            #expect(try open(spec), "\(name) round trip")
        }
    }

    /// Every architecture writes a model that builds, keeps its named layers' order valid, and
    /// outputs what it is asked for.
    @Test func architecturesBuildModelsOfTheirOutputSize() throws {
        for (name, text) in fixtures["architecture"]! {
            let architecture = try Registries.architectures.decode(try component(text))
            let nodes = try architecture.nodes(inputShape: [1, 12, 12], outputs: 7)
            var rng = RandomSource(seed: 2)
            let model = try Sequential(nodes: nodes, inputShape: [1, 12, 12], rng: &rng)
            #expect(model.outputShape == [7] && !model.isChain, "\(name)")
            let logits = model.logits(Tensor.uniform(shape: [2, 1, 12, 12], using: &rng))
            #expect(logits.scalars.allSatisfy { $0.isFinite }, "\(name)")
            func open<T: ArchitectureSpec>(_ a: T) throws -> Bool { try roundTrip(a, kind: name) == canonicalJSON(a) }
            #expect(try open(architecture))
        }
        let bad = try component("{type: resnet, depth: 19}")
        #expect(throws: SpecErrors.self) { try Registries.architectures.decode(bad) }
    }

    @Test func corruptionsAreSeededAndStayInRange() throws {
        for (name, text) in fixtures["corruption"]! {
            let corruption = try Registries.corruptions.decode(try component(text))
            func open<T: Corruption>(_ c: T) throws -> Bool { try roundTrip(c, kind: name) == canonicalJSON(c) }
            // A precomputed set's images come from its files (CorruptionSetTests), not from `apply`.
            guard name != CorruptionSet.kind else {
                #expect(try open(corruption))
                continue
            }
            var rng = RandomSource(seed: 2)
            let images = Tensor.uniform(shape: [3, 3, 6, 6], using: &rng)
            var a = RandomSource(seed: 5), b = RandomSource(seed: 5)
            let out = corruption.apply(to: images, rng: &a)
            #expect(out.shape == images.shape && out == corruption.apply(to: images, rng: &b), "\(name)")
            #expect(out.scalars.allSatisfy { (0...1).contains($0) } || name == "feature_outliers", "\(name)")
            #expect(corruption.problems(sampleShape: [3, 6, 6]).isEmpty, "\(name)")
            #expect(try open(corruption))
        }
    }

    @Test func attacksAreSeededStayInRangeAndRoundTrip() throws {
        var rng = RandomSource(seed: 3)
        let model = try Sequential(layers: [("0", FlattenSpec()), ("1", LinearSpec(outFeatures: 3))], inputShape: [1, 4, 4], rng: &rng)
        for (name, text) in fixtures["attack"]! {
            let attack = try Registries.attacks.decode(try component(text))
            let images = Tensor.uniform(shape: [2, 1, 4, 4], using: &rng)
            var a = RandomSource(seed: 6), b = RandomSource(seed: 6)
            let out = attack.perturb(images: images, labels: [0, 2], model: model, rng: &a)
            #expect(out == attack.perturb(images: images, labels: [0, 2], model: model, rng: &b), "\(name)")
            #expect(out.shape == images.shape && out.scalars.allSatisfy { (0...1).contains($0) })
            func open<T: Attack>(_ k: T) throws -> Bool { try roundTrip(k, kind: name) == canonicalJSON(k) }
            #expect(try open(attack))
        }
    }

    @Test func optimizersAndDatasetsDecodeAndRoundTrip() throws {
        for (name, text) in fixtures["optimizer"]! {
            let optimizer = try Registries.optimizers.decode(try component(text))
            #expect(optimizer.problems().isEmpty)
            func open<T: OptimizerSpec>(_ o: T) throws -> Bool { try roundTrip(o, kind: name) == canonicalJSON(o) }
            #expect(try open(optimizer))
        }
        for (name, text) in fixtures["schedule"]! {
            let schedule = try Registries.schedules.decode(try component(text))
            #expect(schedule.problems().isEmpty && schedule.rate(base: 0.1, epoch: 0, epochs: 3) == 0.1, "\(name)")
            func open<T: LearningRateSchedule>(_ s: T) throws -> Bool { try roundTrip(s, kind: name) == canonicalJSON(s) }
            #expect(try open(schedule))
        }
        try writeCSVFixture()
        for (name, text) in fixtures["dataset"]! {
            let dataset = try Registries.datasets.decode(try component(text))
            let classification = dataset.sampleShape.count == 3 && dataset.classCount > 1 && dataset.targetCount == 0
            let regression = dataset.sampleShape.count == 1 && dataset.classCount == 0 && dataset.targetCount > 0
            #expect(classification || regression, "\(name)")
            func open<T: DatasetSource>(_ d: T) throws -> Bool { try roundTrip(d, kind: name) == canonicalJSON(d) }
            #expect(try open(dataset))
        }
    }

    @Test func metricsDecodeRoundTripAndComputeOnLogits() throws {
        for (name, text) in fixtures["metric"]! {
            let metric = try Registries.metrics.decode(try component(text))
            let classes = name == "best_threshold" ? 2 : 10  // threshold tuning is for two classes only
            #expect(metric.problems(classCount: classes).isEmpty, "\(name)")
            var accumulator = metric.makeAccumulator()
            switch type(of: metric).task {
            case .classification:
                let labels = (0..<8).map { $0 % classes }
                accumulator.add(logits: Tensor(shape: [8, classes], scalars: (0..<8 * classes).map { Float($0 % 7) }), labels: labels)
            case .regression:
                accumulator.add(
                    RegressionBatch(
                        mean: (0..<8).map { Double($0 % 3) }, aleatoric: Array(repeating: 0.5, count: 8),
                        targets: (0..<8).map { Double($0) / 2 }, targetCount: 2))
            }
            let result = accumulator.result
            #expect(result.scalars.count == metric.columns.count && result.scalars.allSatisfy(\.isFinite), "\(name)")
            #expect(!result.arrays.isEmpty || !metric.columns.isEmpty, "\(name) writes nothing")
            func open<T: Metric>(_ m: T) throws -> Bool { try roundTrip(m, kind: name) == canonicalJSON(m) }
            #expect(try open(metric))
        }
    }

    @Test func calibratorsFitRoundTripAndKeepShapes() throws {
        var rng = RandomSource(seed: 4)
        let logits = Tensor.normal(shape: [60, 3], using: &rng) * 3
        let labels = (0..<60).map { $0 % 3 }
        for (name, text) in fixtures["calibration method"]! {
            let calibrator = try Registries.calibrators.decode(try component(text))
            let calibrated = calibrator.fit(logits: logits, labels: labels).apply(logits)
            #expect(calibrated.shape == logits.shape && calibrated.scalars.allSatisfy(\.isFinite), "\(name)")
            func open<T: Calibrator>(_ c: T) throws -> Bool { try roundTrip(c, kind: name) == canonicalJSON(c) }
            #expect(try open(calibrator))
        }
    }

    @Test func uncertaintyMethodsAndOutOfDistributionSetsRoundTrip() throws {
        for (name, text) in fixtures["uncertainty method"]! {
            let method = try Registries.uncertaintyMethods.decode(try component(text))
            #expect(method.problems().isEmpty && method.forwardPasses >= 2, "\(name)")
            func open<T: UncertaintyMethod>(_ m: T) throws -> Bool { try roundTrip(m, kind: name) == canonicalJSON(m) }
            #expect(try open(method))
        }
        var rng = RandomSource(seed: 5)
        let test = ImageDataset(images: Tensor.uniform(shape: [5, 1, 5, 5], using: &rng), labels: [0, 1, 1, 0, 1], classCount: 2)
        for (name, text) in fixtures["out-of-distribution set"]! {
            let source = try Registries.outOfDistributionSources.decode(try component(text))
            var a = RandomSource(seed: 1), b = RandomSource(seed: 1)
            let images = source.images(count: 3, like: test, rng: &a)
            #expect(images.shape == [3, 1, 5, 5] && images == source.images(count: 3, like: test, rng: &b), "\(name)")
            if !source.heldOutClasses.isEmpty {  // the test images of the held-out class, in order
                #expect(images == test.subset([1, 2, 4]).images, "\(name)")
            }
            func open<T: OutOfDistributionSource>(_ s: T) throws -> Bool { try roundTrip(s, kind: name) == canonicalJSON(s) }
            #expect(try open(source))
        }
    }

    @Test func attributionMethodsDecodeRoundTripAndKeepShapes() throws {
        var rng = RandomSource(seed: 6)
        let model = try Sequential(
            layers: [
                ("conv", Conv2dSpec(outChannels: 2, kernelSize: 3, padding: 1)), ("relu", ReLUSpec()),
                ("flat", FlattenSpec()), ("fc", LinearSpec(outFeatures: 3)),
            ], inputShape: [1, 5, 5], rng: &rng)
        let images = Tensor.uniform(shape: [2, 1, 5, 5], using: &rng)
        for (name, text) in fixtures["attribution method"]! {
            let method = try Registries.attributionMethods.decode(try component(text))
            #expect(method.problems().isEmpty && method.passes >= 1, "\(name)")
            var a = RandomSource(seed: 1), b = RandomSource(seed: 1)
            let maps = method.attribute(model, inputs: images, targets: [0, 2], rng: &a).maps
            #expect(maps.shape == [2, 1, 5, 5] && maps.scalars.allSatisfy(\.isFinite), "\(name)")
            #expect(maps == method.attribute(model, inputs: images, targets: [0, 2], rng: &b).maps, "\(name) is not seeded")
            func open<T: AttributionMethod>(_ m: T) throws -> Bool { try roundTrip(m, kind: name) == canonicalJSON(m) }
            #expect(try open(method))
        }
    }

    @Test func unknownKindsAndBadRangesAreReportedWithPositions() throws {
        do {
            _ = try Registries.attacks.decode(try component("{type: fgms, epsilon: 0.1}"))
            Issue.record("accepted an unknown kind")
        } catch {
            #expect(
                "\(error)" == "fixture.yaml:2:12: items[0].type: unknown attack 'fgms' (did you mean 'fgsm'?); known: fgsm, pgd, apgd, square, fab, autoattack")
        }
        do {
            _ = try Registries.attacks.decode(try component("{type: fgsm, epsilon: 8}"))
            Issue.record("accepted epsilon 8")
        } catch {
            #expect("\(error)" == "fixture.yaml:2:27: items[0].epsilon: epsilon must be in [0, 1] (pixel units, before any normalisation), got 8.0")
        }
    }
}

@Suite struct ResolvedExperimentTests {
    static let base = """
        schema_version: 1
        name: r
        dataset: {type: synthetic, side: 8}
        models:
          - name: m
            layers:
              - {type: flatten}
              - {type: linear, out_features: 10}
        training: {optimizer: {type: adam}, epochs: 1, batch_size: 8}
        noise: [{type: gaussian_noise, std: 0.1}]
        attacks: [{type: fgsm, epsilon: 0.1}]
        """

    func problems(_ text: String) -> [String] {
        do {
            _ = try ResolvedGrid.resolve(try SpecDocument.parse(text, file: "r.yaml"))
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    @Test func aValidFileResolves() throws {
        let grid = try ResolvedGrid.resolve(try SpecDocument.parse(Self.base, file: "r.yaml"))
        let resolved = grid.trials[0].experiment
        #expect(grid.trials.count == 1 && grid.name == "r")
        #expect(resolved.models[0].nodes.map(\.name) == ["0", "1"])
        #expect(resolved.corruptions.count == 1 && resolved.attacks.count == 1)
        // 1 epoch of 600 samples × 3 (forward + two backward products) + 100 validation, then
        // clean + noise + 3 × FGSM on 200 test samples; forward = 2 × 64 × 10 FLOP.
        let forward = 2.0 * 64 * 10
        #expect(grid.trials[0].estimatedFLOPs == 1 * (3 * forward * 600 + forward * 100) + 5 * forward * 200)
    }

    @Test func everyProblemOfTheFileIsReportedTogether() {
        let text = Self.base
            .replacingOccurrences(of: "{type: gaussian_noise, std: 0.1}", with: "{type: gausian_noise, std: 0.1}")
            .replacingOccurrences(of: "epsilon: 0.1", with: "epsilon: {sweep: [0.1, -1, 2]}")
            .replacingOccurrences(of: "{type: linear, out_features: 10}", with: "{type: linear, out_feature: 10}")
        // Each problem once, although every cell of the epsilon sweep has the first two.
        #expect(
            problems(text) == [
                "r.yaml:10:16: noise[0].type: unknown corruption 'gausian_noise' (did you mean 'gaussian_noise'?); known: \(Registries.corruptions.names.joined(separator: ", "))",
                "r.yaml:8:9: models[0].layers[1]: missing required key 'out_features'",
                "r.yaml:11:47: attacks[0].epsilon: epsilon must be in [0, 1] (pixel units, before any normalisation), got -1.0",
                "r.yaml:11:51: attacks[0].epsilon: epsilon must be in [0, 1] (pixel units, before any normalisation), got 2.0",
            ])
    }

    @Test func modelShapesAreCheckedAgainstTheDataset() {
        let wrongClasses = Self.base.replacingOccurrences(of: "out_features: 10", with: "out_features: 7")
        #expect(
            problems(wrongClasses) == [
                "r.yaml:5:5: models[0].layers: the model outputs 7 values per sample; the dataset has 10 classes, so the last layer needs 10 outputs"
            ])
        let noFlatten = Self.base.replacingOccurrences(of: "- {type: flatten}\n", with: "- {type: relu}\n")
        #expect(
            problems(noFlatten).first?.contains("layers[1]: layer '1' (linear) expects [features] or [tokens, features] (add a flatten layer before it)")
                == true)
    }
}
