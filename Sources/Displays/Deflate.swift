/// A deflate compressor (RFC 1951) for PNG: LZ77 over a 32 KiB window with
/// hash chains, coded with the fixed Huffman table.
///
/// Board frames are large flat areas with some anti-aliased text; after PNG's
/// row filters they are mostly long runs, which LZ77 codes in a few bits
/// each. The fixed table keeps the coder short; dynamic tables would save
/// another 10 to 20 % on text and are not worth their code here.
enum Deflate {
    static let minimumMatch = 3
    static let maximumMatch = 258
    static let window = 32_768
    /// Stop searching once a match is this long: longer ones are rare and the search is the cost.
    static let goodEnough = 128
    static let maximumChain = 24

    /// `data` as one final fixed-Huffman block.
    static func compress(_ data: [UInt8]) -> [UInt8] {
        var out = BitWriter()
        out.write(1, count: 1)  // BFINAL
        out.write(1, count: 2)  // BTYPE 01: fixed Huffman
        let hashBits = 15
        let head = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 1 << hashBits)
        head.initialize(repeating: -1)
        let previous = UnsafeMutableBufferPointer<Int32>.allocate(capacity: window)
        previous.initialize(repeating: -1)
        defer {
            head.deallocate()
            previous.deallocate()
        }
        let count = data.count
        data.withUnsafeBufferPointer { bytes in
            func hash(_ at: Int) -> Int {
                let value = Int(bytes[at]) << 16 | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2])
                return (value &* 2_654_435_761) >> (32 - hashBits) & ((1 << hashBits) - 1)
            }
            func insert(_ at: Int) {
                guard at + minimumMatch <= count else { return }
                let h = hash(at)
                previous[at & (window - 1)] = head[h]
                head[h] = Int32(at)
            }
            var position = 0
            while position < count {
                var bestLength = 0
                var bestDistance = 0
                if position + minimumMatch <= count {
                    var candidate = Int(head[hash(position)])
                    var chain = maximumChain
                    let limit = min(maximumMatch, count - position)
                    while candidate >= 0 && position - candidate <= window && chain > 0 {
                        if bytes[candidate + bestLength] == bytes[position + bestLength] || bestLength == 0 {
                            var length = 0
                            while length < limit && bytes[candidate + length] == bytes[position + length] {
                                length += 1
                            }
                            if length > bestLength {
                                bestLength = length
                                bestDistance = position - candidate
                                if length >= goodEnough || length == limit { break }
                            }
                        }
                        let next = Int(previous[candidate & (window - 1)])
                        // Chains only point backwards; anything else is a stale slot from an older window.
                        if next >= candidate { break }
                        candidate = next
                        chain -= 1
                    }
                }
                if bestLength >= minimumMatch {
                    out.writeLength(bestLength)
                    out.writeDistance(bestDistance)
                    for offset in 0..<bestLength { insert(position + offset) }
                    position += bestLength
                } else {
                    out.writeLiteral(Int(bytes[position]))
                    insert(position)
                    position += 1
                }
            }
        }
        out.writeLiteral(256)  // end of block
        return out.finish()
    }

    static let lengthBase = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163,
        195, 227, 258,
    ]
    static let lengthExtra = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ]
    static let distanceBase = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
        4097,
        6145, 8193, 12289, 16385, 24577,
    ]
    static let distanceExtra = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]
}

/// Writes deflate's bit stream: values least significant bit first, Huffman
/// codes most significant bit first.
struct BitWriter {
    private var bytes: [UInt8] = []
    private var buffer: UInt64 = 0
    private var bits = 0

    mutating func write(_ value: Int, count: Int) {
        buffer |= UInt64(value) << UInt64(bits)
        bits += count
        while bits >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: buffer))
            buffer >>= 8
            bits -= 8
        }
    }

    /// A Huffman code of `count` bits, sent from its top bit down.
    mutating func writeCode(_ code: Int, count: Int) {
        write(Self.reversed(code, count: count), count: count)
    }

    /// A literal byte (0-255) or end of block (256) in the fixed table.
    mutating func writeLiteral(_ symbol: Int) {
        let code = Self.fixedLiteralCodes[symbol]
        write(Int(code.bits), count: Int(code.count))
    }

    /// The fixed table's literal/length codes, already bit-reversed for the stream.
    private static let fixedLiteralCodes: [(bits: UInt16, count: UInt8)] = (0..<288).map { symbol in
        let (code, count) =
            switch symbol {
            case 0...143: (0x30 + symbol, 8)
            case 144...255: (0x190 + symbol - 144, 9)
            case 256...279: (symbol - 256, 7)
            default: (0xC0 + symbol - 280, 8)
            }
        return (UInt16(reversed(code, count: count)), UInt8(count))
    }

    private static func reversed(_ code: Int, count: Int) -> Int {
        var reversed = 0
        for bit in 0..<count { reversed |= (code >> bit & 1) << (count - 1 - bit) }
        return reversed
    }

    mutating func writeLength(_ length: Int) {
        var index = Deflate.lengthBase.count - 1
        while Deflate.lengthBase[index] > length { index -= 1 }
        writeLiteral(257 + index)
        write(length - Deflate.lengthBase[index], count: Deflate.lengthExtra[index])
    }

    mutating func writeDistance(_ distance: Int) {
        var index = Deflate.distanceBase.count - 1
        while Deflate.distanceBase[index] > distance { index -= 1 }
        writeCode(index, count: 5)
        write(distance - Deflate.distanceBase[index], count: Deflate.distanceExtra[index])
    }

    /// The bytes, with the last one padded by zero bits.
    mutating func finish() -> [UInt8] {
        if bits > 0 { bytes.append(UInt8(truncatingIfNeeded: buffer)) }
        buffer = 0
        bits = 0
        return bytes
    }
}
