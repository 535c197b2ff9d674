import Layers
import Spec

/// Structural entries of a model's `layers:` list, expanded into layers before anything else:
///
/// - `{type: residual, name, body: [...], shortcut: [...], after: [...]}`: the body's layers in
///   order from the block's input, the shortcut's (the input itself when absent), an `add` of
///   the two (`<name>.add`), then the `after` layers (a ReLU, typically).
/// - `{type: repeat, name, count, layers: [...]}`: `count` copies of the layers, one after the
///   other, copy `i` named `<name>.<i>.<layer>` (torchvision's `layer1.0.conv1`).
///
/// Layers inside a block are named `<block>.<name>` (unnamed ones by their index: body `i`,
/// `shortcut.i`, `after.i`); an `inputs` name is looked up in the innermost block that defines
/// it, then outward.
enum LayerBlocks {
    /// Each structural entry: its `type`, what it does, and its keys.
    static let kinds: [(name: String, summary: String, keys: [(name: String, meaning: String, required: Bool)])] = [
        (
            "residual", "A residual block: body and shortcut (default: identity) from the block's input, summed, then the after layers.",
            [
                ("body", "the layers of the residual branch", true),
                ("shortcut", "the layers of the shortcut (default: none, the identity)", false),
                ("after", "layers after the sum (default: none)", false),
            ]
        ),
        (
            "repeat", "count copies of a list of layers (residual blocks included), named <name>.<i>.<layer>.",
            [("count", "copies, ≥ 1", true), ("layers", "the layers of one copy", true)]
        ),
    ]

    struct Residual: Decodable {
        var body: [Component]
        var shortcut: [Component]?
        var after: [Component]?
    }

    struct Repeat: Decodable {
        var count: Int
        var layers: [Component]
    }

    /// A layer after expansion, with the entry it comes from (for messages).
    struct Expanded {
        var node: ModelNode
        var component: Component
    }

    /// Expands `components` into layers and decodes each layer; problems go to `issues`.
    /// `previous` is the name of the layer the first one reads; `defaultName(i)` names the
    /// `i`-th unnamed entry; `scopes` are the enclosing blocks' prefixes, innermost first.
    static func expand(
        _ components: [Component], prefix: String, previous: String, defaultName: (Int) -> String, scopes: [String],
        issues: inout [SpecIssue]
    ) -> (layers: [Expanded], last: String, complete: Bool) {
        var layers: [Expanded] = []
        var last = previous
        var complete = true
        var defined: Set<String> = []
        let scopes = [prefix] + scopes
        func collect<T>(_ body: () throws(SpecErrors) -> T) -> T? {
            do { return try body() } catch {
                issues += error.issues
                complete = false
                return nil
            }
        }
        for (index, component) in components.enumerated() {
            let name = prefix + (component.name ?? defaultName(index))
            let first = layers.count
            switch component.type {
            case "residual":
                guard let block = collect({ () throws(SpecErrors) in try component.decode(as: Residual.self) }) else { continue }
                let expanded = residual(component, block, name: name, input: last, scopes: scopes, issues: &issues)
                layers += expanded.layers
                complete = complete && expanded.complete
                last = expanded.last
            case "repeat":
                guard let block = collect({ () throws(SpecErrors) in try component.decode(as: Repeat.self) }) else { continue }
                guard block.count >= 1, !block.layers.isEmpty else {
                    issues.append(component.issue("a repeat needs count ≥ 1 (got \(block.count)) and at least one layer", key: "count"))
                    complete = false
                    continue
                }
                // One unnamed residual block per copy is the copy itself: `layer1.0.conv1`.
                let single = block.layers.count == 1 && block.layers[0].type == "residual" && block.layers[0].name == nil
                let inner = single ? collect({ () throws(SpecErrors) in try block.layers[0].decode(as: Residual.self) }) : nil
                if single && inner == nil { continue }
                for copy in 0..<block.count {
                    let copied =
                        inner.map { residual(block.layers[0], $0, name: "\(name).\(copy)", input: last, scopes: scopes, issues: &issues) }
                        ?? expand(block.layers, prefix: "\(name).\(copy).", previous: last, defaultName: { String($0) }, scopes: scopes, issues: &issues)
                    layers += copied.layers
                    complete = complete && copied.complete
                    last = copied.last
                }
            default:
                let spec = collect { () throws(SpecErrors) in try Registries.layers.decode(component) }
                let written = collect { () throws(SpecErrors) in try component.value("inputs", as: [String].self) }
                guard let spec, let written else { continue }
                // A name resolves in the innermost block that defines it, else as written.
                let inputs = written.map { $0.map { resolve($0, scopes: scopes, known: defined) } } ?? [last]
                layers.append(Expanded(node: ModelNode(name: name, spec: spec, inputs: inputs), component: component))
                last = name
            }
            defined.insert(name)
            defined.formUnion(layers[first...].map(\.node.name))
        }
        return (layers, last, complete)
    }

    /// A residual block named `name` reading `input`.
    static func residual(
        _ component: Component, _ block: Residual, name: String, input: String, scopes: [String], issues: inout [SpecIssue]
    ) -> (layers: [Expanded], last: String, complete: Bool) {
        if block.body.isEmpty { issues.append(component.issue("a residual block needs at least one body layer", key: "body")) }
        let body = expand(block.body, prefix: name + ".", previous: input, defaultName: { String($0) }, scopes: scopes, issues: &issues)
        let shortcut = expand(
            block.shortcut ?? [], prefix: name + ".", previous: input, defaultName: { "shortcut.\($0)" }, scopes: scopes, issues: &issues)
        let add = Expanded(node: ModelNode(name: name + ".add", spec: AddSpec(), inputs: [shortcut.last, body.last]), component: component)
        let after = expand(block.after ?? [], prefix: name + ".", previous: add.node.name, defaultName: { "after.\($0)" }, scopes: scopes, issues: &issues)
        return (body.layers + shortcut.layers + [add] + after.layers, after.last, !block.body.isEmpty && body.complete && shortcut.complete && after.complete)
    }

    /// `name` in the innermost scope that defines it, else as written.
    static func resolve(_ name: String, scopes: [String], known: Set<String>) -> String {
        scopes.map { $0 + name }.first(where: known.contains) ?? name
    }
}
