import Foundation
import OnnxProto

/// An attribute of a node, decoded.
enum OnnxAttribute: Sendable, Equatable {
    case float(Float)
    case int(Int)
    case string(String)
    case floats([Float])
    case ints([Int])
    case strings([String])
    case tensor(OnnxValue)
    /// A kind the importer does not read (graphs, sparse tensors, type protos).
    case other(String)
}

/// One node of an ONNX graph as read from the file, its attributes decoded.
struct OnnxNode: Sendable {
    var name: String
    var opType: String
    var domain: String
    /// Input value names; "" marks an omitted optional input.
    var inputs: [String]
    var outputs: [String]
    var attributes: [String: OnnxAttribute]

    /// `'name' (OpType)`, for messages.
    var described: String { name.isEmpty ? "\(opType) node producing '\(outputs.first ?? "")'" : "node '\(name)' (\(opType))" }

    /// Input `index`, or nil when absent or omitted.
    func input(_ index: Int) -> String? { index < inputs.count && !inputs[index].isEmpty ? inputs[index] : nil }

    func int(_ key: String) throws -> Int? {
        switch attributes[key] {
        case nil: nil
        case let .int(value): value
        default: throw Unsupported("attribute \(key) of \(described) is not an integer")
        }
    }

    func int(_ key: String, default value: Int) throws -> Int { try int(key) ?? value }

    func float(_ key: String, default value: Float) throws -> Float {
        switch attributes[key] {
        case nil: value
        case let .float(v): v
        case let .int(v): Float(v)
        default: throw Unsupported("attribute \(key) of \(described) is not a float")
        }
    }

    func ints(_ key: String) throws -> [Int]? {
        switch attributes[key] {
        case nil: nil
        case let .ints(values): values
        default: throw Unsupported("attribute \(key) of \(described) is not a list of integers")
        }
    }

    func string(_ key: String, default value: String) throws -> String {
        switch attributes[key] {
        case nil: value
        case let .string(v): v
        default: throw Unsupported("attribute \(key) of \(described) is not a string")
        }
    }
}

extension OnnxNode {
    /// Reads a node; tensor attributes go through `decode`.
    init(_ proto: Onnx_NodeProto, decode: (Onnx_TensorProto) throws -> OnnxValue) throws {
        name = proto.name
        opType = proto.opType
        domain = proto.domain
        inputs = proto.input
        outputs = proto.output
        var attributes: [String: OnnxAttribute] = [:]
        for attribute in proto.attribute {
            let value: OnnxAttribute
            switch attribute.type {
            case .float: value = .float(attribute.f)
            case .int: value = .int(Int(attribute.i))
            case .string: value = .string(String(decoding: attribute.s, as: UTF8.self))
            case .floats: value = .floats(attribute.floats)
            case .ints: value = .ints(attribute.ints.map { Int($0) })
            case .strings: value = .strings(attribute.strings.map { String(decoding: $0, as: UTF8.self) })
            case .tensor: value = .tensor(try decode(attribute.t))
            case .undefined:
                // Files written before the type field existed: infer it from what is set.
                if attribute.hasF {
                    value = .float(attribute.f)
                } else if attribute.hasI {
                    value = .int(Int(attribute.i))
                } else if attribute.hasS {
                    value = .string(String(decoding: attribute.s, as: UTF8.self))
                } else if attribute.hasT {
                    value = .tensor(try decode(attribute.t))
                } else if !attribute.ints.isEmpty {
                    value = .ints(attribute.ints.map { Int($0) })
                } else if !attribute.floats.isEmpty {
                    value = .floats(attribute.floats)
                } else {
                    value = .other("undefined")
                }
            default: value = .other("\(attribute.type)")
            }
            attributes[attribute.name] = value
        }
        self.attributes = attributes
    }
}
