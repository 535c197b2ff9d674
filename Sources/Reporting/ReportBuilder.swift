import Foundation

/// Builds the report of a results folder: summary, tables, figures, methods and provenance,
/// from a `ResultSet` alone.
///
/// Cells are grouped by their *setting* (model and swept values other than the repeat); tables
/// and line figures show the mean over a setting's completed repeats (± the sample standard
/// deviation), and per-sample figures (reliability, confusion, curves, histograms, maps) the
/// setting's first completed repeat. Figures of one kind are drawn for at most
/// `figureSettings` settings; the tables hold them all.
public struct ReportBuilder {
    public let results: ResultSet
    public var figureSettings = 6
    /// The command that regenerates this report (`gauntlet report results/x`).
    public var reportCommand: String
    /// The cells grouped by setting, in order of appearance.
    let settings: [Setting]
    /// Every metric column's direction, as the cells declare it.
    let directions: [String: ColumnDirection]
    /// The metrics aggregated over repeats, per setting and evaluation.
    let summary: RepeatSummary

    public init(results: ResultSet, reportCommand: String) {
        self.results = results
        self.reportCommand = reportCommand
        var settings: [Setting] = []
        for cell in results.cells {
            if let index = settings.firstIndex(where: { $0.label == cell.label }) {
                settings[index].cells.append(cell)
            } else {
                settings.append(Setting(label: cell.label, model: cell.model, values: cell.settings.map(\.value), cells: [cell]))
            }
        }
        self.settings = settings
        directions = results.cells.reduce(into: [:]) { all, cell in all.merge(cell.directions) { old, _ in old } }
        summary = RepeatSummary(results.cells, requestedRepeats: results.requestedRepeats)
    }

    /// The cells of one setting, repeats in order.
    struct Setting {
        var label: String
        var model: String
        var values: [String]
        var cells: [CellResult]
        var first: CellResult? { cells.first(where: \.completed) }
    }

    public func build() -> Report {
        var report = Report(title: "\(results.experiment): results")
        report.sections.append(summarySection())
        let tables = tableSection()
        if !tables.blocks.isEmpty { report.sections.append(tables) }
        let figures = figureSection()
        if !figures.blocks.isEmpty { report.sections.append(figures) }
        let details = detailSection()
        if !details.blocks.isEmpty { report.sections.append(details) }
        report.sections.append(methodsSection())
        report.sections.append(provenanceSection())
        return report
    }

    // MARK: - Summary

    func summarySection() -> Section {
        var blocks: [Report.Block] = []
        let description = results.description.trimmingCharacters(in: .whitespacesAndNewlines)
        if !description.isEmpty { blocks.append(.paragraph(description)) }
        var counts: [TrialEntry.State: Int] = [:]
        for trial in results.trials { counts[trial.state, default: 0] += 1 }
        let states = [TrialEntry.State.completed, .failed, .missing, .unreadable].compactMap { state in
            counts[state].map { "\($0) \(state.rawValue)" }
        }
        blocks.append(
            .paragraph(
                "\(results.trials.count) trials (\(states.joined(separator: ", "))); \(settings.count) settings; \(results.requestedRepeats) repeat\(results.requestedRepeats == 1 ? "" : "s") asked per setting. Every number below is read from the stored results in \(results.folder)."
            ))
        if !results.problems.isEmpty {
            blocks.append(.paragraph("Not reported (unreadable or broken files):"))
            blocks.append(.list(results.problems))
        }
        let failed = results.trials.filter { $0.state == .failed || $0.state == .missing }
        if !failed.isEmpty {
            blocks.append(.paragraph("Trials without results (their settings' numbers use fewer repeats, marked †):"))
            blocks.append(
                .list(
                    failed.map { "\($0.trialID) (\($0.model), repeat \($0.repeatIndex)): \($0.state.rawValue)\($0.message.isEmpty ? "" : ": \($0.message)")" }))
        }
        blocks.append(.paragraph("Regenerate the results, then this report:"))
        blocks.append(.code((runCommands + [reportCommand]).joined(separator: "\n")))
        return Section(title: "Summary", blocks: blocks)
    }

    /// The commands that rerun the experiments (resuming skips completed cells): one per
    /// experiment of a combined set.
    var runCommands: [String] {
        let runs = results.runs.isEmpty ? [(specFile: results.specFile, overrides: results.overrides)] : results.runs
        return runs.map { run in (["gauntlet run", Self.shellQuote(run.specFile)] + run.overrides.map(Self.shellQuote)).joined(separator: " ") }
    }

    static func shellQuote(_ text: String) -> String {
        let safe = text.allSatisfy { $0.isLetter || $0.isNumber || "-_./=,:@+".contains($0) }
        return safe && !text.isEmpty ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    typealias Section = Report.Section
}
