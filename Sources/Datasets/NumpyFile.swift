import CZlib
import Foundation

/// NumPy's array files: `.npy` (format versions 1 to 3: the magic `\x93NUMPY`, a version, a
/// header length, a Python-literal header `{'descr': '<f4', 'fortran_order': False, 'shape':
/// (N, …), }`, then the raw elements) and `.npz` (a zip archive of `.npy` members, stored or
/// deflated, as `numpy.savez` and `savez_compressed` write it).
public enum NumpyFile {
    /// The arrays of an `.npy` (one, named by the file) or `.npz` (by member name, without
    /// `.npy`) file.
    public static func arrays(_ path: String) throws(DatasetError) -> [String: NumpyArray] {
        let bytes = try contents(path)
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            var arrays: [String: NumpyArray] = [:]
            for (name, member) in try zipMembers(bytes, path: path) where name.hasSuffix(".npy") {
                arrays[String(name.dropLast(4))] = try parse(member, path: "\(path)[\(name)]")
            }
            return arrays
        }
        return [URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent: try parse(bytes, path: path)]
    }

    static func contents(_ path: String) throws(DatasetError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingTable(path) }
        do { return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)) } catch {
            throw .unreadable(path, (error as NSError).localizedFailureReason ?? error.localizedDescription)
        }
    }

    /// Parses the bytes of one `.npy` array; `path` names it in errors.
    public static func parse(_ bytes: [UInt8], path: String, headerOnly: Bool = false) throws(DatasetError) -> NumpyArray {
        func fail(_ why: String) -> DatasetError { .invalidData(path, "not a NumPy .npy array: \(why)") }
        guard bytes.count >= 10, bytes.starts(with: [0x93] + Array("NUMPY".utf8)) else { throw fail("no \\x93NUMPY magic") }
        let major = bytes[6]
        guard (1...3).contains(major) else { throw fail("format version \(major) is not 1, 2 or 3") }
        let lengthBytes = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthBytes else { throw fail("truncated header") }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        let start = 8 + lengthBytes
        guard bytes.count >= start + headerLength else { throw fail("truncated header") }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        func field(_ key: String) -> Substring? {
            guard let range = header.range(of: "'\(key)':") else { return nil }
            return header[range.upperBound...].drop { $0 == " " }
        }
        guard let descrField = field("descr"), descrField.first == "'", let end = descrField.dropFirst().firstIndex(of: "'") else {
            throw fail("header has no 'descr' string (a structured dtype?): \(header)")
        }
        let descriptor = String(descrField[descrField.index(after: descrField.startIndex)..<end])
        let fortran = field("fortran_order")?.hasPrefix("True") ?? false
        guard let shapeField = field("shape"), shapeField.first == "(", let close = shapeField.firstIndex(of: ")") else {
            throw fail("header has no 'shape' tuple: \(header)")
        }
        let extents = shapeField[shapeField.index(after: shapeField.startIndex)..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = extents.compactMap { Int($0.hasSuffix("L") ? String($0.dropLast()) : $0) }
        guard shape.count == extents.count, shape.allSatisfy({ $0 >= 0 }) else { throw fail("bad shape in \(header)") }
        var array = NumpyArray(descriptor: descriptor, shape: shape, fortranOrder: fortran, bytes: [])
        guard let element = array.element else {
            throw .invalidData(path, "dtype '\(descriptor)' is not supported (bool, integers and 2-, 4- or 8-byte floats are)")
        }
        let size = array.count * element.size
        if headerOnly { return array }
        guard bytes.count - start - headerLength >= size else {
            throw .invalidData(
                path, "header announces \(shape) of \(descriptor) (\(size) bytes), the file holds \(bytes.count - start - headerLength) (truncated?)")
        }
        array.bytes = Array(bytes[(start + headerLength)..<(start + headerLength + size)])
        return array
    }

    /// The members of a zip archive, inflated, by name.
    static func zipMembers(_ bytes: [UInt8], path: String) throws(DatasetError) -> [(String, [UInt8])] {
        func fail(_ why: String) -> DatasetError { .invalidData(path, "not a valid .npz (zip) archive: \(why)") }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func u64(_ at: Int) -> Int { u32(at) | u32(at + 4) << 32 }
        // The end-of-central-directory record, within the last 64 KiB + 22 bytes.
        guard bytes.count >= 22,
            let end = stride(from: bytes.count - 22, through: max(0, bytes.count - 22 - 65_535), by: -1).first(where: { u32($0) == 0x0605_4B50 })
        else { throw fail("no end-of-central-directory record (truncated?)") }
        var entries = u16(end + 10), directory = u32(end + 16)
        if directory == 0xFFFF_FFFF || entries == 0xFFFF, end >= 20, u32(end - 20) == 0x0706_4B50 {
            let record = u64(end - 12)
            guard record + 56 <= bytes.count, u32(record) == 0x0606_4B50 else { throw fail("bad zip64 end record") }
            entries = u64(record + 32)
            directory = u64(record + 48)
        }
        var members: [(String, [UInt8])] = []
        var position = directory
        for _ in 0..<entries {
            guard position + 46 <= bytes.count, u32(position) == 0x0201_4B50 else { throw fail("bad central directory entry") }
            let method = u16(position + 10)
            var compressed = u32(position + 20), uncompressed = u32(position + 24)
            let nameLength = u16(position + 28), extraLength = u16(position + 30), commentLength = u16(position + 32)
            var local = u32(position + 42)
            guard position + 46 + nameLength + extraLength <= bytes.count else { throw fail("truncated central directory") }
            let name = String(decoding: bytes[(position + 46)..<(position + 46 + nameLength)], as: UTF8.self)
            // Zip64 extra field: the 64-bit sizes and offset, for the fields set to 0xFFFFFFFF.
            var extra = position + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = u16(extra), size = u16(extra + 2)
                if id == 0x0001 {
                    var at = extra + 4
                    if uncompressed == 0xFFFF_FFFF, at + 8 <= extraEnd { uncompressed = u64(at); at += 8 }
                    if compressed == 0xFFFF_FFFF, at + 8 <= extraEnd { compressed = u64(at); at += 8 }
                    if local == 0xFFFF_FFFF, at + 8 <= extraEnd { local = u64(at) }
                }
                extra += 4 + size
            }
            position += 46 + nameLength + extraLength + commentLength
            guard local + 30 <= bytes.count, u32(local) == 0x0403_4B50 else { throw fail("bad local header of \(name)") }
            let data = local + 30 + u16(local + 26) + u16(local + 28)
            guard data + compressed <= bytes.count else { throw fail("member \(name) is truncated") }
            switch method {
            case 0: members.append((name, Array(bytes[data..<(data + compressed)])))
            case 8: members.append((name, try inflate(bytes[data..<(data + compressed)], size: uncompressed, fail: fail)))
            default: throw fail("member \(name) uses compression method \(method) (stored and deflate are read)")
            }
        }
        return members
    }

    static func inflate(_ input: ArraySlice<UInt8>, size: Int, fail: (String) -> DatasetError) throws(DatasetError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: size)
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw fail("zlib cannot start") }
        defer { inflateEnd(&stream) }
        let status: Int32 = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { target in
                stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = UInt32(source.count)
                stream.next_out = target.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = UInt32(target.count)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == size else { throw fail("a deflated member does not inflate (corrupt?)") }
        return output
    }
}

