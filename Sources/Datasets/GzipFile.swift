import CZlib
import Foundation

/// Reads a whole file, inflating it if it is gzip-compressed (zlib's `gzread` reads plain
/// files unchanged, so one path serves both).
enum GzipFile {
    /// The first `count` bytes of the (inflated) file, or fewer if it is shorter.
    static func prefix(of path: String, count: Int) throws(DatasetError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path) }
        guard let file = gzopen(path, "rb") else { throw .unreadable(path, "cannot open") }
        defer { gzclose(file) }
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32(count)) }
        guard read >= 0 else { throw .unreadable(path, "corrupt gzip stream") }
        return Array(bytes[0..<Int(read)])
    }

    static func contents(of path: String) throws(DatasetError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path) }
        guard let file = gzopen(path, "rb") else { throw .unreadable(path, "cannot open") }
        defer { gzclose(file) }
        gzbuffer(file, 1 << 18)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let read = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if read < 0 {
                var code: Int32 = 0
                let message = gzerror(file, &code).map { String(cString: $0) } ?? "read error"
                throw .unreadable(path, "corrupt gzip stream (\(message))")
            }
            if read == 0 { break }
            bytes.append(contentsOf: chunk[0..<Int(read)])
        }
        return bytes
    }
}
