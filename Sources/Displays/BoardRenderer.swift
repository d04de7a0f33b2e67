import BoardLayout
import CSDL2
import Foundation

/// One board (XDB or AIOP) that shows ``BoardState`` values.
///
/// A renderer draws only when the state differs from the one it shows, and
/// never shows a half-drawn frame: it draws into a back buffer (a surface, or a
/// target texture) and presents the finished frame in one step.
///
/// Not `Sendable`: use a renderer from one thread (``BoardDisplays`` does that
/// for laned).
public protocol BoardRenderer: AnyObject {
    var board: BoardKind { get }
    /// How states become screens on this board.
    var layouter: BoardLayouter { get }
    /// The state on the board now; `nil` before the first frame.
    var state: BoardState? { get }
    /// The layout of the frame on the board now.
    var layout: ScreenLayout? { get }
    /// How many frames were drawn: equal states draw none, nor does a
    /// change of state that lays out the same screen on this board.
    var framesDrawn: Int { get }

    /// Draws and presents `state`, unless the board already shows it.
    /// - Returns: Whether a frame was drawn.
    /// - Throws: ``DisplayError``; the board then keeps showing its previous frame.
    @discardableResult
    func show(_ state: BoardState) throws(DisplayError) -> Bool

    /// The frame on the board now, as pixels; `nil` before the first frame.
    func snapshot() throws(DisplayError) -> RGBAImage?

    /// Lays out, draws and presents the current state again, as if it had
    /// just changed (the GPU lost the frame; the benchmark).
    func redraw() throws(DisplayError)

    /// Fills a frame with one colour and presents it the way every frame is
    /// presented: a test pattern for a technician matching connectors to
    /// boards, and the benchmark's baseline. The next ``show(_:)`` draws
    /// whatever state it is given.
    func presentSolidFrame(_ color: RGBAColor) throws(DisplayError)
}

extension BoardRenderer {
    /// The frame on the board now as a PNG file's bytes (`lanectl screenshot`).
    public func snapshotPNG() throws(DisplayError) -> [UInt8]? {
        try snapshot()?.pngData()
    }
}

/// Lays out states for one board with SDL_ttf's measurements.
struct FrameComposer {
    let layouter: BoardLayouter
    let fonts: FontSet

    /// The layout of `state`, with an officer's free text made drawable first.
    func layout(_ state: BoardState) -> ScreenLayout {
        var shown = state
        if var message = shown.officerMessage {
            message.text = fonts.displayable(message.text, script: state.language.script)
            shown.officerMessage = message
        }
        return layouter.layout(shown, measurer: fonts)
    }
}

/// A board drawn by SDL's software renderer into a surface: for tests, the
/// README's pictures, `lanectl screenshot` and lanes without a screen.
///
/// Presenting a frame means, when an output path is set, copying it out of
/// the surface and replacing that PNG file atomically; without one the frame
/// stays on the surface until a snapshot reads it.
public final class HeadlessBoardRenderer: BoardRenderer {
    public let board: BoardKind
    public let layouter: BoardLayouter
    /// Where each presented frame is written as PNG; `nil` keeps frames in memory only.
    public let outputPath: String?
    public private(set) var state: BoardState?
    public private(set) var layout: ScreenLayout?
    public private(set) var framesDrawn = 0
    private let composer: FrameComposer
    private let canvas: Canvas
    private let texts = TextTextures()
    /// The board's frame as last read back: when a PNG is written, or when
    /// a snapshot asks for it after a draw (nil until then).
    private var presented: RGBAImage?
    /// Whether the canvas holds the board's frame (a failed draw may leave
    /// part of a new one there).
    private var canvasIsPresented = false

    /// - Throws: ``DisplayError`` when the surface cannot be made.
    public init(
        layouter: BoardLayouter, fonts: FontSet, context: SDLContext, outputPath: String? = nil
    ) throws(DisplayError) {
        self.board = layouter.board
        self.layouter = layouter
        self.outputPath = outputPath
        self.composer = FrameComposer(layouter: layouter, fonts: fonts)
        self.canvas = try Canvas(
            context: context, width: layouter.geometry.width, height: layouter.geometry.height)
    }

    @discardableResult
    public func show(_ state: BoardState) throws(DisplayError) -> Bool {
        guard state != self.state else { return false }
        let layout = composer.layout(state)
        // A change this board does not show (the AIOP's language on the
        // XDB) draws nothing.
        guard layout != self.layout else {
            self.state = state
            return false
        }
        try draw(state, layout)
        return true
    }

    public func redraw() throws(DisplayError) {
        if let state { try draw(state, composer.layout(state)) }
    }

    public func presentSolidFrame(_ color: RGBAColor) throws(DisplayError) {
        try canvas.clear(color)
        presented = nil
        canvasIsPresented = true
        if let outputPath { try writeFrame(to: outputPath) }
        state = nil
        layout = nil
    }

