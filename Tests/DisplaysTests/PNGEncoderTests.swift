import Foundation
import Testing

@testable import Displays

/// Reads a PNG back far enough to check what the encoder promises: the
/// signature, chunk framing and CRCs, the header, and the pixels inside the
/// stored-block zlib stream.
struct DecodedPNG {
    var chunkTypes: [String] = []
    var width = 0
    var height = 0
    var bitDepth = 0
    var colorType = 0
    var scanlines: [UInt8] = []

    init(_ bytes: [UInt8]) throws {
        try #require(Array(bytes.prefix(8)) == PNGEncoder.signature)
        var offset = 8
        var idat: [UInt8] = []
        while offset < bytes.count {
            let length = Int(Self.bigEndian(bytes, offset))
            let type = Array(bytes[(offset + 4)..<(offset + 8)])
            let data = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            let crc = Self.bigEndian(bytes, offset + 8 + length)
            #expect(
                crc == PNGEncoder.crc32(data, startingWith: PNGEncoder.crc32(type)), "CRC of chunk \(type)")
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
        scanlines = try Self.inflateStored(idat)
    }

    static func bigEndian(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func inflateStored(_ stream: [UInt8]) throws -> [UInt8] {
        try #require(stream.count >= 6)
        #expect((UInt16(stream[0]) << 8 | UInt16(stream[1])) % 31 == 0, "zlib header check bits")
        var offset = 2
        var output: [UInt8] = []
        var final = false
        while !final {
            final = stream[offset] & 1 == 1
            try #require(stream[offset] >> 1 & 3 == 0, "only stored blocks expected")
            let length = Int(stream[offset + 1]) | Int(stream[offset + 2]) << 8
            let complement = Int(stream[offset + 3]) | Int(stream[offset + 4]) << 8
            #expect(length ^ complement == 0xFFFF)
            output += stream[(offset + 5)..<(offset + 5 + length)]
            offset += 5 + length
        }
        #expect(bigEndian(stream, offset) == PNGEncoder.adler32(output))
        #expect(offset + 4 == stream.count)
        return output
    }
}

@Suite struct PNGEncoderTests {
    @Test func checksumsMatchKnownVectors() {
        #expect(PNGEncoder.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(PNGEncoder.crc32(Array("IEND".utf8)) == 0xAE42_6082)
        #expect(PNGEncoder.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(PNGEncoder.adler32([]) == 1)
        // Long enough to cross the 5552-byte reduction boundary many times.
        let long = [UInt8](repeating: 0xFF, count: 100_000)
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in long {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        #expect(PNGEncoder.adler32(long) == b << 16 | a)
    }

    @Test func smallImageRoundTrips() throws {
        let pixels: [UInt8] = [
            255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255,
            0, 0, 0, 0, 255, 255, 255, 128, 1, 2, 3, 4,
        ]
        let png = RGBAImage(width: 3, height: 2, pixels: pixels).pngData()
        let decoded = try DecodedPNG(png)
        #expect(decoded.chunkTypes == ["IHDR", "IDAT", "IEND"])
        #expect(decoded.width == 3 && decoded.height == 2)
        #expect(decoded.bitDepth == 8 && decoded.colorType == 6)
        let expected: [UInt8] = [0] + pixels[0..<12] + [0] + pixels[12..<24]
        #expect(decoded.scanlines == expected)
    }

    /// More than 65535 bytes of scanlines need several stored blocks.
    @Test func largeImageSpansSeveralStoredBlocks() throws {
        let width = 300
        let height = 200
        let pixels = (0..<(width * height * 4)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let decoded = try DecodedPNG(RGBAImage(width: width, height: height, pixels: pixels).pngData())
        #expect(decoded.scanlines.count == (width * 4 + 1) * height)
        #expect(decoded.scanlines[1..<(width * 4 + 1)] == pixels[0..<(width * 4)])
        #expect(decoded.scanlines.last == pixels.last)
    }

    /// An independent decoder (zlib through Python) accepts the stream.
    @Test func pythonZlibInflatesTheStream() throws {
        let width = 200
        let height = 120
        let pixels = (0..<(width * height * 4)).map { UInt8(truncatingIfNeeded: $0 / 7) }
        let png = RGBAImage(width: width, height: height, pixels: pixels).pngData()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lanekiosk-png-\(UUID()).png")
        try Data(png).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let script = """
            import struct, sys, zlib
            d = open(sys.argv[1], 'rb').read()
            assert d[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
            o, idat = 8, b''
            while o < len(d):
                n, = struct.unpack('>I', d[o:o+4]); t = d[o+4:o+8]; body = d[o+8:o+8+n]
                assert struct.unpack('>I', d[o+8+n:o+12+n])[0] == zlib.crc32(t + body)
                if t == b'IDAT': idat += body
                o += 12 + n
            raw = zlib.decompress(idat)
            w, h = struct.unpack('>II', d[16:24])
            assert len(raw) == (w * 4 + 1) * h
            print(w, h)
            """
        guard let output = try runPython(script, argument: url.path) else { return }
        #expect(output == "\(width) \(height)")
    }

    /// `nil` when no python3 is on the PATH; this check is a bonus, not a requirement.
    private func runPython(_ script: String, argument: String) throws -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, argument]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 127 { return nil }
        #expect(process.terminationStatus == 0, "python3 rejected the PNG")
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
