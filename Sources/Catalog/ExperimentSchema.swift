import Spec

/// The JSON Schema (draft-07) of experiment files, generated from the same types and registries
/// the decoder uses, for editors (yaml-language-server) and independent validators.
///
/// Every value may also be written as a sweep (`{sweep: […]}`, `{range: […]}`, …), so every
/// property accepts either its own type or the `sweep` definition.
public enum ExperimentSchema {
    /// The file this schema is checked in as, relative to the repository root.
    public static let path = "schemas/experiment.schema.json"

    /// Descriptions of the top-level keys (kinds and their parameters describe themselves).
    static let descriptions: [String: String] = [
        "schema_version": "Version of this file format; must be 1.",
        "name": "Name of the experiment; results go to results/<name>/. Letters, digits, '_', '-', '.'.",
        "description": "Free text describing the experiment.",
        "seed": "Root of every random stream (default 0).",
        "repeats": "How many times each cell runs, with seeds derived from seed (default 1).",
        "dataset": "The dataset: one of the dataset kinds.",
        "models": "The models to train and evaluate; each is an axis value of the grid.",
        "training": "How the models are trained.",
        "noise": "Corruptions, each evaluated on the test split.",
        "attacks": "Attacks, each evaluated on the test split.",
        "evaluation": "How evaluations run.",
        "metrics": "Metrics computed for every evaluation (default: accuracy and cross_entropy).",
        "calibration": "Post-hoc calibration methods, fitted on the validation split for every predictor and evaluated on every test evaluation.",
        "uncertainty": "Uncertainty methods (predictors evaluated beside the model) and out-of-distribution sets for detection.",
        "interpret": "Attributions of the first test samples of every evaluation (clean, corrupted, attacked), their quality checks, and layer introspection.",
        "store": "Which tensors the results file keeps: predictions, logits, weights, and the first N inputs of every evaluation.",
        "include": "A base file (or list of files, merged in order) that this file overrides; paths are relative to this file.",
        "grid": "How sweep axes combine: zip pairs axes, union concatenates grids. Without it axes form a product.",
    ]

    /// The schema as pretty-printed JSON with a trailing newline.
    public static var text: String { generate().pretty() + "\n" }

    public static func generate() -> JSONValue {
        var root = objectSchema(ParameterProbe.parameters(of: ExperimentSpec.self), path: "", descriptions: descriptions)
        guard case .object(var members) = root, let index = members.firstIndex(where: { $0.0 == "properties" }),
            case .object(var properties) = members[index].1
        else { return root }
        properties.insert(
            (
                "include",
                .object([
                    ("description", .string(descriptions["include"]!)),
                    (
                        "anyOf",
                        .array([
                            .object([("type", .string("string"))]),
                            .object([("type", .string("array")), ("items", .object([("type", .string("string"))]))]),
                        ])
                    ),
                ])
            ), at: 0)
        properties.append(
            (
                "grid",
                .object([
                    ("description", .string(descriptions["grid"]!)),
                    ("type", .string("object")),
                    (
                        "properties",
                        .object([
                            (
                                "zip",
                                .object([
                                    ("description", .string("Groups of key paths (like attacks[0].epsilon) whose sweeps advance together.")),
                                    ("type", .string("array")),
                                    (
                                        "items",
                                        .object([("type", .string("array")), ("items", .object([("type", .string("string"))])), ("minItems", .integer(2))])
                                    ),
                                ])
                            ),
                            (
                                "union",
                                .object([
                                    ("description", .string("Grids concatenated: each entry sets key paths (to values or sweeps) on top of the file.")),
                                    ("type", .string("array")), ("items", .object([("type", .string("object"))])), ("minItems", .integer(1)),
                                ])
                            ),
                        ])
                    ),
                    ("additionalProperties", .bool(false)),
                ])
            ))
        members[index].1 = .object(properties)
        // A file that includes a base may leave the required keys to it.
        if let required = members.firstIndex(where: { $0.0 == "required" }) {
            let keys = members.remove(at: required).1
            members.append(("if", .object([("required", .array([.string("include")]))])))
            members.append(("else", .object([("required", keys)])))
        }
        members.insert(("$schema", .string("http://json-schema.org/draft-07/schema#")), at: 0)
        members.insert(("title", .string("Gauntlet experiment (schema_version 1)")), at: 1)
        members.append(("definitions", .object([("sweep", sweepSchema)])))
        root = .object(members)
        return root
    }

    /// `{type: object, properties, required, additionalProperties: false}` for probed parameters.
    static func objectSchema(
        _ parameters: [ParameterProbe.Parameter], path: String, descriptions: [String: String] = [:],
        extra: [(String, JSONValue)] = [], required extraRequired: [String] = []
    ) -> JSONValue {
        var properties = extra
        for parameter in parameters {
            var schema = valueSchema(parameter.type)
            let absent = parameter.defaultValue.map { "When absent: \($0)." }
            let description = [descriptions[parameter.name], absent].compactMap { $0 }.joined(separator: " ")
            if !description.isEmpty, case .object(let members) = schema {
                schema = .object([("description", .string(description))] + members)
            }
            properties.append((parameter.name, sweepable(schema)))
        }
        let required = extraRequired + parameters.filter(\.isRequired).map(\.name)
        var members: [(String, JSONValue)] = [("type", .string("object")), ("properties", .object(properties))]
        if !required.isEmpty { members.append(("required", .array(required.map { .string($0) }))) }
        members.append(("additionalProperties", .bool(false)))
        return .object(members)
    }

