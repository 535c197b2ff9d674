/// A strict `Decoder` over a composed YAML node tree.
///
/// Unlike a plain Codable decoder it knows where every value is: each error carries the file,
/// line and column, the key path and what was expected. Keys are snake_case in the file and
/// camelCase in Swift. Keys the target type never asks for are errors (with a did-you-mean
/// among the keys it did ask for), and every such key in the document is reported at once.
public struct SpecDecoder {
    /// Decodes `type` from `node`; `path` is the key path of `node` in its document, and
    /// `ignoredKeys` are keys of the top mapping that the caller handles itself (`type`, `name`).
    /// Unknown keys are errors.
    public static func decode<T: Decodable>(
        _ type: T.Type, from node: SpecNode, path: [any CodingKey] = [], ignoredKeys: Set<String> = []
    ) throws(SpecErrors) -> T {
        var unknown: [SpecIssue] = []
        let value = try decode(type, from: node, path: path, ignoredKeys: ignoredKeys, unknownKeys: &unknown)
        if !unknown.isEmpty { throw SpecErrors(unknown) }
        return value
    }

    /// Like `decode`, but a value that decoded is returned even when the file has unknown keys;
    /// those are appended to `unknownKeys`, so callers can go on checking and report everything at once.
    public static func decode<T: Decodable>(
        _ type: T.Type, from node: SpecNode, path: [any CodingKey] = [], ignoredKeys: Set<String> = [],
        unknownKeys: inout [SpecIssue]
    ) throws(SpecErrors) -> T {
        try run(on: node, path: path, ignoredKeys: ignoredKeys, unknownKeys: &unknownKeys) { decoder in try T(from: decoder) }
    }

    /// Decodes some keys of a mapping with `body`, for types that re-decode only the sections
    /// of a document that changed. `Key` should be `CaseIterable`, so that the keys `body` does
    /// not ask for are still known.
    public static func decodeSections<Key: CodingKey, T>(
        _ keys: Key.Type, from node: SpecNode, unknownKeys: inout [SpecIssue],
        _ body: (KeyedDecodingContainer<Key>) throws -> T
    ) throws(SpecErrors) -> T {
        try run(on: node, path: [], ignoredKeys: [], unknownKeys: &unknownKeys) { decoder in try body(try decoder.container(keyedBy: Key.self)) }
    }

    private static func run<T>(
        on node: SpecNode, path: [any CodingKey], ignoredKeys: Set<String>, unknownKeys: inout [SpecIssue],
        _ body: (NodeDecoding) throws -> T
    ) throws(SpecErrors) -> T {
        let context = DecodingContext()
        if !ignoredKeys.isEmpty { context.markUsed(ignoredKeys, at: KeyPathText.render(path), node: node) }
        let value: T
        do {
            value = try body(NodeDecoding(node: node, path: path, context: context))
        } catch let issue as SpecIssue {
            throw SpecErrors(context.unknownKeyIssues(excludingAncestorsOf: issue.keyPath) + [issue])
        } catch let errors as SpecErrors {
            throw SpecErrors(context.unknownKeyIssues(excludingAncestorsOf: errors.issues.first?.keyPath) + errors.issues)
        } catch {
            let keyPath = KeyPathText.render(path)
            throw SpecErrors(
                context.unknownKeyIssues(excludingAncestorsOf: keyPath)
                    + [SpecIssue(location: node.location, keyPath: keyPath, message: "\(error)")])
        }
        unknownKeys += context.unknownKeyIssues()
        return value
    }

    /// A problem at the position being decoded, for `init(from:)` range checks:
    /// `throw SpecDecoder.issue(decoder, "must be positive")`.
    public static func issue(_ decoder: any Decoder, _ message: String) -> SpecIssue {
        if let decoding = decoder as? NodeDecoding {
            return SpecIssue(location: decoding.node.location, keyPath: KeyPathText.render(decoding.codingPath), message: message)
        }
        return SpecIssue(location: nil, keyPath: KeyPathText.render(decoder.codingPath), message: message)
    }

    /// The node behind a decoder, when it is a `SpecDecoder` (for components).
    static func source(of decoder: any Decoder) -> SpecNode? {
        (decoder as? NodeDecoding)?.node
    }
}

