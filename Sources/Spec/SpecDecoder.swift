import Yams

/// A strict `Decoder` over a composed YAML node tree.
///
/// Unlike a plain Codable decoder it knows where every value is: each error carries the file,
/// line and column, the key path and what was expected. Keys are snake_case in the file and
/// camelCase in Swift. Keys the target type never asks for are errors (with a did-you-mean
/// among the keys it did ask for), and every such key in the document is reported at once.
public struct SpecDecoder {
    /// Decodes `type` from `node`; `path` is the key path of `node` inside `file`, and
    /// `ignoredKeys` are keys of the top mapping that the caller handles itself (`type`, `name`).
    /// Unknown keys are errors.
    public static func decode<T: Decodable>(
        _ type: T.Type, from node: Node, file: String, path: [any CodingKey] = [], ignoredKeys: Set<String> = []
    ) throws(SpecErrors) -> T {
        var unknown: [SpecIssue] = []
        let value = try decode(type, from: node, file: file, path: path, ignoredKeys: ignoredKeys, unknownKeys: &unknown)
        if !unknown.isEmpty { throw SpecErrors(unknown) }
        return value
    }

    /// Like `decode`, but a value that decoded is returned even when the file has unknown keys;
    /// those are appended to `unknownKeys`, so callers can go on checking and report everything at once.
    public static func decode<T: Decodable>(
        _ type: T.Type, from node: Node, file: String, path: [any CodingKey] = [], ignoredKeys: Set<String> = [],
        unknownKeys: inout [SpecIssue]
    ) throws(SpecErrors) -> T {
        let context = DecodingContext(file: file)
        if !ignoredKeys.isEmpty { context.markUsed(ignoredKeys, at: KeyPathText.render(path), node: node) }
        let value: T
        do {
            value = try T(from: NodeDecoding(node: node, path: path, context: context))
        } catch let issue as SpecIssue {
            throw SpecErrors(context.unknownKeyIssues(excludingAncestorsOf: issue.keyPath) + [issue])
        } catch let errors as SpecErrors {
            throw SpecErrors(context.unknownKeyIssues(excludingAncestorsOf: errors.issues.first?.keyPath) + errors.issues)
        } catch {
            let keyPath = KeyPathText.render(path)
            throw SpecErrors(context.unknownKeyIssues(excludingAncestorsOf: keyPath)
                             + [SpecIssue(location: context.location(node), keyPath: keyPath, message: "\(error)")])
        }
        unknownKeys += context.unknownKeyIssues()
        return value
    }

    /// A problem at the position being decoded, for `init(from:)` range checks:
    /// `throw SpecDecoder.issue(decoder, "must be positive")`.
    public static func issue(_ decoder: any Decoder, _ message: String) -> SpecIssue {
        if let decoding = decoder as? NodeDecoding {
            return SpecIssue(location: decoding.context.location(decoding.node), keyPath: KeyPathText.render(decoding.codingPath), message: message)
        }
        return SpecIssue(location: nil, keyPath: KeyPathText.render(decoder.codingPath), message: message)
    }

    /// The YAML node and file behind a decoder, when it is a `SpecDecoder` (for components).
    static func source(of decoder: any Decoder) -> (node: Node, file: String)? {
        (decoder as? NodeDecoding).map { ($0.node, $0.context.file) }
    }
}

/// Book-keeping shared by all containers of one decode: which mapping keys were asked for.
final class DecodingContext {
    let file: String
    private var mappings: [String: Node] = [:]
    private var asked: [String: Set<String>] = [:]
    private var order: [String] = []

    init(file: String) { self.file = file }

    func location(_ node: Node) -> SourceLocation? {
        node.mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) }
    }

    /// Mappings whose every valid key is declared (their type's `CodingKeys` are `CaseIterable`):
    /// their unknown keys are reported even when decoding stopped early.
    private var declared: Set<String> = []

    func declareAllKeys(_ keys: [String], at path: String, node: Node) {
        markUsed(Set(keys), at: path, node: node)
        declared.insert(path)
    }

    func register(mapping node: Node, at path: String) {
        if mappings[path] == nil { order.append(path) }
        mappings[path] = node
    }

    func markUsed(_ keys: Set<String>, at path: String, node: Node) {
        register(mapping: node, at: path)
        asked[path, default: []].formUnion(keys)
    }

    /// Keys present but never asked for. When a decode failed at `failedPath`, the mappings
    /// enclosing it stopped asking early, so their unasked keys are not reported (they may be valid).
    func unknownKeyIssues(excludingAncestorsOf failedPath: String? = nil) -> [SpecIssue] {
        var issues: [SpecIssue] = []
        for path in order {
            if let failedPath, !declared.contains(path), Self.isAncestor(path, of: failedPath) { continue }
            guard let mapping = mappings[path]?.mapping else { continue }
            let known = asked[path] ?? []
            for (key, _) in mapping {
                guard let name = key.string, !known.contains(name) else { continue }
                let keyPath = path.isEmpty ? name : "\(path).\(name)"
                let expected = known.isEmpty ? "" : "; expected one of: \(known.sorted().joined(separator: ", "))"
                issues.append(SpecIssue(location: location(key), keyPath: keyPath,
                                        message: "unknown key '\(name)'\(Suggestion.hint(for: name, among: known))\(expected)"))
            }
        }
        return issues
    }

    static func isAncestor(_ path: String, of other: String) -> Bool {
        path.isEmpty || other == path || other.hasPrefix(path + ".") || other.hasPrefix(path + "[")
    }
}

