/// Encodes RGBA images as PNG in pure Swift.
///
/// SDL 2.26 only writes BMP, SDL2_image is not a dependency, and Foundation on
/// Linux exposes no zlib. So the encoder does PNG's whole job itself: each
/// row gets the filter (None, Sub, Up, Average or Paeth) with the smallest
/// sum of absolute differences, the usual heuristic; the filtered rows are
/// deflated (``Deflate``) into a zlib stream with an Adler-32 trailer; chunks
/// carry CRC-32s. A board frame of flat colours and text comes out at a few
/// per cent of its raw size.
public enum PNGEncoder {
    /// The 8-byte signature every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A complete PNG file, not interlaced: 8-bit RGB when every pixel is
    /// opaque (a board frame always is), 8-bit RGBA otherwise.
    public static func encode(_ image: RGBAImage) -> [UInt8] {
        let opaque = stride(from: 3, to: image.pixels.count, by: 4).allSatisfy { image.pixels[$0] == 255 }
        let samples: [UInt8]
        if opaque {
            samples = [UInt8](unsafeUninitializedCapacity: image.width * image.height * 3) {
                rgb, initialized in
                image.pixels.withUnsafeBufferPointer { rgba in
                    for pixel in 0..<(image.width * image.height) {
                        rgb[pixel * 3] = rgba[pixel * 4]
                        rgb[pixel * 3 + 1] = rgba[pixel * 4 + 1]
                        rgb[pixel * 3 + 2] = rgba[pixel * 4 + 2]
                    }
                }
                initialized = image.width * image.height * 3
            }
        } else {
            samples = image.pixels
        }
        var header: [UInt8] = []
        header.appendBigEndian(UInt32(image.width))
        header.appendBigEndian(UInt32(image.height))
        // bit depth 8, colour type 2 (RGB) or 6 (RGBA), compression 0, filter 0, interlace 0
        header.append(contentsOf: [8, opaque ? 2 : 6, 0, 0, 0])

        var file = signature
        appendChunk("IHDR", header, to: &file)
        let scanlines = filteredScanlines(
            samples, width: image.width, height: image.height, bytesPerPixel: opaque ? 3 : 4)
        appendChunk("IDAT", zlib(scanlines), to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// Each row prefixed by its filter type and filtered with it (PNG spec §9).
    static func filteredScanlines(_ samples: [UInt8], width: Int, height: Int, bytesPerPixel: Int) -> [UInt8]
    {
        let rowBytes = width * bytesPerPixel
        let bpp = bytesPerPixel
        return [UInt8](unsafeUninitializedCapacity: (rowBytes + 1) * height) { output, initialized in
            // One pass per row computes all five filters side by side.
            let candidates = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 5 * rowBytes)
            defer { candidates.deallocate() }
            samples.withUnsafeBufferPointer { pixels in
                for row in 0..<height {
                    let start = row * rowBytes
                    var costs = (0, 0, 0, 0, 0)
                    for index in 0..<rowBytes {
                        let x = pixels[start + index]
                        let a = index >= bpp ? pixels[start + index - bpp] : 0
                        let b = row > 0 ? pixels[start + index - rowBytes] : 0
                        let c = index >= bpp && row > 0 ? pixels[start + index - rowBytes - bpp] : 0
                        let none = x
                        let sub = x &- a
                        let up = x &- b
                        let average = x &- UInt8((UInt16(a) + UInt16(b)) / 2)
                        let paeth = x &- Self.paeth(a, b, c)
                        candidates[index] = none
                        candidates[rowBytes + index] = sub
                        candidates[2 * rowBytes + index] = up
                        candidates[3 * rowBytes + index] = average
                        candidates[4 * rowBytes + index] = paeth
                        costs.0 &+= cost(none)
                        costs.1 &+= cost(sub)
                        costs.2 &+= cost(up)
                        costs.3 &+= cost(average)
                        costs.4 &+= cost(paeth)
                    }
                    let all = [costs.0, costs.1, costs.2, costs.3, costs.4]
                    let best = all.indices.min { all[$0] < all[$1] }!
                    let rowStart = row * (rowBytes + 1)
                    output[rowStart] = UInt8(best)
                    for index in 0..<rowBytes {
                        output[rowStart + 1 + index] = candidates[best * rowBytes + index]
                    }
                }
            }
            initialized = (rowBytes + 1) * height
        }
    }

    /// A filtered byte's distance from zero, read as signed: the usual filter heuristic's measure.
    private static func cost(_ value: UInt8) -> Int {
        value < 128 ? Int(value) : 256 - Int(value)
    }

    /// The Paeth predictor: whichever of left, above and upper-left is closest to left + above - upper-left.
    static func paeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let p = Int(a) + Int(b) - Int(c)
        let pa = abs(p - Int(a))
        let pb = abs(p - Int(b))
        let pc = abs(p - Int(c))
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }

    /// A zlib stream (RFC 1950) holding `data` deflated.
    static func zlib(_ data: [UInt8]) -> [UInt8] {
        var stream: [UInt8] = [0x78, 0x01]  // deflate, 32K window, no dictionary; (0x7801 % 31 == 0)
        stream.append(contentsOf: Deflate.compress(data))
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
