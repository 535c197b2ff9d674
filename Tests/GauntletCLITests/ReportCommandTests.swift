import ArgumentParser
import Foundation
import GauntletCLI
import Reporting
import Results
import Testing

/// `gauntlet report` on real results: every file it promises, and a folder with a corrupt and a
/// missing cell reported around them.
@Suite struct ReportCommandTests {
    /// The synthetic experiment with an ECE metric, an OOD set, two repeats and a baseline.
    static let experiment =
        syntheticExperiment + """

            repeats: 2
            metrics: [{type: accuracy}, {type: cross_entropy}, {type: ece}, {type: auroc}]
            uncertainty: {ood: [{type: uniform_images, samples: 50}]}
            report: {baseline: mlp}
            """

    func runExperiment(_ workspace: Workspace) throws -> String {
        let spec = try workspace.write("synthetic.yaml", Self.experiment)
        var run = try Gauntlet.parseAsRoot(["run", spec, "--output", "\(workspace.directory)/results", "--in-process", "--quiet"])
        try run.run()
        return "\(workspace.directory)/results/synthetic_smoke"
    }

    @Test func writesEveryPartOfTheReport() throws {
        let workspace = try Workspace()
        let folder = try runExperiment(workspace)
        var report = try Gauntlet.parseAsRoot(["report", folder])
        try report.run()
        let html = try String(contentsOfFile: "\(folder)/report.html", encoding: .utf8)
        let markdown = try String(contentsOfFile: "\(folder)/report.md", encoding: .utf8)
        for table in ["clean", "corruptions", "attacks", "ood", "trials"] {
            #expect(FileManager.default.fileExists(atPath: "\(folder)/tables/\(table).tex"), "no tables/\(table).tex")
        }
        for figure in ["robustness_curve-1", "learning_curve-1", "reliability-1", "roc-1", "confusion-1", "uncertainty-1"] {
            #expect(FileManager.default.fileExists(atPath: "\(folder)/figures/\(figure).svg"), "no figures/\(figure).svg")
            #expect(markdown.contains("figures/\(figure).svg"))
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/rsvg-convert") {
                let pdf = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/figures/\(figure).pdf"))
                #expect(pdf.starts(with: Data("%PDF".utf8)), "figures/\(figure).pdf is not a PDF")
            }
        }
        // Definitions come from the cells, the exact command is given, repeats are aggregated.
        #expect(html.contains("equal-width bins, confidence c in bin min(⌊c·15⌋, 14)"))
        #expect(html.contains("gauntlet run \(workspace.directory)/synthetic.yaml"))
        #expect(html.contains("gauntlet report \(folder)"))
        #expect(html.contains(" ± "))
    }

    @Test func cellsRecordTheWallTimeOfEachStage() throws {
        let workspace = try Workspace()
        let folder = try runExperiment(workspace)
        let results = try ResultsFolder.read(folder)
        #expect(results.cells.count == 4)
        for cell in results.cells {
            #expect(cell.stages.map(\.stage) == ["data", "training", "evaluations", "attacks", "out_of_distribution"])
            #expect(cell.stages.allSatisfy { $0.seconds >= 0 && $0.seconds.isFinite })
            // The stages after training split the evaluation time.
            let evaluation = cell.stages.dropFirst(2).reduce(0) { $0 + $1.seconds }
            #expect(abs(evaluation - cell.evaluationSeconds) < 0.05 + 0.05 * cell.evaluationSeconds)
            #expect(cell.stages[1].seconds == cell.trainingSeconds)
        }
        // In one process the dataset is loaded once: exactly one trial carries the loading time.
        #expect(results.cells.filter { $0.stages[0].seconds > 0 }.count == 1)
    }

    @Test func aCorruptAndAMissingCellAreNamedAndTheRestReported() throws {
        let workspace = try Workspace()
        let folder = try runExperiment(workspace)
        let cells = try FileManager.default.contentsOfDirectory(atPath: "\(folder)/cells").filter { $0.hasSuffix(".h5") }.sorted()
        #expect(cells.count == 4)
        // One cell overwritten with garbage, one deleted.
        try Data("not an HDF5 file".utf8).write(to: URL(fileURLWithPath: "\(folder)/cells/\(cells[0])"))
        try FileManager.default.removeItem(atPath: "\(folder)/cells/\(cells[1])")
        let results = try ResultsFolder.read(folder)
        #expect(results.cells.count == 2)
        #expect(results.problems.contains { $0.hasPrefix("cells/\(cells[0]):") && $0.contains("not a readable HDF5 file") })
        #expect(results.problems.contains { $0.hasPrefix("cells/\(cells[1]):") })
        var report = try Gauntlet.parseAsRoot(["report", folder])
        try report.run()
        let html = try String(contentsOfFile: "\(folder)/report.html", encoding: .utf8)
        #expect(html.contains("cells/\(cells[0])"))
        #expect(html.contains("cells/\(cells[1])"))
        #expect(html.contains("†"), "rows from fewer repeats than asked are marked")
        // Without the index, the cells alone are reported.
        try FileManager.default.removeItem(atPath: "\(folder)/synthetic_smoke.h5")
        let alone = try ResultsFolder.read(folder)
        #expect(alone.cells.count == 2 && alone.problems.contains { $0.contains("index") && $0.contains("missing") })
    }

    @Test func anEmptyFolderIsAClearError() throws {
        let workspace = try Workspace()
        #expect(throws: (any Error).self) { try ResultsFolder.read(workspace.directory) }
        #expect(throws: (any Error).self) { try ResultsFolder.read("\(workspace.directory)/nothing") }
    }
}
