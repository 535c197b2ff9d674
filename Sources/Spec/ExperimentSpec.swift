/// The typed form of an experiment file (`schema_version: 1`).
///
/// Components (`dataset`, layers, `optimizer`, `noise`, `attacks`) stay `Component`s here and
/// are decoded into their kinds by the `Catalog` registries, so adding a kind never touches
/// this decoder. The file's format is documented in `schemas/experiment.md`.
public struct ExperimentSpec: Decodable, Sendable {
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    /// The experiment's name; results go to `results/<name>/`. Letters, digits, `_`, `-`, `.`.
    public var name: String
    public var description: String?
    /// The root seed every random stream of every trial derives from (default 0).
    public var seed: UInt64
    /// How many times each cell runs, with seeds derived from `seed` (default 1).
    public var repeats: Int
    public var dataset: Component
    /// The models to train and evaluate; each is one trial.
    public var models: [ModelSpec]
    public var training: TrainingSpec
    /// Corruptions to evaluate under, each in its own evaluation (default none).
    public var noise: [Component]
    /// Attacks to evaluate under, each in its own evaluation (default none).
    public var attacks: [Component]
    /// Metrics computed for every evaluation (default: accuracy and cross-entropy).
    public var metrics: [Component]
    /// Post-hoc calibration methods fitted on the validation split (default none).
    public var calibration: CalibrationSpec
    /// Uncertainty methods and out-of-distribution sets (default none).
    public var uncertainty: UncertaintySpec
    /// Attributions and layer introspection.
    public var interpret: InterpretSpec
    /// Which tensors the results file keeps.
    public var store: StoreSpec
    public var evaluation: EvaluationSpec
    /// How `gauntlet report` presents the results (not part of a trial's identity).
    public var report: ReportSpec

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case schemaVersion, name, description, seed, repeats, dataset, models, training, noise, attacks, metrics, calibration, uncertainty, interpret, store,
            evaluation, report
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try Self.schemaVersion(c)
        name = try Self.name(c)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
        repeats = try Self.repeats(c)
        dataset = try c.decode(Component.self, forKey: .dataset)
        models = try Self.models(c)
        training = try c.decode(TrainingSpec.self, forKey: .training)
        noise = try c.decodeIfPresent([Component].self, forKey: .noise) ?? []
        attacks = try c.decodeIfPresent([Component].self, forKey: .attacks) ?? []
        metrics = try c.decodeIfPresent([Component].self, forKey: .metrics) ?? []
        calibration = try c.decodeIfPresent(CalibrationSpec.self, forKey: .calibration) ?? CalibrationSpec()
        uncertainty = try c.decodeIfPresent(UncertaintySpec.self, forKey: .uncertainty) ?? UncertaintySpec()
        interpret = try c.decodeIfPresent(InterpretSpec.self, forKey: .interpret) ?? InterpretSpec()
        store = try c.decodeIfPresent(StoreSpec.self, forKey: .store) ?? StoreSpec()
        evaluation = try c.decodeIfPresent(EvaluationSpec.self, forKey: .evaluation) ?? EvaluationSpec()
        report = try c.decodeIfPresent(ReportSpec.self, forKey: .report) ?? ReportSpec()
    }

    /// This spec with the top-level `sections` decoded again from `root`, the rest kept: a grid
    /// cell differs from its neighbours only where a sweep is, so only those sections are decoded.
    public func updating(_ sections: Set<String>, from root: SpecNode, unknownKeys: inout [SpecIssue]) throws(SpecErrors) -> ExperimentSpec {
        try SpecDecoder.decodeSections(CodingKeys.self, from: root, unknownKeys: &unknownKeys) { c in
            var spec = self
            for key in CodingKeys.allCases where sections.contains(KeyPathText.yamlName(key.rawValue)) {
                switch key {
                case .schemaVersion: spec.schemaVersion = try Self.schemaVersion(c)
                case .name: spec.name = try Self.name(c)
                case .description: spec.description = try c.decodeIfPresent(String.self, forKey: .description)
                case .seed: spec.seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0
                case .repeats: spec.repeats = try Self.repeats(c)
                case .dataset: spec.dataset = try c.decode(Component.self, forKey: .dataset)
                case .models: spec.models = try Self.models(c)
                case .training: spec.training = try c.decode(TrainingSpec.self, forKey: .training)
                case .noise: spec.noise = try c.decodeIfPresent([Component].self, forKey: .noise) ?? []
                case .attacks: spec.attacks = try c.decodeIfPresent([Component].self, forKey: .attacks) ?? []
                case .metrics: spec.metrics = try c.decodeIfPresent([Component].self, forKey: .metrics) ?? []
                case .calibration: spec.calibration = try c.decodeIfPresent(CalibrationSpec.self, forKey: .calibration) ?? CalibrationSpec()
                case .uncertainty: spec.uncertainty = try c.decodeIfPresent(UncertaintySpec.self, forKey: .uncertainty) ?? UncertaintySpec()
                case .interpret: spec.interpret = try c.decodeIfPresent(InterpretSpec.self, forKey: .interpret) ?? InterpretSpec()
                case .store: spec.store = try c.decodeIfPresent(StoreSpec.self, forKey: .store) ?? StoreSpec()
                case .evaluation: spec.evaluation = try c.decodeIfPresent(EvaluationSpec.self, forKey: .evaluation) ?? EvaluationSpec()
                case .report: spec.report = try c.decodeIfPresent(ReportSpec.self, forKey: .report) ?? ReportSpec()
                }
            }
            return spec
        }
    }

    private static func schemaVersion(_ c: KeyedDecodingContainer<CodingKeys>) throws -> Int {
        let version = try c.decode(Int.self, forKey: .schemaVersion)
        guard version == currentSchemaVersion else {
            throw SpecDecoder.issue(
                try c.superDecoder(forKey: .schemaVersion),
                "unsupported schema_version \(version); this gauntlet reads version \(currentSchemaVersion)")
        }
        return version
    }

    private static func name(_ c: KeyedDecodingContainer<CodingKeys>) throws -> String {
        let name = try c.decode(String.self, forKey: .name)
        if name.isEmpty || name.hasPrefix(".")
            || !name.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0) })
        {
            throw SpecDecoder.issue(
                try c.superDecoder(forKey: .name),
                "name '\(name)' must be letters, digits, '_', '-' or '.' (it names the results folder)")
        }
        return name
    }

    private static func repeats(_ c: KeyedDecodingContainer<CodingKeys>) throws -> Int {
        let repeats = try c.decodeIfPresent(Int.self, forKey: .repeats) ?? 1
        if repeats < 1 { throw SpecDecoder.issue(try c.superDecoder(forKey: .repeats), "repeats must be ≥ 1, got \(repeats)") }
        return repeats
    }

    private static func models(_ c: KeyedDecodingContainer<CodingKeys>) throws -> [ModelSpec] {
        let models = try c.decode([ModelSpec].self, forKey: .models)
        if models.isEmpty { throw SpecDecoder.issue(try c.superDecoder(forKey: .models), "at least one model is needed") }
        var seen: Set<String> = []
        for (index, model) in models.enumerated() where !seen.insert(model.name).inserted {
            throw SpecIssue(location: model.location, keyPath: "models[\(index)].name", message: "duplicate model name '\(model.name)'")
        }
        return models
    }
}

