import Foundation
import Storage
import Testing

@Suite struct HDF5FileTests {
    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("gauntlet-\(UUID().uuidString)-\(name)").path
    }

    @Test func roundTripsEveryKindOfValue() throws {
        let path = Self.temporaryPath("round.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let big = (0..<10000).map { Float($0) * 0.5 }
        do {
            let file = try HDF5File.create(path)
            try file.write("/a/b/floats", floats: big, shape: [100, 100])
            try file.write("/scalar", doubles: [2.5], shape: [])
            try file.write("/ints", integers: [1, -2, 3], shape: [3])
            try file.write("/names", strings: ["clean", "fgsm(epsilon=0.1)", "ünïcode"])
            try file.write("/text", strings: ["line 1\nline 2"], scalar: true)
            try file.setAttribute("format_version", .integer(1))
            try file.setAttribute("host", .string("machine"))
            try file.setAttribute("ratio", .real(0.25), on: "/a/b/floats")
            file.close()
        }
        let file = try HDF5File.open(path)
        let floats = try file.readFloats("/a/b/floats")
        #expect(floats.shape == [100, 100] && floats.values == big)
        #expect(try file.readDoubles("/scalar").values == [2.5])
        #expect(try file.shape(of: "/scalar") == [])
        #expect(try file.readIntegers("/ints").values == [1, -2, 3])
        #expect(try file.readStrings("/names") == ["clean", "fgsm(epsilon=0.1)", "ünïcode"])
        #expect(try file.readStrings("/text") == ["line 1\nline 2"])
        #expect(try file.attribute("format_version") == .integer(1))
        #expect(try file.attribute("host") == .string("machine"))
        #expect(try file.attribute("ratio", on: "/a/b/floats") == .real(0.25))
        #expect(try file.attribute("absent") == nil)
        #expect(try file.members(of: "/") == ["a", "ints", "names", "scalar", "text"])
        #expect(file.exists("/a/b/floats") && !file.exists("/a/c/floats"))
        #expect(throws: StorageError.missing(file: path, object: "/nope")) { try file.readFloats("/nope") }
        #expect(throws: StorageError.self) { try file.write("/x", doubles: [1], shape: [1]) }  // read-only
    }

    @Test func largeTensorsAreChunkedAndCompressedForStandardTools() throws {
        let path = Self.temporaryPath("compressed.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let file = try HDF5File.create(path)
            try file.write("/weights", floats: [Float](repeating: 0.125, count: 50_000), shape: [500, 100])
        }
        let h5dump = Process()
        h5dump.executableURL = URL(fileURLWithPath: "/usr/bin/h5dump")  // hdf5-tools, installed by make test
        h5dump.arguments = ["-p", "-H", path]
        let pipe = Pipe()
        h5dump.standardOutput = pipe
        try h5dump.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        h5dump.waitUntilExit()
        #expect(h5dump.terminationStatus == 0)
        #expect(output.contains("CHUNKED") && output.contains("SHUFFLE") && output.contains("DEFLATE"))
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(size < 50_000)  // 200 kB of a repeated value compresses well
    }

    @Test func corruptFilesGiveAClearError() throws {
        let path = Self.temporaryPath("corrupt.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data((0..<4096).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: path))
        #expect(throws: StorageError.cannotOpen(path)) { try HDF5File.open(path) }
        #expect(StorageError.cannotOpen(path).description.hasPrefix(path))
        #expect(throws: StorageError.cannotOpen(path + ".missing")) { try HDF5File.open(path + ".missing") }
    }

    @Test func atomicWritesLeaveNothingBehindOnFailure() throws {
        let directory = Self.temporaryPath("atomic")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let destination = "\(directory)/result.h5"
        struct Interrupted: Error {}
        #expect(throws: Interrupted.self) {
            try AtomicFile.write(to: destination) { temporary in
                let file = try HDF5File.create(temporary)
                try file.write("/partial", doubles: [1], shape: [1])
                throw Interrupted()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        try AtomicFile.write(to: destination) { temporary in
            let file = try HDF5File.create(temporary)
            try file.write("/complete", doubles: [1], shape: [1])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["result.h5"])
        #expect(try HDF5File.open(destination).readDoubles("/complete").values == [1])
    }
}
