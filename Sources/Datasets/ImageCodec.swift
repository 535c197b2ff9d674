import Foundation
import CPNG
import CTurboJPEG

/// PNG (libpng's simplified API) and JPEG (libjpeg-turbo) images: headers, decoding to 8-bit
/// interleaved pixels, and JPEG encoding. A codec keeps libjpeg-turbo's handles between images:
/// use one per thread.
///
/// Channels follow Pillow's `convert`, which torchvision's image folders use: colour to
/// grayscale is the ITU-R 601-2 luma `(19595 R + 38470 G + 7471 B + 32768) >> 16`, grayscale to
/// RGB repeats the value, and an alpha channel is dropped (not composited).
public final class ImageCodec {
    public enum Format: String, Sendable { case png = "PNG", jpeg = "JPEG" }

    /// What a file's header says: its size, format, and whether it holds one channel (grayscale,
    /// with or without alpha) or colour (RGB, RGBA, palette).
    public struct Header: Equatable, Sendable {
        public var width: Int
        public var height: Int
        public var channels: Int
        public var format: Format
    }

    private var decompressor: tjhandle?
    private var compressor: tjhandle?
    /// The last image's pixels in its own channels.
    private var scratch: [UInt8] = []

    public init() {}

    deinit {
        if let decompressor { tjDestroy(decompressor) }
        if let compressor { tjDestroy(compressor) }
    }

