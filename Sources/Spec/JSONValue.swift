/// A JSON value with ordered object keys, printed deterministically (for generated files that
/// are checked in and compared, like the JSON Schema).
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { lhs.pretty() == rhs.pretty() }

    /// Two-space indented JSON with a trailing newline at the top level.
    public func pretty(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1), close = String(repeating: "  ", count: indent)
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .integer(let value): return String(value)
        case .number(let value): return CanonicalJSON.number(value)
        case .string(let value): return CanonicalJSON.quote(value)
        case .array(let values):
            if values.isEmpty { return "[]" }
            if values.allSatisfy({ if case .string = $0 { true } else { false } }) {
                return "[" + values.map { $0.pretty() }.joined(separator: ", ") + "]"
            }
            return "[\n" + values.map { pad + $0.pretty(indent: indent + 1) }.joined(separator: ",\n") + "\n\(close)]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            return "{\n"
                + members.map { pad + CanonicalJSON.quote($0.0) + ": " + $0.1.pretty(indent: indent + 1) }
                .joined(separator: ",\n") + "\n\(close)}"
        }
    }
}
