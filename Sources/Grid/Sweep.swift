import Foundation
import Spec

/// A sweep written in place of a value: one axis of the grid.
///
/// Forms (a mapping with exactly one of these keys):
/// - `{sweep: [a, b, c]}`: the listed values (any YAML values, including mappings);
/// - `{range: [start, stop]}` or `{range: [start, stop, step]}`: `start, start+step, …` below
///   `stop` (Python's `range`; integers when all three are integers);
/// - `{linspace: [start, stop, count]}`: `count` evenly spaced numbers, both ends included;
/// - `{logspace: [start, stop, count]}`: `10^x` for `x` in `linspace(start, stop, count)`.
public struct Sweep: Sendable {
    public static let forms = ["sweep", "range", "linspace", "logspace"]

    /// The values, as nodes placed at the sweep's position in each cell.
    public var values: [SpecNode]
    public var location: SourceLocation?

    /// Whether a node is written in one of the sweep forms.
    static func isSweep(_ node: SpecNode) -> Bool {
        guard let entries = node.entries, entries.count == 1 else { return false }
        return forms.contains(entries[0].key)
    }

    /// The sweep a node stands for, nil when it is an ordinary value.
    static func parse(_ node: SpecNode, path: String) throws(SpecErrors) -> Sweep? {
        guard isSweep(node), let entries = node.entries else { return nil }
        let form = entries[0].key
        let argument = entries[0].value
        let location = entries[0].keyLocation ?? node.location
        func fail(_ message: String) -> SpecErrors { SpecErrors([SpecIssue(location: location, keyPath: path, message: message)]) }
        guard let elements = argument.elements else { throw fail("\(form) expects a list, found \(argument.kindName)") }
        if form == "sweep" {
            guard !elements.isEmpty else { throw fail("sweep needs at least one value") }
            if elements.contains(where: isSweep) { throw fail("a sweep cannot contain another sweep") }
            return Sweep(values: elements, location: location)
        }
        let numbers = try elements.map { element throws(SpecErrors) -> Double in
            guard let value = element.scalarValue(Double.self), value.isFinite else {
                throw fail("\(form) arguments must be numbers, found \(element.kindName)")
            }
            return value
        }
        let generated: [String]
        switch form {
        case "range":
            guard numbers.count == 2 || numbers.count == 3 else {
                throw fail("range expects [start, stop] or [start, stop, step], got \(numbers.count) argument(s)")
            }
            let step = numbers.count == 3 ? numbers[2] : 1
            guard step != 0 else { throw fail("range step must not be 0") }
            let count = max(0, Int(((numbers[1] - numbers[0]) / step).rounded(.up)))
            guard count >= 1 else { throw fail("range(\(numbers.map(format).joined(separator: ", "))) is empty") }
            guard count <= SpecLimits.maximumCells else { throw fail("range has \(count) values; the limit is \(SpecLimits.maximumCells)") }
            let integral = elements.allSatisfy { $0.scalarValue(Int.self) != nil }
            generated = (0..<count).map { i in
                integral ? String(Int(numbers[0]) + i * Int(step)) : format(numbers[0] + Double(i) * step)
            }
        default:
            guard numbers.count == 3 else { throw fail("\(form) expects [start, stop, count], got \(numbers.count) argument(s)") }
            guard let count = elements[2].scalarValue(Int.self), count >= 1 else { throw fail("\(form) count must be a positive integer") }
            guard count <= SpecLimits.maximumCells else { throw fail("\(form) has \(count) values; the limit is \(SpecLimits.maximumCells)") }
            generated = (0..<count).map { i in
                let x = count == 1 ? numbers[0] : numbers[0] + (numbers[1] - numbers[0]) * Double(i) / Double(count - 1)
                return format(form == "logspace" ? pow(10, x) : x)
            }
        }
        return Sweep(values: generated.map { .scalar($0, quoted: false, at: location) }, location: location)
    }

    /// Decimal text of a generated value, rounded to 12 significant digits so that
    /// floating-point noise does not show (`linspace(0, 0.1, 5)` gives 0.075, not 0.07500000000000001).
    static func format(_ value: Double) -> String {
        let rounded = Double(String(format: "%.12g", value)) ?? value
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
        return "\(rounded)"
    }
}