/// A model declared as a list of layers (a chain, or a graph where layers name their `inputs`),
/// as a built-in architecture with parameters, or imported from an ONNX file.
public struct ModelSpec: Decodable, Sendable {
    /// The model's name, unique in the file; it names the trial.
    public var name: String
    /// The layers, in an order where each comes after those it reads; empty with `architecture`.
    public var layers: [Component]
    /// A built-in architecture (`{type: resnet, depth: 20}`) instead of `layers`.
    public var architecture: Component?
    /// The loss this model is trained with, overriding `training.loss` (a regression model with
    /// a variance head beside one without).
    public var loss: String?
    /// An HDF5 file with the model's trained weights under `/state_dict` (a Gauntlet cell file,
    /// or a converted PyTorch state dict), relative to the experiment file: the model starts from
    /// them instead of a random initialisation.
    public var weights: String?
    /// An ONNX model file, relative to the experiment file, imported instead of `layers`.
    public var onnx: String?
    /// Which output of the ONNX graph is the model's output, when the graph has several.
    public var onnxOutput: String?
    public var location: SourceLocation?
    /// The declaration as written.
    public var node: SpecNode?
    /// The declaration as canonical JSON (for trial identifiers).
    public var canonical: String { node.map(CanonicalJSON.render) ?? name }

