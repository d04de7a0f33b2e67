import PNG

@testable import Displays

/// A PNG file read back for the tests: pixels through libpng (``PNGCodec``,
/// the same library that wrote it, and the one the golden images are read
/// with), the header and chunk list from the bytes, to check what was written.
struct DecodedPNG {
    enum Failure: Error, CustomStringConvertible {
        case malformed(String)

        var description: String {
            switch self {
            case .malformed(let why): "malformed PNG: \(why)"
            }
        }
    }

    /// Chunk types in file order, e.g. `["IHDR", "IDAT", "IEND"]`.
    var chunkTypes: [String] = []
    var width: Int
    var height: Int
    var bitDepth = 0
    var colorType = 0
    /// RGBA, rows top to bottom.
    var pixels: [UInt8]

    var image: RGBAImage { RGBAImage(width: width, height: height, pixels: pixels) }

    init(_ bytes: [UInt8]) throws {
        let decoded = try PNGCodec.decode(bytes)
        width = decoded.width
        height = decoded.height
        pixels = decoded.rgba
        // libpng checked the signature and CRCs; here only the chunk walk.
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = Int(Self.bigEndian(bytes, offset))
            guard offset + 12 + length <= bytes.count else { throw Failure.malformed("chunk past the end") }
            let name = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            chunkTypes.append(name)
            if name == "IHDR" {
                bitDepth = Int(bytes[offset + 16])
                colorType = Int(bytes[offset + 17])
            }
            offset += 12 + length
        }
        guard chunkTypes.first == "IHDR", chunkTypes.last == "IEND" else {
            throw Failure.malformed("chunks \(chunkTypes) do not run from IHDR to IEND")
        }
    }

    static func bigEndian(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
