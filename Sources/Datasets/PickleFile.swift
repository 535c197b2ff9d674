import Foundation

/// An array as NumPy stores it: a dtype descriptor (`|u1`, `<f4`, `<i8`, …), a shape and the
/// raw bytes, C order unless `fortranOrder`.
public struct NumpyArray: Sendable, Equatable {
    public var descriptor: String
    public var shape: [Int]
    public var fortranOrder: Bool
    public var bytes: [UInt8]

    public var count: Int { shape.reduce(1, *) }

    /// The kind (`u`, `i`, `f`, `b`) and element size of the descriptor, with its byte order
    /// (`<` little, `>` big, `|` not applicable; `=` native is taken as little).
    var element: (kind: Character, size: Int, bigEndian: Bool)? {
        var text = Substring(descriptor)
        var bigEndian = false
        if let first = text.first, "<>|=".contains(first) {
            bigEndian = first == ">"
            text = text.dropFirst()
        }
        guard let kind = text.first, "uifb".contains(kind), let size = Int(text.dropFirst()), [1, 2, 4, 8].contains(size) else { return nil }
        return (kind, size, bigEndian)
    }

    /// Every element as a Double (integers exactly up to 2^53), C order; nil for a dtype other
    /// than bool, unsigned and signed integers and IEEE floats of 2, 4 or 8 bytes.
    public func doubles() -> [Double]? {
        guard let (kind, size, bigEndian) = element, bytes.count == count * size else { return nil }
        var values = [Double](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                var bits: UInt64 = 0
                for b in 0..<size {
                    let byte = UInt64(raw[i * size + (bigEndian ? size - 1 - b : b)])
                    bits |= byte << (8 * UInt64(b))
                }
                switch (kind, size) {
                case ("f", 2): values[i] = Double(Float(Float16(bitPattern: UInt16(bits))))
                case ("f", 4): values[i] = Double(Float(bitPattern: UInt32(bits)))
                case ("f", 8): values[i] = Double(bitPattern: bits)
                case ("i", _):
                    let shift = UInt64(64 - 8 * size)
                    values[i] = Double(Int64(bitPattern: bits << shift) >> Int64(shift))
                default: values[i] = Double(bits)
                }
            }
        }
        if fortranOrder, shape.count > 1 {
            // Column-major to row-major.
            var reordered = values
            let strides = shape.indices.map { shape[..<$0].reduce(1, *) }
            var index = [Int](repeating: 0, count: shape.count)
            for position in 0..<count {
                reordered[position] = values[zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 }]
                var axis = shape.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    if index[axis] < shape[axis] { break }
                    index[axis] = 0
                    axis -= 1
                }
            }
            values = reordered
        }
        return values
    }
}

/// A value of a Python pickle: what the CIFAR batches (and NumPy arrays in pickles) hold.
/// Objects are references, as in Python, so that a list or dtype reached through the memo is the
/// one built or appended to.
public final class PickleObject: @unchecked Sendable {
    public enum Kind {
        case none
        case bool(Bool)
        case int(Int)
        case float(Double)
        /// Python 2 `str` and Python 3 `bytes`.
        case bytes([UInt8])
        case string(String)
        case list([PickleObject])
        case tuple([PickleObject])
        case dict([(key: PickleObject, value: PickleObject)])
        /// A class or function named by module and name.
        case global(module: String, name: String)
        /// A NumPy dtype from its descriptor (`u1`, `<f4`).
        case dtype(String)
        case array(NumpyArray)
        /// A call the reader does not model: callable, arguments, and its `BUILD` state.
        case object(callable: PickleObject, arguments: PickleObject, state: PickleObject?)
    }

    public var kind: Kind
    init(_ kind: Kind) { self.kind = kind }

    /// A dictionary's value for a text key (`str`, or `bytes` as Python 2 wrote it).
    public subscript(key: String) -> PickleObject? {
        guard case let .dict(entries) = kind else { return nil }
        return entries.first { entry in
            switch entry.key.kind {
            case let .string(text): text == key
            case let .bytes(bytes): bytes == Array(key.utf8)
            default: false
            }
        }?.value
    }

    public var int: Int? {
        switch kind {
        case let .int(v): v
        case let .bool(v): v ? 1 : 0
        default: nil
        }
    }

    /// Text of a `str` or of latin-1 `bytes`.
    public var text: String? {
        switch kind {
        case let .string(v): v
        case let .bytes(v): String(decoding: v, as: UTF8.self)
        default: nil
        }
    }

    public var elements: [PickleObject]? {
        switch kind {
        case let .list(v), let .tuple(v): v
        default: nil
        }
    }

    public var array: NumpyArray? {
        if case let .array(v) = kind { return v }
        return nil
    }
}

