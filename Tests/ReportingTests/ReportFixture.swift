import Reporting

/// A small, fully known result set: two models (mlp, cnn) × two repeats, clean, two
/// corruptions at severities 1–2 and an attack at two budgets, with reliability bins, curves,
/// confusion counts, uncertainty scores, attack outcomes, attributions and layer statistics.
enum ReportFixture {
    static func results(failing: Bool = false) -> ResultSet {
        var set = ResultSet(experiment: "fixture", folder: "results/fixture")
        set.description = "A hand-made result set for golden files."
        set.specFile = "experiments/fixture.yaml"
        set.specText = "schema_version: 1\nname: fixture\nrepeats: 2\n"
        set.toolVersion = "0.1.0"
        set.gitCommit = "abc123"
        set.host = "testhost"
        set.created = "2026-01-01T00:00:00Z"
        set.requestedRepeats = 2
        set.baseline = "mlp"
        let accuracy: [String: [Double]] = [
            // clean, gaussian_noise s1 s2, blur s1 s2, fgsm 0.05 0.1, pgd 0.05 0.1
            "mlp": [0.80, 0.70, 0.50, 0.75, 0.65, 0.40, 0.20, 0.30, 0.10],
            "cnn": [0.90, 0.85, 0.70, 0.80, 0.60, 0.50, 0.30, 0.35, 0.15],
        ]
        var id = 0
        for model in ["mlp", "cnn"] {
            for repeatIndex in 0..<2 {
                id += 1
                let trialID = String(repeating: String(id), count: 16)
                let failed = failing && model == "cnn" && repeatIndex == 1
                set.trials.append(
                    TrialEntry(
                        trialID: trialID, model: model, repeatIndex: repeatIndex, seed: UInt64(repeatIndex * 7),
                        state: failed ? .failed : .completed, message: failed ? "training diverged: loss is nan at epoch 1" : ""))
                if failed { continue }
                var cell = CellResult(
                    trialID: trialID, model: model, repeatIndex: repeatIndex, seed: UInt64(repeatIndex * 7),
                    parameters: [("model", model)], completed: true, message: "",
                    attributes: [("host", "testhost"), ("blas_core", "Haswell")], trainingSeconds: 10, evaluationSeconds: 2)
                cell.stages = [("data", repeatIndex == 0 ? 0.5 : 0), ("training", 10), ("evaluations", 1.5), ("attacks", 0.5)]
                cell.evaluations = [
                    EvaluationInfo(name: "clean", kind: "clean"),
                    EvaluationInfo(name: "gaussian_noise(severity=1)", kind: "corruption", type: "gaussian_noise", severity: 1),
                    EvaluationInfo(name: "gaussian_noise(severity=2)", kind: "corruption", type: "gaussian_noise", severity: 2),
                    EvaluationInfo(name: "gaussian_blur(severity=1)", kind: "corruption", type: "gaussian_blur", severity: 1),
                    EvaluationInfo(name: "gaussian_blur(severity=2)", kind: "corruption", type: "gaussian_blur", severity: 2),
                    EvaluationInfo(name: "fgsm(epsilon=0.05)", kind: "attack", type: "fgsm", budget: 0.05, family: "fgsm"),
                    EvaluationInfo(name: "fgsm(epsilon=0.1)", kind: "attack", type: "fgsm", budget: 0.1, family: "fgsm"),
                    EvaluationInfo(name: "pgd(epsilon=0.05)", kind: "attack", type: "pgd", budget: 0.05, family: "pgd"),
                    EvaluationInfo(name: "pgd(epsilon=0.1)", kind: "attack", type: "pgd", budget: 0.1, family: "pgd"),
                ]
                // Repeats differ by ±0.01 so the standard deviation is √2·0.01.
                let shift = repeatIndex == 0 ? -0.01 : 0.01
                cell.metrics = [("accuracy", accuracy[model]!.map { $0 + shift }), ("cross_entropy", accuracy[model]!.map { 1 - $0 })]
                cell.directions = ["accuracy": ColumnDirection(higherIsBetter: true), "cross_entropy": ColumnDirection(higherIsBetter: false)]
                cell.definitions = [("accuracy", "Top-1 accuracy."), ("cross_entropy", "Mean −log p_y in nats.")]
                cell.learningCurve = LearningCurve(
                    epoch: [1, 2, 3], trainLoss: [1.0, 0.6, 0.4], validationLoss: [0.9, 0.7, 0.65],
                    validationAccuracy: [0.6, 0.75, 0.8])
                cell.reliability = cell.evaluations.map { _ in
                    ReliabilityBinsData(
                        lower: [0, 0.25, 0.5, 0.75], upper: [0.25, 0.5, 0.75, 1], confidence: [.nan, 0.4, 0.6, 0.9],
                        accuracy: [.nan, 0.3, 0.65, 0.8], count: [0, 10, 30, 60])
                }
                cell.roc = cell.evaluations.map { _ in
                    [
                        Curve(positiveClass: 0, x: [0, 0.1, 0.5, 1], y: [0, 0.6, 0.9, 1]),
                        Curve(positiveClass: 1, x: [0, 0.2, 1], y: [0, 0.7, 1]),
                    ]
                }
                cell.precisionRecall = cell.evaluations.map { _ in [Curve(positiveClass: 0, x: [0, 0.5, 1], y: [1, 0.8, 0.5])] }
                cell.classCount = 3
                cell.classNames = ["T-shirt/top", "Trouser", "Pullover"]
                cell.confusion = cell.evaluations.map { _ in [50, 3, 2, 4, 40, 6, 1, 5, 44] }
                cell.uncertainty = UncertaintyData(
                    scores: ["entropy", "max_probability"], evaluations: [0, 1],
                    values: [[[0.1, 0.2, 0.3, 0.2], [0.9, 0.8, 0.7, 0.8]], [[0.5, 0.9, 1.1, 0.7], [0.6, 0.5, 0.4, 0.5]]],
                    outOfDistribution: [("uniform_images", [[1.5, 1.9, 2.1], [0.3, 0.2, 0.2]])])
                cell.attacks = AttackData(
                    evaluations: Array(cell.evaluations[5...].map(\.name)),
                    success: [[true, false, false, true], [true, true, false, true], [false, true, false, true], [true, true, true, true]],
                    cleanWrong: [false, false, false, true])
                cell.attributions = [
                    AttributionData(
                        label: "saliency", maps: [[0, 0.5, -0.5, 1], [1, 1, 0, -1]], scales: [1, 0.5], height: 2, width: 2,
                        targets: [3, 1], deletionAUC: [0.2, 0.4], insertionAUC: [0.7, 0.5])
                ]
                cell.layerStatistics = LayerStatisticsData(
                    layers: ["0", "1", "2"], evaluations: ["clean", "gaussian_noise(severity=1)"],
                    relativeChange: [[0, 0, 0], [0.2, 0.3, 0.1]], deadFraction: [[0.1, 0.5, 0], [0.1, 0.6, 0]])
                cell.detections = [DetectionRow(source: "uniform_images", predictor: "model", score: "entropy", auroc: 0.9 + shift, aupr: 0.8, fprAt95: 0.3)]
                set.cells.append(cell)
            }
        }
        return set
    }
}
