import BoardLayout
import CSDL2
import Foundation

/// A lane's XDB and AIOP, built from one ``DisplayConfiguration``.
///
/// Not `Sendable`; laned uses it through ``BoardDisplays``, which keeps every
/// SDL call on one thread of its own.
public final class LaneDisplays {
    public let configuration: DisplayConfiguration
    public let context: SDLContext
    public let fonts: FontSet
    public let xdb: any BoardRenderer
    public let aiop: any BoardRenderer

    /// Opens SDL, the fonts and both boards, and shows CLOSED in the default
    /// language until the lane sends its first state.
    /// - Throws: ``DisplayError``, naming the font, display or SDL call that failed.
    public init(configuration: DisplayConfiguration) throws(DisplayError) {
        self.configuration = configuration
        let context: SDLContext
        do {
            context = try SDLContext(videoDriver: configuration.backend.videoDriver)
        } catch .videoDriverConflict where configuration.backend == .headless {
            // Software surfaces need no particular video driver: join the one running.
            context = try SDLContext()
        }
        let fonts = try FontSet(context: context, configuration: configuration.fonts)
        func renderer(_ board: BoardKind) throws(DisplayError) -> any BoardRenderer {
            let layouter = configuration.layouter(for: board)
            switch configuration.backend {
            case .headless:
                let path = configuration.outputDirectory.map {
                    URL(fileURLWithPath: $0).appendingPathComponent("\(board.rawValue).png").path
                }
                return try HeadlessBoardRenderer(
                    layouter: layouter, fonts: fonts, context: context, outputPath: path)
            case .window, .kmsdrm:
                return try WindowBoardRenderer(
                    layouter: layouter, fonts: fonts, context: context,
                    displayIndex: configuration.board(board).displayIndex,
                    fullscreen: configuration.backend == .kmsdrm)
            }
        }
        self.context = context
        self.fonts = fonts
        xdb = try renderer(.xdb)
        aiop = try renderer(.aiop)
        try show(BoardState(phase: .closed, language: configuration.defaultLanguage))
    }

    /// The renderer of `board`.
    public func renderer(_ board: BoardKind) -> any BoardRenderer {
        board == .xdb ? xdb : aiop
    }

    /// Shows `state` on both boards; a board whose state is unchanged draws nothing.
    public func show(_ state: BoardState) throws(DisplayError) {
        try xdb.show(state)
        try aiop.show(state)
    }

    /// What happened to the windows since the last call.
    public struct Events: Sendable, Hashable {
        /// A window's close button or SIGINT under a desktop (the simulator may stop).
        public var quitRequested = false
    }

    /// Handles SDL's events: presents the current frames again when a window
    /// was exposed or resized, and redraws them if the GPU lost them. Call it
    /// a few times a second with the window backends; headless has no events.
    public func pumpEvents() throws(DisplayError) -> Events {
        var events = Events()
        guard configuration.backend != .headless else { return events }
        var exposed = false
        var lost = false
        withSDLLock {
            var event = SDL_Event()
            while SDL_PollEvent(&event) != 0 {
                switch SDL_EventType(event.type) {
                case SDL_QUIT:
                    events.quitRequested = true
                case SDL_WINDOWEVENT:
                    let kind = SDL_WindowEventID(UInt32(event.window.event))
                    if kind == SDL_WINDOWEVENT_EXPOSED || kind == SDL_WINDOWEVENT_SIZE_CHANGED {
                        exposed = true
                    }
                case SDL_RENDER_TARGETS_RESET, SDL_RENDER_DEVICE_RESET:
                    lost = true
                default:
                    break
                }
            }
        }
        for case let window as WindowBoardRenderer in [xdb, aiop] {
            if lost {
                try window.redraw()
            } else if exposed {
                try window.present()
            }
        }
        return events
    }

    /// The displays SDL's video driver sees, as `index: name WxH`; for
    /// choosing `displayIndex` on a kiosk. Needs an SDL context with the
    /// driver in question (such as `KMSDRM`).
    public static func availableDisplays(context: SDLContext) -> [String] {
        withSDLLock {
            (0..<max(0, SDL_GetNumVideoDisplays())).map { index in
                var mode = SDL_DisplayMode()
                let name = SDL_GetDisplayName(index).map { String(cString: $0) } ?? "unnamed"
                if SDL_GetDesktopDisplayMode(index, &mode) == 0 {
                    return "\(index): \(name) \(mode.w)x\(mode.h)"
                }
                return "\(index): \(name)"
            }
        }
    }
}

