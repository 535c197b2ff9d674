/// An array read from the IDX format of the MNIST family (LeCun et al.): a magic number
/// `00 00 <type> <rank>`, `rank` big-endian UInt32 extents, then the elements row-major.
/// Only unsigned bytes (type 0x08) are supported, which is what MNIST-family files use.
public struct IDXFile: Sendable {
    public var shape: [Int]
    public var bytes: [UInt8]

    /// Reads an IDX file, gzip-compressed (`.gz`) or plain.
    public static func read(_ path: String) throws(DatasetError) -> IDXFile {
        try parse(GzipFile.contents(of: path), path: path)
    }

    /// Checks the magic number, element type and rank at the start of IDX bytes.
    static func checkHeader(_ data: [UInt8], path: String) throws(DatasetError) {
        guard data.count >= 4 else { throw .malformed(path, "only \(data.count) bytes, shorter than the header") }
        guard data[0] == 0, data[1] == 0 else { throw .malformed(path, "bad magic number (first two bytes must be zero)") }
        guard data[2] == 0x08 else {
            throw .malformed(path, "element type 0x\(String(data[2], radix: 16)) is not unsigned byte (0x08)")
        }
        guard (1...4).contains(Int(data[3])) else { throw .malformed(path, "rank \(data[3]) outside 1…4") }
    }

    /// Parses IDX bytes; `path` is only used in errors.
    public static func parse(_ data: [UInt8], path: String) throws(DatasetError) -> IDXFile {
        try checkHeader(data, path: path)
        let rank = Int(data[3])
        let headerSize = 4 + 4 * rank
        guard data.count >= headerSize else { throw .malformed(path, "header truncated") }
        let shape = (0..<rank).map { axis in
            (0..<4).reduce(0) { ($0 << 8) | Int(data[4 + 4 * axis + $1]) }
        }
        let expected = shape.reduce(1, *)
        guard data.count - headerSize == expected else {
            throw .malformed(
                path, "header announces \(shape.map(String.init).joined(separator: "×")) = \(expected) bytes, file holds \(data.count - headerSize)")
        }
        return IDXFile(shape: shape, bytes: Array(data[headerSize...]))
    }
}
