import ArgumentParser
import Catalog
import Spec

/// `gauntlet list`: every kind each extension point knows, with its parameters.
struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the kinds usable as `type:` in experiment files, with their parameters.")

    func run() {
        print(Self.render(), terminator: "")
    }

    static func render() -> String {
        var text = ""
        for point in Registries.extensionPoints {
            let keys = (Registries.componentKeys[point.name] ?? []).map { ", and \($0.name): \($0.meaning)" }.joined()
            text += "\(point.name) (at \(point.slot); each takes name\(keys)):\n"
            for kind in point.kinds {
                text += "  \(kind.name): \(kind.summary)\n"
                for parameter in kind.parameters {
                    let absence = parameter.isRequired ? ", required" : parameter.defaultValue.map { "; default \($0)" } ?? ""
                    text += "      \(parameter.name): \(describe(parameter.type))\(absence)\n"
                }
            }
        }
        text += "layer blocks (at models[].layers[], beside the layers):\n"
        for block in Registries.layerBlocks {
            text += "  \(block.name): \(block.summary)\n"
            for parameter in block.parameters {
                text += "      \(parameter.name): \(describe(parameter.type))\(parameter.isRequired ? ", required" : "")\n"
            }
        }
        return text
    }

    static func describe(_ type: ParameterProbe.ValueType) -> String {
        switch type {
        case .integer(let minimum): minimum == 0 ? "non-negative integer" : "integer"
        case .number: "number"
        case .boolean: "boolean"
        case .string: "string"
        case .choice(let names): "one of " + names.joined(separator: ", ")
        case .array(let element): "list of \(describe(element))"
        case .object(let parameters): "{" + parameters.map { "\($0.name): \(describe($0.type))" }.joined(separator: ", ") + "}"
        case .component(let slot): "component at \(slot)"
        }
    }
}

/// `gauntlet schema`: the JSON Schema of experiment files.
struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the JSON Schema of experiment files (checked in as schemas/experiment.schema.json).")

    func run() {
        print(ExperimentSchema.text, terminator: "")
    }
}
