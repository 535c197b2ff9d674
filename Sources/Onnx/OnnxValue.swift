import Foundation
import OnnxProto
import Tensors

/// A constant tensor of an ONNX graph: an initializer, a `Constant`, or a value computed from
/// them and from shapes alone (shape arithmetic). Floating-point types are held as Float32;
/// integer and boolean types as Int.
public struct OnnxValue: Sendable, Equatable {
    public enum ElementType: Sendable, Equatable {
        case float, integer, boolean
    }

    public var shape: [Int]
    public var type: ElementType
    /// The elements when `type == .float`, row-major.
    public var floats: [Float]
    /// The elements when `type` is `.integer` or `.boolean` (0 or 1), row-major.
    public var integers: [Int]

    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "OnnxValue: \(floats.count) floats for \(shape)")
        self.shape = shape
        self.type = .float
        self.floats = floats
        self.integers = []
    }

    public init(shape: [Int], integers: [Int], type: ElementType = .integer) {
        precondition(shape.reduce(1, *) == integers.count, "OnnxValue: \(integers.count) integers for \(shape)")
        self.shape = shape
        self.type = type
        self.floats = []
        self.integers = integers
    }

    public init(_ tensor: Tensor) { self.init(shape: tensor.shape, floats: tensor.scalars) }

    public var count: Int { shape.reduce(1, *) }

    /// The elements as Float (integers converted).
    public var asFloats: [Float] { type == .float ? floats : integers.map(Float.init) }

    /// The elements as Int (floats truncated toward zero, as ONNX's Cast does; out-of-range
    /// values saturate).
    public var asIntegers: [Int] {
        guard type == .float else { return integers }
        return floats.map { f in f.isNaN ? 0 : (f >= 9.2e18 ? Int.max : (f <= -9.2e18 ? Int.min : Int(f))) }
    }

    /// The value as a tensor (integers converted to Float).
    public var tensor: Tensor { Tensor(shape: shape, scalars: asFloats) }

    /// The same elements with another shape.
    func reshaped(_ shape: [Int]) -> OnnxValue {
        var copy = self
        copy.shape = shape
        return copy
    }
}

/// ONNX's `TensorProto.DataType` codes the importer reads.
enum OnnxDataType: Int32 {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, string = 8, bool = 9
    case float16 = 10, double = 11, uint32 = 12, uint64 = 13, complex64 = 14, complex128 = 15, bfloat16 = 16

    var name: String {
        switch self {
        case .float: "float"
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .int32: "int32"
        case .int64: "int64"
        case .string: "string"
        case .bool: "bool"
        case .float16: "float16"
        case .double: "double"
        case .uint32: "uint32"
        case .uint64: "uint64"
        case .complex64: "complex64"
        case .complex128: "complex128"
        case .bfloat16: "bfloat16"
        }
    }

    var isFloatingPoint: Bool { self == .float || self == .float16 || self == .double || self == .bfloat16 }

    /// A name for any code, known or not.
    static func name(of code: Int32) -> String { OnnxDataType(rawValue: code)?.name ?? "data type \(code)" }
}

/// Where an initializer's bytes are when they are not in the model file.
struct ExternalData {
    var location: String
    var offset: Int
    var length: Int?
}

