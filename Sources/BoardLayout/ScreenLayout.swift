/// A board's screen, placed: everything a renderer draws, in painting order,
/// with the text already broken into lines that fit their boxes.
public struct ScreenLayout: Sendable, Hashable {
    public var board: BoardKind
    public var size: Size
    public var background: RGBAColor
    public var elements: [LayoutElement]
    /// Where the instruction's colour is shown (the AIOP's panel, the XDB's frame and pictogram).
    public var instructionRegion: Rect
    public var instructionColor: RGBAColor
    /// The instruction's pictogram.
    public var instructionPictogram: PictogramPlacement
    /// Where each language's label sits on the AIOP's language bar, for a touch panel. Empty on the XDB.
    public var languageTargets: [BoardState.Language: Rect]
    /// What the layout could not do as asked; empty on a well-sized board.
    public var problems: [LayoutProblem]

    /// The text blocks, in painting order.
    public var textBlocks: [TextBlock] {
        elements.compactMap { if case .text(let block) = $0 { block } else { nil } }
    }

    /// The pictograms, in painting order.
    public var pictograms: [PictogramPlacement] {
        elements.compactMap { if case .pictogram(let placement) = $0 { placement } else { nil } }
    }
}

/// One thing to draw.
public enum LayoutElement: Sendable, Hashable {
    /// A filled rectangle.
    case fill(Rect, RGBAColor)
    /// A rectangle's border, `thickness` pixels wide, inside `Rect`.
    case outline(Rect, thickness: Int, RGBAColor)
    case pictogram(PictogramPlacement)
    case text(TextBlock)
}

/// A pictogram in its frame, with its two colours.
public struct PictogramPlacement: Sendable, Hashable {
    public var pictogram: Pictogram
    public var frame: Rect
    public var primary: RGBAColor
    public var secondary: RGBAColor

    public init(pictogram: Pictogram, frame: Rect, primary: RGBAColor, secondary: RGBAColor) {
        self.pictogram = pictogram
        self.frame = frame
        self.primary = primary
        self.secondary = secondary
    }

    /// The polygons to fill, with their colours, back to front.
    public var polygons: [(points: [PointF], color: RGBAColor)] {
        pictogram.shapes(in: frame).map { ($0.points, $0.ink == .primary ? primary : secondary) }
    }
}

/// What a text is for; tests and problems name blocks by it.
public enum TextRole: String, Sendable, Hashable, CaseIterable {
    /// The instruction, in the AIOP's language or in Chinese on the XDB.
    case headline
    /// The instruction in English under the Chinese (XDB).
    case headlineEnglish
    /// A line under the instruction.
    case detail
    /// A detail's English translation (XDB).
    case detailEnglish
    /// The title of an overlay (help call, Unladen acknowledgement, officer message).
    case overlay
    /// An officer's free text.
    case officerText
    /// An officers' mark (offline, link down).
    case mark
    /// The vehicle's plate.
    case vehicle
    /// A label on the language bar.
    case language
}

/// Text broken into lines inside a box. Every line is at most the box's
/// width, and the lines together are at most its height.
public struct TextBlock: Sendable, Hashable {
    public var role: TextRole
    public var box: Rect
    public var style: TextStyle
    public var color: RGBAColor
    public var lines: [TextLine]
    /// The height of one line, as the measurer gave it.
    public var lineHeight: Int
}

/// One line of a text block, with where it is drawn (its top-left corner) and its measured width.
public struct TextLine: Sendable, Hashable {
    public var text: String
    public var origin: Point
    public var width: Int
}

/// Something a layout could not do on the board it was given.
public enum LayoutProblem: Sendable, Hashable, CustomStringConvertible {
    /// Text had to be smaller than the driver can read at the viewing distance.
    case belowLegibleSize(role: TextRole, size: Int, minimum: Int)
    /// Text does not fit its place even at the hard floor size; it is drawn
    /// past its box rather than cut.
    case overflow(role: TextRole, text: String)

    public var description: String {
        switch self {
        case .belowLegibleSize(let role, let size, let minimum):
            "\(role.rawValue) text at \(size) px is below the legible \(minimum) px for this board"
        case .overflow(let role, let text):
            "\(role.rawValue) text does not fit the board: \"\(text)\""
        }
    }
}

/// The colours of the boards.
public enum BoardPalette {
    /// The XDB's unlit LEDs.
    public static let xdbBackground = RGBAColor(red: 0, green: 0, blue: 0)
    /// The AIOP's background: near-black, so the panel does not glare at night.
    public static let aiopBackground = RGBAColor(red: 14, green: 17, blue: 22)
    public static let text = RGBAColor(red: 245, green: 245, blue: 245)
    public static let dimText = RGBAColor(red: 165, green: 170, blue: 178)
    public static let bar = RGBAColor(red: 34, green: 39, blue: 47)
    public static let overlay = RGBAColor(red: 40, green: 46, blue: 56)
    public static let mark = RGBAColor(red: 255, green: 176, blue: 0)

    /// The instruction colour of `tone`.
    public static func color(of tone: Tone) -> RGBAColor {
        switch tone {
        case .go: RGBAColor(red: 0, green: 190, blue: 90)
        case .stop: RGBAColor(red: 228, green: 30, blue: 36)
        case .attention: RGBAColor(red: 255, green: 168, blue: 0)
        }
    }

    /// Text and pictogram colour on a panel of `tone`: black on green and amber, white on red.
    public static func ink(on tone: Tone) -> RGBAColor {
        tone == .stop ? RGBAColor(red: 255, green: 255, blue: 255) : RGBAColor(red: 0, green: 0, blue: 0)
    }
}
