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
            LinearSpec.self,
            Conv2dSpec.self,
            MaxPool2dSpec.self,
            AvgPool2dSpec.self,
            ReLUSpec.self,
            DropoutSpec.self,
            FlattenSpec.self,
            BatchNorm2dSpec.self,
            BatchNorm1dSpec.self,
            AddSpec.self,
            AdaptiveAvgPool2dSpec.self,
            GELUSpec.self,
            SiLUSpec.self,
            SigmoidSpec.self,
            TanhSpec.self,
            LeakyReLUSpec.self,
            HardswishSpec.self,
            SoftmaxSpec.self,
            LayerNormSpec.self,
            GroupNormSpec.self,
            MultiplySpec.self,
            ConcatSpec.self,
            MatMulSpec.self,
            ReshapeSpec.self,
            PermuteSpec.self,
            SliceSpec.self,
            GatherSpec.self,
            ClassTokenSpec.self,
            PositionEmbeddingSpec.self,
            MultiheadAttentionSpec.self,
        ] as [any LayerSpec.Type],
        componentKeys: [("inputs", "the names of the layers it reads (default: the layer before it; `input` is the model's input)")])

    public static let architectures = Registry<any ArchitectureSpec>(
        "architecture",
        [
            ResNetSpec.self,
            WideResNetSpec.self,
            VisionTransformerSpec.self,
        ] as [any ArchitectureSpec.Type])

    public static let optimizers = Registry<any OptimizerSpec>(
        "optimizer",
        [
            SGDSpec.self,
            AdamSpec.self,
        ] as [any OptimizerSpec.Type])

    public static let schedules = Registry<any LearningRateSchedule>(
        "schedule",
        [
            ConstantSchedule.self,
            StepSchedule.self,
            ExponentialSchedule.self,
            CosineSchedule.self,
        ] as [any LearningRateSchedule.Type])

    public static let datasets = Registry<any DatasetSource>(
        "dataset",
        [
            FashionMNISTSource.self,
            SyntheticSource.self,
            SyntheticRegression.self,
            CSVSource.self,
            CIFAR10Source.self,
            CIFAR100Source.self,
            NumpySource.self,
            HDF5Source.self,
            IDXSource.self,
            ImageFolderSource.self,
        ] as [any DatasetSource.Type])

    public static let corruptions = Registry<any Corruption>(
        "corruption",
        [
            GaussianNoise.self,
            ShotNoise.self,
            ImpulseNoise.self,
            SpeckleNoise.self,
            GaussianBlur.self,
            DefocusBlur.self,
            MotionBlur.self,
            Contrast.self,
            Brightness.self,
            Saturate.self,
            Invert.self,
            Pixelate.self,
            CorruptionSet.self,
            JPEGCompression.self,
            ElasticTransform.self,
            ZoomBlur.self,
            Occlusion.self,
            FeatureOutliers.self,
            Rotation.self,
            Translation.self,
            Scaling.self,
            ClassPriorShift.self,
        ] as [any Corruption.Type])

    public static let attacks = Registry<any Attack>(
        "attack",
        [
            FGSM.self,
            PGD.self,
            APGD.self,
            SquareAttack.self,
            FAB.self,
            AutoAttack.self,
        ] as [any Attack.Type])

    static let metricTypes: [any Metric.Type] = [
        Accuracy.self, TopKAccuracy.self, CrossEntropy.self, BrierScore.self, Precision.self, Recall.self, F1Score.self,
        ConfusionMatrix.self, AUROC.self, AveragePrecision.self, BestThreshold.self, ExpectedCalibrationError.self,
        MaximumCalibrationError.self, ClasswiseCalibrationError.self,
        MeanSquaredError.self, MeanAbsoluteError.self, R2Score.self, GaussianNLL.self, IntervalCoverage.self,
    ]

    public static let metrics = Registry<any Metric>("metric", metricTypes)

    /// The task each metric kind measures, by kind name.
    static let metricTasks: [String: TaskKind] = Dictionary(uniqueKeysWithValues: metricTypes.map { ($0.kind, $0.task) })

    public static let calibrators = Registry<any Calibrator>(
        "calibration method",
        [
            TemperatureScaling.self,
            VectorScaling.self,
            HistogramBinning.self,
            IsotonicCalibration.self,
        ] as [any Calibrator.Type])

    public static let uncertaintyMethods = Registry<any UncertaintyMethod>(
        "uncertainty method",
        [
            MonteCarloDropout.self,
            DeepEnsemble.self,
        ] as [any UncertaintyMethod.Type])

    public static let outOfDistributionSources = Registry<any OutOfDistributionSource>(
        "out-of-distribution set",
        [
            UniformImages.self,
            GaussianImages.self,
            ShuffledPixels.self,
            HeldOutClasses.self,
        ] as [any OutOfDistributionSource.Type])

    public static let attributionMethods = Registry<any AttributionMethod>(
        "attribution method",
        [
            Saliency.self,
            GradientTimesInput.self,
            IntegratedGradients.self,
            SmoothGrad.self,
            GradCAM.self,
            OcclusionSensitivity.self,
        ] as [any AttributionMethod.Type])

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
            ("architecture", "models[].architecture", architectures.kinds),
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

    /// Keys the components of an extension point may have besides `type`, `name` and their
    /// kind's parameters, by extension point (`Registry.componentKeys`).
    public static var componentKeys: [String: [(name: String, meaning: String)]] {
        [layers.extensionPoint: layers.componentKeys]
    }

    /// The structural entries of a model's layer list (`residual`, `repeat`), with their keys.
    public static var layerBlocks: [KindDescription] {
        LayerBlocks.kinds.map { block in
            KindDescription(
                name: block.name, summary: block.summary,
                parameters: block.keys.map { key in
                    ParameterProbe.Parameter(
                        name: key.name, type: key.name == "count" ? .integer(minimum: 1) : .array(.component(slot: "models[].layers[]")),
                        isRequired: key.required, defaultValue: key.required ? nil : "none")
                }, defaults: [:])
        }
    }

    /// Other places a registry's components sit, by the slot of the registry serving them.
    public static let slotAliases = ["training.adversarial.attack": "attacks[]"]
}
