/// Why a dataset cannot be loaded; every case names the file.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case missingFile(String)
    case unreadable(String, String)
    case malformed(String, String)
    case invalidSplit(String)
    /// A table file named in the experiment that does not exist.
    case missingTable(String)
    /// A text table with a bad cell: the file, the 1-based line, and what is wrong.
    case malformedTable(String, line: Int, String)
    /// A data file or folder that does not hold what its kind reads: the path and why.
    case invalidData(String, String)

    public var description: String {
        switch self {
        case let .missingFile(path):
            "\(path): no such file (Fashion-MNIST comes from the Debian package dataset-fashion-mnist; set dataset.path to use another copy)"
        case let .unreadable(path, why): "\(path): cannot read: \(why)"
        case let .malformed(path, why): "\(path): not a valid IDX file: \(why)"
        case let .invalidSplit(why): "invalid split: \(why)"
        case let .missingTable(path): "\(path): no such file"
        case let .malformedTable(path, line, why): "\(path):\(line): \(why)"
        case let .invalidData(path, why): "\(path): \(why)"
        }
    }
}
