/// One `{type: kind, ...parameters}` entry of an experiment file, kept undecoded until the
/// registry of its extension point (in `Catalog`) knows which typed kind to decode it into.
public struct Component: Decodable, Sendable {
    /// The kind name, for example `fgsm`.
    public var type: String
    /// An optional user-given name (for example a layer name that becomes a state-dict prefix).
    public var name: String?
    /// Where the component sits in its document.
    public var keyPath: String
    public var location: SourceLocation?
    /// The entry as written (after includes and overrides).
    public let node: SpecNode
    let path: [String]

    private enum CodingKeys: String, CodingKey { case type, name }

    /// A stand-in used by `ParameterProbe`, which records components as registry slots.
    static let placeholder = Component(type: "", node: .mapping([], at: nil))

    private init(type: String, node: SpecNode) {
        self.type = type
        self.node = node
        keyPath = ""
        path = []
    }

    private init(_ other: Component, node: SpecNode) {
        type = other.type
        name = other.name
        keyPath = other.keyPath
        location = other.location
        path = other.path
        self.node = node
    }

    /// The parameter (a key of this component's mapping) an issue is about, if it is one.
    public func parameter(of issue: SpecIssue) -> String? {
        guard issue.keyPath.hasPrefix(keyPath + ".") else { return nil }
        let key = String(issue.keyPath.dropFirst(keyPath.count + 1))
        return node[key] != nil ? key : nil
    }

    /// This component without the parameters `keys` (to check the others when these failed).
    public func removing(_ keys: Set<String>) -> Component {
        guard case .mapping(let entries, let location) = node else { return self }
        return Component(self, node: .mapping(entries.filter { !keys.contains($0.key) }, at: location))
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(String.self, forKey: .type)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        guard let node = SpecDecoder.source(of: decoder) else {
            throw SpecIssue(location: nil, keyPath: KeyPathText.render(decoder.codingPath), message: "components decode only from experiment files")
        }
        self.node = node
        self.path = decoder.codingPath.map { $0.intValue.map { "#\($0)" } ?? $0.stringValue }
        keyPath = KeyPathText.render(decoder.codingPath)
        location = node.location
        // The parameters are checked when the component is decoded into its kind.
        if let entries = node.entries, let context = (decoder as? NodeDecoding)?.context {
            context.markUsed(Set(entries.map(\.key)), at: keyPath, node: node)
        }
    }

    /// Decodes the parameters into a typed kind; unknown parameters are errors naming this
    /// component. `type`, `name` and `keys` (keys its extension point reads itself, such as a
    /// layer's `inputs`) are not parameters.
    public func decode<T: Decodable>(as kind: T.Type, besides keys: Set<String> = []) throws(SpecErrors) -> T {
        try SpecDecoder.decode(kind, from: node, path: codingPath, ignoredKeys: keys.union(["type", "name"]))
    }

    /// The value of one key of the component decoded as `T`, or nil when absent, with errors at
    /// the key (a layer's `inputs`).
    public func value<T: Decodable>(_ key: String, as type: T.Type) throws(SpecErrors) -> T? {
        guard let value = node[key] else { return nil }
        return try SpecDecoder.decode(type, from: value, path: codingPath + [NameKey(key)])
    }

    private var codingPath: [any CodingKey] {
        path.map { step in step.hasPrefix("#") ? IndexKey(Int(step.dropFirst())!) as any CodingKey : NameKey(step) }
    }

    /// An error about this component: at the value of `key` when the component has that key
    /// (`type` for an unknown kind, a parameter for a failed range check), else at the component.
    public func issue(_ message: String, key: String? = nil) -> SpecIssue {
        guard let key, let value = node[key] else {
            return SpecIssue(location: location, keyPath: keyPath, message: message)
        }
        return SpecIssue(location: value.location, keyPath: "\(keyPath).\(key)", message: message)
    }

    /// The entry as canonical JSON (sorted keys), for content hashes.
    public var canonicalParameters: String { CanonicalJSON.render(node) }
}