/// The lane's boards for async code: an actor whose every call runs on one
/// dedicated thread, so SDL always sees the same thread and drawing never
/// blocks Swift's cooperative pool.
///
/// ```swift
/// let displays = try await BoardDisplays.start(configuration)
/// try await displays.show(state)
/// let png = try await displays.screenshotPNG(.aiop)
/// ```
public actor BoardDisplays {
    private let executor: DisplayThreadExecutor
    private var displays: LaneDisplays?
    private var pump: Task<Void, Never>?

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    private init() {
        executor = DisplayThreadExecutor(name: "lanekiosk-displays")
    }

    /// Opens both boards on the display thread. With a window backend it also
    /// pumps SDL's events every 50 ms there, so windows repaint after being covered.
    /// - Throws: ``DisplayError`` from ``LaneDisplays/init(configuration:)``.
    public static func start(_ configuration: DisplayConfiguration) async throws(DisplayError)
        -> BoardDisplays
    {
        let actor = BoardDisplays()
        try await actor.open(configuration)
        return actor
    }

    private func open(_ configuration: DisplayConfiguration) throws(DisplayError) {
        displays = try LaneDisplays(configuration: configuration)
        guard configuration.backend != .headless else { return }
        pump = Task {
            while !Task.isCancelled {
                _ = try? self.displays?.pumpEvents()
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Shows `state` on both boards (nothing is drawn on a board whose state is unchanged).
    public func show(_ state: BoardState) throws(DisplayError) {
        guard let displays else { throw .closed }
        try displays.show(state)
    }

    /// The frame on `board` now, as PNG bytes.
    public func screenshotPNG(_ board: BoardKind) throws(DisplayError) -> [UInt8] {
        guard let displays else { throw .closed }
        guard let png = try displays.renderer(board).snapshotPNG() else { throw .closed }
        return png
    }

    /// The frame on `board` now, as pixels (the simulator's window shows it).
    public func snapshot(_ board: BoardKind) throws(DisplayError) -> RGBAImage? {
        guard let displays else { throw .closed }
        return try displays.renderer(board).snapshot()
    }

    /// The layout on `board` now (what each text box holds), for diagnostics.
    public func layout(_ board: BoardKind) throws(DisplayError) -> ScreenLayout? {
        guard let displays else { throw .closed }
        return displays.renderer(board).layout
    }

    /// Closes the windows and releases SDL on the display thread; later calls throw ``DisplayError/closed``.
    public func close() {
        pump?.cancel()
        pump = nil
        displays = nil
    }

    deinit {
        executor.stop()
    }
}

/// A serial executor that runs jobs on one thread of its own.
final class DisplayThreadExecutor: SerialExecutor, @unchecked Sendable {
    /// Shared with the thread; the executor may go before the thread drains it.
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var jobs: [UnownedJob] = []
        var stopped = false
    }

    private let queue = Queue()

    init(name: String) {
        let queue = self.queue
        // The thread keeps the executor alive until it has drained the queue
        // and ended: a job runs "on" this executor through an unowned
        // reference, and the actor's last reference can go (its deinit
        // stopping the executor) on another thread while a job is still
        // finishing here.
        let owner = self
        let executor = UnownedSerialExecutor(ordinary: self)
        let thread = Thread {
            defer { withExtendedLifetime(owner) {} }
            while true {
                queue.condition.lock()
                while queue.jobs.isEmpty && !queue.stopped { queue.condition.wait() }
                if queue.jobs.isEmpty {
                    queue.condition.unlock()
                    return
                }
                let job = queue.jobs.removeFirst()
                queue.condition.unlock()
                job.runSynchronously(on: executor)
            }
        }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.condition.lock()
        queue.jobs.append(job)
        queue.condition.signal()
        queue.condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread end once the queued jobs have run.
    func stop() {
        queue.condition.lock()
        queue.stopped = true
        queue.condition.signal()
        queue.condition.unlock()
    }
}
