extension ReportBuilder {
    func figureSection() -> Section {
        var blocks: [Report.Block] = []
        let drawn = Array(settings.prefix(figureSettings))
        for figure in comparisonFigures() + parameterFigures() { blocks.append(.figure(figure)) }
        for (index, setting) in drawn.enumerated() {
            let suffix = drawn.count > 1 ? "-\(index + 1)" : ""
            let figures: [Report.Figure?] = [
                severityFigure(setting, id: "corruption_severity\(suffix)"),
                epsilonFigure(setting, id: "robustness_curve\(suffix)"),
                ensembleFigure(setting, id: "autoattack_curve\(suffix)"),
                learningCurveFigure(setting, id: "learning_curve\(suffix)"),
                reliabilityFigure(setting, id: "reliability\(suffix)"),
                curveFigure(setting, id: "roc\(suffix)", receiverOperating: true),
                curveFigure(setting, id: "precision_recall\(suffix)", receiverOperating: false),
                confusionFigure(setting, id: "confusion\(suffix)"),
                uncertaintyFigure(setting, id: "uncertainty\(suffix)"),
                attributionFigure(setting, id: "attributions\(suffix)"),
                layerFigure(setting, id: "layers\(suffix)"),
            ]
            blocks += figures.compactMap { $0.map(Report.Block.figure) }
        }
        if settings.count > drawn.count {
            blocks.append(
                .paragraph("Per-setting figures are drawn for the first \(drawn.count) of \(settings.count) settings; the tables hold every setting."))
        }
        return Section(title: "Figures", blocks: blocks)
    }

    /// The mean and standard deviation over a setting's completed repeats of one metric on
    /// one evaluation of the model.
    func points(_ setting: Setting, metric: String = "accuracy", evaluation: String) -> (Double, Double) {
        Self.meanAndDeviation(
            setting.cells.filter(\.completed).compactMap { cell in
                cell.evaluations.firstIndex { $0.name == evaluation && $0.isModelUncalibrated }.flatMap { cell.metric(metric)?[$0] }
            })
    }

    /// The compared metric columns (`report.metrics`, default the first column) of the clean
    /// evaluation against every numeric swept axis, one line per model and other settings: the
    /// comparison across a sweep.
    func comparisonFigures() -> [Report.Figure] {
        guard let first = results.cells.first(where: \.completed)?.metrics.first?.name else { return [] }
        let metrics = results.comparedMetrics.isEmpty ? [first] : results.comparedMetrics
        let axes = results.cells.first?.settings.map(\.axis) ?? []
        var figures: [Report.Figure] = []
        for metric in metrics {
            for axis in axes {
                let numeric = settings.compactMap { setting in setting.cells.first?.settings.first { $0.axis == axis }.flatMap { Double($0.value) } }
                guard numeric.count == settings.count, Set(numeric).count > 1 else { continue }
                var lines: [String: [(x: Double, y: Double, error: Double)]] = [:]
                var order: [String] = []
                for (setting, x) in zip(settings, numeric) {
                    let others = setting.cells[0].settings.filter { $0.axis != axis }.map { "\(CellResult.shortAxis($0.axis))=\($0.value)" }
                    let name = ([setting.model] + others).joined(separator: ", ")
                    if lines[name] == nil { order.append(name) }
                    let (mean, std) = points(setting, metric: metric, evaluation: "clean")
                    lines[name, default: []].append((x, mean, std))
                }
                let series = order.map { name in
                    let sorted = lines[name]!.sorted { $0.x < $1.x }
                    return LineChart.Series(name: name, points: sorted.map { ($0.x, $0.y) }, errors: sorted.map(\.error))
                }
                let short = CellResult.shortAxis(axis)
                let chart = LineChart(title: "\(metric) (clean) against \(short)", xTitle: axis, yTitle: metric, series: series)
                figures.append(
                    Report.Figure(
                        id: "compare_\(Self.fileName(metric))_\(Self.fileName(axis))",
                        caption: "Clean \(metric) of every setting against the swept \(axis), mean ± std over repeats.", svg: chart.svg()))
            }
        }
        return figures
    }