    public func snapshot() throws(DisplayError) -> RGBAImage? {
        if presented == nil && canvasIsPresented { presented = try canvas.snapshot().opaque() }
        return presented
    }

    deinit {
        withSDLLock { texts.removeAll() }
    }

    /// Draws `state` as `layout`; on failure the board keeps its last frame.
    private func draw(_ state: BoardState, _ layout: ScreenLayout) throws(DisplayError) {
        do {
            try ScreenPainter.paint(layout, on: canvas.renderer, fonts: composer.fonts, texts: texts)
        } catch {
            // The canvas holds part of the new frame. A frame already read
            // back stays the board's; one that was not is drawn again.
            if presented == nil, canvasIsPresented, let shown = self.layout {
                canvasIsPresented =
                    (try? ScreenPainter.paint(shown, on: canvas.renderer, fonts: composer.fonts, texts: texts))
                    != nil
            } else {
                canvasIsPresented = false
            }
            throw error
        }
        if let outputPath {
            do {
                try writeFrame(to: outputPath)
            } catch {
                // The file, and so the board, still has the last frame.
                canvasIsPresented = false
                throw error
            }
        } else {
            // Nothing reads the frame on its way to the glass: it is read
            // back only when a snapshot asks for it.
            presented = nil
        }
        canvasIsPresented = true
        self.state = state
        self.layout = layout
        framesDrawn += 1
    }

    /// Reads the frame back and replaces the PNG file at `path` with it;
    /// it is the board's frame once the file has it.
    private func writeFrame(to path: String) throws(DisplayError) {
        let image = try canvas.snapshot().opaque()
        let png = try image.pngData()
        do {
            try Data(png).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .writeFailed(path: path, message: error.localizedDescription)
        }
        presented = image
    }
}

/// A board in an SDL window: a desktop window for the simulator, or
/// fullscreen on one KMS/DRM connector for the kiosk.
///
/// Frames are drawn into a target texture of the board's size, then copied to
/// the window's back buffer and presented, so the glass only ever shows whole
/// frames; the window scales the board to its size, keeping the aspect ratio.
/// Two such textures take turns, so that re-presenting after an expose never
/// shows a frame whose drawing failed half way.
public final class WindowBoardRenderer: BoardRenderer {
    public let board: BoardKind
    public let layouter: BoardLayouter
    public private(set) var state: BoardState?
    public private(set) var layout: ScreenLayout?
    public private(set) var framesDrawn = 0
    /// SDL's id of the window, as its window events carry it.
    public let windowID: UInt32
    private let context: SDLContext
    private let composer: FrameComposer
    /// Lines rendered before, as textures of ``renderer``.
    private let texts = TextTextures()
    /// Owned `SDL_Window *`, `SDL_Renderer *` and two `SDL_Texture *`.
    private let window: OpaquePointer
    private let renderer: OpaquePointer
    /// Target textures: frames are drawn into the back one and swapped to the
    /// front only when whole, so a window exposed after a failed draw still
    /// shows the last whole frame.
    private let frames: (OpaquePointer, OpaquePointer)
    private var frontIsFirst = true
    private var front: OpaquePointer { frontIsFirst ? frames.0 : frames.1 }
    private var back: OpaquePointer { frontIsFirst ? frames.1 : frames.0 }
    /// Whether anything was presented yet; the textures are undefined before.
    private var hasFrame = false

