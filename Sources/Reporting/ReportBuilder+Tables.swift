extension ReportBuilder {
    /// The headline tables: clean results and the summaries of robustness, attacks, OOD
    /// detection and attributions (the per-evaluation tables follow the figures).
    func tableSection() -> Section {
        var blocks: [Report.Block] = []
        if let table = metricTable(kind: "clean", id: "clean", caption: "Clean test split") { blocks.append(.table(table)) }
        if let table = robustnessTable() { blocks.append(.table(table)) }
        if let table = strongestAttackTable() { blocks.append(.table(table)) }
        if let table = ensembleTable() { blocks.append(.table(table)) }
        if let table = detectionTable() { blocks.append(.table(table)) }
        if let table = attributionTable() { blocks.append(.table(table)) }
        return Section(title: "Results", blocks: blocks)
    }

    /// Every metric of every corrupted and attacked evaluation.
    func detailSection() -> Section {
        var blocks: [Report.Block] = []
        for (kind, id, caption) in [
            ("corruption", "corruptions", "Corruptions and distribution shifts"),
            ("attack", "attacks", "Adversarial attacks (budgets in [0, 1] pixel units)"),
        ] {
            if let table = metricTable(kind: kind, id: id, caption: caption) { blocks.append(.table(table)) }
        }
        if let table = perClassTable() { blocks.append(.table(table)) }
        return Section(title: "Every evaluation", blocks: blocks)
    }

    /// Recall (the class's accuracy) and precision of every class on the clean test split, from
    /// the confusion counts, mean ± std over each setting's completed repeats; classes by name
    /// where the cells have names.
    func perClassTable() -> ReportTable? {
        var table = ReportTable(
            id: "per_class", caption: "Per class, clean test split",
            keyHeaders: ["setting", "class", "test samples"], metricHeaders: ["recall (class accuracy)", "precision"],
            directions: [ColumnDirection(higherIsBetter: true), ColumnDirection(higherIsBetter: true)])
        var rows: [(class: Int, row: ReportTable.Row)] = []
        for setting in settings {
            // Per completed repeat: each class's recall, precision and sample count.
            var perRepeat: [[(recall: Double, precision: Double, samples: Double)]] = []
            var names: CellResult?
            for cell in setting.cells where cell.completed {
                guard let clean = cleanIndex(cell), clean < cell.confusion.count, cell.classCount > 0,
                    cell.confusion[clean].count == cell.classCount * cell.classCount
                else { continue }
                let k = cell.classCount, counts = cell.confusion[clean]
                perRepeat.append(
                    (0..<k).map { c in
                        let row = (0..<k).reduce(0) { $0 + counts[c * k + $1] }, column = (0..<k).reduce(0) { $0 + counts[$1 * k + c] }
                        return (row > 0 ? counts[c * k + c] / row : .nan, column > 0 ? counts[c * k + c] / column : .nan, row)
                    })
                names = names ?? cell
            }
            guard let names, let k = perRepeat.first?.count, perRepeat.allSatisfy({ $0.count == k }) else { continue }
            for c in 0..<k {
                func value(_ pick: ((recall: Double, precision: Double, samples: Double)) -> Double) -> ReportTable.Value {
                    let (mean, std) = Self.meanAndDeviation(perRepeat.map { pick($0[c]) }.filter(\.isFinite))
                    return ReportTable.Value(mean, perRepeat.count > 1 ? std : .nan)
                }
                let row = ReportTable.Row(
                    keys: [setting.label, names.className(c), String(Int(perRepeat[0][c].samples))], group: "class \(c)",
                    values: [value(\.recall), value(\.precision)],
                    incomplete: perRepeat.count < summary.requestedRepeats)
                rows.append((c, row))
            }
        }
        guard !rows.isEmpty else { return nil }
        // Class by class, the settings side by side.
        table.rows = rows.enumerated().sorted { ($0.element.class, $0.offset) < ($1.element.class, $1.offset) }.map(\.element.row)
        table.notes.append(
            "Recall is the fraction of a class's test samples predicted as it (its accuracy), precision the fraction of the samples predicted as a class that belong to it; from the model's uncalibrated clean predictions (test samples: the first repeat's)."
        )
        return table
    }

    /// Every metric column of the evaluations of one kind, mean ± std over repeats.
    func metricTable(kind: String, id: String, caption: String) -> ReportTable? {
        let rows = summary.rows.filter { $0.kind == kind }
        guard !rows.isEmpty else { return nil }
        let columns = summary.metrics.indices.filter { m in rows.contains { $0.mean[m].isFinite } }
        let extra = rows.contains { $0.predictor != "model" || $0.calibration != "none" }
        let axes = summary.axes.map(CellResult.shortAxis)
        var table = ReportTable(
            id: id, caption: caption,
            keyHeaders: ["model"] + axes + ["evaluation"] + (extra ? ["predictor", "calibration"] : []),
            metricHeaders: columns.map { summary.metrics[$0] },
            directions: columns.map { directions[summary.metrics[$0]] })
        for row in rows {
            table.rows.append(
                ReportTable.Row(
                    keys: [row.model] + row.values + [row.evaluation] + (extra ? [row.predictor, row.calibration] : []),
                    group: "\(row.evaluation)|\(row.predictor)|\(row.calibration)",
                    values: columns.map { ReportTable.Value(row.mean[$0], row.standardDeviation[$0]) },
                    incomplete: row.repeats < summary.requestedRepeats))
        }
        if columns.count < summary.metrics.count {
            table.notes.append("Columns without a value in these evaluations are left out.")
        }
        return table
    }

    /// Accuracy of the model (uncalibrated) per evaluation name, mean over a setting's completed
    /// repeats, with the standard deviation and the repeat count.
    func meanAccuracy(_ setting: Setting) -> [String: (mean: Double, std: Double, evaluation: EvaluationInfo)] {
        var values: [String: (EvaluationInfo, [Double])] = [:]
        for cell in setting.cells where cell.completed {
            guard let accuracy = cell.metric("accuracy") else { continue }
            for (index, evaluation) in cell.evaluations.enumerated() where evaluation.isModelUncalibrated {
                values[evaluation.name, default: (evaluation, [])].1.append(accuracy[index])
            }
        }
        return values.mapValues { evaluation, samples in
            let (mean, std) = Self.meanAndDeviation(samples)
            return (mean, std, evaluation)
        }
    }

    static func meanAndDeviation(_ samples: [Double]) -> (Double, Double) {
        guard !samples.isEmpty else { return (.nan, .nan) }
        let n = Double(samples.count), mean = samples.reduce(0, +) / n
        guard samples.count > 1 else { return (mean, .nan) }
        return (mean, (samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot())
    }

    /// Corruption errors `E_{c,s} = 1 − accuracy` of the model on corruption type c at published
    /// severity s, from the mean accuracy over repeats; types given without severities are left out.
    func corruptionErrors(_ setting: Setting) -> (clean: Double, errors: [String: [Int: Double]]) {
        let accuracy = meanAccuracy(setting)
        var errors: [String: [Int: Double]] = [:]
        for (_, entry) in accuracy where entry.evaluation.kind == "corruption" && entry.evaluation.severity > 0 {
            errors[entry.evaluation.type, default: [:]][entry.evaluation.severity] = 1 - entry.mean
        }
        return (1 - (accuracy["clean"]?.mean ?? .nan), errors)
    }

    /// Clean error, mean corruption error, and (with a baseline model) mCE and relative mCE
    /// (Hendrycks & Dietterich 2019), in percent.
    func robustnessTable() -> ReportTable? {
        let measured = settings.map { ($0, corruptionErrors($0)) }.filter { !$0.1.errors.isEmpty }
        guard !measured.isEmpty else { return nil }
        let baseline = results.baseline
        var headers = ["clean error (%)", "mean corruption error (%)"]
        var directions: [ColumnDirection?] = [ColumnDirection(higherIsBetter: false), ColumnDirection(higherIsBetter: false)]
        if baseline != nil {
            headers += ["mCE (%)", "relative mCE (%)"]
            directions += [ColumnDirection(higherIsBetter: false), ColumnDirection(higherIsBetter: false)]
        }
        var table = ReportTable(
            id: "robustness", caption: "Corruption robustness of the models (accuracy-based, mean over repeats)",
            keyHeaders: ["setting"], metricHeaders: headers, directions: directions)
        table.decimals = 1
        for (setting, measure) in measured {
            let all = measure.errors.values.flatMap(\.values)
            var values = [ReportTable.Value(100 * measure.clean), ReportTable.Value(100 * all.reduce(0, +) / Double(all.count))]
            if let baseline {
                let reference = settings.first { $0.model == baseline && $0.values == setting.values }.map(corruptionErrors)
                let (mce, relative) = reference.map { Self.meanCorruptionError(measure, baseline: $0) } ?? (.nan, .nan)
                values += [ReportTable.Value(100 * mce), ReportTable.Value(100 * relative)]
            }
            let incomplete = setting.cells.filter(\.completed).count < results.requestedRepeats
            table.rows.append(ReportTable.Row(keys: [setting.label], group: "all", values: values, incomplete: incomplete))
        }
        if let baseline {
            table.notes.append(
                "mCE and relative mCE are normalised by the model '\(baseline)' with the same settings (100% = as robust as it); – where that model has no results."
            )
        } else {
            table.notes.append("Name a baseline model (report.baseline in the experiment file, or --baseline) for mCE and relative mCE.")
        }
        return table
    }

    /// mCE = mean over corruption types c of Σ_s E^f_{c,s} / Σ_s E^base_{c,s}; relative mCE =
    /// mean over c of Σ_s (E^f_{c,s} − E^f_clean) / Σ_s (E^base_{c,s} − E^base_clean). Types or
    /// severities missing from either model are left out; a zero denominator gives NaN.
    static func meanCorruptionError(
        _ model: (clean: Double, errors: [String: [Int: Double]]),
        baseline: (clean: Double, errors: [String: [Int: Double]])
    ) -> (Double, Double) {
        var ce: [Double] = [], relative: [Double] = []
        for type in model.errors.keys.sorted() {
            guard let reference = baseline.errors[type] else { continue }
            let severities = model.errors[type]!.keys.filter { reference[$0] != nil }
            guard !severities.isEmpty else { continue }
            let own = severities.reduce(0.0) { $0 + model.errors[type]![$1]! }
            let base = severities.reduce(0.0) { $0 + reference[$1]! }
            ce.append(base > 0 ? own / base : .nan)
            let ownDrop = own - Double(severities.count) * model.clean, baseDrop = base - Double(severities.count) * baseline.clean
            relative.append(baseDrop != 0 ? ownDrop / baseDrop : .nan)
        }
        func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }
        return (mean(ce), mean(relative))
    }

    /// Per budget: each attack's success rate, the samples only it fooled, and the per-sample
    /// worst case over the attacks of that budget (the strongest attack per sample), from each
    /// setting's first completed repeat.
    func strongestAttackTable() -> ReportTable? {
        var table = ReportTable(
            id: "strongest_attack", caption: "Strongest attack per sample (first repeat of each setting)",
            keyHeaders: ["setting", "budget ε", "attack"],
            metricHeaders: ["robust accuracy", "fooled (fraction)", "fooled only by this attack"],
            directions: [nil, nil, nil])
        for setting in settings {
            guard let cell = setting.first, let attacks = cell.attacks, attacks.evaluations.count > 1 else { continue }
            let budgets = attacks.evaluations.map { name in cell.evaluations.first { $0.name == name }?.budget ?? .nan }
            var seen: [Double] = []
            for budget in budgets where budget.isFinite && !seen.contains(budget) { seen.append(budget) }
            for budget in seen.sorted() {
                let members = budgets.indices.filter { budgets[$0] == budget }
                guard members.count > 1 else { continue }
                let n = Double(attacks.cleanWrong.count)
                for a in members {
                    let fooled = attacks.success[a].filter { $0 }.count
                    let alone = attacks.success[a].indices.filter { i in
                        attacks.success[a][i] && !members.contains { $0 != a && attacks.success[$0][i] }
                    }.count
                    table.rows.append(
                        ReportTable.Row(
                            keys: [setting.label, TextTable.number(budget, decimals: 3), attacks.evaluations[a]], group: "\(setting.label)|\(budget)",
                            values: [ReportTable.Value(1 - Double(fooled) / n), ReportTable.Value(Double(fooled) / n), ReportTable.Value(Double(alone) / n)]))
                }
                let any = attacks.cleanWrong.indices.filter { i in members.contains { attacks.success[$0][i] } }.count
                table.rows.append(
                    ReportTable.Row(
                        keys: [setting.label, TextTable.number(budget, decimals: 3), "any of them (per-sample worst case)"],
                        group: "\(setting.label)|\(budget)|any",
                        values: [ReportTable.Value(1 - Double(any) / n), ReportTable.Value(Double(any) / n), ReportTable.Value(.nan)]))
            }
        }
        guard !table.rows.isEmpty else { return nil }
        table.notes.append(
            "A sample counts as fooled when the attacked input is misclassified (including samples the clean input already misclassifies). The worst case over attacks is the robust accuracy of their per-sample ensemble, as in AutoAttack's evaluation."
        )
        return table
    }

    /// Per ensemble attack (AutoAttack) evaluation: the robust accuracy after each of its attacks
    /// in order (the last is the ensemble's), the share of samples each broke first and the
    /// median norm of their perturbations; mean ± std over each setting's completed repeats, the
    /// sanity warnings as notes.
    func ensembleTable() -> ReportTable? {
        var table = ReportTable(
            id: "autoattack", caption: "AutoAttack: robust accuracy after each attack, and which attack broke each sample",
            keyHeaders: ["setting", "evaluation", "attack"],
            metricHeaders: ["robust accuracy after it", "broken first by it (fraction)", "median perturbation norm"],
            directions: [nil, nil, nil])
        var warnings: [String] = []
        for setting in settings {
            let cells = setting.cells.filter { $0.completed && !$0.ensembles.isEmpty }
            guard let first = cells.first else { continue }
            for ensemble in first.ensembles {
                let runs = cells.compactMap { cell in cell.ensembles.first { $0.evaluation == ensemble.evaluation && $0.components == ensemble.components } }
                for (k, component) in ensemble.components.enumerated() {
                    func value(_ measure: (EnsembleData) -> Double) -> ReportTable.Value {
                        let (mean, std) = Self.meanAndDeviation(runs.map(measure).filter(\.isFinite))
                        return ReportTable.Value(mean, runs.count > 1 ? std : .nan)
                    }
                    let name = k == 0 ? "clean" : (k == ensemble.components.count - 1 ? "+ \(component) (= ensemble)" : "+ \(component)")
                    table.rows.append(
                        ReportTable.Row(
                            keys: [setting.label, ensemble.evaluation, name], group: "\(setting.label)|\(ensemble.evaluation)",
                            values: [
                                value { $0.robustAccuracyAfter[k] },
                                value { Double($0.brokenBy.filter { $0 == k }.count) / Double(max(1, $0.brokenBy.count)) },
                                k == 0
                                    ? ReportTable.Value(.nan)
                                    : value { run in Self.median(run.norms.indices.filter { run.brokenBy[$0] == k }.map { run.norms[$0] }) },
                            ]))
                }
                for warning in Set(runs.flatMap(\.warnings)).sorted() {
                    warnings.append("\(setting.label), \(ensemble.evaluation): \(warning).")
                }
            }
        }
        guard !table.rows.isEmpty else { return nil }
        table.notes.append(
            "Each attack runs only on the samples every attack before it left robust, so the robust accuracy falls down the list and its last row is the ensemble's (AutoAttack's protocol). \"Broken first by it\" counts the samples that attack broke (clean: already misclassified); norms are measured in the attack's threat model, in [0, 1] pixel units."
        )
        if warnings.isEmpty {
            table.notes.append(
                "Sanity checks (randomised outputs, probabilities as logits, zero gradients, Square stronger than the gradient attacks): none fired.")
        } else {
            table.notes += warnings.map { "Sanity warning — \($0)" }
        }
        return table
    }

    /// The median of finite values (NaN when there are none).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.filter(\.isFinite).sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Out-of-distribution detection, mean over repeats.
    func detectionTable() -> ReportTable? {
        var order: [[String]] = []
        var values: [[String]: [[Double]]] = [:]
        for setting in settings {
            for cell in setting.cells where cell.completed {
                for row in cell.detections {
                    let key = [setting.label, row.source, row.predictor, row.score]
                    if values[key] == nil { order.append(key) }
                    values[key, default: []].append([row.auroc, row.aupr, row.fprAt95])
                }
            }
        }
        guard !order.isEmpty else { return nil }
        var table = ReportTable(
            id: "ood", caption: "Out-of-distribution detection (out-of-distribution = positive class)",
            keyHeaders: ["setting", "set", "predictor", "score"], metricHeaders: ["AUROC", "AUPR-Out", "FPR at 95% TPR"],
            directions: [ColumnDirection(higherIsBetter: true), ColumnDirection(higherIsBetter: true), ColumnDirection(higherIsBetter: false)])
        for key in order {
            let samples = values[key]!
            table.rows.append(
                ReportTable.Row(
                    keys: key, group: "\(key[1])|\(key[3])",
                    values: (0..<3).map { m in
                        let (mean, std) = Self.meanAndDeviation(samples.map { $0[m] })
                        return ReportTable.Value(mean, std)
                    }, incomplete: samples.count < results.requestedRepeats))
        }
        return table
    }

    /// Attribution quality on the clean inputs, mean over the explained samples of the first repeat.
    func attributionTable() -> ReportTable? {
        var table = ReportTable(
            id: "attributions", caption: "Attribution quality on clean inputs (first repeat; mean over the explained samples)",
            keyHeaders: ["setting", "method"], metricHeaders: ["deletion AUC", "insertion AUC"],
            directions: [ColumnDirection(higherIsBetter: false), ColumnDirection(higherIsBetter: true)])
        for setting in settings {
            for method in setting.first?.attributions ?? [] {
                func mean(_ values: [Double]) -> Double {
                    let finite = values.filter(\.isFinite)
                    return finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count)
                }
                table.rows.append(
                    ReportTable.Row(
                        keys: [setting.label, method.label], group: setting.label,
                        values: [ReportTable.Value(mean(method.deletionAUC)), ReportTable.Value(mean(method.insertionAUC))]))
            }
        }
        return table.rows.isEmpty ? nil : table
    }
}