    /// Corruptions given by an explicit parameter (`gaussian_noise(std=0.1)`, `std=0.2`, …):
    /// accuracy against that parameter, one line per setting.
    func parameterFigures() -> [Report.Figure] {
        let drawn = Array(settings.prefix(figureSettings))
        var keys: [String] = []
        for evaluation in drawn.first?.first?.evaluations ?? [] where evaluation.kind == "corruption" && evaluation.severity == 0 {
            if let (key, _) = Self.soleParameter(evaluation.name), !keys.contains("\(evaluation.type)|\(key)") { keys.append("\(evaluation.type)|\(key)") }
        }
        return keys.compactMap { typeAndKey -> Report.Figure? in
            let parts = typeAndKey.split(separator: "|").map(String.init)
            let series = drawn.map { setting in
                let entries = meanAccuracy(setting).values.compactMap { entry -> (x: Double, y: Double, error: Double)? in
                    guard entry.evaluation.kind == "corruption", entry.evaluation.type == parts[0],
                        let (key, value) = Self.soleParameter(entry.evaluation.name), key == parts[1]
                    else { return nil }
                    return (value, entry.mean, entry.std)
                }.sorted { $0.x < $1.x }
                return LineChart.Series(name: setting.label, points: entries.map { ($0.x, $0.y) }, errors: entries.map(\.error))
            }
            guard series.contains(where: { $0.points.count > 1 }) else { return nil }
            let chart = LineChart(
                title: "Accuracy against \(parts[0]) \(parts[1])", xTitle: "\(parts[1]) (the corruption's parameter)",
                yTitle: "accuracy (fraction)", series: series, yDomain: 0...1)
            return Report.Figure(
                id: "corruption_\(Self.fileName(parts[0]))_\(Self.fileName(parts[1]))",
                caption: "Accuracy under \(parts[0]) against its parameter \(parts[1]), one line per setting; mean ± std over repeats.", svg: chart.svg())
        }
    }

    /// The key and numeric value of a label with one parameter (`gaussian_noise(std=0.1)`).
    static func soleParameter(_ label: String) -> (String, Double)? {
        guard let open = label.firstIndex(of: "("), label.hasSuffix(")") else { return nil }
        let inside = label[label.index(after: open)..<label.index(before: label.endIndex)]
        let pair = inside.split(separator: "=", maxSplits: 1)
        guard !inside.contains(","), pair.count == 2, let value = Double(pair[1]) else { return nil }
        return (String(pair[0]), value)
    }

