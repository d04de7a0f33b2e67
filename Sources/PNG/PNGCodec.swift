import CPNG

/// PNG files through libpng's simplified API (`png_image`), the one way the
/// project reads and writes PNG.
///
/// The simplified API reports errors as a return value and a message instead
/// of libpng's `setjmp`/`longjmp`, which Swift cannot take part in. Encoding
/// and decoding are CPU work: callers on a Swift concurrency thread keep the
/// images small or move the call off the cooperative pool.
public enum PNGCodec {
    /// An 8-bit image read from a PNG file, whatever its colour type, as RGBA.
    public struct Decoded: Sendable, Hashable {
        public let width: Int
        public let height: Int
        /// `width * height * 4` bytes, R, G, B, A, rows top to bottom, not premultiplied.
        public let rgba: [UInt8]
        /// Whether the file carried an alpha channel (colour type 6 or a tRNS chunk).
        public let fileHasAlpha: Bool
    }

    /// What libpng said went wrong.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The 8-byte signature every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A complete 8-bit PNG file, not interlaced, from `samples`: rows top to
    /// bottom without padding, R, G, B and, when `hasAlpha`, A per pixel.
    /// - Throws: ``Failure`` when the size and the samples disagree or libpng fails.
    public static func encode(width: Int, height: Int, samples: [UInt8], hasAlpha: Bool) throws -> [UInt8] {
        let channels = hasAlpha ? 4 : 3
        guard width > 0, height > 0, let w = UInt32(exactly: width), let h = UInt32(exactly: height) else {
            throw Failure(description: "PNG size \(width)x\(height) is not positive")
        }
        guard samples.count == width * height * channels else {
            throw Failure(
                description:
                    "\(samples.count) samples do not fill a \(width)x\(height) image of \(channels) channels")
        }
        var image = png_image()
        image.version = lanekiosk_png_image_version()
        image.width = w
        image.height = h
        image.format = hasAlpha ? lanekiosk_png_format_rgba() : lanekiosk_png_format_rgb()
        var size = lanekiosk_png_size_max(&image)
        var file = [UInt8](repeating: 0, count: Int(size))
        let written = file.withUnsafeMutableBytes { out in
            samples.withUnsafeBytes { pixels in
                png_image_write_to_memory(&image, out.baseAddress, &size, 0, pixels.baseAddress, 0, nil)
            }
        }
        guard written != 0, lanekiosk_png_failed(&image) == 0 else {
            throw Failure(description: "libpng could not write the PNG: \(message(of: image))")
        }
        file.removeSubrange(Int(size)...)
        return file
    }

    /// Reads a PNG file of any colour type and bit depth as 8-bit RGBA.
    /// - Throws: ``Failure`` naming what libpng found wrong with `file`.
    public static func decode(_ file: [UInt8]) throws -> Decoded {
        // libpng reads `file` in place from begin to finish: both run inside one borrow of its bytes.
        try file.withUnsafeBytes { bytes in
            var image = png_image()
            image.version = lanekiosk_png_image_version()
            guard png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count) != 0 else {
                throw Failure(description: "not a PNG libpng can read: \(message(of: image))")
            }
            // PNG_FORMAT_FLAG_ALPHA is bit 0 of the format libpng found in the file.
            let fileHasAlpha = image.format & 1 != 0
            image.format = lanekiosk_png_format_rgba()
            let width = Int(image.width)
            let height = Int(image.height)
            var rgba = [UInt8](repeating: 0, count: width * height * 4)
            // finish_read frees libpng's state on success and on failure alike.
            let finished = rgba.withUnsafeMutableBytes { pixels in
                png_image_finish_read(&image, nil, pixels.baseAddress, 0, nil)
            }
            guard finished != 0 else {
                throw Failure(description: "libpng could not decode the PNG: \(message(of: image))")
            }
            return Decoded(width: width, height: height, rgba: rgba, fileHasAlpha: fileHasAlpha)
        }
    }

    private static func message(of image: png_image) -> String {
        withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
