/// A minimal PNG encoder for the report's raster figures (attribution maps): 8-bit RGB, one
/// filter byte 0 per row, the image data in stored (uncompressed) deflate blocks. Larger than a
/// compressed PNG, but small for maps of a few thousand pixels, and free of any C library.
/// Format: PNG (ISO/IEC 15948), zlib (RFC 1950), deflate stored blocks (RFC 1951 §3.2.4).
public enum PNGEncoder {
    /// Encodes `pixels` (row-major, `width × height` RGB triples).
    public static func rgb(width: Int, height: Int, pixels: [(UInt8, UInt8, UInt8)]) -> [UInt8] {
        precondition(pixels.count == width * height && width > 0 && height > 0, "PNG needs width × height pixels")
        var raw: [UInt8] = []
        raw.reserveCapacity(height * (3 * width + 1))
        for row in 0..<height {
            raw.append(0)
            for pixel in pixels[(row * width)..<((row + 1) * width)] { raw += [pixel.0, pixel.1, pixel.2] }
        }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        chunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 2, 0, 0, 0], into: &png)
        chunk("IDAT", zlibStored(raw), into: &png)
        chunk("IEND", [], into: &png)
        return png
    }

    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var start = 0
        repeat {
            let count = min(65535, data.count - start)
            let final: UInt8 = start + count == data.count ? 1 : 0
            out += [final, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += data[start..<(start + count)]
            start += count
        } while start < data.count
        return out + bigEndian(adler32(data))
    }

    static func chunk(_ type: String, _ data: [UInt8], into png: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        png += bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(crc32(typeBytes + data))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }

    /// CRC-32 (ISO 3309, polynomial 0xEDB88320 reflected), as PNG chunks use.
    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
