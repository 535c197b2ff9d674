import ArgumentParser
import Catalog
import Foundation
@testable import GauntletCLI
import Testing

/// Text outputs as golden files in `Golden/`, reviewed in diffs; `GAUNTLET_RECORD=1` rewrites them.
/// The plan pins trial ids and seeds as literal values: they must be the same in every process
/// and on every machine.
@Suite struct GoldenOutputTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden").path

    func expectGolden(_ name: String, _ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let path = "\(Self.directory)/\(name)"
        if ProcessInfo.processInfo.environment["GAUNTLET_RECORD"] == "1" {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == expected, "\(name) differs from its golden file (GAUNTLET_RECORD=1 rewrites it)", sourceLocation: sourceLocation)
    }

    @Test func planOfTheCheckedInExperiments() throws {
        for name in ["quickstart", "optimizer-sweep", "noise-study"] {
            let grid = try ResolvedGrid.load("\(Binary.packageRoot)/experiments/\(name).yaml")
            try expectGolden("plan-\(name).txt", Plan.render(grid))
        }
        let swept = try ResolvedGrid.load("\(Binary.packageRoot)/experiments/quickstart.yaml",
                                          overrides: ["attacks[0].epsilon=linspace(0,0.1,3)", "seed=0,1"])
        try expectGolden("plan-quickstart-swept.txt", Plan.render(swept))
        try expectGolden("plan-models-interpretability-study.txt",
                         try Plan.renderModels(try ResolvedGrid.load("\(Binary.packageRoot)/experiments/interpretability-study.yaml")))
    }

    @Test func listingAndHelp() throws {
        try expectGolden("list.txt", List.render())
        for command in ["run", "sweep", "plan", "validate", "list", "schema", "report"] {
            try expectGolden("help-\(command).txt", helpText(command))
        }
        try expectGolden("help.txt", Gauntlet.helpMessage(columns: 100))
    }

    func helpText(_ command: String) -> String {
        let types: [String: any ParsableCommand.Type] = [
            "run": Run.self, "sweep": Sweep.self, "plan": Plan.self, "validate": Validate.self, "list": List.self, "schema": Schema.self,
            "report": ReportCommand.self,
        ]
        return Gauntlet.helpMessage(for: types[command]!, columns: 100)
    }
}
