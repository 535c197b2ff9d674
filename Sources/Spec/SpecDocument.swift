import Foundation
import Yams

/// An experiment file read, composed with the files it includes, with command-line overrides
/// applied: one `SpecNode` tree whose every node knows its file and position.
public struct SpecDocument: Sendable {
    /// The path as given (used in messages).
    public var file: String
    /// The file's own text, stored with results so a run can be reproduced.
    public var text: String
    /// Every file read to build the document (the file itself first, then includes), with its text.
    public var sources: [(path: String, text: String)]
    /// The composed tree.
    public var root: SpecNode
    /// The command-line overrides applied (`key.path=value`), stored with results so that the
    /// exact command can be given again.
    public var overrides: [String] = []

    /// Reads `file`, its includes, and applies `overrides` (`key.path=value` from the command line).
    public static func load(_ file: String, overrides: [String] = []) throws(SpecErrors) -> SpecDocument {
        let text = try read(file, from: nil)
        return try parse(text, file: file, overrides: overrides)
    }

    /// Parses YAML text; `file` names it in messages and anchors relative includes.
    public static func parse(_ text: String, file: String, overrides: [String] = []) throws(SpecErrors) -> SpecDocument {
        var sources: [(String, String)] = [(file, text)]
        var root = try compose(text, file: file, including: [], sources: &sources)
        root = try Override.apply(overrides, to: root)
        return SpecDocument(file: file, text: text, sources: sources, root: root, overrides: overrides)
    }

    /// Rebuilds a document from the texts stored with results (the file first, then the files
    /// it includes, as `sources` lists them): includes are taken from `sources`, not the disk.
    public static func parse(stored sources: [(path: String, text: String)], overrides: [String] = []) throws(SpecErrors) -> SpecDocument {
        guard let main = sources.first else {
            throw SpecErrors([SpecIssue(location: nil, keyPath: "", message: "no stored experiment file")])
        }
        var read: [(String, String)] = [(main.path, main.text)]
        let stored = Dictionary(sources.map { ($0.path, $0.text) }, uniquingKeysWith: { first, _ in first })
        var root = try compose(main.text, file: main.path, including: [], sources: &read, stored: stored)
        root = try Override.apply(overrides, to: root)
        return SpecDocument(file: main.path, text: main.text, sources: read, root: root, overrides: overrides)
    }

    /// Decodes the whole document into `type`; unknown keys are errors.
    public func decode<T: Decodable>(_ type: T.Type) throws(SpecErrors) -> T {
        try SpecDecoder.decode(type, from: root)
    }

    /// Decodes the whole document, returning the value even when there are unknown keys
    /// (appended to `unknownKeys`) so that the rest of the file can still be checked.
    public func decode<T: Decodable>(_ type: T.Type, unknownKeys: inout [SpecIssue]) throws(SpecErrors) -> T {
        try SpecDecoder.decode(type, from: root, unknownKeys: &unknownKeys)
    }

    // MARK: - Reading and composing

