@testable import Displays

/// Reads an 8-bit RGB or RGBA PNG back: checks the signature and every chunk's CRC,
/// inflates the zlib stream (all three deflate block types, RFC 1951) and
/// undoes the row filters. An independent reader for the encoder's tests and
/// the golden images.
struct DecodedPNG {
    enum Failure: Error, CustomStringConvertible {
        case malformed(String)

        var description: String {
            switch self {
            case .malformed(let why): "malformed PNG: \(why)"
            }
        }
    }

    var chunkTypes: [String] = []
    var width = 0
    var height = 0
    var bitDepth = 0
    var colorType = 0
    /// The filter type byte of each row.
    var filters: [UInt8] = []
    /// RGBA, rows top to bottom, filters undone.
    var pixels: [UInt8] = []

    var image: RGBAImage { RGBAImage(width: width, height: height, pixels: pixels) }

    init(_ bytes: [UInt8]) throws {
        guard Array(bytes.prefix(8)) == PNGEncoder.signature else { throw Failure.malformed("signature") }
        var offset = 8
        var idat: [UInt8] = []
        while offset + 12 <= bytes.count {
            let length = Int(Self.bigEndian(bytes, offset))
            guard offset + 12 + length <= bytes.count else { throw Failure.malformed("chunk past the end") }
            let type = Array(bytes[(offset + 4)..<(offset + 8)])
            let data = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            let crc = Self.bigEndian(bytes, offset + 8 + length)
            guard crc == PNGEncoder.crc32(data, startingWith: PNGEncoder.crc32(type)) else {
                throw Failure.malformed("CRC of chunk \(String(decoding: type, as: UTF8.self))")
            }
            let name = String(decoding: type, as: UTF8.self)
            chunkTypes.append(name)
            if name == "IHDR" {
                width = Int(Self.bigEndian(data, 0))
                height = Int(Self.bigEndian(data, 4))
                bitDepth = Int(data[8])
                colorType = Int(data[9])
            } else if name == "IDAT" {
                idat += data
            }
            offset += 12 + length
        }
        guard bitDepth == 8 && (colorType == 6 || colorType == 2) else {
            throw Failure.malformed("not 8-bit RGB or RGBA")
        }
        let scanlines = try Self.zlibInflate(idat)
        let bpp = colorType == 6 ? 4 : 3
        let rowBytes = width * bpp
        guard scanlines.count == (rowBytes + 1) * height else { throw Failure.malformed("scanline length") }
        var samples = [UInt8](repeating: 0, count: rowBytes * height)
        try samples.withUnsafeMutableBufferPointer { samples in
            try scanlines.withUnsafeBufferPointer { scanlines in
                for row in 0..<height {
                    let filter = scanlines[row * (rowBytes + 1)]
                    filters.append(filter)
                    guard filter <= 4 else { throw Failure.malformed("filter type \(filter)") }
                    for index in 0..<rowBytes {
                        let x = scanlines[row * (rowBytes + 1) + 1 + index]
                        let a = index >= bpp ? samples[row * rowBytes + index - bpp] : 0
                        let b = row > 0 ? samples[(row - 1) * rowBytes + index] : 0
                        let c = index >= bpp && row > 0 ? samples[(row - 1) * rowBytes + index - bpp] : 0
                        let predicted: UInt8
                        switch filter {
                        case 0: predicted = 0
                        case 1: predicted = a
                        case 2: predicted = b
                        case 3: predicted = UInt8((Int(a) + Int(b)) / 2)
                        default: predicted = PNGEncoder.paeth(a, b, c)
                        }
                        samples[row * rowBytes + index] = x &+ predicted
                    }
                }
            }
        }
        if bpp == 4 {
            pixels = samples
        } else {
            pixels = [UInt8](repeating: 255, count: width * height * 4)
            pixels.withUnsafeMutableBufferPointer { rgba in
                samples.withUnsafeBufferPointer { rgb in
                    for pixel in 0..<(width * height) {
                        rgba[pixel * 4] = rgb[pixel * 3]
                        rgba[pixel * 4 + 1] = rgb[pixel * 3 + 1]
                        rgba[pixel * 4 + 2] = rgb[pixel * 3 + 2]
                    }
                }
            }
        }
    }

