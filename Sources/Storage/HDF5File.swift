@preconcurrency import CHDF5
import Foundation

/// Why an HDF5 operation failed; every case names the file.
public enum StorageError: Error, Equatable, CustomStringConvertible {
    case cannotCreate(String)
    case cannotOpen(String)
    case failed(file: String, operation: String, object: String)
    case missing(file: String, object: String)
    case wrongType(file: String, object: String, expected: String)

    public var description: String {
        switch self {
        case let .cannotCreate(path): "\(path): cannot create the HDF5 file"
        case let .cannotOpen(path): "\(path): not a readable HDF5 file (missing, truncated or corrupt)"
        case let .failed(file, operation, object): "\(file): HDF5 \(operation) failed for '\(object)'"
        case let .missing(file, object): "\(file): no object '\(object)'"
        case let .wrongType(file, object, expected): "\(file): '\(object)' is not \(expected)"
        }
    }
}

/// A scalar attribute value.
public enum AttributeValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case real(Double)
}

/// An open HDF5 file. Paths inside the file are `/`-separated (`/trials/mlp/metrics`);
/// groups on the way are created as needed. Float32 arrays of more than 4096 elements are
/// written chunked, byte-shuffled and deflate-compressed.
///
/// HDF5 serialises all calls behind one global lock, so a file is written from one thread.
public final class HDF5File {
    public let path: String
    private var id: hid_t
    public let isWritable: Bool

    private init(path: String, id: hid_t, writable: Bool) {
        self.path = path
        self.id = id
        self.isWritable = writable
    }

    deinit { close() }

    /// Starts the library once and turns off its own error printing (errors are reported here).
    private static let initialised: Bool = {
        H5open()
        H5Eset_auto2(hid_t(H5E_DEFAULT), nil, nil)
        return true
    }()