    private enum CodingKeys: String, CodingKey, CaseIterable { case name, layers, architecture, loss, weights, onnx, onnxOutput }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        let listed = try c.decodeIfPresent([Component].self, forKey: .layers)
        architecture = try c.decodeIfPresent(Component.self, forKey: .architecture)
        layers = listed ?? []
        loss = try c.decodeIfPresent(String.self, forKey: .loss)
        weights = try c.decodeIfPresent(String.self, forKey: .weights)
        onnx = try c.decodeIfPresent(String.self, forKey: .onnx)
        onnxOutput = try c.decodeIfPresent(String.self, forKey: .onnxOutput)
        if listed?.isEmpty == true { throw SpecDecoder.issue(try c.superDecoder(forKey: .layers), "a model needs at least one layer") }
        // Exactly one of `layers`, `architecture` and `onnx`: checked when the experiment is resolved.
        node = SpecDecoder.source(of: decoder)
        location = node?.location
    }
}

/// How models are trained.
public struct TrainingSpec: Decodable, Sendable {
    public var optimizer: Component
    /// How the learning rate changes per epoch (default: constant).
    public var schedule: Component?
    /// Passes over the training split, ≥ 0 (0 evaluates the initialised model).
    public var epochs: Int
    /// Samples per optimisation step, ≥ 1.
    public var batchSize: Int
    /// Whether each epoch visits the training samples in a new seeded order (default true).
    public var shuffle: Bool
    /// Adversarial training: part of every batch replaced by attacked samples (default none).
    public var adversarial: AdversarialTrainingSpec?
    /// Random crops and flips of the training images (default none).
    public var augmentation: AugmentationSpec?
    /// The loss minimised: `cross_entropy` (classification), `mse` or `gaussian_nll`
    /// (regression; the model outputs a mean and a log-variance per target). Default: by the
    /// dataset's task, cross_entropy or mse.
    public var loss: String?
    /// The section as written.
    public var node: SpecNode?
    public var canonical: String { node.map(CanonicalJSON.render) ?? "" }

    private enum CodingKeys: String, CodingKey, CaseIterable { case optimizer, schedule, epochs, batchSize, shuffle, adversarial, augmentation, loss }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        optimizer = try c.decode(Component.self, forKey: .optimizer)
        schedule = try c.decodeIfPresent(Component.self, forKey: .schedule)
        epochs = try c.decode(Int.self, forKey: .epochs)
        if epochs < 0 { throw SpecDecoder.issue(try c.superDecoder(forKey: .epochs), "epochs must be ≥ 0, got \(epochs)") }
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        if batchSize < 1 { throw SpecDecoder.issue(try c.superDecoder(forKey: .batchSize), "batch_size must be ≥ 1, got \(batchSize)") }
        shuffle = try c.decodeIfPresent(Bool.self, forKey: .shuffle) ?? true
        adversarial = try c.decodeIfPresent(AdversarialTrainingSpec.self, forKey: .adversarial)
        augmentation = try c.decodeIfPresent(AugmentationSpec.self, forKey: .augmentation)
        loss = try c.decodeIfPresent(String.self, forKey: .loss)
        node = SpecDecoder.source(of: decoder)
    }
}

