import Spec

/// Expands an experiment document into its trials.
///
/// Every sweep in the file (see `Sweep`), every declared model and every repeat is an axis.
/// Axes combine as a product, in the order they appear (models first, repeats last), except:
/// - `grid.zip: [[path, path, …], …]`: the listed sweep axes advance together (equal lengths);
/// - `grid.union: [{path: value, …}, …]`: the grid is the concatenation of one grid per entry,
///   each entry setting paths (to values or sweeps) on top of the file; a trial's `union`
///   parameter says which entry it comes from.
/// Every cell is decoded on its own, so a value that is wrong in one cell is reported at the
/// place it was written.
public enum GridExpansion {
    /// One axis of one grid: a sweep at a path, or several zipped sweeps.
    struct Axis {
        var paths: [String]
        var steps: [[Override.Step]]
        var values: [[SpecNode]]  // values[i] for paths[i]
        var count: Int { values[0].count }
    }

    /// The trials of a document; every problem of every cell is thrown together.
    public static func trials(for document: SpecDocument) throws(SpecErrors) -> [Trial] {
        let expansion = try expand(document)
        guard expansion.issues.isEmpty else { throw SpecErrors(expansion.issues) }
        return expansion.trials
    }

    /// The trials of a document and the problems of its cells. Cells whose only problems are
    /// unknown keys still yield trials, so that later checks (kinds, ranges) can report theirs in
    /// the same run; problems that stop decoding (a wrong type, a bad sweep) are thrown.
    public static func expand(_ document: SpecDocument) throws(SpecErrors) -> (trials: [Trial], issues: [SpecIssue]) {
        var root = document.root
        let gridLocation = root.entries?.first { $0.key == "grid" }?.keyLocation ?? root.location
        var zips: [[String]] = []
        var members: [SpecNode.Entry] = []
        if let grid = root["grid"] {
            (zips, members) = try parseGridSection(grid)
            root = root.removing("grid")
        }
        var bases: [SpecNode] = [root]
        if !members.isEmpty {
            bases = try members.map { member throws(SpecErrors) in try applyUnionMember(member.value, to: root) }
        }
        // Count first, so a runaway grid fails before anything is materialised.
        var plans: [(base: SpecNode, axes: [Axis], union: Int?)] = []
        var total = 0
        for (member, base) in bases.enumerated() {
            let axes = try collectAxes(base, zips: zips)
            let cells = axes.reduce(1) { $0.multipliedReportingOverflow(by: $1.count).partialValue }
            total += cells
            guard total <= SpecLimits.maximumCells else {
                throw SpecErrors([
                    SpecIssue(
                        location: document.root.location, keyPath: "grid",
                        message: "the grid has more than \(SpecLimits.maximumCells) cells")
                ])
            }
            plans.append((base, axes, members.isEmpty ? nil : member))
        }

        var trials: [Trial] = []
        var issues: [SpecIssue] = []
        var seen: Set<String> = []
        for (base, axes, union) in plans {
            // Cells differ only inside the top-level sections that hold a sweep: the first cell is
            // decoded and rendered whole, the others re-decode and re-render only those sections.
            let affected = Set(
                axes.flatMap { axis in
                    axis.steps.compactMap { steps -> String? in
                        if case .key(let key)? = steps.first { return key }
                        return nil
                    }
                })
            var first: Decoded?
            var odometer = [Int](repeating: 0, count: axes.count)
            repeat {
                var cell = base
                var parameters: [(String, String)] = union.map { [("union", String($0))] } ?? []
                for (axis, position) in zip(axes, odometer) {
                    for (steps, values) in zip(axis.steps, axis.values) {
                        cell = substitute(values[position], at: steps, in: cell)
                    }
                    for (path, values) in zip(axis.paths, axis.values) {
                        parameters.append((path, display(values[position])))
                    }
                }
                do {
                    var unknown: [SpecIssue] = []
                    let decoded: Decoded
                    if let first {
                        var sections = first.sections
                        for key in affected { sections[key] = cell[key].map(CanonicalJSON.render) }
                        let spec = try first.spec.updating(affected, from: cell, unknownKeys: &unknown)
                        decoded = Decoded(
                            spec: spec, sections: sections,
                            models: affected.contains("models") ? spec.models.map(\.canonical) : first.models)
                    } else {
                        let spec = try SpecDecoder.decode(ExperimentSpec.self, from: cell, unknownKeys: &unknown)
                        let sections = Dictionary((cell.entries ?? []).map { ($0.key, CanonicalJSON.render($0.value)) }) { $1 }
                        decoded = Decoded(spec: spec, sections: sections, models: spec.models.map(\.canonical))
                        first = decoded
                    }
                    for issue in unknown where seen.insert(issue.description).inserted { issues.append(issue) }
                    trials += expand(decoded, parameters: parameters, startIndex: trials.count)
                } catch {
                    for issue in error.issues where seen.insert(issue.description).inserted { issues.append(issue) }
                }
            } while advance(&odometer, limits: axes.map(\.count))
        }
        var firstWithID: [String: Trial] = [:]
        for trial in trials {
            if let earlier = firstWithID[trial.id] {
                throw SpecErrors([
                    SpecIssue(
                        location: gridLocation, keyPath: "grid",
                        message: "cells \(earlier.index) (\(earlier.label)) and \(trial.index) (\(trial.label)) are identical; remove one (check grid.union)")
                ])
            }
            firstWithID[trial.id] = trial
        }
        return (trials, issues)
    }

