import Catalog
import Foundation
import Spec
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The checked-in JSON Schema is the generated one; `GAUNTLET_RECORD=1 swift test` rewrites it.
@Suite struct SchemaTests {
    @Test func checkedInSchemaMatchesTheRegistries() throws {
        let path = "\(packageRoot)/\(ExperimentSchema.path)"
        if ProcessInfo.processInfo.environment["GAUNTLET_RECORD"] == "1" {
            try ExperimentSchema.text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let checkedIn = try String(contentsOfFile: path, encoding: .utf8)
        #expect(checkedIn == ExperimentSchema.text, "\(ExperimentSchema.path) is stale: run `GAUNTLET_RECORD=1 swift test --filter SchemaTests`")
    }

    /// `schemas/experiment.md` ends with a section generated from the registries, so a registered
    /// kind cannot be missing from it; `GAUNTLET_RECORD=1 swift test` rewrites it.
    @Test func theExperimentFormatListsEveryRegisteredKind() throws {
        let path = "\(packageRoot)/\(KindReference.path)"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        if ProcessInfo.processInfo.environment["GAUNTLET_RECORD"] == "1" {
            try KindReference.updating(text).write(toFile: path, atomically: true, encoding: .utf8)
        }
        let checkedIn = try String(contentsOfFile: path, encoding: .utf8)
        #expect(KindReference.updating(checkedIn) == checkedIn, "\(KindReference.path) is stale: run `GAUNTLET_RECORD=1 swift test --filter SchemaTests`")
        for point in Registries.extensionPoints {
            for kind in point.kinds { #expect(checkedIn.contains("- `\(kind.name)`: "), "\(point.name) \(kind.name)") }
        }
        // The section follows the registries: a kind added to one would be missing from the file.
        #expect(
            KindReference.markdown.components(separatedBy: "\n- `").count - 1
                == Registries.extensionPoints.reduce(0) { $0 + $1.kinds.count } + Registries.layerBlocks.count)
    }

    @Test func everyKindAppearsWithItsParameters() {
        let text = ExperimentSchema.text
        for (_, _, kinds) in Registries.extensionPoints {
            for kind in kinds {
                #expect(text.contains("\"const\": \"\(kind.name)\""), "\(kind.name)")
                for parameter in kind.parameters { #expect(text.contains("\"\(parameter.name)\":"), "\(kind.name).\(parameter.name)") }
            }
        }
        let fgsm = Registries.attacks.kinds.first { $0.name == "fgsm" }!
        #expect(
            fgsm.parameters == [
                ParameterProbe.Parameter(name: "epsilon", type: .number, isRequired: true),
                ParameterProbe.Parameter(name: "random_start", type: .boolean, isRequired: false, defaultValue: "false"),
                ParameterProbe.Parameter(name: "step_size", type: .number, isRequired: false, defaultValue: "epsilon, or 1.25 · epsilon with a random start"),
            ])
        let adam = Registries.optimizers.kinds.first { $0.name == "adam" }!
        #expect(adam.parameters.allSatisfy { !$0.isRequired } && adam.parameters.map(\.name) == ["lr", "beta1", "beta2", "eps", "weight_decay"])
    }

    @Test func experimentFilesDeclareAndPassTheSchemaWithAnIndependentValidator() throws {
        let directory = "\(packageRoot)/experiments"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(!files.isEmpty)
        for file in files {
            let text = try String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8)
            #expect(text.hasPrefix("# yaml-language-server: $schema=../schemas/experiment.schema.json\n"), "\(file)")
        }
        let result = try validate(files.map { "\(directory)/\($0)" })
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.split(separator: "\n").count == files.count)

        // The same validator rejects a misspelt key and an unknown kind: the check can fail.
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-schema-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: broken) }
        try String(contentsOfFile: "\(directory)/quickstart.yaml", encoding: .utf8)
            .replacingOccurrences(of: "epochs: 1", with: "epoch: 1")
            .replacingOccurrences(of: "type: fgsm", with: "type: fgsn")
            .write(toFile: broken, atomically: true, encoding: .utf8)
        let rejected = try validate([broken])
        #expect(rejected.status == 1)
        #expect(rejected.output.contains("INVALID"))
    }

    /// Validates YAML files with Debian's python3-jsonschema (Draft 7) and python3-yaml.
    func validate(_ files: [String]) throws -> (status: Int32, output: String) {
        let script = """
            import json, sys, yaml, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft7Validator.check_schema(schema)
            validator = jsonschema.Draft7Validator(schema)
            failed = False
            for path in sys.argv[2:]:
                errors = list(validator.iter_errors(yaml.safe_load(open(path))))
                print(("INVALID " if errors else "valid ") + path + "".join("\\n  " + e.message[:200] for e in errors[:3]))
                failed = failed or bool(errors)
            sys.exit(1 if failed else 0)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, "\(packageRoot)/\(ExperimentSchema.path)"] + files
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