/// A reader of Python's pickle format, protocols 0 to 5, for data files: containers, numbers,
/// strings and NumPy arrays (`numpy.core.multiarray._reconstruct` with its `BUILD` state, and
/// protocol 5's `_frombuffer`). It runs no code: any other class becomes an opaque `.object`.
public enum PickleFile {
    /// Why bytes are not a pickle this reader can read.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func read(_ path: String) throws(DatasetError) -> PickleObject {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            if !FileManager.default.fileExists(atPath: path) { throw .missingTable(path) }
            throw .unreadable(path, (error as NSError).localizedFailureReason ?? error.localizedDescription)
        }
        do { return try parse([UInt8](data)) } catch { throw .unreadable(path, "not a Python pickle this reader understands: \(error.description)") }
    }

    public static func parse(_ bytes: [UInt8]) throws(Failure) -> PickleObject {
        var position = 0
        var stack: [PickleObject] = []
        var marks: [Int] = []
        var memo: [Int: PickleObject] = [:]
        func fail(_ message: String) -> Failure { Failure(description: "\(message) at byte \(position)") }
        func take(_ count: Int) throws(Failure) -> ArraySlice<UInt8> {
            guard count >= 0, position + count <= bytes.count else { throw fail("truncated") }
            defer { position += count }
            return bytes[position..<position + count]
        }
        func unsigned(_ count: Int) throws(Failure) -> Int {
            try take(count).reversed().reduce(0) { ($0 << 8) | Int($1) }
        }
        func line() throws(Failure) -> String {
            guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("unterminated line") }
            defer { position = end + 1 }
            return String(decoding: bytes[position..<end], as: UTF8.self)
        }
        func pop() throws(Failure) -> PickleObject {
            guard let top = stack.popLast() else { throw fail("stack underflow") }
            return top
        }
        func popMark() throws(Failure) -> [PickleObject] {
            guard let mark = marks.popLast(), mark <= stack.count else { throw fail("no mark") }
            defer { stack.removeSubrange(mark...) }
            return Array(stack[mark...])
        }
        func top() throws(Failure) -> PickleObject {
            guard let last = stack.last else { throw fail("stack underflow") }
            return last
        }
        func build(_ object: PickleObject, _ state: PickleObject) throws(Failure) {
            switch object.kind {
            case .dtype:
                // (version, byte order, …): the byte order completes the descriptor.
                if case let .dtype(descriptor) = object.kind, let order = state.elements?.dropFirst().first?.text, order != "|", !descriptor.hasPrefix("<"),
                    !descriptor.hasPrefix(">")
                {
                    object.kind = .dtype(order + descriptor)
                }
            case let .object(callable, arguments, _):
                if case let .global(module, name) = callable.kind, module.hasPrefix("numpy"), name == "_reconstruct",
                    let fields = state.elements, fields.count == 5, let shape = fields[1].elements?.compactMap(\.int),
                    case let .dtype(descriptor) = fields[2].kind
                {
                    let raw: [UInt8]
                    switch fields[4].kind {
                    case let .bytes(v): raw = v
                    case let .string(v): raw = Array(v.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })  // latin-1
                    default: throw fail("array data of an unexpected type")
                    }
                    object.kind = .array(NumpyArray(descriptor: descriptor, shape: shape, fortranOrder: fields[3].int == 1, bytes: raw))
                } else {
                    object.kind = .object(callable: callable, arguments: arguments, state: state)
                }
            case var .dict(entries):
                if case let .dict(more) = state.kind { entries += more }
                object.kind = .dict(entries)
            default:
                break
            }
        }
        func reduce(_ callable: PickleObject, _ arguments: PickleObject) throws(Failure) -> PickleObject {
            guard case let .global(module, name) = callable.kind else { return PickleObject(.object(callable: callable, arguments: arguments, state: nil)) }
            let args = arguments.elements ?? []
            if module.hasPrefix("numpy"), name == "dtype", let descriptor = args.first?.text { return PickleObject(.dtype(descriptor)) }
            if module.hasPrefix("numpy"), name == "_frombuffer", args.count >= 3, case let .bytes(raw) = args[0].kind,
                case let .dtype(descriptor) = args[1].kind, let shape = args[2].elements?.compactMap(\.int)
            {
                return PickleObject(.array(NumpyArray(descriptor: descriptor, shape: shape, fortranOrder: args.count > 3 && args[3].text == "F", bytes: raw)))
            }
            if module == "_codecs", name == "encode", let text = args.first?.text {
                // Python 2 byte strings pickled by Python 3: latin-1 text back to bytes.
                return PickleObject(.bytes(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }))
            }
            return PickleObject(.object(callable: callable, arguments: arguments, state: nil))
        }
        while true {
            let opcode = try take(1).first!
            switch opcode {
            case 0x80: _ = try take(1)  // PROTO
            case 0x95: _ = try take(8)  // FRAME
            case 0x2E: return try pop()  // STOP
            case 0x28: marks.append(stack.count)  // MARK
            case 0x29: stack.append(PickleObject(.tuple([])))
            case 0x74: stack.append(PickleObject(.tuple(try popMark())))
            case 0x85: stack.append(PickleObject(.tuple([try pop()])))
            case 0x86:
                let b = try pop(), a = try pop()
                stack.append(PickleObject(.tuple([a, b])))
            case 0x87:
                let c = try pop(), b = try pop(), a = try pop()
                stack.append(PickleObject(.tuple([a, b, c])))
            case 0x5D: stack.append(PickleObject(.list([])))
            case 0x6C: stack.append(PickleObject(.list(try popMark())))
            case 0x61, 0x65:  // APPEND, APPENDS
                let items = opcode == 0x61 ? [try pop()] : try popMark()
                let list = try top()
                guard case var .list(elements) = list.kind else { throw fail("append to a non-list") }
                elements += items
                list.kind = .list(elements)
            case 0x7D: stack.append(PickleObject(.dict([])))
            case 0x64, 0x73, 0x75:  // DICT, SETITEM, SETITEMS
                let items = opcode == 0x73 ? Array([try pop(), try pop()].reversed()) : try popMark()
                guard items.count % 2 == 0 else { throw fail("odd number of dictionary items") }
                let pairs = stride(from: 0, to: items.count, by: 2).map { (key: items[$0], value: items[$0 + 1]) }
                if opcode == 0x64 {
                    stack.append(PickleObject(.dict(pairs)))
                } else {
                    let dict = try top()
                    guard case var .dict(entries) = dict.kind else { throw fail("setitem on a non-dict") }
                    entries += pairs
                    dict.kind = .dict(entries)
                }
            case 0x4E: stack.append(PickleObject(.none))
            case 0x88: stack.append(PickleObject(.bool(true)))
            case 0x89: stack.append(PickleObject(.bool(false)))
            case 0x4B: stack.append(PickleObject(.int(try unsigned(1))))
            case 0x4D: stack.append(PickleObject(.int(try unsigned(2))))
            case 0x4A: stack.append(PickleObject(.int(Int(Int32(truncatingIfNeeded: try unsigned(4))))))
            case 0x8A:  // LONG1
                let count = try unsigned(1)
                guard count <= 8 else { throw fail("integer of \(count) bytes") }
                let raw = try take(count)
                var value = raw.reversed().reduce(0) { ($0 << 8) | Int($1) }
                if count > 0, count < 8, raw.last! & 0x80 != 0 { value -= 1 << (8 * count) }
                stack.append(PickleObject(.int(value)))
            case 0x49, 0x4C:  // INT, LONG (text)
                let text = try line().trimmingCharacters(in: CharacterSet(charactersIn: "L"))
                if text == "00" || text == "01" {
                    stack.append(PickleObject(.bool(text == "01")))
                } else {
                    guard let value = Int(text) else { throw fail("bad integer '\(text)'") }
                    stack.append(PickleObject(.int(value)))
                }
            case 0x47: stack.append(PickleObject(.float(Double(bitPattern: try take(8).reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }))))
            case 0x54, 0x55, 0x42, 0x43, 0x8E, 0x96:  // BINSTRING, SHORT_BINSTRING, BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
                let size = [0x54: 4, 0x55: 1, 0x42: 4, 0x43: 1, 0x8E: 8, 0x96: 8][Int(opcode)]!
                stack.append(PickleObject(.bytes(Array(try take(try unsigned(size))))))
            case 0x58, 0x8C, 0x8D:  // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
                let size = [0x58: 4, 0x8C: 1, 0x8D: 8][Int(opcode)]!
                stack.append(PickleObject(.string(String(decoding: try take(try unsigned(size)), as: UTF8.self))))
            case 0x71: memo[try unsigned(1)] = try top()
            case 0x72: memo[try unsigned(4)] = try top()
            case 0x94: memo[memo.count] = try top()
            case 0x70:
                guard let key = Int(try line()) else { throw fail("bad memo key") }
                memo[key] = try top()
            case 0x68, 0x6A, 0x67:  // BINGET, LONG_BINGET, GET
                let key: Int
                if opcode == 0x67 {
                    guard let k = Int(try line()) else { throw fail("bad memo key") }
                    key = k
                } else {
                    key = try unsigned(opcode == 0x68 ? 1 : 4)
                }
                guard let object = memo[key] else { throw fail("memo key \(key) not set") }
                stack.append(object)
            case 0x63:  // GLOBAL
                let module = try line(), name = try line()
                stack.append(PickleObject(.global(module: module, name: name)))
            case 0x93:  // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard let n = name.text, let m = module.text else { throw fail("STACK_GLOBAL of non-strings") }
                stack.append(PickleObject(.global(module: m, name: n)))
            case 0x52:  // REDUCE
                let arguments = try pop(), callable = try pop()
                stack.append(try reduce(callable, arguments))
            case 0x81:  // NEWOBJ
                let arguments = try pop(), callable = try pop()
                stack.append(PickleObject(.object(callable: callable, arguments: arguments, state: nil)))
            case 0x62:  // BUILD
                let state = try pop()
                try build(try top(), state)
            default:
                throw fail("opcode 0x\(String(opcode, radix: 16)) is not supported")
            }
        }
    }
}
