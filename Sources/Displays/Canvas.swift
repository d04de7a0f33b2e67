import BoardLayout
import CSDL2
import Foundation

/// An off-screen RGBA surface with SDL's software renderer drawing into it.
///
/// The headless form of an AIOP or XDB screen: what is drawn here can be read
/// back as an ``RGBAImage`` or written as a PNG. Drawing goes through an
/// `SDL_Renderer`, the same API a window or KMS/DRM output uses, so layout code
/// does not care which one it draws on.
///
/// Not `Sendable`; use one canvas from one thread at a time. Calls are
/// serialised with all other SDL use in the process, and rendering is CPU work:
/// large canvases belong off the cooperative pool.
public final class Canvas {
    /// Keeps SDL initialised while the canvas exists.
    let context: SDLContext
    /// Owned; the renderer draws into it.
    private let surface: UnsafeMutablePointer<SDL_Surface>
    /// Owned `SDL_Renderer *`; destroyed before the surface.
    let renderer: OpaquePointer
    public let size: Size

    /// Creates a canvas of `width` by `height` pixels, transparent black.
    /// - Throws: ``DisplayError/invalidSize(width:height:)``, ``DisplayError/sdl(call:message:)``.
    public init(context: SDLContext, width: Int, height: Int) throws(DisplayError) {
        guard let w = Int32(exactly: width), let h = Int32(exactly: height), w > 0, h > 0,
            width.multipliedReportingOverflow(by: height * 4).overflow == false
        else {
            throw .invalidSize(width: width, height: height)
        }
        let created = try withSDLLock {
            () throws(DisplayError) -> (UnsafeMutablePointer<SDL_Surface>, OpaquePointer) in
            // RGBA32 names the byte order in memory (R, G, B, A) on either endianness.
            guard let surface = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGBA32.rawValue)
            else {
                throw .sdl(
                    call: "SDL_CreateRGBSurfaceWithFormat(\(width)x\(height))", message: lastSDLError())
            }
            guard let renderer = SDL_CreateSoftwareRenderer(surface) else {
                let error = DisplayError.sdl(call: "SDL_CreateSoftwareRenderer", message: lastSDLError())
                SDL_FreeSurface(surface)
                throw error
            }
            return (surface, renderer)
        }
        self.context = context
        self.surface = created.0
        self.renderer = created.1
        self.size = Size(width: width, height: height)
    }

    deinit {
        withSDLLock {
            SDL_DestroyRenderer(renderer)
            SDL_FreeSurface(surface)
        }
    }

    /// Fills the whole canvas with `color`, replacing what was there (no blending).
    public func clear(_ color: RGBAColor) throws(DisplayError) {
        try withSDLLock { () throws(DisplayError) in
            try ScreenPainter.setColor(color, blend: false, on: renderer)
            try ScreenPainter.check("SDL_RenderClear", SDL_RenderClear(renderer))
        }
    }

    /// Fills `rect` with `color`, blending by its alpha.
    public func fill(_ rect: Rect, with color: RGBAColor) throws(DisplayError) {
        try ScreenPainter.fill(rect, with: color, on: renderer)
    }

    /// Draws `text` on one line with its top-left corner at `origin`, anti-aliased
    /// (SDL_ttf "blended") and alpha-blended onto what is there.
    ///
    /// Glyphs the font lacks come out as boxes; check with ``Font/missingGlyphs(in:)`` first.
    /// - Returns: The area the text covers; zero for empty text.
    @discardableResult
    public func draw(
        _ text: String, font: Font, color: RGBAColor, at origin: Point
    ) throws(DisplayError) -> Rect {
        try ScreenPainter.draw(text, font: font, color: color, at: origin, on: renderer)
    }

    /// Draws a whole screen layout, replacing what was there.
    public func draw(_ layout: ScreenLayout, fonts: FontSet) throws(DisplayError) {
        try ScreenPainter.paint(layout, on: renderer, fonts: fonts)
    }

    /// Draws one pictogram's polygons in its colours.
    public func draw(_ pictogram: PictogramPlacement) throws(DisplayError) {
        try ScreenPainter.draw(pictogram, on: renderer)
    }

    /// Copies the canvas's pixels out.
    public func snapshot() throws(DisplayError) -> RGBAImage {
        try ScreenPainter.readPixels(of: renderer, size: size)
    }

    /// Writes the canvas as a PNG file, replacing `path` atomically so that a
    /// viewer never sees half an image.
    /// - Throws: ``DisplayError/writeFailed(path:message:)`` and what ``snapshot()`` throws.
    public func writePNG(to path: String) throws(DisplayError) {
        let data = Data(try snapshot().pngData())
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .writeFailed(path: path, message: error.localizedDescription)
        }
    }
}