    /// The format of an image file from its first bytes (nil: neither PNG nor JPEG).
    public static func format(of bytes: [UInt8]) -> Format? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    /// The header of a PNG or JPEG file's bytes (`path` names the file in errors).
    public func header(_ bytes: [UInt8], path: String) throws(DatasetError) -> Header {
        switch Self.format(of: bytes) {
        case .png:
            // The IHDR chunk follows the 8-byte signature: length, type, width, height (big
            // endian), bit depth, colour type (0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA).
            guard bytes.count >= 26, bytes[12..<16].elementsEqual("IHDR".utf8) else { throw .invalidData(path, "not a valid PNG image: no IHDR chunk") }
            func word(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
            let (width, height, colourType) = (word(16), word(20), bytes[25])
            guard width > 0, height > 0, [0, 2, 3, 4, 6].contains(colourType) else {
                throw .invalidData(path, "not a valid PNG image: \(width)×\(height), colour type \(colourType)")
            }
            return Header(width: width, height: height, channels: colourType == 0 || colourType == 4 ? 1 : 3, format: .png)
        case .jpeg:
            let handle = try decompressorHandle(path)
            var (width, height, subsampling, colourspace): (Int32, Int32, Int32, Int32) = (0, 0, 0, 0)
            guard tjDecompressHeader3(handle, bytes, UInt(bytes.count), &width, &height, &subsampling, &colourspace) == 0 else {
                throw .invalidData(path, "not a valid JPEG image: \(String(cString: tjGetErrorStr2(handle)))")
            }
            return Header(width: Int(width), height: Int(height), channels: colourspace == Int32(TJCS_GRAY.rawValue) ? 1 : 3, format: .jpeg)
        case nil:
            let start = bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw .invalidData(path, "not a PNG or JPEG image (its first bytes are \(start))")
        }
    }

    /// The file's pixels, `height × width × channels` bytes row by row, converted to `channels`
    /// (1 or 3). A truncated or corrupt file is an error naming `path`.
    public func decode(_ bytes: [UInt8], channels: Int, path: String) throws(DatasetError) -> (header: Header, pixels: [UInt8]) {
        var pixels: [UInt8] = []
        let header = try decode(bytes, channels: channels, path: path, into: &pixels)
        return (header, pixels)
    }

    /// `decode` into `pixels`, which is resized to the image (reusing its storage between images
    /// of one size).
    public func decode(_ bytes: [UInt8], channels: Int, path: String, into pixels: inout [UInt8]) throws(DatasetError) -> Header {
        precondition(channels == 1 || channels == 3, "decode to 1 or 3 channels")
        let header = try self.header(bytes, path: path)
        let count = header.width * header.height * header.channels
        if header.format == .png {
            try decodePNG(bytes, header: header, path: path, into: &scratch)
        } else {
            if scratch.count != count { scratch = [UInt8](repeating: 0, count: count) }
            try decodeJPEG(bytes, header: header, path: path, into: &scratch)
        }
        Self.convert(scratch, from: header.channels, to: channels, into: &pixels)
        return header
    }

    /// JPEG bytes of interleaved 8-bit pixels (1 channel: grayscale; 3: RGB with 4:2:0 chroma
    /// subsampling) at `quality` (1–100).
    public func encodeJPEG(_ pixels: [UInt8], width: Int, height: Int, channels: Int, quality: Int) -> [UInt8] {
        if compressor == nil { compressor = tjInitCompress() }
        let format = channels == 1 ? TJPF_GRAY : TJPF_RGB
        let subsampling = channels == 1 ? TJSAMP_GRAY : TJSAMP_420
        var encoded: UnsafeMutablePointer<UInt8>?
        var encodedSize: UInt = 0
        let status = tjCompress2(
            compressor, pixels, Int32(width), 0, Int32(height), Int32(format.rawValue), &encoded, &encodedSize, Int32(subsampling.rawValue),
            Int32(quality), 0)
        defer { tjFree(encoded) }
        precondition(status == 0, "libjpeg-turbo could not encode a \(width)×\(height) image: \(String(cString: tjGetErrorStr2(compressor)))")
        return Array(UnsafeBufferPointer(start: encoded, count: Int(encodedSize)))
    }

    private func decompressorHandle(_ path: String) throws(DatasetError) -> tjhandle {
        if decompressor == nil { decompressor = tjInitDecompress() }
        guard let decompressor else { throw .unreadable(path, "libjpeg-turbo could not start a decoder") }
        return decompressor
    }

    /// The JPEG's own channels (gray or RGB) into `pixels` (sized for them). Warnings (a
    /// truncated file) are errors, as in Pillow.
    private func decodeJPEG(_ bytes: [UInt8], header: Header, path: String, into pixels: inout [UInt8]) throws(DatasetError) {
        let handle = try decompressorHandle(path)
        let format = header.channels == 1 ? TJPF_GRAY : TJPF_RGB
        let status = tjDecompress2(
            handle, bytes, UInt(bytes.count), &pixels, Int32(header.width), 0, Int32(header.height), Int32(format.rawValue), TJFLAG_STOPONWARNING)
        guard status == 0 else { throw .invalidData(path, "corrupt JPEG image: \(String(cString: tjGetErrorStr2(handle)))") }
    }

    /// The PNG's own channels (gray or RGB) into `pixels`, read with alpha and the alpha dropped.
    private func decodePNG(_ bytes: [UInt8], header: Header, path: String, into pixels: inout [UInt8]) throws(DatasetError) {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        func failure(_ image: png_image) -> DatasetError {
            let message = withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            return .invalidData(path, "corrupt PNG image: \(message)")
        }
        guard bytes.withUnsafeBytes({ png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }) != 0 else { throw failure(image) }
        let withAlpha = header.channels + 1
        // PNG_FORMAT_GA and PNG_FORMAT_RGBA (flag macros Swift does not import).
        image.format = png_uint_32(header.channels == 1 ? PNG_FORMAT_FLAG_ALPHA : PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
        let (width, height) = (Int(image.width), Int(image.height))
        var read = [UInt8](repeating: 0, count: width * height * withAlpha)
        guard png_image_finish_read(&image, nil, &read, 0, nil) != 0 else { throw failure(image) }
        pixels = [UInt8](unsafeUninitializedCapacity: width * height * header.channels) { buffer, initialized in
            for p in 0..<(width * height) {
                for c in 0..<header.channels { buffer[p * header.channels + c] = read[p * withAlpha + c] }
            }
            initialized = width * height * header.channels
        }
    }

    /// Interleaved pixels from `source` channels (1 or 3) to `target` channels (1 or 3), into
    /// `output`.
    static func convert(_ pixels: [UInt8], from source: Int, to target: Int, into output: inout [UInt8]) {
        let count = pixels.count / source
        if output.count != count * target { output = [UInt8](repeating: 0, count: count * target) }
        pixels.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                switch (source, target) {
                case (1, 3):
                    for p in 0..<count { (output[3 * p], output[3 * p + 1], output[3 * p + 2]) = (input[p], input[p], input[p]) }
                case (3, 1):
                    for p in 0..<count {
                        let (r, g, b) = (UInt32(input[3 * p]), UInt32(input[3 * p + 1]), UInt32(input[3 * p + 2]))
                        output[p] = UInt8((19595 * r + 38470 * g + 7471 * b + 32768) >> 16)
                    }
                default:
                    _ = output.initialize(from: input)
                }
            }
        }
    }
}
