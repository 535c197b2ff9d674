import Catalog
import Datasets
import Evaluation
import Layers
import Perturbations
import Spec
import Tensors
import Testing

/// What `gauntlet list`, the JSON Schema and the kind reference say about absent parameters is
/// complete and, where it is a value, true.
@Suite struct DefaultsTests {
    @Test func everyOptionalParameterSaysWhatItsAbsenceMeans() {
        for point in Registries.extensionPoints {
            for kind in point.kinds {
                let optional = kind.parameters.filter { !$0.isRequired }
                for parameter in optional {
                    #expect(parameter.defaultValue != nil, "\(point.name) \(kind.name): \(parameter.name) has no stated default")
                }
                let stale = Set(kind.defaults.keys).subtracting(optional.map(\.name))
                #expect(stale.isEmpty, "\(point.name) \(kind.name): defaults for parameters it does not read as optional: \(stale.sorted())")
            }
        }
    }

    @Test func closedParameterSetsAreListedWithTheirValues() {
        let pgd = Registries.attacks.kinds.first { $0.name == "pgd" }!
        #expect(pgd.parameters.first { $0.name == "norm" }?.type == .choice(["linf", "l2"]))
        #expect(pgd.parameters.first { $0.name == "target" }?.type == .choice(["next", "random", "least_likely"]))
        let f1 = Registries.metrics.kinds.first { $0.name == "f1" }!
        #expect(f1.parameters.first { $0.name == "average" }?.type == .choice(["macro", "micro", "weighted"]))
        #expect(ExperimentSchema.text.contains("\"enum\": [\"linf\", \"l2\"]"))
    }

    /// A stated default that is a value (a number, a boolean, one of a closed set) behaves as the
    /// parameter's absence: each fixture of `CatalogTests`, with the value written out, decodes to
    /// an equal kind or gives the same output (corruptions, attacks, metrics, layers, architectures,
    /// datasets).
    @Test func statedValuesAreWhatAbsenceDoes() throws {
        var checked = 0
        var unchecked: [String] = []
        for point in Registries.extensionPoints {
            for kind in point.kinds {
                guard let fixture = fixtures[point.name]?[kind.name] else { continue }
                for parameter in kind.parameters where !parameter.isRequired && !fixture.contains(" \(parameter.name):") {
                    guard let value = parameter.defaultValue, Self.isLiteral(value, parameter.type) else { continue }
                    let explicit = String(fixture.dropLast()) + ", \(parameter.name): \(value)}"
                    let label = "\(point.name) \(kind.name): \(parameter.name) \(value)"
                    switch try Self.compare(point: point.name, fixture, explicit) {
                    case .some(true): checked += 1
                    case .some(false): Issue.record("\(label) is not what its absence does")
                    case .none: unchecked.append(label)
                    }
                }
            }
        }
        #expect(checked >= 30, "\(checked) defaults checked")
        #expect(unchecked.isEmpty, "no behavioural check for: \(unchecked)")
    }

    static func isLiteral(_ value: String, _ type: ParameterProbe.ValueType) -> Bool {
        switch type {
        case .number, .integer: Double(value) != nil
        case .boolean: value == "true" || value == "false"
        case .choice(let names): names.contains(value)
        default: false
        }
    }