    static func read(_ file: String, from include: (node: SpecNode, key: String)?) throws(SpecErrors) -> String {
        func fail(_ message: String) -> SpecErrors {
            SpecErrors([SpecIssue(location: include?.node.location, keyPath: include?.key ?? "", message: message)])
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else { throw fail("\(file): no such file") }
        guard !isDirectory.boolValue, let handle = FileHandle(forReadingAtPath: file) else { throw fail("\(file): cannot read the file") }
        defer { try? handle.close() }
        let data = handle.readData(ofLength: SpecLimits.maximumFileBytes + 1)
        guard data.count <= SpecLimits.maximumFileBytes else {
            throw fail("\(file): larger than \(SpecLimits.maximumFileBytes >> 20) MiB; experiment files are small")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw fail("\(file): not UTF-8 text") }
        return text
    }

    /// Parses one file and merges it over the files it includes.
    static func compose(
        _ text: String, file: String, including chain: [String], sources: inout [(String, String)],
        stored: [String: String] = [:]
    ) throws(SpecErrors) -> SpecNode {
        let depth = SpecLimits.flowDepth(of: text)
        guard depth <= SpecLimits.maximumDepth else {
            throw SpecErrors([SpecIssue(location: nil, keyPath: "", message: "\(file): nested \(depth) levels deep; the limit is \(SpecLimits.maximumDepth)")])
        }
        let yaml: Node?
        do {
            yaml = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw SpecErrors([issue(for: error, file: file)])
        } catch {
            throw SpecErrors([SpecIssue(location: nil, keyPath: "", message: "\(file): \(error)")])
        }
        guard let yaml, yaml.mapping != nil else {
            throw SpecErrors([
                SpecIssue(
                    location: SourceLocation(file: file, line: 1, column: 1), keyPath: "",
                    message: "an experiment file must be a YAML mapping (key: value lines)")
            ])
        }
        var budget = SpecLimits.maximumNodes
        let node = try convert(yaml, file: file, depth: 0, budget: &budget)
        guard let includeNode = node["include"] else { return node }

        // Included files, in order; then this file on top.
        let paths: [SpecNode]
        switch includeNode {
        case .scalar: paths = [includeNode]
        case .sequence(let elements, _): paths = elements
        case .mapping:
            throw SpecErrors([
                SpecIssue(location: includeNode.location, keyPath: "include", message: "expected a file path or a list of file paths, found a mapping")
            ])
        }
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent()
        var base = SpecNode.mapping([], at: node.location)
        for (index, pathNode) in paths.enumerated() {
            let key = paths.count == 1 && includeNode.elements == nil ? "include" : "include[\(index)]"
            guard let relative = pathNode.scalarValue(String.self), !relative.isEmpty else {
                throw SpecErrors([SpecIssue(location: pathNode.location, keyPath: key, message: "expected a file path, found \(pathNode.kindName)")])
            }
            let included = relative.hasPrefix("/") ? relative : directory.appendingPathComponent(relative).path
            let canonical = URL(fileURLWithPath: included).standardizedFileURL.path
            let here = URL(fileURLWithPath: file).standardizedFileURL.path
            if (chain + [here]).contains(canonical) {
                let cycle = (chain + [here, canonical]).map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: " → ")
                throw SpecErrors([SpecIssue(location: pathNode.location, keyPath: key, message: "include cycle: \(cycle)")])
            }
            let includedText: String
            if let text = stored[included] { includedText = text } else { includedText = try read(included, from: (pathNode, key)) }
            sources.append((included, includedText))
            base = base.merged(with: try compose(includedText, file: included, including: chain + [here], sources: &sources, stored: stored))
        }
        return base.merged(with: node.removing("include"))
    }

    /// Converts a Yams node, counting nodes as aliases expand and bounding depth and scalar size.
    static func convert(_ node: Node, file: String, depth: Int, budget: inout Int) throws(SpecErrors) -> SpecNode {
        let location = node.mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) }
        func fail(_ message: String) -> SpecErrors { SpecErrors([SpecIssue(location: location, keyPath: "", message: message)]) }
        budget -= 1
        guard budget >= 0 else { throw fail("more than \(SpecLimits.maximumNodes) values (are aliases expanding exponentially?)") }
        guard depth <= SpecLimits.maximumDepth else { throw fail("nested more than \(SpecLimits.maximumDepth) levels deep") }
        switch node {
        case .scalar(let scalar):
            guard scalar.string.utf8.count <= SpecLimits.maximumScalarBytes else {
                throw fail("a value of \(scalar.string.utf8.count) bytes; the limit is \(SpecLimits.maximumScalarBytes)")
            }
            let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted || scalar.style == .literal || scalar.style == .folded
            return .scalar(scalar.string, quoted: quoted, at: location)
        case .mapping(let mapping):
            var entries: [SpecNode.Entry] = []
            for (key, value) in mapping {
                guard let name = key.scalar?.string else {
                    throw SpecErrors([
                        SpecIssue(
                            location: key.mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) },
                            keyPath: "", message: "mapping keys must be plain names, not lists or mappings")
                    ])
                }
                let keyLocation = key.mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) }
                entries.append(.init(key: name, keyLocation: keyLocation, value: try convert(value, file: file, depth: depth + 1, budget: &budget)))
            }
            return .mapping(entries, at: location)
        case .sequence(let sequence):
            var elements: [SpecNode] = []
            for element in sequence { elements.append(try convert(element, file: file, depth: depth + 1, budget: &budget)) }
            return .sequence(elements, at: location)
        case .alias:
            throw fail("unresolved alias")
        }
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
