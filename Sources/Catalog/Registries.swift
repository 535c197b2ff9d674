import Datasets
import Evaluation
import Layers
import Perturbations
import Spec

/// Every concrete kind Gauntlet knows, one line each. This is the only place that names them.
public enum Registries {
    public static let layers = Registry<any LayerSpec>(
        "layer",
        [
            layer(LinearSpec.self),
            layer(Conv2dSpec.self),
            layer(MaxPool2dSpec.self),
            layer(AvgPool2dSpec.self),
            layer(ReLUSpec.self),
            layer(DropoutSpec.self),
            layer(FlattenSpec.self),
            layer(BatchNorm2dSpec.self),
        ])

    public static let optimizers = Registry<any OptimizerSpec>(
        "optimizer",
        [
            optimizer(SGDSpec.self),
            optimizer(AdamSpec.self),
        ])

    public static let schedules = Registry<any LearningRateSchedule>(
        "schedule",
        [
            schedule(ConstantSchedule.self),
            schedule(StepSchedule.self),
            schedule(ExponentialSchedule.self),
            schedule(CosineSchedule.self),
        ])

    public static let datasets = Registry<any DatasetSource>(
        "dataset",
        [
            dataset(FashionMNISTSource.self),
            dataset(SyntheticSource.self),
            dataset(SyntheticRegression.self),
            dataset(CSVSource.self),
        ])

    public static let corruptions = Registry<any Corruption>(
        "corruption",
        [
            corruption(GaussianNoise.self),
            corruption(ShotNoise.self),
            corruption(ImpulseNoise.self),
            corruption(SpeckleNoise.self),
            corruption(GaussianBlur.self),
            corruption(DefocusBlur.self),
            corruption(MotionBlur.self),
            corruption(Contrast.self),
            corruption(Brightness.self),
            corruption(Saturate.self),
            corruption(Invert.self),
            corruption(Pixelate.self),
            corruption(JPEGCompression.self),
            corruption(ElasticTransform.self),
            corruption(Occlusion.self),
            corruption(FeatureOutliers.self),
            corruption(Rotation.self),
            corruption(Translation.self),
            corruption(Scaling.self),
            corruption(ClassPriorShift.self),
        ])

    public static let attacks = Registry<any Attack>(
        "attack",
        [
            attack(FGSM.self),
            attack(PGD.self),
            attack(APGD.self),
            attack(SquareAttack.self),
        ])

    static let metricTypes: [any Metric.Type] = [
        Accuracy.self, TopKAccuracy.self, CrossEntropy.self, BrierScore.self, Precision.self, Recall.self, F1Score.self,
        ConfusionMatrix.self, AUROC.self, AveragePrecision.self, BestThreshold.self, ExpectedCalibrationError.self,
        MaximumCalibrationError.self, ClasswiseCalibrationError.self,
        MeanSquaredError.self, MeanAbsoluteError.self, R2Score.self, GaussianNLL.self, IntervalCoverage.self,
    ]

    public static let metrics = Registry<any Metric>("metric", metricTypes.map { metric($0) })

    /// The task each metric kind measures, by kind name.
    static let metricTasks: [String: TaskKind] = Dictionary(uniqueKeysWithValues: metricTypes.map { ($0.kind, $0.task) })

    public static let calibrators = Registry<any Calibrator>(
        "calibration method",
        [
            calibrator(TemperatureScaling.self),
            calibrator(VectorScaling.self),
            calibrator(HistogramBinning.self),
            calibrator(IsotonicCalibration.self),
        ])

    public static let uncertaintyMethods = Registry<any UncertaintyMethod>(
        "uncertainty method",
        [
            uncertaintyMethod(MonteCarloDropout.self),
            uncertaintyMethod(DeepEnsemble.self),
        ])

    public static let outOfDistributionSources = Registry<any OutOfDistributionSource>(
        "out-of-distribution set",
        [
            outOfDistributionSource(UniformImages.self),
            outOfDistributionSource(GaussianImages.self),
            outOfDistributionSource(ShuffledPixels.self),
            outOfDistributionSource(HeldOutClasses.self),
        ])

    public static let attributionMethods = Registry<any AttributionMethod>(
        "attribution method",
        [
            attributionMethod(Saliency.self),
            attributionMethod(GradientTimesInput.self),
            attributionMethod(IntegratedGradients.self),
            attributionMethod(SmoothGrad.self),
            attributionMethod(GradCAM.self),
            attributionMethod(OcclusionSensitivity.self),
        ])

    /// Every registry's name and kind names.
    public static var listing: [(extensionPoint: String, kinds: [String])] {
        extensionPoints.map { ($0.name, $0.kinds.map(\.name)) }
    }