    static func bigEndian(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func zlibInflate(_ stream: [UInt8]) throws -> [UInt8] {
        guard stream.count >= 6, (UInt16(stream[0]) << 8 | UInt16(stream[1])) % 31 == 0, stream[0] & 0x0F == 8
        else {
            throw Failure.malformed("zlib header")
        }
        var reader = BitReader(bytes: stream, position: 2)
        let output = try inflate(&reader)
        let trailer = reader.alignedByteOffset
        guard trailer + 4 == stream.count, bigEndian(stream, trailer) == PNGEncoder.adler32(output) else {
            throw Failure.malformed("Adler-32 trailer")
        }
        return output
    }

    static func inflate(_ reader: inout BitReader) throws -> [UInt8] {
        var output: [UInt8] = []
        var final = false
        while !final {
            final = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0:
                let start = reader.alignedByteOffset
                let bytes = reader.bytes
                guard start + 4 <= bytes.count else { throw Failure.malformed("stored block header") }
                let length = Int(bytes[start]) | Int(bytes[start + 1]) << 8
                let complement = Int(bytes[start + 2]) | Int(bytes[start + 3]) << 8
                guard length ^ complement == 0xFFFF, start + 4 + length <= bytes.count else {
                    throw Failure.malformed("stored block length")
                }
                output += bytes[(start + 4)..<(start + 4 + length)]
                reader = BitReader(bytes: bytes, position: start + 4 + length)
            case 1:
                let literal = Huffman(
                    lengths: (0..<288).map { $0 < 144 ? 8 : $0 < 256 ? 9 : $0 < 280 ? 7 : 8 })
                let distance = Huffman(lengths: [Int](repeating: 5, count: 30))
                try inflateBlock(&reader, literal, distance, into: &output)
            case 2:
                let literalCount = try reader.bits(5) + 257
                let distanceCount = try reader.bits(5) + 1
                let codeCount = try reader.bits(4) + 4
                let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
                var codeLengths = [Int](repeating: 0, count: 19)
                for index in 0..<codeCount { codeLengths[order[index]] = try reader.bits(3) }
                let codes = Huffman(lengths: codeLengths)
                var lengths: [Int] = []
                while lengths.count < literalCount + distanceCount {
                    let symbol = try codes.decode(&reader)
                    switch symbol {
                    case 0...15: lengths.append(symbol)
                    case 16:
                        guard let last = lengths.last else {
                            throw Failure.malformed("repeat with nothing before")
                        }
                        lengths += [Int](repeating: last, count: try reader.bits(2) + 3)
                    case 17: lengths += [Int](repeating: 0, count: try reader.bits(3) + 3)
                    default: lengths += [Int](repeating: 0, count: try reader.bits(7) + 11)
                    }
                }
                try inflateBlock(
                    &reader, Huffman(lengths: Array(lengths[0..<literalCount])),
                    Huffman(lengths: Array(lengths[literalCount...])), into: &output)
            default:
                throw Failure.malformed("block type 3")
            }
        }
        return output
    }

    static func inflateBlock(
        _ reader: inout BitReader, _ literal: Huffman, _ distance: Huffman, into output: inout [UInt8]
    ) throws {
        while true {
            let symbol = try literal.decode(&reader)
            if symbol < 256 {
                output.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let index = symbol - 257
                guard index < Deflate.lengthBase.count else {
                    throw Failure.malformed("length code \(symbol)")
                }
                let length = Deflate.lengthBase[index] + (try reader.bits(Deflate.lengthExtra[index]))
                let code = try distance.decode(&reader)
                guard code < Deflate.distanceBase.count else {
                    throw Failure.malformed("distance code \(code)")
                }
                let back = Deflate.distanceBase[code] + (try reader.bits(Deflate.distanceExtra[code]))
                guard back <= output.count else { throw Failure.malformed("distance before the start") }
                let start = output.count - back
                if back >= length {
                    output.append(contentsOf: output[start..<(start + length)])
                } else {
                    for offset in 0..<length { output.append(output[start + offset]) }
                }
            }
        }
    }

    struct BitReader {
        let bytes: [UInt8]
        private(set) var position: Int
        private var buffer: UInt64 = 0
        private var count = 0

        init(bytes: [UInt8], position: Int) {
            self.bytes = bytes
            self.position = position
        }

        /// The next byte boundary (stored blocks and the trailer start there).
        var alignedByteOffset: Int { position - count / 8 }

        private mutating func fill() {
            while count <= 56 && position < bytes.count {
                buffer |= UInt64(bytes[position]) << UInt64(count)
                position += 1
                count += 8
            }
        }

        /// The next `count` bits without consuming them, zero past the end.
        mutating func peek(_ wanted: Int) -> Int {
            fill()
            return Int(buffer & ((1 << UInt64(wanted)) - 1))
        }

        mutating func consume(_ used: Int) throws {
            guard used <= count else { throw Failure.malformed("stream ends early") }
            buffer >>= UInt64(used)
            count -= used
        }

        mutating func bits(_ wanted: Int) throws -> Int {
            guard wanted > 0 else { return 0 }
            let value = peek(wanted)
            try consume(wanted)
            return value
        }
    }

    /// A canonical Huffman decoder (RFC 1951 §3.2.2) through one lookup table.
    struct Huffman {
        var table: [(symbol: Int, length: Int)]
        var maximumLength: Int

        init(lengths: [Int]) {
            maximumLength = max(1, lengths.max() ?? 1)
            table = Array(repeating: (-1, 0), count: 1 << maximumLength)
            var code = 0
            for length in 1...15 {
                for (symbol, symbolLength) in lengths.enumerated() where symbolLength == length {
                    if length <= maximumLength {
                        var reversed = 0
                        for bit in 0..<length { reversed |= (code >> bit & 1) << (length - 1 - bit) }
                        var index = reversed
                        while index < table.count {
                            table[index] = (symbol, length)
                            index += 1 << length
                        }
                    }
                    code += 1
                }
                code <<= 1
            }
        }

        func decode(_ reader: inout BitReader) throws -> Int {
            let entry = table[reader.peek(maximumLength)]
            guard entry.length > 0 else { throw Failure.malformed("bad Huffman code") }
            try reader.consume(entry.length)
            return entry.symbol
        }
    }
}
