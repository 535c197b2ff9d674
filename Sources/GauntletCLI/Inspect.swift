import ArgumentParser
import Catalog
import Foundation
import Layers
import Onnx
import Reporting
import Tensors

/// `gauntlet inspect FILE`: the summary and graph of an ONNX model, or of the models of an
/// experiment file, without running anything.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a model's layers (op, output shape, parameters, FLOPs per sample) and its graph in Graphviz DOT.",
        discussion: """
            FILE is an ONNX model (.onnx) or an experiment file (.yaml, .yml), whose models are shown \
            as the first cell of its grid builds them. Weight initialisers of an ONNX model count in \
            the layer that reads them. Render the graph with `gauntlet inspect FILE --dot | dot -Tsvg > model.svg`.
            """)

    @Argument(help: "An ONNX model or an experiment file.")
    var file: String

    @Option(help: "For an experiment file: only the model of this name.")
    var model: String?

    @Option(
        name: .customLong("input-shape"),
        help: "For an ONNX model whose input has symbolic axes after the batch: the shape of one sample, for example 3,224,224.")
    var inputShape: String?

    @Flag(help: "Print the DOT graph only.")
    var dot = false

    func run() throws {
        let lowered = file.lowercased()
        if lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml") {
            let grid = try Diagnostics.resolve(file, overrides: [])
            print(try Plan.renderModels(grid, only: model, dotOnly: dot), terminator: "")
            return
        }
        if model != nil { throw ValidationError("--model picks a model of an experiment file; \(file) is an ONNX model") }
        var shape: [Int]?
        if let inputShape {
            let extents = inputShape.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !extents.isEmpty, extents.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw ValidationError("--input-shape takes positive extents separated by commas (one sample, batch axis excluded), got '\(inputShape)'")
            }
            shape = extents.map { $0! }
        }
        switch Result(catching: { () throws(OnnxError) -> String in try Self.render(onnx: file, sampleShape: shape, dotOnly: dot) }) {
        case let .success(text): print(text, terminator: "")
        case let .failure(error):
            Diagnostics.printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// The header, table and graph of an ONNX model.
    static func render(onnx file: String, sampleShape: [Int]?, dotOnly: Bool) throws(OnnxError) -> String {
        let imported = try OnnxModel.load(path: file)
        let model = try imported.makeModel(sampleShape: sampleShape, checksSampleIndependence: false)
        let title = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        if dotOnly { return model.graphDOT(title: title) }
        var text = "\(file): ONNX opset \(imported.opset)"
        if !imported.producer.isEmpty { text += ", produced by \(imported.producer)" }
        text += "\ninput '\(imported.input.name)' \(imported.input.shapeText), output '\(imported.outputName)'\n"
        if !imported.conversions.isEmpty {
            let counts = imported.conversions.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            text += "initialisers converted to float32: \(counts)\n"
        }
        do { try imported.checkSampleIndependence(model) } catch { text += "warning: \(error.message)\n" }
        text += renderSummary(model, name: title) + "\n" + model.graphDOT(title: title)
        return text
    }

    /// A model's layers as a table like torchsummary's, and its totals; weight nodes fold into
    /// the layers that read them.
    static func renderSummary(_ model: Sequential, name: String) -> String {
        let rows = model.foldedSummary().map(\.row)
        var table = TextTable(
            headers: ["layer", "kind", "output shape", "parameters", "MFLOP"], alignments: [.left, .left, .right, .right, .right])
        for row in rows {
            table.append([
                row.name, row.kind, row.outputShape.map(String.init).joined(separator: "×"), String(row.parameterCount),
                String(format: "%.3f", 2 * Double(row.multiplyAccumulates) / 1e6),
            ])
        }
        let flops = 2 * Double(rows.reduce(0) { $0 + $1.multiplyAccumulates })
        var text =
            "\nmodel \(name): input \(model.inputShape.map(String.init).joined(separator: "×"))"
            + (model.normalization == nil ? "" : ", normalised inside the model") + "\n"
        text += table.render()
        text +=
            "\(model.parameterCount) parameters (\(String(format: "%.2f", Double(model.parameterCount) * 4 / 1_048_576)) MiB as float32)"
            + ", \(String(format: "%.3f", flops / 1e6)) MFLOP per sample forward\n"
        return text
    }
}
