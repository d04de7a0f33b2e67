import Foundation
import Testing

@testable import Displays

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
        #expect(decoded.pixels == pixels)
    }

    /// Noise defeats LZ77, so every byte goes through the literal codes, 0 to 255.
    @Test func noisyImageRoundTrips() throws {
        var generator = SplitMix(seed: 7)
        let width = 120
        let height = 90
        let pixels = (0..<(width * height * 4)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let decoded = try DecodedPNG(RGBAImage(width: width, height: height, pixels: pixels).pngData())
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
        let decoded = try DecodedPNG(RGBAImage(width: width, height: height, pixels: pixels).pngData())
        #expect(decoded.pixels == pixels)
        #expect(Set(decoded.filters).count >= 2, "filters used: \(Set(decoded.filters))")
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
        let png = RGBAImage(width: width, height: height, pixels: pixels).pngData()
        #expect(png.count < 12_000, "\(png.count) bytes for a two-colour 800x600 frame")
        let decoded = try DecodedPNG(png)
        #expect(decoded.colorType == 2, "an opaque image is saved as RGB")
        #expect(decoded.pixels == pixels)
    }

    /// Repeats farther back than the longest distance code's base, and runs
    /// longer than one match, both decode.
    @Test func deflateCodesLongDistancesAndRuns() throws {
        var generator = SplitMix(seed: 11)
        let block = (0..<30_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let data = block + block + [UInt8](repeating: 9, count: 2_000) + block.prefix(5_000)
        let stream = PNGEncoder.zlib(data)
        // The repeats cost next to nothing beside the block itself.
        #expect(stream.count < PNGEncoder.zlib(block).count + 1_000)
        #expect(try DecodedPNG.zlibInflate(stream) == data)
    }

    /// An independent decoder (zlib through Python) accepts the stream.
    @Test func pythonZlibInflatesTheStream() throws {
        let width = 200
        let height = 120
        let pixels = (0..<(width * height * 4)).map { UInt8(truncatingIfNeeded: $0 / 7) }
        let png = RGBAImage(width: width, height: height, pixels: pixels).pngData()
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

/// A small deterministic generator, so that failures reproduce.
struct SplitMix {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