/// Adversarial training (Goodfellow et al. 2015; Madry et al. 2018): in every training step the
/// first `⌈ratio · batch⌉` samples of the batch are replaced by the attack's perturbation of
/// them against the current model, generated in inference mode (dropout off).
public struct AdversarialTrainingSpec: Decodable, Sendable {
    /// The attack generating the training examples (`pgd`, or `fgsm` with `random_start: true`).
    public var attack: Component
    /// The fraction of each batch replaced, in (0, 1] (default 0.5; 1 is Madry et al.'s PGD training).
    public var ratio: Double

    private enum CodingKeys: String, CodingKey, CaseIterable { case attack, ratio }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        attack = try c.decode(Component.self, forKey: .attack)
        ratio = try c.decodeIfPresent(Double.self, forKey: .ratio) ?? 0.5
        if !(ratio > 0 && ratio <= 1) { throw SpecDecoder.issue(try c.superDecoder(forKey: .ratio), "ratio must be in (0, 1], got \(ratio)") }
    }
}

/// Training augmentation, the standard CIFAR recipe (He et al. 2016): every time a batch holds
/// a training image, it is padded with zeros by `random_crop` pixels on each side and cropped
/// back to its size at a random offset, then mirrored left to right with probability 1/2
/// (`horizontal_flip`). Drawn from the trial's seeded stream, so a rerun sees the same images;
/// validation, test and attacks see the images as they are.
public struct AugmentationSpec: Decodable, Sendable {
    /// Zero padding on each side before the random crop, ≥ 0 (default 0: no crop).
    public var randomCrop: Int
    /// Mirror left to right with probability 1/2 (default false).
    public var horizontalFlip: Bool

    private enum CodingKeys: String, CodingKey, CaseIterable { case randomCrop, horizontalFlip }

    public init(randomCrop: Int = 0, horizontalFlip: Bool = false) {
        self.randomCrop = randomCrop
        self.horizontalFlip = horizontalFlip
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        randomCrop = try c.decodeIfPresent(Int.self, forKey: .randomCrop) ?? 0
        if randomCrop < 0 { throw SpecDecoder.issue(try c.superDecoder(forKey: .randomCrop), "random_crop must be ≥ 0 (pixels of padding), got \(randomCrop)") }
        horizontalFlip = try c.decodeIfPresent(Bool.self, forKey: .horizontalFlip) ?? false
    }
}

/// Post-hoc calibration: each method is fitted on the validation split's outputs of every
/// predictor (the model, and each uncertainty method) and evaluated on every test evaluation.
public struct CalibrationSpec: Decodable, Sendable {
    public var methods: [Component] = []

    public init() {}

    private enum CodingKeys: String, CodingKey, CaseIterable { case methods }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        methods = try c.decodeIfPresent([Component].self, forKey: .methods) ?? []
    }
}

/// Interpretability: attribution methods run on the first test samples of every evaluation
/// (clean, corrupted, attacked), their quality checks, and layer introspection.
public struct InterpretSpec: Decodable, Sendable {
    public var methods: [Component] = []
    /// Test samples explained per evaluation, 1…1024 (default 8).
    public var samples = 8
    /// The class explained: `predicted` (the model's prediction on the evaluated input, the
    /// default) or `label`.
    public var target: Target = .predicted

    /// The class an attribution explains.
    public enum Target: String, ParameterChoice {
        /// The model's prediction (the default).
        case predicted
        /// The true label.
        case label
    }
    /// Layers whose activation maps are stored for the explained samples (default none).
    public var layers: [String] = []
    /// Test samples for layer statistics per evaluation, 0…100000 (default 256; 0 turns them off).
    public var statisticsSamples = 256
    /// Steps of the deletion and insertion curves, 0…1000 (default 20; 0 turns them off).
    public var deletionSteps = 20
    /// Run the model-randomisation check on the clean evaluation (default true).
    public var randomization = true
    /// Max-sensitivity on the clean evaluation: perturbations per sample (default 0, off) and the
    /// L∞ radius in pixel units (default 0.02).
    public var sensitivityPerturbations = 0
    public var sensitivityRadius: Double = 0.02
    /// The section as written (absent: no interpretation).
    public var node: SpecNode?

