/// A position in an experiment file (1-based line and column).
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`; a position outside any file (a command-line override) prints its name alone.
    public var description: String { line > 0 ? "\(file):\(line):\(column)" : file }
}

/// One problem in an experiment file: where, which key, what is wrong.
public struct SpecIssue: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the offending value or key is, when known.
    public var location: SourceLocation?
    /// The key path, for example `attacks[1].epsilon` (empty for the whole file).
    public var keyPath: String
    public var message: String

    public init(location: SourceLocation?, keyPath: String, message: String) {
        self.location = location
        self.keyPath = keyPath
        self.message = message
    }

    /// `file:line:col: key.path: message`.
    public var description: String {
        let place = location.map { "\($0): " } ?? ""
        let key = keyPath.isEmpty ? "" : "\(keyPath): "
        return place + key + message
    }
}

/// Every problem found in an experiment file, reported together.
public struct SpecErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public var issues: [SpecIssue]

    public init(_ issues: [SpecIssue]) { self.issues = issues }

    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// "Did you mean" suggestions by edit distance.
public enum Suggestion {
    /// The closest candidate within an edit distance of about a third of the word, if any.
    public static func closest(to word: String, among candidates: some Sequence<String>) -> String? {
        let limit = max(2, word.count / 3)
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let d = distance(word.lowercased(), candidate.lowercased())
            guard d <= limit else { continue }
            if let current = best, current.distance < d || (current.distance == d && current.name < candidate) { continue }
            best = (candidate, d)
        }
        return best?.name
    }

    /// The Levenshtein distance between two strings.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...max(1, b.count) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// ` (did you mean 'x'?)` or an empty string.
    public static func hint(for word: String, among candidates: some Sequence<String>) -> String {
        closest(to: word, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }
}
