import Foundation
import Yams

/// A canonical JSON rendering of a YAML node: mapping keys sorted, scalars typed (integers,
/// numbers, booleans, null, strings) and printed one way. Equal meaning gives equal text, so
/// the text can be hashed into stable identifiers.
public enum CanonicalJSON {
    public static func render(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain || scalar.style == .any {
                if ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return "null" }
                if let bool = Bool.construct(from: scalar) { return bool ? "true" : "false" }
                if let int = Int.construct(from: scalar) { return String(int) }
                if let double = Double.construct(from: scalar), double.isFinite { return number(double) }
            }
            return quote(scalar.string)
        case .mapping(let mapping):
            let pairs = mapping.map { (key: $0.key.string ?? render($0.key), value: $0.value) }
                .sorted { $0.key < $1.key }
                .map { "\(quote($0.key)):\(render($0.value))" }
            return "{" + pairs.joined(separator: ",") + "}"
        case .sequence(let sequence):
            return "[" + sequence.map(render).joined(separator: ",") + "]"
        case .alias:
            return "null"
        }
    }

    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