    /// Creates (or truncates) a file.
    public static func create(_ path: String) throws(StorageError) -> HDF5File {
        _ = initialised
        let id = H5Fcreate(path, gauntlet_h5f_acc_trunc(), hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard id >= 0 else { throw .cannotCreate(path) }
        return HDF5File(path: path, id: id, writable: true)
    }

    /// Opens an existing file read-only.
    public static func open(_ path: String) throws(StorageError) -> HDF5File {
        _ = initialised
        guard FileManager.default.fileExists(atPath: path), H5Fis_hdf5(path) > 0 else { throw .cannotOpen(path) }
        let id = H5Fopen(path, gauntlet_h5f_acc_rdonly(), hid_t(H5P_DEFAULT))
        guard id >= 0 else { throw .cannotOpen(path) }
        return HDF5File(path: path, id: id, writable: false)
    }

    /// Flushes and closes the file; later calls fail.
    public func close() {
        if id >= 0 {
            H5Fclose(id)
            id = -1
        }
    }

    // MARK: - Writing

    /// Creates a group and any missing parents (no error if it exists).
    public func createGroup(_ name: String) throws(StorageError) {
        if exists(name) { return }
        let lcpl = Self.intermediateGroups()
        defer { H5Pclose(lcpl) }
        let group = H5Gcreate2(id, name, lcpl, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard group >= 0 else { throw .failed(file: path, operation: "group creation", object: name) }
        H5Gclose(group)
    }

    /// Writes a Float32 array with the given shape (`[]` for a scalar).
    public func write(_ name: String, floats: [Float], shape: [Int]) throws(StorageError) {
        precondition(shape.reduce(1, *) == floats.count, "\(name): shape \(shape) for \(floats.count) values")
        try writeNumeric(name, shape: shape, type: gauntlet_h5t_native_float(), compress: floats.count > 4096, elementSize: 4) { buffer in
            floats.withUnsafeBytes { buffer($0.baseAddress!) }
        }
    }

    /// Writes a Float64 array with the given shape (`[]` for a scalar).
    public func write(_ name: String, doubles: [Double], shape: [Int]) throws(StorageError) {
        precondition(shape.reduce(1, *) == doubles.count, "\(name): shape \(shape) for \(doubles.count) values")
        try writeNumeric(name, shape: shape, type: gauntlet_h5t_native_double(), compress: false, elementSize: 8) { buffer in
            doubles.withUnsafeBytes { buffer($0.baseAddress!) }
        }
    }

    /// Writes an Int64 array with the given shape (`[]` for a scalar).
    public func write(_ name: String, integers: [Int64], shape: [Int]) throws(StorageError) {
        precondition(shape.reduce(1, *) == integers.count, "\(name): shape \(shape) for \(integers.count) values")
        try writeNumeric(name, shape: shape, type: gauntlet_h5t_native_int64(), compress: integers.count > 4096, elementSize: 8) { buffer in
            integers.withUnsafeBytes { buffer($0.baseAddress!) }
        }
    }

    /// Writes UTF-8 strings as a 1-D variable-length string dataset (or a scalar if `scalar`).
    public func write(_ name: String, strings: [String], scalar: Bool = false) throws(StorageError) {
        precondition(!scalar || strings.count == 1, "a scalar string dataset holds one string")
        try ensureParent(of: name)
        let type = Self.stringType()
        defer { H5Tclose(type) }
        let space = scalar ? H5Screate(H5S_SCALAR) : Self.simpleSpace([strings.count])
        defer { H5Sclose(space) }
        let dataset = H5Dcreate2(id, name, type, space, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard dataset >= 0 else { throw .failed(file: path, operation: "dataset creation", object: name) }
        defer { H5Dclose(dataset) }
        let status = Self.withCStrings(strings) { pointers in
            H5Dwrite(dataset, type, hid_t(H5S_ALL), hid_t(H5S_ALL), hid_t(H5P_DEFAULT), pointers)
        }
        guard status >= 0 else { throw .failed(file: path, operation: "write", object: name) }
    }

    /// Sets a scalar attribute on the object at `object` (a group or dataset; `/` for the file).
    public func setAttribute(_ name: String, _ value: AttributeValue, on object: String = "/") throws(StorageError) {
        let target = H5Oopen(id, object, hid_t(H5P_DEFAULT))
        guard target >= 0 else { throw .missing(file: path, object: object) }
        defer { H5Oclose(target) }
        if H5Aexists(target, name) > 0 { H5Adelete(target, name) }
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        let type: hid_t
        switch value {
        case .string: type = Self.stringType()
        case .integer: type = H5Tcopy(gauntlet_h5t_native_int64())
        case .real: type = H5Tcopy(gauntlet_h5t_native_double())
        }
        defer { H5Tclose(type) }
        let attribute = H5Acreate2(target, name, type, space, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard attribute >= 0 else { throw .failed(file: path, operation: "attribute creation", object: "\(object)@\(name)") }
        defer { H5Aclose(attribute) }
        let status: herr_t
        switch value {
        case .string(let text): status = Self.withCStrings([text]) { H5Awrite(attribute, type, $0) }
        case .integer(var number): status = H5Awrite(attribute, type, &number)
        case .real(var number): status = H5Awrite(attribute, type, &number)
        }
        guard status >= 0 else { throw .failed(file: path, operation: "attribute write", object: "\(object)@\(name)") }
    }

    /// Creates an external link at `name` to the object `object` of the file `file` (a path
    /// relative to this file's directory is resolved there by HDF5 and h5py).
    public func linkExternal(_ name: String, file: String, object: String = "/") throws(StorageError) {
        try ensureParent(of: name)
        guard H5Lcreate_external(file, object, id, name, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT)) >= 0 else {
            throw .failed(file: path, operation: "external link", object: name)
        }
    }

    // MARK: - Reading

    /// Whether a link with this path exists (every parent must exist too).
    public func exists(_ name: String) -> Bool {
        var prefix = ""
        for part in name.split(separator: "/") {
            prefix += "/" + part
            if H5Lexists(id, prefix, hid_t(H5P_DEFAULT)) <= 0 { return false }
        }
        return true
    }

    /// The names of the members of a group, in HDF5's (alphabetical) order.
    public func members(of group: String) throws(StorageError) -> [String] {
        let g = H5Gopen2(id, group, hid_t(H5P_DEFAULT))
        guard g >= 0 else { throw .missing(file: path, object: group) }
        defer { H5Gclose(g) }
        var info = H5G_info_t()
        guard H5Gget_info(g, &info) >= 0 else { throw .failed(file: path, operation: "listing", object: group) }
        return (0..<info.nlinks).compactMap { index -> String? in
            let length = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, hid_t(H5P_DEFAULT))
            guard length >= 0 else { return nil }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, hid_t(H5P_DEFAULT))
            return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The shape of a dataset (`[]` for a scalar).
    public func shape(of name: String) throws(StorageError) -> [Int] {
        let dataset = try openDataset(name)
        defer { H5Dclose(dataset) }
        return Self.shape(ofDataset: dataset)
    }

    /// The stored element type of a numeric dataset: integer or floating point, its size in
    /// bytes, and whether an integer is signed.
    public func elementType(of name: String) throws(StorageError) -> (isInteger: Bool, size: Int, isSigned: Bool) {
        let dataset = try openDataset(name)
        defer { H5Dclose(dataset) }
        let stored = H5Dget_type(dataset)
        defer { H5Tclose(stored) }
        let kind = H5Tget_class(stored)
        guard kind == H5T_INTEGER || kind == H5T_FLOAT else {
            throw .wrongType(file: path, object: name, expected: "a numeric dataset (integers or floating point)")
        }
        return (kind == H5T_INTEGER, Int(H5Tget_size(stored)), kind == H5T_INTEGER && H5Tget_sign(stored) != H5T_SGN_NONE)
    }

    /// Reads a numeric dataset as Float32 (HDF5 converts from the stored type).
    public func readFloats(_ name: String) throws(StorageError) -> (shape: [Int], values: [Float]) {
        try readNumeric(name, memoryType: gauntlet_h5t_native_float(), zero: Float(0))
    }

    /// Reads rows of a numeric dataset (entries of its first axis) as Float32: `rows` ascending
    /// and distinct, returned in that order, each row's values one after another. One read of
    /// the union of the rows, so each chunk of a chunked dataset is decompressed once.
    public func readFloats(_ name: String, rows: [Int]) throws(StorageError) -> [Float] {
        let dataset = try openDataset(name)
        defer { H5Dclose(dataset) }
        let shape = Self.shape(ofDataset: dataset)
        guard let first = shape.first, rows.allSatisfy({ (0..<first).contains($0) }), zip(rows, rows.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw .failed(file: path, operation: "read of rows \(rows.prefix(3))… (of \(shape.first ?? 0))", object: name)
        }
        let rowSize = shape.dropFirst().reduce(1, *)
        var values = [Float](repeating: 0, count: rows.count * rowSize)
        guard !rows.isEmpty else { return values }
        let fileSpace = H5Dget_space(dataset)
        defer { H5Sclose(fileSpace) }
        // Runs of consecutive rows, each one hyperslab.
        var runs: [(start: Int, count: Int)] = []
        for row in rows {
            if let last = runs.last, last.start + last.count == row { runs[runs.count - 1].count += 1 } else { runs.append((row, 1)) }
        }
        for (index, run) in runs.enumerated() {
            let start = [hsize_t(run.start)] + shape.dropFirst().map { _ in hsize_t(0) }
            let count = [hsize_t(run.count)] + shape.dropFirst().map { hsize_t($0) }
            guard H5Sselect_hyperslab(fileSpace, index == 0 ? H5S_SELECT_SET : H5S_SELECT_OR, start, nil, count, nil) >= 0 else {
                throw .failed(file: path, operation: "row selection", object: name)
            }
        }
        let memorySpace = Self.simpleSpace([values.count])
        defer { H5Sclose(memorySpace) }
        let status = values.withUnsafeMutableBytes {
            H5Dread(dataset, gauntlet_h5t_native_float(), memorySpace, fileSpace, hid_t(H5P_DEFAULT), $0.baseAddress)
        }
        guard status >= 0 else { throw .failed(file: path, operation: "read", object: name) }
        return values
    }

    /// Reads a numeric dataset as Float64.
    public func readDoubles(_ name: String) throws(StorageError) -> (shape: [Int], values: [Double]) {
        try readNumeric(name, memoryType: gauntlet_h5t_native_double(), zero: Double(0))
    }

    /// Reads a numeric dataset as Int64.
    public func readIntegers(_ name: String) throws(StorageError) -> (shape: [Int], values: [Int64]) {
        try readNumeric(name, memoryType: gauntlet_h5t_native_int64(), zero: Int64(0))
    }

    /// Reads a variable-length string dataset (scalar or 1-D).
    public func readStrings(_ name: String) throws(StorageError) -> [String] {
        let dataset = try openDataset(name)
        defer { H5Dclose(dataset) }
        let stored = H5Dget_type(dataset)
        defer { H5Tclose(stored) }
        guard H5Tget_class(stored) == H5T_STRING, H5Tis_variable_str(stored) > 0 else {
            throw .wrongType(file: path, object: name, expected: "a variable-length string dataset")
        }
        let count = max(1, Self.shape(ofDataset: dataset).reduce(1, *))
        var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
        let type = Self.stringType()
        defer { H5Tclose(type) }
        guard H5Dread(dataset, type, hid_t(H5S_ALL), hid_t(H5S_ALL), hid_t(H5P_DEFAULT), &pointers) >= 0 else {
            throw .failed(file: path, operation: "read", object: name)
        }
        defer { for pointer in pointers { H5free_memory(pointer) } }
        return pointers.map { $0.map { String(cString: $0) } ?? "" }
    }

    /// Reads a scalar attribute, or nil if it does not exist.
    public func attribute(_ name: String, on object: String = "/") throws(StorageError) -> AttributeValue? {
        let target = H5Oopen(id, object, hid_t(H5P_DEFAULT))
        guard target >= 0 else { throw .missing(file: path, object: object) }
        defer { H5Oclose(target) }
        guard H5Aexists(target, name) > 0 else { return nil }
        let attribute = H5Aopen(target, name, hid_t(H5P_DEFAULT))
        guard attribute >= 0 else { throw .failed(file: path, operation: "attribute open", object: "\(object)@\(name)") }
        defer { H5Aclose(attribute) }
        let stored = H5Aget_type(attribute)
        defer { H5Tclose(stored) }
        switch H5Tget_class(stored) {
        case H5T_STRING:
            let type = Self.stringType()
            defer { H5Tclose(type) }
            var pointer: UnsafeMutablePointer<CChar>?
            guard H5Aread(attribute, type, &pointer) >= 0 else { throw .failed(file: path, operation: "attribute read", object: name) }
            defer { H5free_memory(pointer) }
            return .string(pointer.map { String(cString: $0) } ?? "")
        case H5T_INTEGER:
            var value: Int64 = 0
            guard H5Aread(attribute, gauntlet_h5t_native_int64(), &value) >= 0 else { throw .failed(file: path, operation: "attribute read", object: name) }
            return .integer(value)
        case H5T_FLOAT:
            var value: Double = 0
            guard H5Aread(attribute, gauntlet_h5t_native_double(), &value) >= 0 else { throw .failed(file: path, operation: "attribute read", object: name) }
            return .real(value)
        default:
            throw .wrongType(file: path, object: "\(object)@\(name)", expected: "a string, integer or real attribute")
        }
    }

    // MARK: - Helpers

    private func writeNumeric(
        _ name: String, shape: [Int], type: hid_t, compress: Bool, elementSize: Int,
        _ withBuffer: ((UnsafeRawPointer) -> herr_t) -> herr_t
    ) throws(StorageError) {
        try ensureParent(of: name)
        let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : Self.simpleSpace(shape)
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(gauntlet_h5p_dataset_create())
        defer { H5Pclose(dcpl) }
        if compress, !shape.isEmpty {
            // Chunks of whole trailing rows, about 256 KiB each.
            var chunk = shape.map { max(1, $0) }
            let rowBytes = chunk.dropFirst().reduce(elementSize, *)
            chunk[0] = max(1, min(chunk[0], (1 << 18) / max(1, rowBytes)))
            let dims = chunk.map { hsize_t($0) }
            H5Pset_chunk(dcpl, Int32(dims.count), dims)
            H5Pset_shuffle(dcpl)
            H5Pset_deflate(dcpl, 4)
        }
        let dataset = H5Dcreate2(id, name, type, space, hid_t(H5P_DEFAULT), dcpl, hid_t(H5P_DEFAULT))
        guard dataset >= 0 else { throw .failed(file: path, operation: "dataset creation", object: name) }
        defer { H5Dclose(dataset) }
        let status = withBuffer { H5Dwrite(dataset, type, hid_t(H5S_ALL), hid_t(H5S_ALL), hid_t(H5P_DEFAULT), $0) }
        guard status >= 0 else { throw .failed(file: path, operation: "write", object: name) }
    }

    private func readNumeric<T>(_ name: String, memoryType: hid_t, zero: T) throws(StorageError) -> (shape: [Int], values: [T]) {
        let dataset = try openDataset(name)
        defer { H5Dclose(dataset) }
        let stored = H5Dget_type(dataset)
        let storedClass = H5Tget_class(stored)
        H5Tclose(stored)
        guard storedClass == H5T_FLOAT || storedClass == H5T_INTEGER else {
            throw .wrongType(file: path, object: name, expected: "a numeric dataset")
        }
        let shape = Self.shape(ofDataset: dataset)
        var values = [T](repeating: zero, count: shape.reduce(1, *))
        let status = values.withUnsafeMutableBytes {
            H5Dread(dataset, memoryType, hid_t(H5S_ALL), hid_t(H5S_ALL), hid_t(H5P_DEFAULT), $0.baseAddress)
        }
        guard status >= 0 else { throw .failed(file: path, operation: "read", object: name) }
        return (shape, values)
    }

    private func openDataset(_ name: String) throws(StorageError) -> hid_t {
        guard exists(name) else { throw .missing(file: path, object: name) }
        let dataset = H5Dopen2(id, name, hid_t(H5P_DEFAULT))
        guard dataset >= 0 else { throw .wrongType(file: path, object: name, expected: "a dataset") }
        return dataset
    }

    private func ensureParent(of name: String) throws(StorageError) {
        guard isWritable else { throw .failed(file: path, operation: "write (file is read-only)", object: name) }
        let parts = name.split(separator: "/")
        if parts.count > 1 { try createGroup("/" + parts.dropLast().joined(separator: "/")) }
    }

    private static func shape(ofDataset dataset: hid_t) -> [Int] {
        let space = H5Dget_space(dataset)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank > 0 else { return [] }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, nil)
        return dims.map { Int($0) }
    }

    private static func simpleSpace(_ shape: [Int]) -> hid_t {
        let dims = shape.map { hsize_t($0) }
        return H5Screate_simple(Int32(dims.count), dims, nil)
    }

    private static func stringType() -> hid_t {
        let type = H5Tcopy(gauntlet_h5t_c_s1())
        H5Tset_size(type, gauntlet_h5t_variable())
        H5Tset_cset(type, H5T_CSET_UTF8)
        return type
    }

    private static func intermediateGroups() -> hid_t {
        let lcpl = H5Pcreate(gauntlet_h5p_link_create())
        H5Pset_create_intermediate_group(lcpl, 1)
        return lcpl
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafeRawPointer) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        return copies.withUnsafeBufferPointer { body(UnsafeRawPointer($0.baseAddress!)) }
    }
}
