import Spec

/// The kinds of one extension point (layers, attacks, …) by their `type:` name.
///
/// The same list feeds the decoder, `gauntlet list`, and error messages
/// ("unknown attack 'fgms' (did you mean 'fgsm'?)").
public struct Registry<Kind>: Sendable {
    /// What a kind of this registry is called in messages ("layer", "attack").
    public let extensionPoint: String
    public let entries: [Entry]
    /// Keys every component of this extension point may have besides `type`, `name` and its
    /// kind's parameters, read by whoever uses the registry (a layer's `inputs`), with what each means.
    public let componentKeys: [(name: String, meaning: String)]

    public struct Entry: Sendable {
        public let name: String
        /// The Swift type of the kind, for listings.
        public let typeName: String
        /// One line describing the kind.
        public let summary: String
        /// The parameters its decoder reads (from `ParameterProbe`), the optional ones with
        /// what their absence means.
        public let parameters: [ParameterProbe.Parameter]
        /// The kind's `SpecKind.defaults` as declared (a test checks they name its optional parameters).
        public let defaults: [String: String]
        let decode: @Sendable (Component) throws(SpecErrors) -> Kind
        let problems: @Sendable (Kind) -> [String]
    }

    /// A registry of `types`, each of which must conform to the protocol behind `Kind` (write
    /// the list as `[any Attack.Type]` so the compiler checks it).
    init(_ extensionPoint: String, _ types: [any SpecKind.Type], componentKeys: [(name: String, meaning: String)] = []) {
        self.extensionPoint = extensionPoint
        self.componentKeys = componentKeys
        let besides = Set(componentKeys.map(\.name))
        self.entries = types.map { Self.entry($0, besides: besides) }
        let names = entries.map(\.name)
        precondition(Set(names).count == names.count, "duplicate \(extensionPoint) kind in \(names)")
    }

    /// The entry of one concrete kind `T`, seen by the registry as `Kind`.
    static func entry<T: SpecKind>(_ type: T.Type, besides keys: Set<String>) -> Entry {
        Entry(
            name: T.kind, typeName: "\(T.self)", summary: T.summary, parameters: ParameterProbe.parameters(ofKind: T.self),
            defaults: T.defaults,
            decode: { component throws(SpecErrors) in
                guard let kind = try component.decode(as: T.self, besides: keys) as? Kind else {
                    preconditionFailure("\(T.self) is registered as a \(Kind.self) but is not one")
                }
                return kind
            },
            problems: { kind in (kind as? T)?.problems() ?? [] })
    }

    public var names: [String] { entries.map(\.name) }

    /// Every kind with its summary and parameters, for listings and the schema.
    public var kinds: [KindDescription] {
        entries.map { KindDescription(name: $0.name, summary: $0.summary, parameters: $0.parameters, defaults: $0.defaults) }
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
        let kind: Kind
        do {
            kind = adjust(try entry.decode(component))
        } catch {
            // A bad value (a closed-set name, a wrong type) stops decoding before the range
            // checks: check the other parameters without the bad ones, so every problem of the
            // component is reported at once.
            let bad = error.issues.compactMap(component.parameter(of:))
            guard bad.count == error.issues.count, let rest = try? entry.decode(component.removing(Set(bad))) else { throw error }
            let others = entry.problems(adjust(rest)).filter { Self.key(in: $0).map { !bad.contains($0) } ?? true }
            throw SpecErrors(error.issues + others.map { component.issue($0, key: Self.key(in: $0)) })
        }
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
    /// The kind's `SpecKind.defaults` as declared.
    public var defaults: [String: String]
}
