import Foundation
import Layers
import OnnxProto
import SwiftProtobuf
import Tensors
import Testing

@testable import Onnx

/// ONNX's backend test cases (Debian's libonnx-testdata): every case whose ops the importer
/// claims runs and compares with the stored outputs at ONNX's backend tolerances (rtol 1e-3,
/// atol 1e-7). Inputs after the first are bound as constants (Gauntlet's models take one input).
/// The per-op table is docs/onnx-backend-tests.md; GAUNTLET_RECORD=1 rewrites it.
struct BackendNodeTests {
    static let root = "/usr/share/libonnx-testdata/data"

    enum Outcome: String { case passed, refused, failed, random }

    /// Cases whose outputs come from the reference's random draws (dropout in training mode).
    static let randomCases: Set<String> = [
        "node/test_training_dropout", "node/test_training_dropout_default", "node/test_training_dropout_default_mask", "node/test_training_dropout_mask",
    ]

    struct CaseResult {
        var name: String
        var ops: [String]
        var outcome: Outcome
        var detail: String
    }

    static func tensor(_ path: String) throws -> (name: String, value: OnnxValue) {
        let proto = try Onnx_TensorProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: path)))
        return (proto.name, try OnnxValue.decode(proto) { _ in Data() }.value)
    }

    /// The folders of libonnx-testdata with cases of this layout.
    static let suites = ["node", "pytorch-converted", "pytorch-operator", "simple"]

    static func run(_ directory: String, suite: String) throws -> CaseResult {
        let name = suite + "/" + URL(fileURLWithPath: directory).lastPathComponent
        let modelPath = directory + "/model.onnx"
        let proto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: modelPath)))
        let ops = Array(Set(proto.graph.node.map(\.opType))).sorted()
        let dataSet = directory + "/test_data_set_0"
        let initializerNames = Set(proto.graph.initializer.map(\.name))
        let inputNames = proto.graph.input.map(\.name).filter { !initializerNames.contains($0) }
        var inputs: [OnnxValue] = []
        for k in inputNames.indices { inputs.append(try tensor(dataSet + "/input_\(k).pb").value) }
        var bind: [String: OnnxValue] = [:]
        for (k, input) in inputNames.enumerated().dropFirst() { bind[input] = inputs[k] }
        var expected = try tensor(dataSet + "/output_0.pb").value
        if proto.graph.output.first?.type.tensorType.elemType == 16, expected.type == .integer {
            // The test data store bfloat16 outputs as their uint16 bit patterns.
            expected = OnnxValue(shape: expected.shape, floats: expected.integers.map { Float(bitPattern: UInt32($0) << 16) })
        }
        if randomCases.contains(name) {
            return CaseResult(name: name, ops: ops, outcome: .random, detail: "dropout in training mode: the reference draws its own mask")
        }
        guard let first = inputs.first, first.type == .float, !first.shape.isEmpty else {
            return CaseResult(name: name, ops: ops, outcome: .refused, detail: "the first input is not a float tensor with a batch axis")
        }
        let model: Sequential
        do {
            // The first output is compared; the graph's others are left out.
            let imported = try OnnxModel.load(path: modelPath, bind: bind, output: proto.graph.output.first?.name)
            model = try imported.makeModel(sampleShape: Array(first.shape.dropFirst()), checksSampleIndependence: false, planningBatch: first.shape[0])
        } catch {
            return CaseResult(name: name, ops: ops, outcome: .refused, detail: error.message)
        }
        // One pass over the whole tensor: an op's first axis is not a batch of samples here.
        let output = model.values(first.tensor, layers: model.layers.indices, mode: .inference)
        guard output.shape == expected.shape else {
            return CaseResult(name: name, ops: ops, outcome: .failed, detail: "shape \(output.shape), expected \(expected.shape)")
        }
        let reference = expected.asFloats
        for i in 0..<reference.count {
            let (got, want) = (output.scalars[i], reference[i])
            if want.isNaN && got.isNaN { continue }
            if want.isInfinite && got == want { continue }
            guard abs(got - want) <= 1e-7 + 1e-3 * abs(want) else {
                return CaseResult(name: name, ops: ops, outcome: .failed, detail: "element \(i): \(got), expected \(want)")
            }
        }
        return CaseResult(name: name, ops: ops, outcome: .passed, detail: "")
    }

    @Test func nodeCasesOfClaimedOpsPass() throws {
        let claimed = Set(OnnxOperators.attributes.keys).union(OnnxStatic.ops)
        var results: [CaseResult] = []
        var total = 0
        for suite in Self.suites {
            let folder = Self.root + "/" + suite
            let cases = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
            #expect(cases.count > 10, "libonnx-testdata is not installed (scripts/install-deps.sh)")
            total += cases.count
            for name in cases {
                guard FileManager.default.fileExists(atPath: "\(folder)/\(name)/test_data_set_0") else { continue }
                let proto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)/model.onnx")))
                guard proto.graph.node.allSatisfy({ claimed.contains($0.opType) }) else { continue }
                do { results.append(try Self.run("\(folder)/\(name)", suite: suite)) } catch {
                    results.append(CaseResult(name: "\(suite)/\(name)", ops: proto.graph.node.map(\.opType), outcome: .refused, detail: "\(error)"))
                }
            }
        }
        let failed = results.filter { $0.outcome == .failed }
        #expect(failed.isEmpty, "\(failed.map { "\($0.name): \($0.detail)" }.joined(separator: "\n"))")
        let passed = results.filter { $0.outcome == .passed }.count
        #expect(passed > 200, "only \(passed) cases passed")
        let table = Self.table(results, total: total)
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/onnx-backend-tests.md").standardizedFileURL
            .path
        if ProcessInfo.processInfo.environment["GAUNTLET_RECORD"] == "1" {
            try table.write(toFile: path, atomically: true, encoding: .utf8)
        } else {
            let committed = try String(contentsOfFile: path, encoding: .utf8)
            #expect(committed == table, "docs/onnx-backend-tests.md is out of date; rerun with GAUNTLET_RECORD=1")
        }
    }

    /// The per-op table: for each op, the cases using it that passed, were refused, failed.
    static func table(_ results: [CaseResult], total: Int) -> String {
        var byOp: [String: [Outcome: Int]] = [:]
        for result in results { for op in result.ops { byOp[op, default: [:]][result.outcome, default: 0] += 1 } }
        let count = { (o: Outcome) in results.filter { $0.outcome == o }.count }
        var lines = [
            "# ONNX backend node tests", "",
            "Generated by `Tests/OnnxTests/BackendNodeTests.swift` (`GAUNTLET_RECORD=1 swift test --filter BackendNodeTests`)",
            "from Debian's libonnx-testdata 1.12 (`/usr/share/libonnx-testdata/data/`: \(Self.suites.joined(separator: ", ")); \(total) cases). A case runs when every",
            "op of its graph is one the importer claims; its first input feeds the model, later inputs are",
            "bound as constants, and the first output is compared at ONNX's backend tolerances (rtol 1e-3,",
            "atol 1e-7). Refused: the importer stopped with an error naming the reason before running.", "",
            "Totals: \(results.count) cases run, \(count(.passed)) passed, \(count(.refused)) refused, \(count(.failed)) failed.", "",
            "Random: dropout in training mode, whose reference output comes from its own random mask (\(count(.random)) cases).", "",
            "| op | passed | refused | failed |", "|---|---|---|---|",
        ]
        for op in byOp.keys.sorted() {
            let c = byOp[op]!
            lines.append("| \(op) | \(c[.passed] ?? 0) | \(c[.refused] ?? 0) | \(c[.failed] ?? 0) |")
        }
        lines += ["", "## Refused cases", ""]
        for result in results where result.outcome == .refused {
            lines.append("- `\(result.name)`: \(result.detail.replacingOccurrences(of: "|", with: "\\|"))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension Error {
    /// The message without the model file's path (the table is the same on every machine).
    var message: String {
        if let error = self as? OnnxError { return error.message.components(separatedBy: "; supported ops:").first! }
        return "\(self)"
    }
}
