import BoardLayout

/// How a lane's two boards are shown: where, how large, and in which fonts.
public struct DisplayConfiguration: Sendable, Hashable {
    /// Where frames go. SDL runs one video driver per process, so both boards share one backend.
    public enum Backend: String, Sendable, Hashable, CaseIterable {
        /// SDL's software renderer on surfaces; frames are written as PNG when an output directory is set.
        case headless
        /// A desktop window per board (the simulator); SDL picks the video driver (X11, Wayland) as usual.
        case window
        /// Fullscreen per board on KMS/DRM (the kiosk, no display server), one connector each.
        case kmsdrm

        /// The SDL video driver the backend asks for; `nil` lets SDL choose.
        var videoDriver: String? {
            switch self {
            case .headless: "offscreen"
            case .window: nil
            case .kmsdrm: "KMSDRM"
            }
        }
    }

    /// One board's place and size.
    public struct Board: Sendable, Hashable {
        public var geometry: BoardGeometry
        /// SDL's display index: under KMS/DRM one per connected connector, in
        /// the order SDL enumerates them (`laned --list-displays` style tools
        /// print them with ``LaneDisplays/availableDisplays()``). Ignored when headless.
        public var displayIndex: Int

        public init(geometry: BoardGeometry, displayIndex: Int) {
            self.geometry = geometry
            self.displayIndex = displayIndex
        }
    }

    public var backend: Backend
    public var xdb: Board
    public var aiop: Board
    public var fonts: FontConfiguration
    /// Headless only: each presented frame is written to `<directory>/xdb.png` and `<directory>/aiop.png`.
    public var outputDirectory: String?
    /// The AIOP language shown before the lane sends its first state.
    public var defaultLanguage: BoardState.Language
    /// Which way INSPECT's arrow points at this lane.
    public var compoundSide: CompoundSide

    public init(
        backend: Backend = .headless,
        xdb: Board = Board(geometry: .xdbDefault, displayIndex: 0),
        aiop: Board = Board(geometry: .aiopDefault, displayIndex: 1),
        fonts: FontConfiguration = FontConfiguration(), outputDirectory: String? = nil,
        defaultLanguage: BoardState.Language = .traditionalChinese, compoundSide: CompoundSide = .right
    ) {
        self.backend = backend
        self.xdb = xdb
        self.aiop = aiop
        self.fonts = fonts
        self.outputDirectory = outputDirectory
        self.defaultLanguage = defaultLanguage
        self.compoundSide = compoundSide
    }

    /// The settings of `board`.
    public func board(_ board: BoardKind) -> Board {
        board == .xdb ? xdb : aiop
    }

    /// The layouter for `board` under this configuration.
    public func layouter(for board: BoardKind) -> BoardLayouter {
        BoardLayouter(board: board, geometry: self.board(board).geometry, compoundSide: compoundSide)
    }
}