    /// A decoded cell with its top-level sections and models rendered as canonical JSON.
    struct Decoded {
        var spec: ExperimentSpec
        var sections: [String: String]
        var models: [String]
    }

    /// Sections that do not determine results, or that a trial's id covers separately.
    static let unidentifying: Set<String> = ["name", "description", "repeats", "models", "seed", "report"]

    /// The trials of one decoded cell: one per model and repeat. A trial's id hashes the cell's
    /// other settings with its own model and seed, so adding a model to the list leaves the other
    /// models' ids unchanged.
    static func expand(_ cell: Decoded, parameters: [(String, String)], startIndex: Int) -> [Trial] {
        let spec = cell.spec
        let shared =
            "{"
            + cell.sections.filter { !unidentifying.contains($0.key) }.sorted { $0.key < $1.key }
            .map { CanonicalJSON.quote($0.key) + ":" + $0.value }.joined(separator: ",") + "}"
        let cellKey = ([shared] + cell.models).joined(separator: "\n")
        var trials: [Trial] = []
        for (modelIndex, model) in spec.models.enumerated() {
            for repeatIndex in 0..<spec.repeats {
                let seed = TrialSeed.seed(base: spec.seed, repeatIndex: repeatIndex)
                let identity = #"{"cell":"# + shared + #","model":"# + cell.models[modelIndex] + #","seed":"# + String(seed) + "}"
                var cellParameters = parameters
                if spec.models.count > 1 { cellParameters.insert(("model", model.name), at: 0) }
                if spec.repeats > 1 { cellParameters.append(("repeat", String(repeatIndex))) }
                trials.append(
                    Trial(
                        index: startIndex + trials.count, spec: spec, modelIndex: modelIndex, modelName: model.name,
                        repeatIndex: repeatIndex, seed: seed, id: String(SHA256.hex(identity).prefix(16)),
                        parameters: cellParameters, resolvedSpec: identity, cellKey: cellKey))
            }
        }
        return trials
    }

    // MARK: - Axes

    static func collectAxes(_ root: SpecNode, zips: [[String]]) throws(SpecErrors) -> [Axis] {
        var found: [(path: String, steps: [Override.Step], sweep: Sweep)] = []
        try walk(root, steps: []) { node, steps throws(SpecErrors) in
            let path = Override.render(steps)
            guard let sweep = try Sweep.parse(node, path: path) else { return false }
            found.append((path, steps, sweep))
            return true
        }
        var axes: [Axis] = []
        var zipped: Set<String> = []
        for group in zips {
            let members = group.compactMap { path in found.first { $0.path == path } }
            guard members.count > 1 else { continue }
            let counts = Set(members.map { $0.sweep.values.count })
            guard counts.count == 1 else {
                let detail = members.map { "\($0.path) has \($0.sweep.values.count)" }.joined(separator: ", ")
                throw SpecErrors([
                    SpecIssue(
                        location: members[0].sweep.location, keyPath: "grid.zip",
                        message: "zipped sweeps need equal lengths: \(detail)")
                ])
            }
            zipped.formUnion(members.map(\.path))
            axes.append(Axis(paths: members.map(\.path), steps: members.map(\.steps), values: members.map(\.sweep.values)))
        }
        for sweep in found where !zipped.contains(sweep.path) {
            axes.append(Axis(paths: [sweep.path], steps: [sweep.steps], values: [sweep.sweep.values]))
        }
        // Document order of each axis's first path.
        let order = Dictionary(uniqueKeysWithValues: found.enumerated().map { ($1.path, $0) })
        return axes.sorted { order[$0.paths[0]]! < order[$1.paths[0]]! }
    }