    public init() {}

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case methods, samples, target, layers, statisticsSamples, deletionSteps, randomization, sensitivityPerturbations, sensitivityRadius
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        methods = try c.decodeIfPresent([Component].self, forKey: .methods) ?? []
        func bounded(_ key: CodingKeys, _ range: ClosedRange<Int>, default value: Int) throws -> Int {
            let decoded = try c.decodeIfPresent(Int.self, forKey: key) ?? value
            if !range.contains(decoded) {
                throw SpecDecoder.issue(
                    try c.superDecoder(forKey: key),
                    "\(KeyPathText.yamlName(key.rawValue)) must be in \(range.lowerBound)…\(range.upperBound), got \(decoded)")
            }
            return decoded
        }
        samples = try bounded(.samples, 1...1024, default: 8)
        statisticsSamples = try bounded(.statisticsSamples, 0...100_000, default: 256)
        deletionSteps = try bounded(.deletionSteps, 0...1000, default: 20)
        sensitivityPerturbations = try bounded(.sensitivityPerturbations, 0...1000, default: 0)
        target = try c.decodeIfPresent(Target.self, forKey: .target) ?? .predicted
        layers = try c.decodeIfPresent([String].self, forKey: .layers) ?? []
        randomization = try c.decodeIfPresent(Bool.self, forKey: .randomization) ?? true
        sensitivityRadius = try c.decodeIfPresent(Double.self, forKey: .sensitivityRadius) ?? 0.02
        if !(sensitivityRadius > 0 && sensitivityRadius <= 1) {
            throw SpecDecoder.issue(
                try c.superDecoder(forKey: .sensitivityRadius), "sensitivity_radius must be in (0, 1] (pixel units), got \(sensitivityRadius)")
        }
        node = SpecDecoder.source(of: decoder)
    }

    /// Whether the file has an `interpret` section (layer statistics run even without methods).
    public var isPresent: Bool { node != nil }
}

/// Uncertainty: predictors beside the model (MC dropout, ensembles), and out-of-distribution
/// sets their uncertainty scores are tested on.
public struct UncertaintySpec: Decodable, Sendable {
    /// Which test evaluations the uncertainty methods predict besides the model.
    public enum Evaluations: String, ParameterChoice {
        /// Every evaluation: clean, corrupted, attacked (the default).
        case all
        /// The clean test split only; the model alone predicts the corrupted and attacked sets.
        case clean
    }

    public var methods: [Component] = []
    public var ood: [Component] = []
    public var evaluations: Evaluations = .all

    public init() {}

    private enum CodingKeys: String, CodingKey, CaseIterable { case methods, ood, evaluations }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        methods = try c.decodeIfPresent([Component].self, forKey: .methods) ?? []
        ood = try c.decodeIfPresent([Component].self, forKey: .ood) ?? []
        evaluations = try c.decodeIfPresent(Evaluations.self, forKey: .evaluations) ?? .all
    }
}

/// How evaluations run.
public struct EvaluationSpec: Decodable, Sendable {
    /// Samples per forward pass during evaluation (default 500); it changes speed and memory, not results.
    public var batchSize: Int = 500
    /// Confidence intervals on every metric column (default none).
    public var intervals: IntervalSpec?

    public init() {}

    private enum CodingKeys: String, CodingKey, CaseIterable { case batchSize, intervals }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? 500
        if batchSize < 1 { throw SpecDecoder.issue(try c.superDecoder(forKey: .batchSize), "batch_size must be ≥ 1, got \(batchSize)") }
        intervals = try c.decodeIfPresent(IntervalSpec.self, forKey: .intervals)
    }
}

