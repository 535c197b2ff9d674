import Foundation
import Spec

/// The generated part of `schemas/experiment.md`: every registered kind of every extension
/// point with its summary and the parameters its decoder reads (`ParameterProbe`), between two
/// marker lines. The hand-written part of the file defines the kinds; this part cannot miss one.
public enum KindReference {
    /// The file the section is checked in to, relative to the repository root.
    public static let path = "schemas/experiment.md"
    public static let begin = "<!-- generated from the registries by `GAUNTLET_RECORD=1 swift test --filter SchemaTests`: do not edit -->"
    public static let end = "<!-- end of the generated section -->"

    /// The section, markers included, with a trailing newline.
    public static var markdown: String {
        var lines = [begin, "", "### Every kind and its parameters", ""]
        for point in Registries.extensionPoints {
            lines.append("**\(point.name)** (at `\(point.slot)`):")
            lines.append("")
            for kind in point.kinds {
                let parameters = kind.parameters.map(Self.describe).joined(separator: "; ")
                lines.append("- `\(kind.name)`: \(kind.summary)" + (parameters.isEmpty ? "" : " Parameters: \(parameters)."))
            }
            lines.append("")
        }
        lines.append("**layer blocks** (at `models[].layers[]`, beside the layers):")
        lines.append("")
        for block in Registries.layerBlocks {
            lines.append("- `\(block.name)`: \(block.summary) Keys: \(block.parameters.map(Self.describe).joined(separator: "; ")).")
        }
        lines.append("")
        lines.append(end)
        return lines.joined(separator: "\n") + "\n"
    }

    /// "`norm` (`linf` | `l2`, default linf)": the name, its allowed values when closed, and
    /// whether it is required or what its absence means.
    static func describe(_ parameter: ParameterProbe.Parameter) -> String {
        var notes: [String] = []
        if case .choice(let names) = parameter.type { notes.append(names.map { "`\($0)`" }.joined(separator: " | ")) }
        if parameter.isRequired {
            notes.append("required")
        } else if let value = parameter.defaultValue {
            notes.append("default \(value)")
        }
        return "`\(parameter.name)`" + (notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))")
    }

    /// `text` with its generated section replaced by the current one (appended when it has
    /// none).
    public static func updating(_ text: String) -> String {
        guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex) else {
            return text + (text.hasSuffix("\n") ? "\n" : "\n\n") + markdown
        }
        var rest = text[stop.upperBound...]
        if rest.hasPrefix("\n") { rest = rest.dropFirst() }
        return String(text[..<start.lowerBound]) + markdown + rest
    }
}
