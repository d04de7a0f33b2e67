/// Consistent Overhead Byte Stuffing: removes every 0x00 from a frame so that
/// 0x00 can mark the frame's end on the wire.
///
/// Why COBS: a receiver that joins mid-stream, or that has just seen line
/// noise, resynchronises at the next 0x00 without reading a length field it
/// cannot trust, and the overhead is bounded (one byte per 254, plus one)
/// rather than doubling in the worst case as with byte escaping (SLIP, HDLC).
public enum COBS {
    /// The most bytes encoding `count` bytes can produce (without the delimiter).
    public static func maxEncodedCount(_ count: Int) -> Int { count + count / 254 + 1 }

    /// Appends the COBS encoding of `input` to `output`; appends no delimiter.
    public static func encode(_ input: some Collection<UInt8>, into output: inout [UInt8]) {
        output.reserveCapacity(output.count + maxEncodedCount(input.count) + 1)
        // Index of the code byte for the current block, patched when it closes.
        var codeIndex = output.count
        output.append(0)
        var code: UInt8 = 1
        for byte in input {
            if byte == 0 {
                output[codeIndex] = code
                codeIndex = output.count
                output.append(0)
                code = 1
            } else {
                output.append(byte)
                code += 1
                if code == 0xFF {
                    // A full block of 254 non-zero bytes carries no implied zero.
                    output[codeIndex] = code
                    codeIndex = output.count
                    output.append(0)
                    code = 1
                }
            }
        }
        output[codeIndex] = code
    }

    /// The COBS encoding of `input`, without delimiter.
    public static func encode(_ input: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        encode(input, into: &out)
        return out
    }

    /// Decodes one COBS block sequence (no delimiter inside) into `output`,
    /// replacing its contents. Returns false when the input is not valid
    /// COBS: a zero byte, or a code byte that points past the end.
    public static func decode(_ input: some Collection<UInt8>, into output: inout [UInt8]) -> Bool {
        output.removeAll(keepingCapacity: true)
        output.reserveCapacity(input.count)
        var i = input.startIndex
        while i != input.endIndex {
            let code = input[i]
            if code == 0 { return false }
            i = input.index(after: i)
            let run = Int(code) - 1
            guard input.distance(from: i, to: input.endIndex) >= run else { return false }
            let end = input.index(i, offsetBy: run)
            for byte in input[i..<end] {
                if byte == 0 { return false }
                output.append(byte)
            }
            i = end
            // A block shorter than 254 stands for its bytes plus a zero, except
            // the last: the zero it implies is the delimiter itself.
            if code != 0xFF && i != input.endIndex { output.append(0) }
        }
        return true
    }

    /// The decoding of `input`, or nil when it is not valid COBS.
    public static func decode(_ input: some Collection<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        return decode(input, into: &out) ? out : nil
    }
}
