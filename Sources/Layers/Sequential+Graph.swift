import Foundation

extension Sequential {
    /// The model as a Graphviz DOT digraph (what torchviz draws): one record node per layer with
    /// its name, kind, output shape and parameter count, and an edge from each layer it reads
    /// (from `input` for the model's input); weight nodes fold into their readers
    /// (`foldedSummary`). Render with `dot -Tsvg`.
    public func graphDOT(title: String = "model") -> String {
        func shape(_ s: [Int]) -> String { s.map(String.init).joined(separator: "×") }
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        func escaped(_ text: String) -> String {
            text.map { "{}|<>\"\\".contains($0) ? "\\\($0)" : String($0) }.joined()
        }
        var lines = ["digraph \(quoted(title)) {", "  rankdir=TB;", "  node [shape=record, fontname=\"Helvetica\", fontsize=10];"]
        let normalised = normalization == nil ? "" : "|normalised"
        lines.append("  input [label=\"{input|\(shape(inputShape))\(normalised)}\"];")
        for (index, row) in foldedSummary() {
            let parameters = row.parameterCount > 0 ? "|\(row.parameterCount) parameters" : ""
            lines.append("  layer\(index) [label=\"{\(escaped(row.name)): \(escaped(row.kind))|\(shape(row.outputShape))\(parameters)}\"];")
            for source in inputs[index] where source < 0 || !inputs[source].isEmpty {
                lines.append("  \(source < 0 ? "input" : "layer\(source)") -> layer\(index);")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
