import Foundation
import Yams

/// An experiment file read and composed into a YAML node tree with positions.
public struct SpecDocument: Sendable {
    /// The path as given (used in every error message).
    public var file: String
    /// The file's text, stored with results so a run can be reproduced.
    public var text: String
    nonisolated(unsafe) var root: Node

    /// Reads and parses `file`. Unreadable files and YAML syntax errors become one issue each.
    public static func load(_ file: String) throws(SpecErrors) -> SpecDocument {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            throw SpecErrors([SpecIssue(location: nil, keyPath: "", message: "\(file): no such file")])
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: file) else {
            throw SpecErrors([SpecIssue(location: nil, keyPath: "", message: "\(file): cannot read the file")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecErrors([SpecIssue(location: nil, keyPath: "", message: "\(file): not UTF-8 text")])
        }
        return try parse(text, file: file)
    }

    /// Parses YAML text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(SpecErrors) -> SpecDocument {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw SpecErrors([Self.issue(for: error, file: file)])
        } catch {
            throw SpecErrors([SpecIssue(location: nil, keyPath: "", message: "\(file): \(error)")])
        }
        guard let root, root.mapping != nil else {
            throw SpecErrors([SpecIssue(location: SourceLocation(file: file, line: 1, column: 1), keyPath: "",
                                        message: "an experiment file must be a YAML mapping (key: value lines)")])
        }
        return SpecDocument(file: file, text: text, root: root)
    }

    /// Decodes the whole document into `type`; unknown keys are errors.
    public func decode<T: Decodable>(_ type: T.Type) throws(SpecErrors) -> T {
        try SpecDecoder.decode(type, from: root, file: file)
    }

    /// Decodes the whole document, returning the value even when there are unknown keys
    /// (appended to `unknownKeys`) so that the rest of the file can still be checked.
    public func decode<T: Decodable>(_ type: T.Type, unknownKeys: inout [SpecIssue]) throws(SpecErrors) -> T {
        try SpecDecoder.decode(type, from: root, file: file, unknownKeys: &unknownKeys)
    }

    static func issue(for error: YamlError, file: String) -> SpecIssue {
        func at(_ mark: Mark, _ message: String) -> SpecIssue {
            SpecIssue(location: SourceLocation(file: file, line: mark.line, column: mark.column), keyPath: "", message: "invalid YAML: \(message)")
        }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            return at(mark, [context?.text, problem].compactMap { $0 }.joined(separator: ": "))
        case let .duplicatedKeysInMapping(duplicates, context):
            return at(context.mark, "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", "))")
        case let .reader(problem, _, _, _):
            return SpecIssue(location: nil, keyPath: "", message: "\(file): cannot read as YAML: \(problem)")
        default:
            return SpecIssue(location: nil, keyPath: "", message: "\(file): invalid YAML: \(error)")
        }
    }
}