/// Book-keeping shared by all containers of one decode: which mapping keys were asked for.
final class DecodingContext {
    private var mappings: [String: SpecNode] = [:]
    private var asked: [String: Set<String>] = [:]
    private var order: [String] = []

    /// Mappings whose every valid key is declared (their type's `CodingKeys` are `CaseIterable`):
    /// their unknown keys are reported even when decoding stopped early.
    private var declared: Set<String> = []

    func declareAllKeys(_ keys: [String], at path: String, node: SpecNode) {
        markUsed(Set(keys), at: path, node: node)
        declared.insert(path)
    }

    func register(mapping node: SpecNode, at path: String) {
        if mappings[path] == nil { order.append(path) }
        mappings[path] = node
    }

    func markUsed(_ keys: Set<String>, at path: String, node: SpecNode) {
        register(mapping: node, at: path)
        asked[path, default: []].formUnion(keys)
    }

    /// Records one asked key of a mapping already registered by its container.
    func markUsed(_ key: String, at path: String) {
        asked[path, default: []].insert(key)
    }

    /// Keys present but never asked for. When a decode failed at `failedPath`, the mappings
    /// enclosing it stopped asking early, so their unasked keys are not reported (they may be valid).
    func unknownKeyIssues(excludingAncestorsOf failedPath: String? = nil) -> [SpecIssue] {
        var issues: [SpecIssue] = []
        for path in order {
            if let failedPath, !declared.contains(path), Self.isAncestor(path, of: failedPath) { continue }
            guard let entries = mappings[path]?.entries else { continue }
            let known = asked[path] ?? []
            for entry in entries {
                let name = entry.key
                guard !known.contains(name) else { continue }
                let keyPath = path.isEmpty ? name : "\(path).\(name)"
                let expected = known.isEmpty ? "" : "; expected one of: \(known.sorted().joined(separator: ", "))"
                issues.append(
                    SpecIssue(
                        location: entry.keyLocation, keyPath: keyPath,
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
    let node: SpecNode
    let codingPath: [any CodingKey]
    let context: DecodingContext
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(node: SpecNode, path: [any CodingKey], context: DecodingContext) {
        self.node = node
        self.codingPath = path
        self.context = context
    }

    func issue(_ message: String) -> SpecIssue {
        SpecIssue(location: node.location, keyPath: KeyPathText.render(codingPath), message: message)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let entries = node.entries else { throw issue("expected a mapping of keys to values, found \(node.kindName)") }
        let path = KeyPathText.render(codingPath)
        context.register(mapping: node, at: path)
        if let keys = Self.declaredKeys(Key.self) { context.declareAllKeys(keys, at: path, node: node) }
        return KeyedDecodingContainer(KeyedNodeContainer<Key>(decoder: self, entries: entries, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard let elements = node.elements else { throw issue("expected a list, found \(node.kindName)") }
        return UnkeyedNodeContainer(decoder: self, elements: elements)
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
        if SpecNode.isScalarType(T.self) {
            guard case .scalar(let text, let quoted, _) = node else { throw issue("expected \(Self.describe(T.self)), found \(node.kindName)") }
            if isNull, T.self != String.self { throw issue("expected \(Self.describe(T.self)), found null") }
            if quoted, T.self != String.self {
                throw issue("expected \(Self.describe(T.self)), found the string \"\(text)\" (remove the quotes)")
            }
            guard let value = node.scalarValue(T.self) else {
                throw issue("expected \(Self.describe(T.self)), found '\(text)'")
            }
            return value
        }
        return try T(from: self)
    }

    var isNull: Bool { node.isNull }

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

struct KeyedNodeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NodeDecoding
    let entries: [SpecNode.Entry]
    /// The rendered key path of this mapping (computed once per container).
    let path: String
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { entries.compactMap { Key(stringValue: $0.key) } }

    private func lookup(_ key: Key) -> SpecNode? {
        let name = KeyPathText.yamlName(key.stringValue)
        decoder.context.markUsed(name, at: path)
        return entries.first { $0.key == name }?.value
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
    let elements: [SpecNode]
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
