import Foundation
import PNG
import TestKit
import Testing

@testable import Displays

@Suite struct PNGEncoderTests {
    @Test func smallImageRoundTrips() throws {
        let pixels: [UInt8] = [
            255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255,
            0, 0, 0, 0, 255, 255, 255, 128, 1, 2, 3, 4,
        ]
        let png = try RGBAImage(width: 3, height: 2, pixels: pixels).pngData()
        #expect(Array(png.prefix(8)) == PNGCodec.signature)
        let decoded = try DecodedPNG(png)
        #expect(decoded.chunkTypes.contains("IDAT"))
        #expect(decoded.width == 3 && decoded.height == 2)
        #expect(decoded.bitDepth == 8 && decoded.colorType == 6)
        #expect(decoded.pixels == pixels)
    }

    /// Noise defeats LZ77, so every byte goes through the literal codes, 0 to 255.
    @Test func noisyImageRoundTrips() throws {
        var generator = SeededGenerator(seed: 7)
        let width = 120
        let height = 90
        let pixels = (0..<(width * height * 4)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let decoded = try DecodedPNG(try RGBAImage(width: width, height: height, pixels: pixels).pngData())
        #expect(decoded.pixels == pixels)
    }

    /// Gradients make the row filters differ; each must be undone exactly.
    @Test func gradientsUseSeveralFiltersAndRoundTrip() throws {
        let width = 64
        let height = 64
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                pixels += [UInt8(x * 4), UInt8(y * 4), UInt8((x * y) & 0xFF), y < 32 ? 255 : UInt8(x * 2)]
            }
        }
        let decoded = try DecodedPNG(try RGBAImage(width: width, height: height, pixels: pixels).pngData())
        #expect(decoded.pixels == pixels)
    }

    /// A board frame is mostly flat colour: it must come out small.
    @Test func flatFrameCompresses() throws {
        let width = 800
        let height = 600
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        for index in stride(from: 0, to: pixels.count, by: 4) {
            let y = index / 4 / width
            pixels[index] = y < 300 ? 228 : 14
            pixels[index + 1] = y < 300 ? 30 : 17
            pixels[index + 2] = y < 300 ? 36 : 22
            pixels[index + 3] = 255
        }
        let png = try RGBAImage(width: width, height: height, pixels: pixels).pngData()
        #expect(png.count < 12_000, "\(png.count) bytes for a two-colour 800x600 frame")
        let decoded = try DecodedPNG(png)
        #expect(decoded.colorType == 2, "an opaque image is saved as RGB")
        #expect(decoded.pixels == pixels)
    }

    /// Bad bytes are refused with libpng's reason, not a crash or empty pixels.
    @Test func garbageIsRefusedWithAReason() throws {
        let png = try RGBAImage(width: 4, height: 4, pixels: [UInt8](repeating: 200, count: 64)).pngData()
        var truncated = Array(png.prefix(png.count / 2))
        truncated[20] ^= 0xFF
        for bad in [[UInt8](), Array("not a png at all".utf8), truncated] {
            #expect {
                try PNGCodec.decode(bad)
            } throws: { error in
                "\(error)".contains("PNG") && !"\(error)".hasSuffix(": ")
            }
        }
    }

    /// An independent decoder (zlib through Python) accepts the stream.
    @Test func pythonZlibInflatesTheStream() throws {
        let width = 200
        let height = 120
        let pixels = (0..<(width * height * 4)).map { UInt8(truncatingIfNeeded: $0 / 7) }
        let png = try RGBAImage(width: width, height: height, pixels: pixels).pngData()
        #expect(try DecodedPNG(png).pixels == pixels)
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
