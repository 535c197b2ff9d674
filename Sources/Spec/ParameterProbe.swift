/// The parameters a `Decodable` type reads, found by running its own `init(from:)` against a
/// recording decoder: which keys it asks for, their types, and which are required
/// (`decode`) or optional (`decodeIfPresent`). The JSON Schema and `gauntlet list` are built
/// from this, so they cannot drift from what the decoder accepts.
public enum ParameterProbe {
    public indirect enum ValueType: Equatable, Sendable {
        case integer(minimum: Int?)
        case number
        case boolean
        case string
        /// A string from a closed set (`ParameterChoice`), in declaration order.
        case choice([String])
        case array(ValueType)
        case object([Parameter])
        /// A `{type: kind, …}` component, filled from a registry by its key path pattern
        /// (`attacks[]`, `models[].layers[]`, `training.optimizer`).
        case component(slot: String)
    }

    public struct Parameter: Equatable, Sendable {
        /// The key as written in files (snake_case).
        public var name: String
        public var type: ValueType
        public var isRequired: Bool
        /// What the parameter means when absent (a kind's `SpecKind.defaults`); nil when unstated.
        public var defaultValue: String?

        public init(name: String, type: ValueType, isRequired: Bool, defaultValue: String? = nil) {
            self.name = name
            self.type = type
            self.isRequired = isRequired
            self.defaultValue = defaultValue
        }
    }

    /// The parameters `type` reads, in the order it reads them.
    public static func parameters<T: Decodable>(of type: T.Type) -> [Parameter] {
        let recorder = Recorder(path: "")
        _ = try? T(from: ProbeDecoder(recorder: recorder, codingPath: []))
        return recorder.parameters
    }

    /// The parameters a kind reads, each optional one with what its absence means.
    public static func parameters<T: SpecKind>(ofKind type: T.Type) -> [Parameter] {
        parameters(of: T.self).map { parameter in
            var parameter = parameter
            if !parameter.isRequired { parameter.defaultValue = T.defaults[parameter.name] }
            return parameter
        }
    }

    final class Recorder {
        let path: String
        var parameters: [Parameter] = []
        /// Set when the probed value is a list: the type of its elements.
        var arrayElement: ValueType?
        init(path: String) { self.path = path }

        func record(_ name: String, _ type: ValueType, required: Bool) {
            if let index = parameters.firstIndex(where: { $0.name == name }) {
                parameters[index].isRequired = parameters[index].isRequired || required
            } else {
                parameters.append(Parameter(name: name, type: type, isRequired: required))
            }
        }
    }

    /// The schema type of `T`, and a placeholder value for the probed initialiser to continue with.
    static func probe<T: Decodable>(_ type: T.Type, path: String) -> (ValueType, T?) {
        switch type {
        case is Bool.Type: return (.boolean, false as? T)
        case is String.Type: return (.string, "x" as? T)
        case is Int.Type: return (.integer(minimum: nil), 1 as? T)
        case is Int64.Type: return (.integer(minimum: nil), Int64(1) as? T)
        case is Int32.Type: return (.integer(minimum: nil), Int32(1) as? T)
        case is UInt64.Type: return (.integer(minimum: 0), UInt64(1) as? T)
        case is UInt.Type: return (.integer(minimum: 0), UInt(1) as? T)
        case is UInt32.Type: return (.integer(minimum: 0), UInt32(1) as? T)
        case is Double.Type: return (.number, Double(1) as? T)
        case is Float.Type: return (.number, Float(1) as? T)
        case is Component.Type: return (.component(slot: path), Component.placeholder as? T)
        case let choice as any ParameterChoice.Type: return (.choice(choice.names), choice.placeholder as? T)
        default:
            let recorder = Recorder(path: path)
            let value = try? T(from: ProbeDecoder(recorder: recorder, codingPath: []))
            if let element = recorder.arrayElement { return (.array(element), value) }
            return (.object(recorder.parameters), value)
        }
    }

    struct ProbeDecoder: Decoder {
        let recorder: Recorder
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(ProbeKeyed<Key>(recorder: recorder))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { ProbeUnkeyed(recorder: recorder) }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { ProbeSingle(recorder: recorder) }
    }

    struct Unavailable: Error {}

    struct ProbeKeyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let recorder: Recorder
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { [] }

        func child(_ key: Key) -> String {
            let name = KeyPathText.yamlName(key.stringValue)
            return recorder.path.isEmpty ? name : "\(recorder.path).\(name)"
        }

        func contains(_ key: Key) -> Bool { true }
        func decodeNil(forKey key: Key) throws -> Bool { false }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            let (valueType, value) = ParameterProbe.probe(type, path: child(key))
            recorder.record(KeyPathText.yamlName(key.stringValue), valueType, required: true)
            guard let value else { throw Unavailable() }
            return value
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { optional(type, key) }

        // The protocol's own overloads for primitives would call `decode` (marking the key
        // required); route them to the generic recorder instead.
        func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { optional(type, key) }
        func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { optional(type, key) }
        func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { optional(type, key) }
        func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { optional(type, key) }
        func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { optional(type, key) }
        func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { optional(type, key) }
        func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { optional(type, key) }
        func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { optional(type, key) }
        func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { optional(type, key) }
        func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { optional(type, key) }

        private func optional<T: Decodable>(_ type: T.Type, _ key: Key) -> T? {
            let (valueType, _) = ParameterProbe.probe(type, path: child(key))
            recorder.record(KeyPathText.yamlName(key.stringValue), valueType, required: false)
            return nil
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            throw Unavailable()
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { throw Unavailable() }
        func superDecoder() throws -> any Decoder { ProbeDecoder(recorder: recorder, codingPath: []) }
        func superDecoder(forKey key: Key) throws -> any Decoder { ProbeDecoder(recorder: Recorder(path: child(key)), codingPath: []) }
    }

    /// Arrays are probed with one element.
    struct ProbeUnkeyed: UnkeyedDecodingContainer {
        let recorder: Recorder
        var codingPath: [any CodingKey] { [] }
        var count: Int? { 1 }
        var currentIndex = 0
        var isAtEnd: Bool { currentIndex > 0 }

        mutating func decodeNil() throws -> Bool { false }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            currentIndex += 1
            let (valueType, value) = ParameterProbe.probe(type, path: recorder.path + "[]")
            recorder.arrayElement = valueType
            guard let value else { throw Unavailable() }
            return value
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            throw Unavailable()
        }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { throw Unavailable() }
        mutating func superDecoder() throws -> any Decoder { throw Unavailable() }
    }

    struct ProbeSingle: SingleValueDecodingContainer {
        let recorder: Recorder
        var codingPath: [any CodingKey] { [] }
        func decodeNil() -> Bool { false }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let (_, value) = ParameterProbe.probe(type, path: recorder.path)
            guard let value else { throw Unavailable() }
            return value
        }
    }
}