struct NodeDecoding: Decoder {
    let node: Node
    let codingPath: [any CodingKey]
    let context: DecodingContext
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(node: Node, path: [any CodingKey], context: DecodingContext) {
        self.node = node
        self.codingPath = path
        self.context = context
    }

    func issue(_ message: String, at node: Node? = nil) -> SpecIssue {
        SpecIssue(location: context.location(node ?? self.node), keyPath: KeyPathText.render(codingPath), message: message)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let mapping = node.mapping else { throw issue("expected a mapping of keys to values, found \(node.kindName)") }
        let path = KeyPathText.render(codingPath)
        context.register(mapping: node, at: path)
        if let keys = Self.declaredKeys(Key.self) { context.declareAllKeys(keys, at: path, node: node) }
        return KeyedDecodingContainer(KeyedNodeContainer<Key>(decoder: self, mapping: mapping))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard let sequence = node.sequence else { throw issue("expected a list, found \(node.kindName)") }
        return UnkeyedNodeContainer(decoder: self, elements: Array(sequence))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleNodeContainer(decoder: self) }

    /// Every file key of a `CaseIterable` coding-key type; nil when the type does not list them.
    static func declaredKeys<Key: CodingKey>(_ type: Key.Type) -> [String]? {
        guard let all = type as? any CaseIterable.Type else { return nil }
        func names<C: CaseIterable>(_ c: C.Type) -> [String] {
            C.allCases.compactMap { ($0 as? any CodingKey).map { KeyPathText.yamlName($0.stringValue) } }
        }
        return names(all)
    }

    /// Decodes a value of `type` from this decoder's node.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if let scalarType = T.self as? any ScalarConstructible.Type {
            guard let scalar = node.scalar else { throw issue("expected \(Self.describe(T.self)), found \(node.kindName)") }
            if isNull, T.self != String.self { throw issue("expected \(Self.describe(T.self)), found null") }
            guard let value = scalarType.construct(from: scalar) as? T else {
                throw issue("expected \(Self.describe(T.self)), found '\(scalar.string)'")
            }
            return value
        }
        return try T(from: self)
    }

    var isNull: Bool {
        guard let scalar = node.scalar else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is UInt64.Type, is UInt.Type, is UInt32.Type: "a non-negative integer"
        case is Float.Type, is Double.Type: "a number"
        case is String.Type: "a string"
        default: "\(type)"
        }
    }
}

extension Node {
    var kindName: String {
        switch self {
        case .scalar(let s): "the scalar '\(s.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

struct KeyedNodeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NodeDecoding
    let mapping: Node.Mapping
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { mapping.keys.compactMap { $0.string }.compactMap { Key(stringValue: $0) } }

    private var path: String { KeyPathText.render(codingPath) }

    private func lookup(_ key: Key) -> Node? {
        let name = KeyPathText.yamlName(key.stringValue)
        decoder.context.markUsed([name], at: path, node: decoder.node)
        return mapping[name]
    }

    private func child(_ key: Key) throws -> NodeDecoding {
        guard let node = lookup(key) else {
            throw decoder.issue("missing required key '\(KeyPathText.yamlName(key.stringValue))'")
        }
        return NodeDecoding(node: node, path: codingPath + [key], context: decoder.context)
    }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let node = lookup(key) else { return true }
        return NodeDecoding(node: node, path: codingPath + [key], context: decoder.context).isNull
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try child(key).decodeValue(type)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let node = lookup(key) else { return nil }
        let child = NodeDecoding(node: node, path: codingPath + [key], context: decoder.context)
        return child.isNull ? nil : try child.decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

struct UnkeyedNodeContainer: UnkeyedDecodingContainer {
    let decoder: NodeDecoding
    let elements: [Node]
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> NodeDecoding {
        guard !isAtEnd else { throw decoder.issue("the list has too few elements") }
        defer { currentIndex += 1 }
        return NodeDecoding(node: elements[currentIndex], path: codingPath + [IndexKey(currentIndex)], context: decoder.context)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        let isNull = NodeDecoding(node: elements[currentIndex], path: codingPath, context: decoder.context).isNull
        if isNull { currentIndex += 1 }
        return isNull
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

struct SingleNodeContainer: SingleValueDecodingContainer {
    let decoder: NodeDecoding
    var codingPath: [any CodingKey] { decoder.codingPath }
    func decodeNil() -> Bool { decoder.isNull }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}
