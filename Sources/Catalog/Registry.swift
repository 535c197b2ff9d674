import Spec

/// The kinds of one extension point (layers, attacks, …) by their `type:` name.
///
/// The same list feeds the decoder, `gauntlet list`, and error messages
/// ("unknown attack 'fgms' (did you mean 'fgsm'?)").
public struct Registry<Kind>: Sendable {
    /// What a kind of this registry is called in messages ("layer", "attack").
    public let extensionPoint: String
    public let entries: [Entry]

    public struct Entry: Sendable {
        public let name: String
        /// The Swift type of the kind, for listings.
        public let typeName: String
        /// One line describing the kind.
        public let summary: String
        /// The parameters its decoder reads (from `ParameterProbe`).
        public let parameters: [ParameterProbe.Parameter]
        let decode: @Sendable (Component) throws(SpecErrors) -> Kind
        let problems: @Sendable (Kind) -> [String]
    }

    init(_ extensionPoint: String, _ entries: [Entry]) {
        self.extensionPoint = extensionPoint
        self.entries = entries
        let names = entries.map(\.name)
        precondition(Set(names).count == names.count, "duplicate \(extensionPoint) kind in \(names)")
    }

    public var names: [String] { entries.map(\.name) }

    /// Every kind with its summary and parameters, for listings and the schema.
    public var kinds: [KindDescription] {
        entries.map { KindDescription(name: $0.name, summary: $0.summary, parameters: $0.parameters) }
    }

    /// Decodes a component into its kind and checks its parameter ranges; every problem is
    /// reported with the component's position.
    public func decode(_ component: Component) throws(SpecErrors) -> Kind {
        try decode(component, adjusting: { $0 })
    }

    /// Decodes a component, applies `adjust` to the decoded kind (a dataset's relative path
    /// made relative to its experiment file), then checks its parameter ranges.
    public func decode(_ component: Component, adjusting adjust: (Kind) -> Kind) throws(SpecErrors) -> Kind {
        guard let entry = entries.first(where: { $0.name == component.type }) else {
            let hint = Suggestion.hint(for: component.type, among: names)
            throw SpecErrors([
                component.issue(
                    "unknown \(extensionPoint) '\(component.type)'\(hint); known: \(names.joined(separator: ", "))", key: "type")
            ])
        }
        let kind = adjust(try entry.decode(component))
        let problems = entry.problems(kind)
        if !problems.isEmpty {
            throw SpecErrors(problems.map { component.issue($0, key: Self.key(in: $0)) })
        }
        return kind
    }

    /// The parameter a range message is about: by convention every `problems()` message starts
    /// with the parameter's file name (`epsilon must be …`); `issue(_:key:)` falls back to the
    /// component's position when the first word is not one of its keys.
    static func key(in message: String) -> String? {
        message.split(separator: " ").first.map(String.init)
    }
}

/// A kind as listings and the JSON Schema describe it.
public struct KindDescription: Sendable {
    public var name: String
    public var summary: String
    public var parameters: [ParameterProbe.Parameter]
}
