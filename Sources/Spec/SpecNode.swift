/// A YAML value with the file position of every node, independent of Yams' node type.
///
/// Experiment files are composed from several sources (an `include`d base file, the file
/// itself, command-line overrides), so every node records where it came from; errors point
/// into the right file. Scalars keep their text and whether they were quoted: a quoted scalar
/// is always a string.
public indirect enum SpecNode: Sendable {
    case scalar(String, quoted: Bool, at: SourceLocation?)
    case mapping([Entry], at: SourceLocation?)
    case sequence([SpecNode], at: SourceLocation?)

    /// One `key: value` pair of a mapping.
    public struct Entry: Sendable {
        public var key: String
        public var keyLocation: SourceLocation?
        public var value: SpecNode

        public init(key: String, keyLocation: SourceLocation?, value: SpecNode) {
            self.key = key
            self.keyLocation = keyLocation
            self.value = value
        }
    }

    public var location: SourceLocation? {
        switch self {
        case .scalar(_, _, let at), .mapping(_, let at), .sequence(_, let at): at
        }
    }

    public var entries: [Entry]? {
        if case .mapping(let entries, _) = self { return entries }
        return nil
    }

    public var elements: [SpecNode]? {
        if case .sequence(let elements, _) = self { return elements }
        return nil
    }

    public var scalarText: String? {
        if case .scalar(let text, _, _) = self { return text }
        return nil
    }

    /// The value of `key` in a mapping.
    public subscript(key: String) -> SpecNode? {
        entries?.first { $0.key == key }?.value
    }

    /// Whether this is YAML's null (`~`, `null`, or nothing, unquoted).
    public var isNull: Bool {
        if case .scalar(let text, false, _) = self { return ["", "~", "null", "Null", "NULL"].contains(text) }
        return false
    }

    /// A scalar typed by `ScalarTyping` (`10` is an integer, `1e-3` a number, `yes` true); a
    /// quoted scalar is only ever a string. Integers convert to narrower or unsigned types when
    /// they fit; an integer is also a valid number.
    public func scalarValue<T>(_ type: T.Type) -> T? {
        guard case .scalar(let text, let quoted, _) = self else { return nil }
        if T.self == String.self { return text as? T }
        if quoted { return nil }
        switch type {
        case is Bool.Type: return ScalarTyping.bool(text) as? T
        case is Int.Type: return ScalarTyping.integer(text) as? T
        case is Int64.Type: return ScalarTyping.integer(text).map { Int64($0) } as? T
        case is Int32.Type: return ScalarTyping.integer(text).flatMap { Int32(exactly: $0) } as? T
        case is UInt64.Type: return ScalarTyping.integer(text).flatMap { UInt64(exactly: $0) } as? T
        case is UInt.Type: return ScalarTyping.integer(text).flatMap { UInt(exactly: $0) } as? T
        case is UInt32.Type: return ScalarTyping.integer(text).flatMap { UInt32(exactly: $0) } as? T
        case is Double.Type: return ScalarTyping.number(text) as? T
        case is Float.Type: return ScalarTyping.number(text).map { Float($0) } as? T
        default: return nil
        }
    }

    /// Whether `T` is decoded from a scalar by `scalarValue`.
    static func isScalarType(_ type: Any.Type) -> Bool {
        [String.self, Bool.self, Int.self, Int64.self, Int32.self, UInt64.self, UInt.self, UInt32.self, Double.self, Float.self]
            .contains { $0 == type }
    }

    /// How a message names this node's kind.
    public var kindName: String {
        switch self {
        case .scalar(let text, let quoted, _): quoted ? "the string \"\(text)\"" : "the scalar '\(text)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }
}

extension SpecNode {
    /// A copy with `value` stored at `key` of this mapping (replacing or appending).
    public func setting(_ key: String, to value: SpecNode, keyLocation: SourceLocation?) -> SpecNode {
        guard case .mapping(var entries, let at) = self else { return self }
        if let index = entries.firstIndex(where: { $0.key == key }) {
            entries[index].value = value
        } else {
            entries.append(Entry(key: key, keyLocation: keyLocation, value: value))
        }
        return .mapping(entries, at: at)
    }

    /// A copy without `key`.
    public func removing(_ key: String) -> SpecNode {
        guard case .mapping(let entries, let at) = self else { return self }
        return .mapping(entries.filter { $0.key != key }, at: at)
    }

    /// `overlay` merged onto `self`: mappings merge key by key (recursively); any other value
    /// in `overlay` replaces the base value whole (lists are not concatenated).
    func merged(with overlay: SpecNode) -> SpecNode {
        guard case .mapping(var entries, let at) = self, case .mapping(let overrides, _) = overlay else { return overlay }
        for entry in overrides {
            if let index = entries.firstIndex(where: { $0.key == entry.key }) {
                entries[index].value = entries[index].value.merged(with: entry.value)
            } else {
                entries.append(entry)
            }
        }
        return .mapping(entries, at: at)
    }
}