    /// Every extension point: its name, where its components sit in a file (key path patterns
    /// as `ParameterProbe` reports them), and its kinds.
    public static var extensionPoints: [(name: String, slot: String, kinds: [KindDescription])] {
        [
            ("dataset", "dataset", datasets.kinds),
            ("layer", "models[].layers[]", layers.kinds),
            ("optimizer", "training.optimizer", optimizers.kinds),
            ("schedule", "training.schedule", schedules.kinds),
            ("corruption", "noise[]", corruptions.kinds),
            ("attack", "attacks[]", attacks.kinds),
            ("metric", "metrics[]", metrics.kinds),
            ("calibration method", "calibration.methods[]", calibrators.kinds),
            ("uncertainty method", "uncertainty.methods[]", uncertaintyMethods.kinds),
            ("out-of-distribution set", "uncertainty.ood[]", outOfDistributionSources.kinds),
            ("attribution method", "interpret.methods[]", attributionMethods.kinds),
        ]
    }

    /// Other places a registry's components sit, by the slot of the registry serving them.
    public static let slotAliases = ["training.adversarial.attack": "attacks[]"]

    // MARK: - Entry builders (one per extension-point protocol)

    static func layer<T: LayerSpec>(_ type: T.Type) -> Registry<any LayerSpec>.Entry {
        entry(T.self, kind: T.kind, summary: T.summary, erase: { $0 }, problems: { _ in [] })
    }

    static func optimizer<T: OptimizerSpec>(_ type: T.Type) -> Registry<any OptimizerSpec>.Entry {
        entry(T.self, kind: T.kind, summary: T.summary, erase: { $0 }, problems: { $0.problems() })
    }

    static func schedule<T: LearningRateSchedule>(_ type: T.Type) -> Registry<any LearningRateSchedule>.Entry {
        entry(T.self, kind: T.kind, summary: T.summary, erase: { $0 }, problems: { $0.problems() })
    }

    static func dataset<T: DatasetSource>(_ type: T.Type) -> Registry<any DatasetSource>.Entry {
        entry(T.self, kind: T.kind, summary: T.summary, erase: { $0 }, problems: { $0.problems() })
    }

    static func corruption<T: Corruption>(_ type: T.Type) -> Registry<any Corruption>.Entry {
        entry(T.self, kind: T.kind, summary: T.summary, erase: { $0 }, problems: { $0.problems() })
    }

    static func attack<T: Attack>(_ type: T.Type) -> Registry<any Attack>.Entry {
        entry(T.self, kind: T.kind, summary: T.summary, erase: { $0 }, problems: { $0.problems() })
    }

    static func metric<T: Metric>(_ type: T.Type) -> Registry<any Metric>.Entry {
        entry(T.self, kind: T.kind, summary: T.summary, erase: { $0 }, problems: { _ in [] })
    }

    static func calibrator<T: Calibrator>(_ type: T.Type) -> Registry<any Calibrator>.Entry {
        entry(T.self, kind: T.kind, summary: T.summary, erase: { $0 }, problems: { $0.problems() })
    }

    static func uncertaintyMethod<T: UncertaintyMethod>(_ type: T.Type) -> Registry<any UncertaintyMethod>.Entry {
        entry(T.self, kind: T.kind, summary: T.summary, erase: { $0 }, problems: { $0.problems() })
    }

    static func outOfDistributionSource<T: OutOfDistributionSource>(_ type: T.Type) -> Registry<any OutOfDistributionSource>.Entry {
        entry(T.self, kind: T.kind, summary: T.summary, erase: { $0 }, problems: { $0.problems() })
    }

    static func attributionMethod<T: AttributionMethod>(_ type: T.Type) -> Registry<any AttributionMethod>.Entry {
        entry(T.self, kind: T.kind, summary: T.summary, erase: { $0 }, problems: { $0.problems() })
    }

    /// A registry entry for a concrete kind `T`, seen by the registry as `Kind`.
    static func entry<Kind, T: Decodable & SendableMetatype>(
        _ type: T.Type, kind: String, summary: String,
        erase: @escaping @Sendable (T) -> Kind, problems: @escaping @Sendable (T) -> [String]
    ) -> Registry<Kind>.Entry {
        .init(
            name: kind, typeName: "\(T.self)", summary: summary, parameters: ParameterProbe.parameters(of: T.self),
            decode: { c throws(SpecErrors) in erase(try c.decode(as: T.self)) },
            problems: { kind in (kind as? T).map(problems) ?? [] })
    }
}