    /// Visits every node; `visit` returns true when it consumed the node (no descent).
    static func walk(_ node: SpecNode, steps: [Override.Step], _ visit: (SpecNode, [Override.Step]) throws(SpecErrors) -> Bool) throws(SpecErrors) {
        if try visit(node, steps) { return }
        switch node {
        case .scalar: return
        case .mapping(let entries, _):
            for entry in entries { try walk(entry.value, steps: steps + [.key(entry.key)], visit) }
        case .sequence(let elements, _):
            for (index, element) in elements.enumerated() { try walk(element, steps: steps + [.index(index)], visit) }
        }
    }

    static func substitute(_ value: SpecNode, at steps: [Override.Step], in node: SpecNode) -> SpecNode {
        guard let step = steps.first else { return value }
        let rest = Array(steps.dropFirst())
        switch (step, node) {
        case (.key(let key), .mapping(var entries, let at)):
            guard let index = entries.firstIndex(where: { $0.key == key }) else { return node }
            entries[index].value = substitute(value, at: rest, in: entries[index].value)
            return .mapping(entries, at: at)
        case (.index(let index), .sequence(var elements, let at)) where index < elements.count:
            elements[index] = substitute(value, at: rest, in: elements[index])
            return .sequence(elements, at: at)
        default:
            return node
        }
    }

    /// Advances a mixed-radix counter (last axis fastest); false after the last combination.
    static func advance(_ odometer: inout [Int], limits: [Int]) -> Bool {
        for axis in stride(from: odometer.count - 1, through: 0, by: -1) {
            odometer[axis] += 1
            if odometer[axis] < limits[axis] { return true }
            odometer[axis] = 0
        }
        return false
    }

    static func display(_ node: SpecNode) -> String {
        if case .scalar(let text, _, _) = node { return text }
        return CanonicalJSON.render(node)
    }

    // MARK: - The grid section

    static func parseGridSection(_ grid: SpecNode) throws(SpecErrors) -> (zips: [[String]], union: [SpecNode.Entry]) {
        func fail(_ node: SpecNode, _ path: String, _ message: String) -> SpecErrors {
            SpecErrors([SpecIssue(location: node.location, keyPath: path, message: message)])
        }
        guard let entries = grid.entries else { throw fail(grid, "grid", "expected a mapping with zip and/or union") }
        var zips: [[String]] = []
        var union: [SpecNode.Entry] = []
        for entry in entries {
            switch entry.key {
            case "zip":
                guard let groups = entry.value.elements else { throw fail(entry.value, "grid.zip", "expected a list of lists of key paths") }
                for (g, group) in groups.enumerated() {
                    guard let paths = group.elements, paths.count >= 2 else {
                        throw fail(group, "grid.zip[\(g)]", "expected a list of at least two key paths")
                    }
                    zips.append(
                        try paths.enumerated().map { p, path throws(SpecErrors) in
                            guard let text = path.scalarValue(String.self), Override.parsePath(text) != nil else {
                                throw fail(path, "grid.zip[\(g)][\(p)]", "expected a key path like attacks[0].epsilon")
                            }
                            return text
                        })
                }
            case "union":
                guard let list = entry.value.elements, !list.isEmpty else { throw fail(entry.value, "grid.union", "expected a non-empty list of mappings") }
                for (index, member) in list.enumerated() {
                    guard member.entries != nil else { throw fail(member, "grid.union[\(index)]", "expected a mapping of key paths to values") }
                    union.append(.init(key: "grid.union[\(index)]", keyLocation: member.location, value: member))
                }
            default:
                let hint = Suggestion.hint(for: entry.key, among: ["zip", "union"])
                throw SpecErrors([
                    SpecIssue(
                        location: entry.keyLocation, keyPath: "grid.\(entry.key)",
                        message: "unknown key '\(entry.key)'\(hint); expected one of: union, zip")
                ])
            }
        }
        return (zips, union)
    }

    /// Sets every `path: value` of a union entry on a copy of the file.
    static func applyUnionMember(_ member: SpecNode, to root: SpecNode) throws(SpecErrors) -> SpecNode {
        var node = root
        for entry in member.entries ?? [] {
            guard let steps = Override.parsePath(entry.key) else {
                throw SpecErrors([
                    SpecIssue(
                        location: entry.keyLocation, keyPath: "grid.union",
                        message: "'\(entry.key)' is not a key path (keys separated by '.', list positions as [i])")
                ])
            }
            node = try Override.set(
                entry.value, at: steps, in: node, walked: [],
                location: entry.keyLocation ?? SourceLocation(file: "grid.union", line: 0, column: 0))
        }
        return node
    }
}
