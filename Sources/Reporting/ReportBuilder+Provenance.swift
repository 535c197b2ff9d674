extension ReportBuilder {
    /// Definitions of every metric the cells used (as stored with them), then of the report's
    /// own aggregates.
    func methodsSection() -> Section {
        var definitions: [(term: String, definition: String)] = []
        for cell in results.cells {
            for (metric, definition) in cell.definitions where !definitions.contains(where: { $0.term == metric }) {
                definitions.append((metric, definition))
            }
        }
        var blocks: [Report.Block] = []
        if definitions.isEmpty {
            blocks.append(
                .paragraph(
                    "The cells do not store their metrics' definitions (results written before format 6); see schemas/experiment.md of the tool version in Provenance."
                ))
        } else {
            blocks.append(.paragraph("Metrics, as defined by the code that computed them (stored in every cell file):"))
            blocks.append(.definitions(definitions))
        }
        blocks.append(.paragraph("Aggregates computed by this report:"))
        blocks.append(
            .definitions([
                (
                    "mean ± std",
                    "The mean over a setting's completed repeats and the sample standard deviation (n − 1 in the denominator; shown only with two or more repeats). A NaN in any repeat makes the mean NaN (shown –)."
                ),
                (
                    "best value (bold)",
                    "Per metric column, the best mean among the rows of one evaluation, predictor and calibration (higher, lower, or closest to the ideal value, as the metric declares); ties are all bold; a group of one row, or whose values are all equal, has none."
                ),
                (
                    "mean corruption error",
                    "The mean over the corruption types c and published severities s of E_{c,s} = 1 − accuracy on the corrupted test split (corruptions given by explicit parameters and distribution shifts without severities are left out)."
                ),
                (
                    "mCE",
                    "Hendrycks & Dietterich (2019): CE_c = Σ_s E_{c,s} / Σ_s E^base_{c,s}, mCE = the mean of CE_c over corruption types, against the baseline model with the same settings (100% = as robust as the baseline)."
                ),
                (
                    "relative mCE",
                    "Hendrycks & Dietterich (2019): the mean over corruption types of Σ_s (E_{c,s} − E_clean) / Σ_s (E^base_{c,s} − E^base_clean): the degradation relative to the baseline's."
                ),
                (
                    "strongest attack per sample",
                    "At one budget, a sample is counted against the ensemble of attacks when any of them misclassifies it; \"fooled only by this attack\" counts the samples no other attack of that budget fooled."
                ),
            ]))
        return Section(title: "Methods", blocks: blocks)
    }

    func provenanceSection() -> Section {
        var blocks: [Report.Block] = []
        blocks.append(
            .definitions([
                ("experiment", results.experiment), ("experiment file", results.specFile),
                ("tool version", results.toolVersion), ("git commit", results.gitCommit), ("host", results.host),
                ("index written", results.created),
            ]))
        // Seconds per stage where the cells record them, else training and evaluation.
        var stages: [String] = []
        for cell in results.cells { for (stage, _) in cell.stages where !stages.contains(stage) { stages.append(stage) } }
        var trials = ReportTable(
            id: "trials", caption: "Every trial: seed, state and wall time per stage (seconds)",
            keyHeaders: ["trial", "setting", "repeat", "seed", "state"],
            metricHeaders: stages.isEmpty ? ["training", "evaluation"] : stages, directions: stages.isEmpty ? [nil, nil] : stages.map { _ in nil })
        trials.decimals = 1
        for trial in results.trials {
            let cell = results.cells.first { $0.trialID == trial.trialID }
            let values =
                stages.isEmpty
                ? [cell?.trainingSeconds ?? .nan, cell?.evaluationSeconds ?? .nan]
                : stages.map { stage in cell?.stages.first { $0.stage == stage }?.seconds ?? .nan }
            trials.rows.append(
                ReportTable.Row(
                    keys: [trial.trialID, cell?.label ?? trial.model, String(trial.repeatIndex), String(trial.seed), trial.state.rawValue],
                    group: trial.trialID, values: values.map { ReportTable.Value($0) }))
        }
        blocks.append(.table(trials))
        if let cell = results.cells.first(where: \.completed) {
            blocks.append(.paragraph("Machine and libraries of trial \(cell.trialID) (every cell file stores its own):"))
            blocks.append(.definitions(cell.attributes.map { (term: $0.name, definition: $0.value) }))
        }
        blocks.append(.paragraph("The experiment file as run (\(results.specFile)):"))
        blocks.append(.code(results.specText))
        return Section(title: "Provenance", blocks: blocks)
    }
}
