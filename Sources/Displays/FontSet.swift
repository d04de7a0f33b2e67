import BoardLayout
import CSDL2

/// Where the boards' fonts come from.
///
/// The defaults are Debian's `fonts-noto-cjk`: Noto Sans CJK in one
/// collection per weight, with the Traditional Chinese face at index 3 and the
/// Simplified at index 2. Face 4 (Noto Sans CJK HK) has the Hong Kong glyph
/// standard's forms; a deployment that wants them sets
/// `traditionalChineseFaceIndex` to 4.
public struct FontConfiguration: Sendable, Hashable {
    public var regularPath: String
    /// `nil` draws bold text as SDL_ttf's synthetic bold of the regular face.
    public var boldPath: String?
    public var traditionalChineseFaceIndex: Int
    public var simplifiedChineseFaceIndex: Int

    public init(
        regularPath: String = Font.defaultPath, boldPath: String? = Font.defaultBoldPath,
        traditionalChineseFaceIndex: Int = Font.traditionalChineseFaceIndex,
        simplifiedChineseFaceIndex: Int = Font.simplifiedChineseFaceIndex
    ) {
        self.regularPath = regularPath
        self.boldPath = boldPath
        self.traditionalChineseFaceIndex = traditionalChineseFaceIndex
        self.simplifiedChineseFaceIndex = simplifiedChineseFaceIndex
    }

    func faceIndex(for script: FontScript) -> Int {
        script == .traditionalChinese ? traditionalChineseFaceIndex : simplifiedChineseFaceIndex
    }
}

/// The four faces the boards use (two scripts, two weights), opened once and
/// resized as needed, measuring text the way it will be drawn.
///
/// This is the ``TextMeasurer`` that layouts get in production: the widths are
/// SDL_ttf's own, so a line the layout accepted is a line that fits when drawn.
public final class FontSet: TextMeasurer {
    public let configuration: FontConfiguration
    private var fonts: [Face: Font] = [:]
    private var widths: [WidthKey: Int] = [:]
    private var lineHeights: [TextStyle: Int] = [:]
    /// The first measuring failure; SDL_ttf only fails on broken fonts or out of memory.
    public private(set) var measuringError: DisplayError?

    private struct Face: Hashable {
        var script: FontScript
        var weight: FontWeight
    }

    private struct WidthKey: Hashable {
        var text: ByteKey
        var style: TextStyle
    }

    /// Opens all four faces now, so that a wrong path or face index fails at start-up, not mid-lane.
    /// - Throws: ``DisplayError/fontUnavailable(path:faceIndex:message:)``.
    public init(context: SDLContext, configuration: FontConfiguration = FontConfiguration())
        throws(DisplayError)
    {
        self.configuration = configuration
        for script in FontScript.allCases {
            for weight in FontWeight.allCases {
                let path =
                    weight == .bold
                    ? configuration.boldPath ?? configuration.regularPath : configuration.regularPath
                let font = try Font(
                    context: context, path: path, faceIndex: configuration.faceIndex(for: script),
                    pointSize: 20)
                if weight == .bold && configuration.boldPath == nil { font.setSyntheticBold(true) }
                fonts[Face(script: script, weight: weight)] = font
            }
        }
    }

    /// The face for `style`, set to its size.
    public func font(for style: TextStyle) throws(DisplayError) -> Font {
        let font = fonts[Face(script: style.script, weight: style.weight)]!
        try font.setPointSize(style.size)
        return font
    }

    public func width(of text: String, in style: TextStyle) -> Int {
        let key = WidthKey(text: ByteKey(text), style: style)
        if let width = widths[key] { return width }
        guard !text.isEmpty else { return 0 }
        let width: Int
        do {
            width = try font(for: style).size(of: text).width
        } catch {
            measuringError = measuringError ?? error
            // Wider than any board: the layout reports overflow instead of drawing on.
            return Int(Int32.max)
        }
        // Officers' free texts are the only unbounded source of keys.
        if widths.count > 50_000 { widths.removeAll(keepingCapacity: true) }
        widths[key] = width
        return width
    }

    public func lineHeight(of style: TextStyle) -> Int {
        if let height = lineHeights[style] { return height }
        do {
            let height = try font(for: style).lineHeight
            lineHeights[style] = height
            return height
        } catch {
            measuringError = measuringError ?? error
            return Int(Int32.max)
        }
    }

    /// The characters of `text` that `script`'s faces cannot draw (whitespace aside).
    public func missingGlyphs(in text: String, script: FontScript) -> [Unicode.Scalar] {
        var missing: [Unicode.Scalar] = []
        for weight in FontWeight.allCases {
            for scalar in fonts[Face(script: script, weight: weight)]!.missingGlyphs(in: text)
            where !missing.contains(scalar) {
                missing.append(scalar)
            }
        }
        return missing
    }

    /// `text` with every character the faces lack replaced by "?", so that an
    /// officer's free text never puts an empty box in front of a driver.
    public func displayable(_ text: String, script: FontScript) -> String {
        let missing = Set(missingGlyphs(in: text, script: script))
        guard !missing.isEmpty else { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if missing.contains(scalar) {
                // A combining mark or variation selector is dropped, not made a "?" of its own.
                if scalar.properties.generalCategory != .nonspacingMark
                    && !scalar.properties.isVariationSelector
                {
                    scalars.append("?")
                }
            } else {
                scalars.append(scalar)
            }
        }
        return String(scalars)
    }
}