    /// Opens the board's window on SDL display `displayIndex`.
    ///
    /// - Parameter fullscreen: Cover the display (the kiosk, under the
    ///   `KMSDRM` video driver one display is one connector) instead of
    ///   opening a desktop window.
    /// - Throws: ``DisplayError/displayNotFound(index:available:)`` for a
    ///   display SDL does not see; ``DisplayError/sdl(call:message:)``.
    public init(
        layouter: BoardLayouter, fonts: FontSet, context: SDLContext, displayIndex: Int, fullscreen: Bool,
        title: String? = nil
    ) throws(DisplayError) {
        let size = layouter.geometry.size
        let board = layouter.board
        let created = try withSDLLock {
            () throws(DisplayError) -> (OpaquePointer, OpaquePointer, (OpaquePointer, OpaquePointer)) in
            let displays = Int(SDL_GetNumVideoDisplays())
            guard (0..<displays).contains(displayIndex) else {
                throw .displayNotFound(index: displayIndex, available: max(0, displays))
            }
            let position = lanekiosk_windowpos_centered_display(Int32(displayIndex))
            let flags =
                SDL_WINDOW_SHOWN.rawValue
                | (fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP.rawValue : SDL_WINDOW_RESIZABLE.rawValue)
            guard
                let window = SDL_CreateWindow(
                    title ?? "LaneKiosk \(board.rawValue.uppercased())", position, position,
                    Int32(size.width),
                    Int32(size.height), flags)
            else {
                throw .sdl(call: "SDL_CreateWindow(display \(displayIndex))", message: lastSDLError())
            }
            // An accelerated renderer where there is one (KMS/DRM needs GLES
            // through GBM); SDL's software renderer on the window's surface otherwise.
            let target = SDL_RENDERER_TARGETTEXTURE.rawValue
            guard
                let renderer = SDL_CreateRenderer(window, -1, SDL_RENDERER_ACCELERATED.rawValue | target)
                    ?? SDL_CreateRenderer(window, -1, SDL_RENDERER_SOFTWARE.rawValue | target)
            else {
                let error = DisplayError.sdl(call: "SDL_CreateRenderer", message: lastSDLError())
                SDL_DestroyWindow(window)
                throw error
            }
            func makeTarget() -> OpaquePointer? {
                SDL_CreateTexture(
                    renderer, SDL_PIXELFORMAT_RGBA32.rawValue, Int32(SDL_TEXTUREACCESS_TARGET.rawValue),
                    Int32(size.width), Int32(size.height))
            }
            guard let first = makeTarget(), let second = makeTarget() else {
                let error = DisplayError.sdl(call: "SDL_CreateTexture(target)", message: lastSDLError())
                SDL_DestroyRenderer(renderer)  // destroys its textures too
                SDL_DestroyWindow(window)
                throw error
            }
            // Letterbox the board into whatever the window or connector is.
            SDL_RenderSetLogicalSize(renderer, Int32(size.width), Int32(size.height))
            if fullscreen { SDL_ShowCursor(SDL_DISABLE) }
            return (window, renderer, (first, second))
        }
        self.board = board
        self.layouter = layouter
        self.context = context
        self.composer = FrameComposer(layouter: layouter, fonts: fonts)
        (window, renderer, frames) = created
        windowID = withSDLLock { SDL_GetWindowID(created.0) }
    }

    deinit {
        withSDLLock {
            texts.removeAll()
            SDL_DestroyTexture(frames.0)
            SDL_DestroyTexture(frames.1)
            SDL_DestroyRenderer(renderer)
            SDL_DestroyWindow(window)
        }
    }

    /// The SDL renderer's name, such as `opengles2` or `software`.
    public var rendererName: String {
        withSDLLock {
            var info = SDL_RendererInfo()
            guard SDL_GetRendererInfo(renderer, &info) == 0, let name = info.name else { return "unknown" }
            return String(cString: name)
        }
    }

    @discardableResult
    public func show(_ state: BoardState) throws(DisplayError) -> Bool {
        guard state != self.state else { return false }
        let layout = composer.layout(state)
        // A change this board does not show (the AIOP's language on the
        // XDB) draws nothing.
        guard layout != self.layout else {
            self.state = state
            return false
        }
        try draw(state, layout)
        return true
    }

    public func redraw() throws(DisplayError) {
        if let state { try draw(state, composer.layout(state)) }
    }

    public func presentSolidFrame(_ color: RGBAColor) throws(DisplayError) {
        try withSDLLock { () throws(DisplayError) in
            try ScreenPainter.check("SDL_SetRenderTarget", SDL_SetRenderTarget(renderer, back))
            defer { SDL_SetRenderTarget(renderer, nil) }
            try ScreenPainter.setColor(color, blend: false, on: renderer)
            try ScreenPainter.check("SDL_RenderClear", SDL_RenderClear(renderer))
        }
        frontIsFirst.toggle()
        hasFrame = true
        try present()
        state = nil
        layout = nil
    }

    private func draw(_ state: BoardState, _ layout: ScreenLayout) throws(DisplayError) {
        try withSDLLock { () throws(DisplayError) in
            try ScreenPainter.check("SDL_SetRenderTarget", SDL_SetRenderTarget(renderer, back))
            defer { SDL_SetRenderTarget(renderer, nil) }
            try ScreenPainter.paint(layout, on: renderer, fonts: composer.fonts, texts: texts)
        }
        frontIsFirst.toggle()
        hasFrame = true
        try present()
        self.state = state
        self.layout = layout
        framesDrawn += 1
    }

    /// Puts the finished frame on the glass again (after the window was
    /// exposed or resized); draws nothing new.
    public func present() throws(DisplayError) {
        guard hasFrame else { return }
        try withSDLLock { () throws(DisplayError) in
            try ScreenPainter.setColor(.black, blend: false, on: renderer)
            try ScreenPainter.check("SDL_RenderClear", SDL_RenderClear(renderer))
            try ScreenPainter.check("SDL_RenderCopy", SDL_RenderCopy(renderer, front, nil, nil))
            SDL_RenderPresent(renderer)
        }
    }

    public func snapshot() throws(DisplayError) -> RGBAImage? {
        guard hasFrame else { return nil }
        return try withSDLLock { () throws(DisplayError) -> RGBAImage in
            try ScreenPainter.check("SDL_SetRenderTarget", SDL_SetRenderTarget(renderer, front))
            defer { SDL_SetRenderTarget(renderer, nil) }
            return try ScreenPainter.readPixels(of: renderer, size: layouter.geometry.size).opaque()
        }
    }
}
