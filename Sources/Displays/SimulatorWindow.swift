import BoardLayout
import CSDL2
import Foundation

/// The simulator's window: every lane's XDB and AIOP side by side, a status
/// line under each lane, and a prompt line, with the keyboard read back as
/// ``Input``. It shows pictures the lanes drew (headless) rather than drawing
/// boards itself, so what a technician sees is what the lanes rendered.
///
/// All SDL work happens on one thread of its own, like ``BoardDisplays``.
public actor SimulatorWindow {
    /// One lane's row.
    public struct Tile: Sendable {
        public var xdb: RGBAImage?
        public var aiop: RGBAImage?
        public var status: String
        public var selected: Bool

        public init(xdb: RGBAImage?, aiop: RGBAImage?, status: String, selected: Bool) {
            self.xdb = xdb
            self.aiop = aiop
            self.status = status
            self.selected = selected
        }
    }

    /// What the keyboard (or the window manager) said.
    public enum Input: Sendable, Hashable {
        case text(String)
        case enter
        case backspace
        case nextLane
        case quit
    }

    /// Pixels: each lane's row holds the XDB scaled to a square and the AIOP
    /// at 4:3, then its status line; rows and boards are `gap` apart.
    public static let boardHeight = 300
    public static let xdbWidth = 300
    public static let aiopWidth = 400
    public static let gap = 10
    public static let lineHeight = 30

    private let executor: DisplayThreadExecutor
    private var open: Open?

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    private struct Open {
        var context: SDLContext
        var window: OpaquePointer
        var renderer: OpaquePointer
        var texture: OpaquePointer
        var font: Font
        var size: Size
        var frame: RGBAImage?
    }

    private init() { executor = DisplayThreadExecutor(name: "lanekiosk-simulator-window") }

    /// The window's size for `lanes` rows.
    public static func size(lanes: Int) -> Size {
        Size(
            width: gap + xdbWidth + gap + aiopWidth + gap,
            height: lanes * (boardHeight + lineHeight + gap) + lineHeight + gap)
    }

    /// Opens the window (SDL's default video driver: a desktop, or `offscreen` in tests).
    /// - Throws: ``DisplayError`` naming the SDL call or the font that failed.
    public static func open(lanes: Int, title: String = "lanesim", fontPath: String = Font.defaultPath)
        async throws(DisplayError) -> SimulatorWindow
    {
        let window = SimulatorWindow()
        try await window.start(lanes: max(1, lanes), title: title, fontPath: fontPath)
        return window
    }

    private func start(lanes: Int, title: String, fontPath: String) throws(DisplayError) {
        let context = try SDLContext()
        let font = try Font(context: context, path: fontPath, pointSize: 18)
        let size = Self.size(lanes: lanes)
        let made = try withSDLLock {
            () throws(DisplayError) -> (OpaquePointer, OpaquePointer, OpaquePointer) in
            guard
                let window = SDL_CreateWindow(
                    title, lanekiosk_windowpos_centered_display(0), lanekiosk_windowpos_centered_display(0),
                    Int32(size.width), Int32(size.height), SDL_WINDOW_SHOWN.rawValue)
            else { throw .sdl(call: "SDL_CreateWindow(simulator)", message: lastSDLError()) }
            guard
                let renderer = SDL_CreateRenderer(window, -1, SDL_RENDERER_ACCELERATED.rawValue)
                    ?? SDL_CreateRenderer(window, -1, SDL_RENDERER_SOFTWARE.rawValue)
            else {
                let error = DisplayError.sdl(call: "SDL_CreateRenderer(simulator)", message: lastSDLError())
                SDL_DestroyWindow(window)
                throw error
            }
            guard
                let texture = SDL_CreateTexture(
                    renderer, SDL_PIXELFORMAT_RGBA32.rawValue, Int32(SDL_TEXTUREACCESS_STREAMING.rawValue),
                    Int32(size.width), Int32(size.height))
            else {
                let error = DisplayError.sdl(call: "SDL_CreateTexture(simulator)", message: lastSDLError())
                SDL_DestroyRenderer(renderer)
                SDL_DestroyWindow(window)
                throw error
            }
            SimulatorInputRouter.register(SDL_GetWindowID(window))
            return (window, renderer, texture)
        }
        open = Open(
            context: context, window: made.0, renderer: made.1, texture: made.2, font: font, size: size,
            frame: nil)
    }

    /// Draws every lane's row and the prompt, and presents the frame whole.
    public func present(_ tiles: [Tile], prompt: String) throws(DisplayError) {
        guard var state = open else { throw .closed }
        var frame = [UInt8](repeating: 0, count: state.size.width * state.size.height * 4)
        for i in stride(from: 3, to: frame.count, by: 4) { frame[i] = 255 }
        func blit(_ image: RGBAImage, into rect: Rect) {
            // Nearest-neighbour scaling: boards are flat colour and large text.
            for y in 0..<rect.size.height {
                let sy = y * image.height / rect.size.height
                for x in 0..<rect.size.width {
                    let sx = x * image.width / rect.size.width
                    let from = (sy * image.width + sx) * 4
                    let to = ((rect.origin.y + y) * state.size.width + rect.origin.x + x) * 4
                    frame[to] = image.pixels[from]
                    frame[to + 1] = image.pixels[from + 1]
                    frame[to + 2] = image.pixels[from + 2]
                    frame[to + 3] = 255
                }
            }
        }
        func text(_ line: String, at origin: Point, width: Int, highlighted: Bool) throws(DisplayError) {
            let canvas = try Canvas(context: state.context, width: width, height: Self.lineHeight)
            try canvas.clear(highlighted ? RGBAColor(red: 40, green: 70, blue: 120) : .black)
            try canvas.draw(line, font: state.font, color: .white, at: Point(x: 6, y: 3))
            blit(
                try canvas.snapshot(),
                into: Rect(origin: origin, size: Size(width: width, height: Self.lineHeight)))
        }
        let rowWidth = state.size.width - 2 * Self.gap
        for (row, tile) in tiles.enumerated() {
            let top = Self.gap + row * (Self.boardHeight + Self.lineHeight + Self.gap)
            if let xdb = tile.xdb {
                blit(
                    xdb,
                    into: Rect(
                        origin: Point(x: Self.gap, y: top),
                        size: Size(width: Self.xdbWidth, height: Self.boardHeight)))
            }
            if let aiop = tile.aiop {
                blit(
                    aiop,
                    into: Rect(
                        origin: Point(x: 2 * Self.gap + Self.xdbWidth, y: top),
                        size: Size(width: Self.aiopWidth, height: Self.boardHeight)))
            }
            try text(
                (tile.selected ? "▶ " : "  ") + tile.status,
                at: Point(x: Self.gap, y: top + Self.boardHeight),
                width: rowWidth, highlighted: tile.selected)
        }
        try text(
            prompt, at: Point(x: Self.gap, y: state.size.height - Self.lineHeight - Self.gap / 2),
            width: rowWidth,
            highlighted: false)
        let image = RGBAImage(width: state.size.width, height: state.size.height, pixels: frame)
        try withSDLLock { () throws(DisplayError) in
            let pitch = Int32(state.size.width * 4)
            let updated = frame.withUnsafeBytes {
                SDL_UpdateTexture(state.texture, nil, $0.baseAddress, pitch)
            }
            try ScreenPainter.check("SDL_UpdateTexture", updated)
            try ScreenPainter.check("SDL_RenderClear", SDL_RenderClear(state.renderer))
            try ScreenPainter.check("SDL_RenderCopy", SDL_RenderCopy(state.renderer, state.texture, nil, nil))
            SDL_RenderPresent(state.renderer)
        }
        state.frame = image
        open = state
    }

    /// The last frame presented.
    public func snapshot() -> RGBAImage? { open?.frame }

    /// What was typed or pressed in this window since the last call.
    public func poll() -> [Input] {
        guard let state = open else { return [.quit] }
        let id = withSDLLock { SDL_GetWindowID(state.window) }
        return SimulatorInputRouter.take(for: id)
    }

    /// Puts keyboard input in SDL's queue as if typed into this window: for
    /// tests and scripted demos. ``poll()`` returns it like real typing.
    public func inject(_ input: Input) {
        guard let state = open else { return }
        withSDLLock {
            var event = SDL_Event()
            let id = SDL_GetWindowID(state.window)
            switch input {
            case .text(let text):
                event.type = SDL_TEXTINPUT.rawValue
                event.text.windowID = id
                withUnsafeMutableBytes(of: &event.text.text) { raw in
                    let bytes = Array(text.utf8.prefix(raw.count - 1))
                    raw.copyBytes(from: bytes + [0])
                }
            case .quit:
                event.type = SDL_WINDOWEVENT.rawValue
                event.window.windowID = id
                event.window.event = UInt8(SDL_WINDOWEVENT_CLOSE.rawValue)
            case .enter, .backspace, .nextLane:
                event.type = SDL_KEYDOWN.rawValue
                event.key.windowID = id
                let key: SDL_KeyCode =
                    switch input {
                    case .enter: SDLK_RETURN
                    case .backspace: SDLK_BACKSPACE
                    default: SDLK_TAB
                    }
                event.key.keysym.sym = SDL_Keycode(key.rawValue)
            }
            _ = SDL_PushEvent(&event)
        }
    }

    /// Closes the window; later presents throw ``DisplayError/closed``.
    public func close() {
        guard let state = open else { return }
        withSDLLock {
            SimulatorInputRouter.unregister(SDL_GetWindowID(state.window))
            SDL_DestroyTexture(state.texture)
            SDL_DestroyRenderer(state.renderer)
            SDL_DestroyWindow(state.window)
        }
        open = nil
    }

    deinit { executor.stop() }
}

