import Foundation
import Yams

/// `key.path=value` overrides from the command line (`gauntlet sweep FILE seed=0,1,2`).
///
/// The path uses dots for keys and `[i]` for list positions (`attacks[0].epsilon`). The value is
/// YAML (`0.1`, `true`, `[1, 2]`, `{type: adam}`) or a sweep: `a,b,c` (a list of values),
/// `range(start,stop[,step])`, `linspace(start,stop,count)`, `logspace(start,stop,count)`,
/// which become the same `{sweep: […]}`, `{range: […]}`, … forms a file can use.
public enum Override {
    public enum Step: Equatable, Sendable {
        case key(String)
        case index(Int)
    }

    static let generators = ["range", "linspace", "logspace"]

    /// Applies every override in order; each one's errors name it.
    static func apply(_ overrides: [String], to root: SpecNode) throws(SpecErrors) -> SpecNode {
        var node = root
        for (index, text) in overrides.enumerated() {
            let location = SourceLocation(file: "command-line override \(index + 1) '\(text)'", line: 0, column: 0)
            func fail(_ message: String) -> SpecErrors { SpecErrors([SpecIssue(location: location, keyPath: "", message: message)]) }
            guard let equals = text.firstIndex(of: "=") else { throw fail("expected key.path=value") }
            let pathText = String(text[..<equals])
            guard let path = parsePath(pathText), !path.isEmpty else {
                throw fail("'\(pathText)' is not a key path (keys separated by '.', list positions as [i])")
            }
            let value = try parseValue(String(text[text.index(after: equals)...]), location: location)
            node = try set(value, at: path, in: node, walked: [], location: location)
        }
        return node
    }

    /// `a.b[2].c` → [.key(a), .key(b), .index(2), .key(c)]; nil when malformed.
    public static func parsePath(_ text: String) -> [Step]? {
        var steps: [Step] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = Substring(part)
            guard let keyEnd = rest.firstIndex(of: "[") ?? Optional(rest.endIndex) else { return nil }
            let key = rest[..<keyEnd]
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
            steps.append(.key(String(key)))
            rest = rest[keyEnd...]
            while rest.first == "[" {
                guard let close = rest.firstIndex(of: "]"), let index = Int(rest[rest.index(after: rest.startIndex)..<close]), index >= 0 else { return nil }
                steps.append(.index(index))
                rest = rest[rest.index(after: close)...]
            }
            guard rest.isEmpty else { return nil }
        }
        return steps
    }

    /// A value or a sweep from its command-line text.
    static func parseValue(_ text: String, location: SourceLocation) throws(SpecErrors) -> SpecNode {
        for generator in generators where text.hasPrefix(generator + "(") {
            guard text.hasSuffix(")") else {
                throw SpecErrors([SpecIssue(location: location, keyPath: "", message: "\(generator)(…) is missing its closing parenthesis")])
            }
            let inner = text.dropFirst(generator.count + 1).dropLast()
            let arguments = inner.split(separator: ",", omittingEmptySubsequences: false).map {
                SpecNode.scalar($0.trimmingCharacters(in: .whitespaces), quoted: false, at: location)
            }
            return .mapping([.init(key: generator, keyLocation: location, value: .sequence(arguments, at: location))], at: location)
        }
        let parts = splitTopLevel(text)
        if parts.count > 1 {
            let values = try parts.map { part throws(SpecErrors) in try parseYAML(part, location: location) }
            return .mapping([.init(key: "sweep", keyLocation: location, value: .sequence(values, at: location))], at: location)
        }
        return try parseYAML(text, location: location)
    }

    static func parseYAML(_ text: String, location: SourceLocation) throws(SpecErrors) -> SpecNode {
        if text.isEmpty { return .scalar("", quoted: false, at: location) }
        do {
            guard let node = try Yams.compose(yaml: text) else { return .scalar("", quoted: false, at: location) }
            var budget = 10_000
            return relocated(try SpecDocument.convert(node, file: location.file, depth: 0, budget: &budget), to: location)
        } catch let errors as SpecErrors {
            throw errors
        } catch {
            throw SpecErrors([SpecIssue(location: location, keyPath: "", message: "the value '\(text)' is not valid YAML")])
        }
    }

    /// Every node of a command-line value is reported at the override itself.
    static func relocated(_ node: SpecNode, to location: SourceLocation) -> SpecNode {
        switch node {
        case .scalar(let text, let quoted, _): .scalar(text, quoted: quoted, at: location)
        case .sequence(let elements, _): .sequence(elements.map { relocated($0, to: location) }, at: location)
        case .mapping(let entries, _):
            .mapping(entries.map { .init(key: $0.key, keyLocation: location, value: relocated($0.value, to: location)) }, at: location)
        }
    }

    /// Splits at commas outside brackets, braces and quotes.
    static func splitTopLevel(_ text: String) -> [String] {
        var parts: [String] = [], current = "", depth = 0
        var quote: Character?
        for character in text {
            if let q = quote {
                if character == q { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if "[{(".contains(character) {
                depth += 1
            } else if "]})".contains(character) {
                depth -= 1
            } else if character == ",", depth == 0 {
                parts.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        parts.append(current)
        return parts
    }

    /// `node` with `value` stored at `path`; missing keys are created, list positions must exist.
    public static func set(_ value: SpecNode, at path: [Step], in node: SpecNode, walked: [Step], location: SourceLocation) throws(SpecErrors) -> SpecNode {
        guard let step = path.first else { return value }
        let rest = Array(path.dropFirst())
        let here = render(walked + [step])
        func fail(_ message: String) -> SpecErrors { SpecErrors([SpecIssue(location: location, keyPath: here, message: message)]) }
        switch (step, node) {
        case (.key(let key), .mapping(let entries, _)):
            let child = entries.first { $0.key == key }?.value ?? .mapping([], at: location)
            return node.setting(key, to: try set(value, at: rest, in: child, walked: walked + [step], location: location), keyLocation: location)
        case (.index(let index), .sequence(var elements, let at)):
            guard index < elements.count else { throw fail("the list has \(elements.count) element(s); there is no [\(index)]") }
            elements[index] = try set(value, at: rest, in: elements[index], walked: walked + [step], location: location)
            return .sequence(elements, at: at)
        case (.key, _):
            throw fail("cannot set a key here: \(walked.isEmpty ? "the file" : render(walked)) is \(node.kindName), not a mapping")
        case (.index, _):
            throw fail("cannot index here: \(walked.isEmpty ? "the file" : render(walked)) is \(node.kindName), not a list")
        }
    }

    /// `attacks[0].epsilon` from steps.
    public static func render(_ steps: [Step]) -> String {
        var text = ""
        for step in steps {
            switch step {
            case .key(let key): text += (text.isEmpty ? "" : ".") + key
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }
}