    /// Whether the two settings are the same kind or act the same; nil when there is no way to tell.
    static func compare(point: String, _ a: String, _ b: String) throws -> Bool? {
        switch point {
        case "corruption":
            let x = try Registries.corruptions.decode(try component(a)), y = try Registries.corruptions.decode(try component(b))
            if equal(x, y) { return true }
            let images = structuredImages(count: 3)
            var r1 = RandomSource(seed: 5), r2 = RandomSource(seed: 5)
            return x.apply(to: images, rng: &r1) == y.apply(to: images, rng: &r2)
        case "attack":
            let x = try Registries.attacks.decode(try component(a)), y = try Registries.attacks.decode(try component(b))
            if equal(x, y) { return true }
            var rng = RandomSource(seed: 3)
            let model = try Sequential(
                layers: [("0", FlattenSpec()), ("1", LinearSpec(outFeatures: 6)), ("2", ReLUSpec()), ("3", LinearSpec(outFeatures: 3))],
                inputShape: [1, 4, 4], rng: &rng)
            let images = Tensor.uniform(shape: [4, 1, 4, 4], using: &rng)
            var r1 = RandomSource(seed: 6), r2 = RandomSource(seed: 6)
            return x.perturb(images: images, labels: [0, 1, 2, 0], model: model, rng: &r1)
                == y.perturb(images: images, labels: [0, 1, 2, 0], model: model, rng: &r2)
        case "metric":
            let x = try Registries.metrics.decode(try component(a)), y = try Registries.metrics.decode(try component(b))
            if equal(x, y) { return true }
            guard type(of: x).task == .classification else { return nil }
            let classes = x is BestThreshold ? 2 : 4
            var rng = RandomSource(seed: 8)
            let logits = Tensor.normal(shape: [40, classes], using: &rng) * 2
            let labels = (0..<40).map { ($0 * 7) % classes }
            var p = x.makeAccumulator(), q = y.makeAccumulator()
            p.add(logits: logits, labels: labels)
            q.add(logits: logits, labels: labels)
            // Compared as text, so that NaN (an empty bin) equals NaN.
            return "\(p.result)" == "\(q.result)" && x.name == y.name
        case "layer":
            let x = try Registries.layers.decode(try component(a)), y = try Registries.layers.decode(try component(b))
            if equal(x, y) { return true }
            var r1 = RandomSource(seed: 2), r2 = RandomSource(seed: 2)
            // Images, or token sequences for the kinds that take those.
            let shape = [[2, 6, 6], [6, 6, 6], [5, 6]].first { (try? x.outputShape(for: [1] + $0)) != nil } ?? [5, 6]
            let m1 = try Sequential(layers: [("0", x)], inputShape: shape, rng: &r1)
            let m2 = try Sequential(layers: [("0", y)], inputShape: shape, rng: &r2)
            var rng = RandomSource(seed: 4)
            let images = Tensor.uniform(shape: [3] + shape, using: &rng)
            return m1.logits(images) == m2.logits(images)
        case "architecture":
            let x = try Registries.architectures.decode(try component(a)), y = try Registries.architectures.decode(try component(b))
            if equal(x, y) { return true }
            var r1 = RandomSource(seed: 2), r2 = RandomSource(seed: 2)
            let m1 = try Sequential(nodes: try x.nodes(inputShape: [1, 8, 8], outputs: 3), inputShape: [1, 8, 8], rng: &r1)
            let m2 = try Sequential(nodes: try y.nodes(inputShape: [1, 8, 8], outputs: 3), inputShape: [1, 8, 8], rng: &r2)
            var rng = RandomSource(seed: 4)
            let images = Tensor.uniform(shape: [2, 1, 8, 8], using: &rng)
            return m1.stateDict().map(\.key) == m2.stateDict().map(\.key) && m1.logits(images) == m2.logits(images)
        case "dataset":
            let x = try Registries.datasets.decode(try component(a)), y = try Registries.datasets.decode(try component(b))
            if equal(x, y) { return true }
            try writeCSVFixture()
            let p = try x.load(), q = try y.load()
            return [p.training, p.validation, p.test].map(Self.contents) == [q.training, q.validation, q.test].map(Self.contents)
        default:
            let x = try decodeAny(point: point, a), y = try decodeAny(point: point, b)
            guard let x, let y else { return nil }
            return equal(x, y) ? true : nil
        }
    }

    static func decodeAny(point: String, _ text: String) throws -> Any? {
        let c = try component(text)
        switch point {
        case "optimizer": return try Registries.optimizers.decode(c)
        case "schedule": return try Registries.schedules.decode(c)
        case "calibration method": return try Registries.calibrators.decode(c)
        case "uncertainty method": return try Registries.uncertaintyMethods.decode(c)
        case "out-of-distribution set": return try Registries.outOfDistributionSources.decode(c)
        case "attribution method": return try Registries.attributionMethods.decode(c)
        default: return nil
        }
    }

    static func contents(_ split: ImageDataset) -> [[Float]] {
        [(try! split.materialized()).images.scalars, split.labels.map(Float.init), split.targets?.scalars ?? []]
    }

    /// `a == b` when both are of one `Equatable` type.
    static func equal(_ a: Any, _ b: Any) -> Bool {
        func open<T: Equatable>(_ x: T) -> Bool { (b as? T).map { $0 == x } ?? false }
        guard let e = a as? any Equatable else { return false }
        return open(e)
    }
}