    static func fileName(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    func severityFigure(_ setting: Setting, id: String) -> Report.Figure? {
        let accuracy = meanAccuracy(setting)
        guard let clean = accuracy["clean"] else { return nil }
        var types: [String] = []
        for cell in setting.cells.prefix(1) {
            for evaluation in cell.evaluations where evaluation.kind == "corruption" && evaluation.severity > 0 && !types.contains(evaluation.type) {
                types.append(evaluation.type)
            }
        }
        guard !types.isEmpty else { return nil }
        let series = types.map { type in
            let entries = accuracy.values.filter { $0.evaluation.type == type && $0.evaluation.severity > 0 && $0.evaluation.kind == "corruption" }
                .sorted { $0.evaluation.severity < $1.evaluation.severity }
            return LineChart.Series(
                name: type, points: [(0, clean.mean)] + entries.map { (Double($0.evaluation.severity), $0.mean) },
                errors: [clean.std] + entries.map(\.std))
        }
        var chart = LineChart(
            title: "Accuracy against severity: \(setting.label)", xTitle: "severity (0 = clean)",
            yTitle: "accuracy (fraction)", series: series, xDomain: 0...5, yDomain: 0...1)
        chart.width = 640
        return Report.Figure(
            id: id,
            caption:
                "Accuracy of \(setting.label) under each corruption at its published severities 1–5 (severity 0 is the clean test split); mean ± std over repeats.",
            svg: chart.svg())
    }

    func epsilonFigure(_ setting: Setting, id: String) -> Report.Figure? {
        let accuracy = meanAccuracy(setting)
        guard let clean = accuracy["clean"] else { return nil }
        var families: [String] = []
        for evaluation in setting.cells.first?.evaluations ?? []
        where evaluation.kind == "attack" && evaluation.budget.isFinite && !families.contains(evaluation.family) {
            families.append(evaluation.family)
        }
        guard !families.isEmpty else { return nil }
        let series = families.map { family in
            let entries = accuracy.values.filter { $0.evaluation.family == family && $0.evaluation.kind == "attack" }.sorted {
                $0.evaluation.budget < $1.evaluation.budget
            }
            return LineChart.Series(
                name: family, points: [(0, clean.mean)] + entries.map { ($0.evaluation.budget, $0.mean) },
                errors: [clean.std] + entries.map(\.std))
        }
        let chart = LineChart(
            title: "Robust accuracy against ε: \(setting.label)", xTitle: "budget ε ([0, 1] pixel units, in the attack's norm)",
            yTitle: "robust accuracy (fraction)", series: series, yDomain: 0...1)
        return Report.Figure(
            id: id, caption: "Robust accuracy of \(setting.label) against each attack's budget (ε = 0 is the clean accuracy); mean ± std over repeats.",
            svg: chart.svg())
    }

    /// AutoAttack's robust accuracy against ε after each of its attacks (cumulative, in the
    /// ensemble's order; the last line is the ensemble), for every version and norm swept over
    /// at least two budgets; mean ± std over repeats.
    func ensembleFigure(_ setting: Setting, id: String) -> Report.Figure? {
        let cells = setting.cells.filter { $0.completed && !$0.ensembles.isEmpty }
        guard let first = cells.first else { return nil }
        var groups: [(family: String, components: [String], entries: [(budget: Double, evaluation: String)])] = []
        for ensemble in first.ensembles {
            guard let info = first.evaluations.first(where: { $0.name == ensemble.evaluation && $0.isModelUncalibrated }), info.budget.isFinite else {
                continue
            }
            if let index = groups.firstIndex(where: { $0.family == info.family && $0.components == ensemble.components }) {
                groups[index].entries.append((info.budget, ensemble.evaluation))
            } else {
                groups.append((info.family, ensemble.components, [(info.budget, ensemble.evaluation)]))
            }
        }
        var series: [LineChart.Series] = []
        for group in groups where group.entries.count > 1 {
            let entries = group.entries.sorted { $0.budget < $1.budget }
            for (k, component) in group.components.enumerated().dropFirst() {
                var points: [(Double, Double)] = [], errors: [Double] = []
                for entry in entries {
                    let values = cells.compactMap { cell in cell.ensembles.first { $0.evaluation == entry.evaluation }?.robustAccuracyAfter[k] }
                    let (mean, std) = Self.meanAndDeviation(values)
                    points.append((entry.budget, mean))
                    errors.append(cells.count > 1 ? std : 0)
                }
                let last = k == group.components.count - 1
                let prefix = groups.count > 1 ? "\(group.family) " : ""
                series.append(LineChart.Series(name: prefix + (last ? "\(component) = ensemble" : "after \(component)"), points: points, errors: errors))
            }
        }
        guard !series.isEmpty else { return nil }
        let chart = LineChart(
            title: "AutoAttack, attack by attack: \(setting.label)", xTitle: "budget ε ([0, 1] pixel units, in the attack's norm)",
            yTitle: "robust accuracy (fraction)", series: series, yDomain: 0...1)
        return Report.Figure(
            id: id,
            caption:
                "Robust accuracy of \(setting.label) after each attack of the AutoAttack ensemble, in the order they run (each only on the samples still robust), against ε; the last line is the ensemble's robust accuracy. Mean ± std over repeats.",
            svg: chart.svg())
    }

    func learningCurveFigure(_ setting: Setting, id: String) -> Report.Figure? {
        guard let cell = setting.cells.first(where: { $0.learningCurve != nil }), let curve = cell.learningCurve, !curve.epoch.isEmpty else { return nil }
        var loss = LineChart(
            title: "Loss", xTitle: "epoch", yTitle: "loss (nats per sample)",
            series: [
                LineChart.Series(name: "training", points: Array(zip(curve.epoch, curve.trainLoss))),
                LineChart.Series(name: "validation", points: Array(zip(curve.epoch, curve.validationLoss))),
            ])
        loss.width = 420
        loss.height = 320
        var svg = SVGWriter(width: 840, height: 330, title: "Learning curves: \(setting.label)")
        var left = SVGWriter(width: 420, height: 320, title: "")
        loss.draw(into: &left)
        svg.include(left, x: 0, y: 0)
        if curve.validationAccuracy.contains(where: \.isFinite) {
            var accuracy = LineChart(
                title: "Validation accuracy", xTitle: "epoch", yTitle: "accuracy (fraction)",
                series: [
                    LineChart.Series(name: "validation", points: Array(zip(curve.epoch, curve.validationAccuracy)))
                ], yDomain: 0...1)
            accuracy.width = 420
            accuracy.height = 320
            var right = SVGWriter(width: 420, height: 320, title: "")
            accuracy.draw(into: &right)
            svg.include(right, x: 420, y: 0)
        }
        return Report.Figure(
            id: id,
            caption:
                "Learning curves of \(setting.label) (repeat \(cell.repeatIndex)): training loss (mean over the epoch's batches) and validation loss and accuracy after each epoch; a widening gap shows overfitting, two high losses underfitting.",
            svg: svg.render())
    }

    /// The first completed cell's clean model evaluation index.
    func cleanIndex(_ cell: CellResult) -> Int? {
        cell.evaluations.firstIndex { $0.kind == "clean" && $0.isModelUncalibrated }
    }

    func reliabilityFigure(_ setting: Setting, id: String) -> Report.Figure? {
        guard let cell = setting.first, let clean = cleanIndex(cell), clean < cell.reliability.count else { return nil }
        let bins = cell.reliability[clean]
        guard bins.count.contains(where: { $0 > 0 }) else { return nil }
        let diagram = ReliabilityDiagram(
            title: "Reliability: \(setting.label)", lower: bins.lower, upper: bins.upper,
            confidence: bins.confidence, accuracy: bins.accuracy, count: bins.count)
        return Report.Figure(
            id: id,
            caption:
                "Reliability diagram of \(setting.label) on the clean test split (repeat \(cell.repeatIndex)): accuracy per confidence bin, its gap to the bin's mean confidence, and the samples per bin.",
            svg: diagram.svg())
    }

    func curveFigure(_ setting: Setting, id: String, receiverOperating: Bool) -> Report.Figure? {
        guard let cell = setting.first, let clean = cleanIndex(cell) else { return nil }
        let all = receiverOperating ? cell.roc : cell.precisionRecall
        guard clean < all.count, !all[clean].isEmpty else { return nil }
        let curves = all[clean]
        let series = curves.prefix(10).map { curve in
            LineChart.Series(
                name: curves.count == 1 ? "class \(cell.className(curve.positiveClass)) positive" : "class \(cell.className(curve.positiveClass)) vs rest",
                points: Array(zip(curve.x, curve.y)), markers: false)
        }
        var chart = LineChart(
            title: "\(receiverOperating ? "ROC" : "Precision–recall"): \(setting.label)",
            xTitle: receiverOperating ? "false-positive rate" : "recall", yTitle: receiverOperating ? "true-positive rate" : "precision",
            series: Array(series), xDomain: 0...1, yDomain: 0...1)
        chart.diagonal = receiverOperating
        let kind = receiverOperating ? "ROC curves (dotted: chance)" : "Precision–recall curves"
        return Report.Figure(
            id: id,
            caption: "\(kind) of \(setting.label) on the clean test split (repeat \(cell.repeatIndex))\(curves.count > 10 ? ", first 10 classes" : "").",
            svg: chart.svg())
    }

    func confusionFigure(_ setting: Setting, id: String) -> Report.Figure? {
        guard let cell = setting.first, let clean = cleanIndex(cell), clean < cell.confusion.count, cell.classCount > 0 else { return nil }
        let map = Heatmap(
            title: "Confusion matrix: \(setting.label)", rowTitle: "true class", columnTitle: "predicted class",
            labels: (0..<cell.classCount).map(cell.className), values: cell.confusion[clean])
        return Report.Figure(
            id: id,
            caption: "Confusion matrix of \(setting.label) on the clean test split (repeat \(cell.repeatIndex)): counts, coloured by each true class's share.",
            svg: map.svg())
    }

    func uncertaintyFigure(_ setting: Setting, id: String) -> Report.Figure? {
        guard let cell = setting.first, let data = cell.uncertainty, !data.scores.isEmpty else { return nil }
        let score = data.scores.firstIndex(of: "entropy") ?? 0
        var groups: [(name: String, values: [Double])] = []
        var corrupted: [Double] = [], attacked: [Double] = []
        for (row, evaluation) in data.evaluations.enumerated() where evaluation < cell.evaluations.count && cell.evaluations[evaluation].isModelUncalibrated {
            switch cell.evaluations[evaluation].kind {
            case "clean": groups.append(("clean", data.values[row][score]))
            case "corruption": corrupted += data.values[row][score]
            default: attacked += data.values[row][score]
            }
        }
        if !corrupted.isEmpty { groups.append(("corrupted (all)", corrupted)) }
        if !attacked.isEmpty { groups.append(("attacked (all)", attacked)) }
        for set in data.outOfDistribution where score < set.values.count { groups.append(("OOD: \(set.source)", set.values[score])) }
        guard !groups.isEmpty else { return nil }
        let chart = HistogramChart(title: "\(data.scores[score]) of the model: \(setting.label)", xTitle: "\(data.scores[score]) (nats)", groups: groups)
        return Report.Figure(
            id: id,
            caption:
                "Distribution of the model's per-sample \(data.scores[score]) for \(setting.label) (repeat \(cell.repeatIndex)) on clean, corrupted, attacked and out-of-distribution inputs, as fractions of each group.",
            svg: chart.svg())
    }

    func attributionFigure(_ setting: Setting, id: String) -> Report.Figure? {
        guard let cell = setting.first, !cell.attributions.isEmpty else { return nil }
        let samples = min(8, cell.attributions.map(\.maps.count).max() ?? 0)
        guard samples > 0 else { return nil }
        let maps = cell.attributions.map { method in
            (0..<samples).map { s -> ImageGrid.Map? in
                guard s < method.maps.count else { return nil }
                let scale = method.scales[s] > 0 ? method.scales[s] : 1
                return ImageGrid.Map(width: method.width, height: method.height, values: method.maps[s].map { $0 / scale })
            }
        }
        let targets = cell.attributions[0].targets
        let grid = ImageGrid(
            title: "Attributions on clean inputs: \(setting.label)", rowLabels: cell.attributions.map(\.label),
            columnLabels: (0..<samples).map { s in
                s < targets.count ? "#\(s) \(cell.classNames.isEmpty ? "class \(targets[s])" : cell.className(targets[s]))" : "#\(s)"
            }, maps: maps)
        return Report.Figure(
            id: id,
            caption:
                "Attribution maps of \(setting.label) (repeat \(cell.repeatIndex)) for the first test samples and the explained class, summed over channels and divided by their display scale (the 99th percentile of |map|).",
            svg: grid.svg())
    }

    func layerFigure(_ setting: Setting, id: String) -> Report.Figure? {
        guard let cell = setting.first, let data = cell.layerStatistics, !data.layers.isEmpty, data.evaluations.count > 1 else { return nil }
        // The same series, in the same colours, in both panels (clean's relative change is 0).
        let shown = Array(data.evaluations.indices.prefix(8))
        let labels = data.layers.enumerated().map { (value: Double($0.offset), label: $0.element) }
        func panel(_ title: String, _ axis: String, _ values: [[Double]]) -> SVGWriter {
            var chart = LineChart(
                title: title, xTitle: "layer", yTitle: axis,
                series: shown.map { e in
                    LineChart.Series(name: data.evaluations[e], points: values[e].enumerated().map { (Double($0.offset), $0.element) })
                })
            chart.xLabels = labels
            chart.alwaysLegend = true
            chart.width = 560
            chart.height = 360
            var svg = SVGWriter(width: 560, height: 360, title: "")
            chart.draw(into: &svg)
            return svg
        }
        var svg = SVGWriter(width: 1120, height: 370, title: "Per-layer statistics: \(setting.label)")
        svg.include(panel("Relative activation change", "‖a(x′) − a(x)‖ / ‖a(x)‖", data.relativeChange), x: 0, y: 0)
        svg.include(panel("Dead units", "fraction of units ≤ 0", data.deadFraction), x: 560, y: 0)
        return Report.Figure(
            id: id,
            caption:
                "Per-layer statistics of \(setting.label) (repeat \(cell.repeatIndex)): relative change of each layer's activations under each perturbation, and the fraction of units never positive.",
            svg: svg.render())
    }
}
