/// A kind of an extension point (a layer, an attack, a metric, …) as its registry knows it:
/// the `type:` name, a one-line summary, what each optional parameter means when it is absent,
/// and the range checks that run after decoding. Each extension point's protocol refines this,
/// so a registry needs one entry builder for all of them.
public protocol SpecKind: Decodable, Sendable, SendableMetatype {
    /// The name written as `type:` in experiment files.
    static var kind: String { get }
    /// One line describing the kind, for `gauntlet list` and the kind reference.
    static var summary: String { get }
    /// What each optional parameter (by file key) means when absent: a value (`"10"`) or a rule
    /// (`"2.5 · epsilon / steps"`). Every optional parameter has an entry (a test checks).
    static var defaults: [String: String] { get }
    /// Range and consistency problems, each starting with the parameter's file key
    /// (`epsilon must be …`); empty when the kind is valid.
    func problems() -> [String]
}

extension SpecKind {
    public static var defaults: [String: String] { [:] }
    public func problems() -> [String] { [] }
}

/// A closed set of names for one parameter (`norm: linf | l2`), written as a string in files and
/// decoded into an enum. An unknown name is an error at the parameter's position naming the
/// allowed values, with a did-you-mean; `gauntlet list` and the JSON Schema list the values.
public protocol ParameterChoice: RawRepresentable<String>, CaseIterable, Codable, Sendable {
    /// Names that are deliberately not allowed here, each with the sentence saying why and what
    /// to use instead (given in the error instead of a did-you-mean). Default: none.
    static var unavailable: [String: String] { get }
}

extension ParameterChoice {
    /// The allowed names, in declaration order.
    public static var names: [String] { allCases.map(\.rawValue) }

    public static var unavailable: [String: String] { [:] }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: text) else {
            let key = decoder.codingPath.last.map { KeyPathText.yamlName($0.stringValue) } ?? "value"
            throw SpecDecoder.issue(
                decoder,
                "\(key) must be one of \(Self.names.joined(separator: ", ")), got '\(text)'"
                    + (Self.unavailable[text].map { ": \($0)" } ?? Suggestion.hint(for: text, among: Self.names)))
        }
        self = value
    }

    /// A value for `ParameterProbe` to continue decoding with.
    static var placeholder: Self? { allCases.first }
}