/// SDL has one event queue and one text-input switch per process; several
/// simulator windows (and tests running side by side) must each get their
/// own keys. Whoever polls drains the queue and sorts events by window;
/// SDL_QUIT goes to every open window. Text input is on while any is open:
/// stopping it for one window would stop typing in all.
enum SimulatorInputRouter {
    /// Only touched under the SDL lock.
    nonisolated(unsafe) private static var queues: [UInt32: [SimulatorWindow.Input]] = [:]
    nonisolated(unsafe) private static var windows: Set<UInt32> = []

    /// Under the SDL lock.
    static func register(_ window: UInt32) {
        if windows.isEmpty { SDL_StartTextInput() }
        windows.insert(window)
    }

    /// Under the SDL lock.
    static func unregister(_ window: UInt32) {
        windows.remove(window)
        queues[window] = nil
        if windows.isEmpty { SDL_StopTextInput() }
    }

    static func take(for window: UInt32) -> [SimulatorWindow.Input] {
        withSDLLock {
            var event = SDL_Event()
            while SDL_PollEvent(&event) != 0 {
                switch SDL_EventType(event.type) {
                case SDL_QUIT:
                    for window in windows { queues[window, default: []].append(.quit) }
                case SDL_WINDOWEVENT where UInt32(event.window.event) == SDL_WINDOWEVENT_CLOSE.rawValue:
                    queues[event.window.windowID, default: []].append(.quit)
                case SDL_TEXTINPUT:
                    let typed = withUnsafeBytes(of: event.text.text) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    if !typed.isEmpty { queues[event.text.windowID, default: []].append(.text(typed)) }
                case SDL_KEYDOWN:
                    let input: SimulatorWindow.Input? =
                        switch Int(event.key.keysym.sym) {
                        case Int(SDLK_RETURN.rawValue), Int(SDLK_KP_ENTER.rawValue): .enter
                        case Int(SDLK_BACKSPACE.rawValue): .backspace
                        case Int(SDLK_TAB.rawValue): .nextLane
                        case Int(SDLK_ESCAPE.rawValue): .quit
                        default: nil
                        }
                    if let input { queues[event.key.windowID, default: []].append(input) }
                default:
                    break
                }
            }
            return queues.removeValue(forKey: window) ?? []
        }
    }
}