/// Confidence intervals: the exact binomial interval for accuracy, and the seeded percentile
/// bootstrap over the test samples for every other metric column (columns `<name>_low`,
/// `<name>_high`).
public struct IntervalSpec: Decodable, Sendable {
    /// Confidence level in (0, 1) (default 0.95).
    public var level = 0.95
    /// Bootstrap resamples, ≥ 0 (default 1000; 0 gives accuracy's exact interval only).
    public var bootstrap = 1000

    private enum CodingKeys: String, CodingKey, CaseIterable { case level, bootstrap }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        level = try c.decodeIfPresent(Double.self, forKey: .level) ?? 0.95
        if !(level > 0 && level < 1) { throw SpecDecoder.issue(try c.superDecoder(forKey: .level), "level must be in (0, 1), got \(level)") }
        bootstrap = try c.decodeIfPresent(Int.self, forKey: .bootstrap) ?? 1000
        if bootstrap < 0 { throw SpecDecoder.issue(try c.superDecoder(forKey: .bootstrap), "bootstrap must be ≥ 0, got \(bootstrap)") }
    }
}

/// Which tensors a run keeps in its results file (metrics, learning curves and provenance are
/// always kept).
/// The `report` section: how `gauntlet report` presents the stored results. It changes no
/// number, so it is not part of a trial's identity (editing it reruns nothing).
public struct ReportSpec: Decodable, Sendable, Equatable {
    /// The model (one of `models[].name`) that mCE and relative mCE are normalised by.
    public var baseline: String?
    /// Per-setting figures are drawn for at most this many settings (default 6; the tables hold all).
    public var figureSettings: Int?
    /// Metric columns plotted against every numeric sweep axis (default: the first column).
    public var metrics: [String] = []
    /// The section as written, for messages.
    public var node: SpecNode?

    public init() {}

    public static func == (a: ReportSpec, b: ReportSpec) -> Bool { a.baseline == b.baseline && a.figureSettings == b.figureSettings && a.metrics == b.metrics }

    private enum CodingKeys: String, CodingKey, CaseIterable { case baseline, figureSettings, metrics }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        node = SpecDecoder.source(of: decoder)
        baseline = try c.decodeIfPresent(String.self, forKey: .baseline)
        metrics = try c.decodeIfPresent([String].self, forKey: .metrics) ?? []
        if let value = try c.decodeIfPresent(Int.self, forKey: .figureSettings) {
            guard value >= 1 else { throw SpecDecoder.issue(try c.superDecoder(forKey: .figureSettings), "figure_settings must be ≥ 1, got \(value)") }
            figureSettings = value
        }
    }
}

public struct StoreSpec: Decodable, Sendable, Equatable {
    /// The predicted class of every test sample under every evaluation (default true).
    public var predictions = true
    /// The logits of every test sample under every evaluation, float32 `[E, N, classes]` (default false).
    public var logits = false
    /// The trained weights under PyTorch state-dict keys (default true).
    public var weights = true
    /// The first `examples` test inputs of every evaluation as the model saw them (corrupted or
    /// adversarial), float32 `[E, n, C, H, W]` in [0, 1] pixels; at most the test set (default 0).
    public var examples = 0
    /// Every test sample's adversarial example under every ensemble attack (`autoattack`),
    /// float32 `[N, C, H, W]` in [0, 1] pixels, the clean input where none was found (default true).
    public var adversarial = true

    public init() {}

    private enum CodingKeys: String, CodingKey, CaseIterable { case predictions, logits, weights, examples, adversarial }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let value = try c.decodeIfPresent(Bool.self, forKey: .predictions) { predictions = value }
        if let value = try c.decodeIfPresent(Bool.self, forKey: .logits) { logits = value }
        if let value = try c.decodeIfPresent(Bool.self, forKey: .weights) { weights = value }
        if let value = try c.decodeIfPresent(Bool.self, forKey: .adversarial) { adversarial = value }
        if let value = try c.decodeIfPresent(Int.self, forKey: .examples) {
            guard value >= 0 else { throw SpecDecoder.issue(try c.superDecoder(forKey: .examples), "examples must be ≥ 0, got \(value)") }
            examples = value
        }
    }
}