    static func valueSchema(_ type: ParameterProbe.ValueType) -> JSONValue {
        switch type {
        case .integer(let minimum):
            return .object([("type", .string("integer"))] + (minimum.map { [("minimum", .integer($0))] } ?? []))
        case .number: return .object([("type", .string("number"))])
        case .boolean: return .object([("type", .string("boolean"))])
        case .string: return .object([("type", .string("string"))])
        case .choice(let names): return .object([("type", .string("string")), ("enum", .array(names.map { .string($0) }))])
        case .array(let element): return .object([("type", .string("array")), ("items", sweepable(valueSchema(element)))])
        case .object(let parameters): return objectSchema(parameters, path: "")
        case .component(let slot): return componentSchema(slot: slot)
        }
    }

    /// One of the kinds registered for the extension point at `slot`.
    static func componentSchema(slot: String) -> JSONValue {
        guard let point = Registries.extensionPoints.first(where: { $0.slot == (Registries.slotAliases[slot] ?? slot) }) else {
            preconditionFailure("no registry serves components at \(slot); add it to Registries.extensionPoints")
        }
        let kinds: [JSONValue] = point.kinds.map { kind in
            guard
                case .object(let members) = objectSchema(
                    kind.parameters, path: slot,
                    extra: [
                        ("type", .object([("const", .string(kind.name))])),
                        ("name", .object([("description", .string("Optional name (a layer's state-dict prefix).")), ("type", .string("string"))])),
                    ]
                        + (Registries.componentKeys[point.name] ?? []).map { key in
                            (
                                key.name,
                                .object([("description", .string(key.meaning)), ("type", .string("array")), ("items", .object([("type", .string("string"))]))])
                            )
                        },
                    required: ["type"])
            else { return .null }
            return .object([("title", .string(kind.name)), ("description", .string(kind.summary))] + members)
        }
        // A model's layer list also takes the structural entries (`LayerBlocks`), whose nested
        // lists hold layers and blocks again (checked by the decoder, described loosely here).
        let blocks: [JSONValue] =
            point.name != Registries.layers.extensionPoint
            ? []
            : LayerBlocks.kinds.map { block in
                var properties: [(String, JSONValue)] = [
                    ("type", .object([("const", .string(block.name))])), ("name", .object([("type", .string("string"))])),
                ]
                for key in block.keys {
                    let type: [(String, JSONValue)] =
                        key.name == "count"
                        ? [("type", .string("integer")), ("minimum", .integer(1))]
                        : [("type", .string("array")), ("items", .object([("type", .string("object"))]))]
                    properties.append((key.name, sweepable(.object([("description", .string(key.meaning))] + type))))
                }
                return .object([
                    ("title", .string(block.name)), ("description", .string(block.summary)), ("type", .string("object")),
                    ("properties", .object(properties)),
                    ("required", .array((["type"] + block.keys.filter(\.required).map(\.name)).map { .string($0) })),
                    ("additionalProperties", .bool(false)),
                ])
            }
        return .object([
            ("description", .string("A \(point.name): {type: kind, …parameters}. Kinds: \(point.kinds.map(\.name).joined(separator: ", ")).")),
            ("oneOf", .array(kinds + blocks)),
        ])
    }

    /// A value of `schema`, or a sweep standing in for it.
    static func sweepable(_ schema: JSONValue) -> JSONValue {
        .object([("anyOf", .array([schema, .object([("$ref", .string("#/definitions/sweep"))])]))])
    }

    static let sweepSchema: JSONValue = {
        let numbers = { (minimum: Int, maximum: Int) -> JSONValue in
            .object([
                ("type", .string("array")), ("items", .object([("type", .string("number"))])),
                ("minItems", .integer(minimum)), ("maxItems", .integer(maximum)),
            ])
        }
        return .object([
            (
                "description",
                .string(
                    "A sweep: an axis of the grid. Exactly one of sweep (values), range [start, stop, step?], linspace [start, stop, count], logspace [start, stop, count]."
                )
            ),
            ("type", .string("object")),
            (
                "properties",
                .object([
                    ("sweep", .object([("type", .string("array")), ("minItems", .integer(1))])),
                    ("range", numbers(2, 3)),
                    ("linspace", numbers(3, 3)),
                    ("logspace", numbers(3, 3)),
                ])
            ),
            ("minProperties", .integer(1)),
            ("maxProperties", .integer(1)),
            ("additionalProperties", .bool(false)),
        ])
    }()
}
