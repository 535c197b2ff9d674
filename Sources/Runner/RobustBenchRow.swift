import Catalog
import Datasets
import Evaluation
import Foundation
import Grid
import Perturbations
import Results
import Storage

/// RobustBench's `model_info` row for each `autoattack` evaluation with `protocol: robustbench`:
/// `<results>/robustbench/<trial id>.<Linf|L2>.json`, written atomically after the trial's cell.
/// Accuracies are percentages with two decimals as RobustBench's files write them, measured on
/// the evaluated test images (`n_examples`); `eps` is a fraction of 255 when it is one.
enum RobustBenchRow {
    static func write(_ outcome: TrialOutcome, trial resolved: ResolvedTrial, testLabels: [Int], directory: String) throws {
        let chosen = resolved.experiment.attacks.compactMap { $0 as? AutoAttack }.filter { $0.protocol == .robustbench }
        guard !chosen.isEmpty, case .completed = outcome.status else { return }
        let model = outcome.evaluations.filter { $0.predictor == "model" && $0.calibration == "none" }
        guard let clean = model.first(where: { $0.kind == .clean }) else { return }
        let cleanAccuracy = accuracy(clean.predictions, testLabels)
        var written: Set<String> = []
        for attack in chosen {
            guard let record = model.first(where: { $0.name == attack.label }) else { continue }
            let threat = attack.norm == .l2 ? "L2" : "Linf"
            var name = "\(resolved.trial.id).\(threat)"
            while written.contains(name) { name += "+" }
            written.insert(name)
            let row: [String: Any] = [
                "name": resolved.trial.modelName,
                "link": "", "authors": "", "venue": "", "reported": "", "footnote": NSNull(),
                "additional_data": false,
                "number_forward_passes": 1,
                "dataset": type(of: resolved.experiment.dataset).kind,
                "architecture": resolved.trial.modelName,
                "threat_model": threat,
                "eps": epsText(attack.radius),
                "clean_acc": String(format: "%.2f", 100 * cleanAccuracy),
                "autoattack_acc": String(format: "%.2f", 100 * accuracy(record.predictions, testLabels)),
                "n_examples": testLabels.count,
                "unreliable": !(record.attackReport?.warnings.isEmpty ?? true),
                "gauntlet_evaluation": record.name,
                "gauntlet_warnings": record.attackReport?.warnings ?? [],
            ]
            let data = try JSONSerialization.data(withJSONObject: row, options: [.prettyPrinted, .sortedKeys])
            let folder = "\(directory)/robustbench"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try AtomicFile.write(to: "\(folder)/\(name).json") { temporary in try data.write(to: URL(fileURLWithPath: temporary)) }
        }
    }

    static func accuracy(_ predictions: [Int], _ labels: [Int]) -> Double {
        Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(max(1, labels.count))
    }

    /// `8/255` when ε is a whole number of 255ths, else its decimal text.
    static func epsText(_ epsilon: Float) -> String {
        let steps = (Double(epsilon) * 255).rounded()
        if steps > 0, abs(Double(epsilon) * 255 - steps) < 1e-4 { return "\(Int(steps))/255" }
        return "\(epsilon)"
    }
}