extension NumpyFile {
    /// The header of an `.npy` file: its dtype, shape and where the elements start, read
    /// without the elements.
    public static func header(_ path: String) throws(DatasetError) -> (array: NumpyArray, offset: Int) {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingTable(path) }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .unreadable(path, "cannot open") }
        defer { try? handle.close() }
        let start = [UInt8]((try? handle.read(upToCount: 12)) ?? Data())
        guard start.count >= 10 else { throw .invalidData(path, "not a NumPy .npy array: truncated header") }
        let length = start[6] == 1 ? Int(start[8]) | Int(start[9]) << 8 : start.count >= 12 ? (0..<4).reduce(0) { $0 | Int(start[8 + $1]) << (8 * $1) } : 0
        let headerEnd = (start[6] == 1 ? 10 : 12) + length
        try? handle.seek(toOffset: 0)
        let head = [UInt8]((try? handle.read(upToCount: headerEnd)) ?? Data())
        return (try parse(head, path: path, headerOnly: true), headerEnd)
    }

    /// Rows `rows` (along the first axis) of a C-order `.npy` file, read from their place.
    public static func rows(_ path: String, _ rows: Range<Int>) throws(DatasetError) -> NumpyArray {
        var (array, offset) = try header(path)
        guard !array.fortranOrder, let size = array.element?.size, let first = array.shape.first, rows.lowerBound >= 0, rows.upperBound <= first else {
            throw .invalidData(path, "rows \(rows) of a \(array.shape) array (C order) cannot be read")
        }
        let rowBytes = array.shape.dropFirst().reduce(1, *) * size
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .unreadable(path, "cannot open") }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(offset + rows.lowerBound * rowBytes))
            let data = try handle.read(upToCount: rows.count * rowBytes) ?? Data()
            guard data.count == rows.count * rowBytes else {
                throw DatasetError.invalidData(path, "holds fewer bytes than its header announces (truncated?)")
            }
            array.bytes = [UInt8](data)
        } catch let error as DatasetError {
            throw error
        } catch {
            throw .unreadable(path, (error as NSError).localizedFailureReason ?? error.localizedDescription)
        }
        array.shape[0] = rows.count
        return array
    }
}
