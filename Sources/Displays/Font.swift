import BoardLayout
import CSDL2

/// A TrueType/OpenType face at one point size, closed when released.
public final class Font {
    /// Noto Sans CJK, as Debian's `fonts-noto-cjk` installs it.
    public static let defaultPath = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
    /// The bold weight of ``defaultPath``, from the same package, with the same face order.
    public static let defaultBoldPath = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
    /// The face in ``defaultPath`` with Traditional Chinese glyph forms (Noto Sans CJK TC).
    /// The collection's faces are 0 JP, 1 KR, 2 SC, 3 TC, 4 HK (checked with
    /// `fc-query -i N` on Debian 12's fonts-noto-cjk 20220127).
    public static let traditionalChineseFaceIndex = 3
    /// The face with Simplified Chinese glyph forms (Noto Sans CJK SC).
    public static let simplifiedChineseFaceIndex = 2

    /// Keeps SDL_ttf initialised while the font is open.
    let context: SDLContext
    /// Owned `TTF_Font *`.
    let handle: OpaquePointer
    public let path: String
    public let faceIndex: Int
    public private(set) var pointSize: Int

    /// Opens face `faceIndex` of the font file at `path` at `pointSize`.
    ///
    /// Opening the 19 MB CJK collection takes a moment; open each size once and keep it.
    /// - Throws: ``DisplayError/fontUnavailable(path:faceIndex:message:)``.
    public init(
        context: SDLContext, path: String = Font.defaultPath,
        faceIndex: Int = Font.traditionalChineseFaceIndex,
        pointSize: Int
    ) throws(DisplayError) {
        guard let size = Int32(exactly: pointSize), size > 0 else {
            throw .fontUnavailable(
                path: path, faceIndex: faceIndex, message: "invalid point size \(pointSize)")
        }
        let opened = withSDLLock {
            TTF_OpenFontIndex(path, size, faceIndex).map { ($0, "") } ?? (nil, lastSDLError())
        }
        guard let handle = opened.0 else {
            throw .fontUnavailable(path: path, faceIndex: faceIndex, message: opened.1)
        }
        self.context = context
        self.handle = handle
        self.path = path
        self.faceIndex = faceIndex
        self.pointSize = pointSize
    }

    deinit {
        withSDLLock { TTF_CloseFont(handle) }
    }

    /// Changes the size in place: cheaper than opening the collection again,
    /// and what layout does while it searches for the size that fits.
    /// - Throws: ``DisplayError/sdl(call:message:)`` for a size SDL_ttf refuses.
    public func setPointSize(_ size: Int) throws(DisplayError) {
        guard size != pointSize else { return }
        guard let points = Int32(exactly: size), points > 0 else {
            throw .sdl(call: "TTF_SetFontSize(\(size))", message: "invalid point size")
        }
        try withSDLLock { () throws(DisplayError) in
            if TTF_SetFontSize(handle, points) != 0 {
                throw .sdl(call: "TTF_SetFontSize(\(size))", message: lastSDLError())
            }
        }
        pointSize = size
    }

    /// Draws the face in synthetic bold (for a configuration without a bold file).
    func setSyntheticBold(_ bold: Bool) {
        withSDLLock { TTF_SetFontStyle(handle, bold ? TTF_STYLE_BOLD : TTF_STYLE_NORMAL) }
    }

    /// The face's family name, such as "Noto Sans CJK TC".
    public var familyName: String {
        withSDLLock { TTF_FontFaceFamilyName(handle).map { String(cString: $0) } ?? "" }
    }

    /// The recommended distance between baselines, in pixels.
    public var lineHeight: Int {
        withSDLLock { Int(TTF_FontLineSkip(handle)) }
    }

    /// Whether the face has a glyph for `scalar`; without one SDL_ttf draws an empty box.
    public func providesGlyph(for scalar: Unicode.Scalar) -> Bool {
        withSDLLock { TTF_GlyphIsProvided32(handle, scalar.value) != 0 }
    }

    /// The scalars of `text` the face cannot draw, so a layout can refuse or
    /// fall back instead of showing boxes to a driver.
    public func missingGlyphs(in text: String) -> [Unicode.Scalar] {
        withSDLLock {
            text.unicodeScalars.filter {
                !$0.properties.isWhitespace && TTF_GlyphIsProvided32(handle, $0.value) == 0
            }
        }
    }

    /// The size `text` takes when drawn on one line.
    /// - Throws: ``DisplayError/sdl(call:message:)``.
    public func size(of text: String) throws(DisplayError) -> Size {
        try withSDLLock { () throws(DisplayError) -> Size in
            var width: Int32 = 0
            var height: Int32 = 0
            if TTF_SizeUTF8(handle, text, &width, &height) != 0 {
                throw .sdl(call: "TTF_SizeUTF8", message: lastSDLError())
            }
            return Size(width: Int(width), height: Int(height))
        }
    }
}
