import Foundation

/// A canonical JSON rendering of a spec node: mapping keys sorted, scalars typed (integers,
/// numbers, booleans, null, strings) and printed one way. Equal meaning gives equal text, so
/// the text can be hashed into stable identifiers.
public enum CanonicalJSON {
    public static func render(_ node: SpecNode) -> String {
        switch node {
        case .scalar(let text, let quoted, _):
            if !quoted {
                if node.isNull { return "null" }
                if let bool = node.scalarValue(Bool.self) { return bool ? "true" : "false" }
                if let int = node.scalarValue(Int.self) { return String(int) }
                if let double = node.scalarValue(Double.self), double.isFinite { return number(double) }
            }
            return quote(text)
        case .mapping(let entries, _):
            return "{" + entries.sorted { $0.key < $1.key }.map { "\(quote($0.key)):\(render($0.value))" }.joined(separator: ",") + "}"
        case .sequence(let elements, _):
            return "[" + elements.map(render).joined(separator: ",") + "]"
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
