import BoardLayout
import PNG

/// Pixels copied out of a canvas: rows top to bottom, 4 bytes per pixel in R, G, B, A order.
public struct RGBAImage: Sendable, Hashable {
    public let width: Int
    public let height: Int
    /// `width * height * 4` bytes, no row padding.
    public let pixels: [UInt8]

    /// - Precondition: `pixels.count == width * height * 4`, both dimensions positive.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "image must have a positive size")
        precondition(
            pixels.count == width * height * 4, "pixel buffer does not match \(width)x\(height) RGBA")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The colour at `point`.
    /// - Precondition: `point` lies inside the image.
    public subscript(point: Point) -> RGBAColor {
        precondition(
            (0..<width).contains(point.x) && (0..<height).contains(point.y), "pixel outside the image")
        let offset = (point.y * width + point.x) * 4
        return RGBAColor(
            red: pixels[offset], green: pixels[offset + 1], blue: pixels[offset + 2],
            alpha: pixels[offset + 3])
    }

    /// How many pixels differ from `color`: a cheap check that something was drawn.
    public func countOfPixels(differentFrom color: RGBAColor) -> Int {
        var count = 0
        var offset = 0
        while offset < pixels.count {
            if pixels[offset] != color.red || pixels[offset + 1] != color.green
                || pixels[offset + 2] != color.blue
                || pixels[offset + 3] != color.alpha
            {
                count += 1
            }
            offset += 4
        }
        return count
    }

    /// The image with every pixel's alpha set to 255.
    ///
    /// A board frame is opaque, but SDL's blending rounds the alpha of pixels
    /// under anti-aliased text to 254; made opaque, the frame is saved as RGB.
    public func opaque() -> RGBAImage {
        var pixels = pixels
        for index in stride(from: 3, to: pixels.count, by: 4) { pixels[index] = 255 }
        return RGBAImage(width: width, height: height, pixels: pixels)
    }

    /// The image as a PNG file's bytes (libpng, through ``PNGCodec``): 8-bit
    /// RGB when every pixel is opaque (a board frame always is), RGBA otherwise.
    /// - Throws: ``DisplayError/encodeFailed(message:)`` when libpng cannot write it.
    public func pngData() throws(DisplayError) -> [UInt8] {
        let opaque = stride(from: 3, to: pixels.count, by: 4).allSatisfy { pixels[$0] == 255 }
        guard opaque else {
            return try Self.encode(width: width, height: height, samples: pixels, hasAlpha: true)
        }
        let count = width * height
        let rgb = [UInt8](unsafeUninitializedCapacity: count * 3) { rgb, initialized in
            pixels.withUnsafeBufferPointer { rgba in
                for pixel in 0..<count {
                    rgb[pixel * 3] = rgba[pixel * 4]
                    rgb[pixel * 3 + 1] = rgba[pixel * 4 + 1]
                    rgb[pixel * 3 + 2] = rgba[pixel * 4 + 2]
                }
            }
            initialized = count * 3
        }
        return try Self.encode(width: width, height: height, samples: rgb, hasAlpha: false)
    }

    private static func encode(width: Int, height: Int, samples: [UInt8], hasAlpha: Bool) throws(DisplayError)
        -> [UInt8]
    {
        do {
            return try PNGCodec.encode(width: width, height: height, samples: samples, hasAlpha: hasAlpha)
        } catch {
            throw .encodeFailed(message: "\(error)")
        }
    }
}