extension OnnxValue {
    /// Decodes a tensor; `external` reads the bytes of a tensor stored outside the model file.
    /// Float16, bfloat16 and float64 become Float32 (`converted` names the source type then).
    static func decode(
        _ proto: Onnx_TensorProto, external: (ExternalData) throws -> Data
    ) throws -> (value: OnnxValue, converted: String?) {
        let shape = proto.dims.map { Int($0) }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw Unsupported("tensor '\(proto.name)' has a negative dimension \(shape)") }
        let count = shape.reduce(1, *)
        guard let type = OnnxDataType(rawValue: proto.dataType) else {
            throw Unsupported("tensor '\(proto.name)' has unknown data type \(proto.dataType)")
        }
        var raw: Data? = proto.hasRawData ? proto.rawData : nil
        if proto.dataLocation == .external {
            var location: String?
            var offset = 0
            var length: Int?
            for entry in proto.externalData {
                switch entry.key {
                case "location": location = entry.value
                case "offset": offset = Int(entry.value) ?? -1
                case "length": length = Int(entry.value) ?? -1
                default: break
                }
            }
            guard let location, offset >= 0, (length ?? 0) >= 0 else {
                throw Unsupported("tensor '\(proto.name)' is external but its location, offset or length is missing or invalid")
            }
            raw = try external(ExternalData(location: location, offset: offset, length: length))
        }
        func checked<T>(_ values: [T]) throws -> [T] {
            guard values.count == count else {
                throw Unsupported("tensor '\(proto.name)' of shape \(shape) holds \(values.count) elements, expected \(count)")
            }
            return values
        }
        func rawElements<T>(_: T.Type) throws -> [T]? {
            guard let raw else { return nil }
            guard raw.count == count * MemoryLayout<T>.size else {
                throw Unsupported("tensor '\(proto.name)' of shape \(shape) has \(raw.count) bytes, expected \(count * MemoryLayout<T>.size)")
            }
            return raw.withUnsafeBytes { bytes in (0..<count).map { bytes.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) } }
        }
        switch type {
        case .float:
            return (OnnxValue(shape: shape, floats: try checked(try rawElements(Float.self) ?? proto.floatData)), nil)
        case .double:
            let values = try rawElements(Double.self) ?? proto.doubleData
            return (OnnxValue(shape: shape, floats: try checked(values).map { Float($0) }), "float64")
        case .float16:
            let bits = try rawElements(UInt16.self) ?? proto.int32Data.map { UInt16(truncatingIfNeeded: $0) }
            return (OnnxValue(shape: shape, floats: try checked(bits).map { Float(Float16(bitPattern: $0)) }), "float16")
        case .bfloat16:
            let bits = try rawElements(UInt16.self) ?? proto.int32Data.map { UInt16(truncatingIfNeeded: $0) }
            return (OnnxValue(shape: shape, floats: try checked(bits).map { Float(bitPattern: UInt32($0) << 16) }), "bfloat16")
        case .int64:
            return (OnnxValue(shape: shape, integers: try checked((try rawElements(Int64.self) ?? proto.int64Data).map { Int($0) })), nil)
        case .int32:
            return (OnnxValue(shape: shape, integers: try checked((try rawElements(Int32.self) ?? proto.int32Data).map { Int($0) })), nil)
        case .int16:
            return (OnnxValue(shape: shape, integers: try checked((try rawElements(Int16.self)?.map { Int($0) }) ?? proto.int32Data.map { Int($0) })), nil)
        case .int8:
            return (OnnxValue(shape: shape, integers: try checked((try rawElements(Int8.self)?.map { Int($0) }) ?? proto.int32Data.map { Int($0) })), nil)
        case .uint8:
            return (OnnxValue(shape: shape, integers: try checked((try rawElements(UInt8.self)?.map { Int($0) }) ?? proto.int32Data.map { Int($0) })), nil)
        case .uint16:
            return (OnnxValue(shape: shape, integers: try checked((try rawElements(UInt16.self)?.map { Int($0) }) ?? proto.int32Data.map { Int($0) })), nil)
        case .uint32:
            return (OnnxValue(shape: shape, integers: try checked((try rawElements(UInt32.self)?.map { Int($0) }) ?? proto.uint64Data.map { Int($0) })), nil)
        case .uint64:
            return (OnnxValue(shape: shape, integers: try checked((try rawElements(UInt64.self) ?? proto.uint64Data).map { Int(clamping: $0) })), nil)
        case .bool:
            let values = (try rawElements(UInt8.self)?.map { Int($0) }) ?? proto.int32Data.map { Int($0) }
            return (OnnxValue(shape: shape, integers: try checked(values).map { $0 != 0 ? 1 : 0 }, type: .boolean), nil)
        case .string, .complex64, .complex128:
            throw Unsupported("tensor '\(proto.name)' has data type \(type.name), which Gauntlet does not support")
        }
    }
}
