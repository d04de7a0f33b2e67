/// Encodes RGBA images as PNG in pure Swift.
///
/// SDL 2.26 only writes BMP, SDL2_image is not a dependency, and Foundation on
/// Linux exposes no zlib. PNG allows deflate's *stored* blocks, which need no
/// compression at all, so the encoder is a framing exercise: scanlines with
/// filter byte 0, a zlib stream of stored blocks with an Adler-32 trailer, and
/// chunks with CRC-32s. Files are about as large as the raw pixels (a
/// 1920x1080 snapshot is about 8 MB); real compression can come later without
/// changing callers.
public enum PNGEncoder {
    /// The 8-byte signature every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A complete PNG file: 8-bit RGBA, not interlaced.
    public static func encode(_ image: RGBAImage) -> [UInt8] {
        let rowBytes = image.width * 4
        var scanlines: [UInt8] = []
        scanlines.reserveCapacity((rowBytes + 1) * image.height)
        for row in 0..<image.height {
            scanlines.append(0)  // filter type None
            scanlines.append(contentsOf: image.pixels[(row * rowBytes)..<((row + 1) * rowBytes)])
        }

        var header: [UInt8] = []
        header.appendBigEndian(UInt32(image.width))
        header.appendBigEndian(UInt32(image.height))
        // bit depth 8, colour type 6 (RGBA), compression 0, filter 0, interlace 0
        header.append(contentsOf: [8, 6, 0, 0, 0])

        var file = signature
        appendChunk("IHDR", header, to: &file)
        appendChunk("IDAT", zlibStored(scanlines), to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// A zlib stream (RFC 1950) holding `data` in deflate stored blocks (RFC 1951 §3.2.4).
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        let maxBlock = 65_535
        var stream: [UInt8] = [0x78, 0x01]  // deflate, 32K window, no dictionary; (0x7801 % 31 == 0)
        stream.reserveCapacity(data.count + data.count / maxBlock * 5 + 11)
        var start = 0
        repeat {
            let end = min(start + maxBlock, data.count)
            let length = UInt16(end - start)
            // BFINAL in bit 0, BTYPE 00; the rest of the byte is padding before LEN.
            stream.append(end == data.count ? 1 : 0)
            stream.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
            stream.append(contentsOf: [UInt8(~length & 0xFF), UInt8(~length >> 8)])
            stream.append(contentsOf: data[start..<end])
            start = end
        } while start < data.count
        stream.appendBigEndian(adler32(data))
        return stream
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        file.appendBigEndian(UInt32(data.count))
        file.append(contentsOf: typeBytes)
        file.append(contentsOf: data)
        file.appendBigEndian(crc32(data, startingWith: crc32(typeBytes)))
    }

    /// CRC-32 as PNG and zip use it (reflected polynomial 0xEDB88320).
    /// Pass a previous result as `crc` to continue over more bytes.
    static func crc32(_ bytes: [UInt8], startingWith crc: UInt32 = 0) -> UInt32 {
        var value = ~crc
        for byte in bytes {
            value = crcTable[Int((value ^ UInt32(byte)) & 0xFF)] ^ (value >> 8)
        }
        return ~value
    }

    private static let crcTable: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 {
            value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1
        }
        return value
    }

    /// Adler-32 (RFC 1950).
    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        let modulus: UInt32 = 65_521
        var a: UInt32 = 1
        var b: UInt32 = 0
        // 5552 is the largest run for which b cannot overflow UInt32 before the modulo.
        var start = 0
        while start < bytes.count {
            let end = min(start + 5552, bytes.count)
            for byte in bytes[start..<end] {
                a &+= UInt32(byte)
                b &+= a
            }
            a %= modulus
            b %= modulus
            start = end
        }
        return b << 16 | a
    }
}

extension [UInt8] {
    fileprivate mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [
            UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF),
        ])
    }
}
