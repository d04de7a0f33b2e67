import CSDL2
import Foundation

/// SDL and SDL_ttf initialised for this process, kept alive while any context exists.
///
/// SDL's init and quit are process-global and its video and font state is not
/// thread-safe, so every SDL call in this module runs under one process-wide
/// lock (``withSDLLock(_:)``), and contexts are reference-counted: the first
/// one initialises SDL and SDL_ttf, the last one to go shuts them down.
/// Canvases and fonts hold their context, so SDL cannot quit under them.
///
/// Not `Sendable`; objects made from it may be used from any one thread at a time.
public final class SDLContext {
    /// The video driver SDL actually runs with, such as `offscreen`, `dummy`, `x11` or `KMSDRM`.
    public let videoDriver: String

    /// Initialises SDL's video subsystem and SDL_ttf, or joins the existing initialisation.
    ///
    /// - Parameter videoDriver: The SDL video driver to use, overriding the
    ///   `SDL_VIDEODRIVER` environment variable; `nil` lets SDL choose (honouring
    ///   the environment). Headless rendering wants `offscreen` or `dummy`.
    /// - Throws: ``DisplayError/videoDriverConflict(requested:active:)`` when SDL
    ///   already runs another driver in this process; ``DisplayError/sdl(call:message:)``
    ///   when SDL or SDL_ttf fail to initialise (such as an unknown driver).
    public init(videoDriver: String? = nil) throws(DisplayError) {
        self.videoDriver = try withSDLLock { () throws(DisplayError) -> String in
            if SDLState.users == 0 {
                try SDLState.start(videoDriver: videoDriver)
            } else if let videoDriver, videoDriver.lowercased() != SDLState.videoDriver.lowercased() {
                throw .videoDriverConflict(requested: videoDriver, active: SDLState.videoDriver)
            }
            SDLState.users += 1
            return SDLState.videoDriver
        }
    }

    deinit {
        withSDLLock {
            SDLState.users -= 1
            if SDLState.users == 0 { SDLState.stop() }
        }
    }
}

/// Runs `body` holding the lock that serialises all SDL and SDL_ttf calls in the process.
///
/// Recursive, so that a method holding it may call another that takes it.
func withSDLLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
    sdlLock.lock()
    defer { sdlLock.unlock() }
    return try body()
}

private let sdlLock = NSRecursiveLock()

/// The process-global SDL state; only touched under `sdlLock`.
private enum SDLState {
    nonisolated(unsafe) static var users = 0
    nonisolated(unsafe) static var videoDriver = ""

    static func start(videoDriver requested: String?) throws(DisplayError) {
        // laned handles SIGINT and SIGTERM through service lifecycle; SDL's own
        // handlers would turn them into SDL_QUIT events nobody reads.
        SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1")
        if let requested {
            // OVERRIDE because a plain hint loses to the SDL_VIDEODRIVER environment variable.
            SDL_SetHintWithPriority(SDL_HINT_VIDEODRIVER, requested, SDL_HINT_OVERRIDE)
        }
        if SDL_Init(UInt32(SDL_INIT_VIDEO)) != 0 {
            let error = DisplayError.sdl(
                call: "SDL_Init(video: \(requested ?? "default"))", message: lastSDLError())
            SDL_Quit()
            throw error
        }
        if TTF_Init() != 0 {
            let error = DisplayError.sdl(call: "TTF_Init", message: lastSDLError())
            SDL_Quit()
            throw error
        }
        videoDriver = SDL_GetCurrentVideoDriver().map { String(cString: $0) } ?? requested ?? ""
        // Offscreen and dummy have no screen to accelerate. Left to choose,
        // SDL backs a window's surface and renderer with OpenGL through Mesa
        // (llvmpipe) and dlcloses Mesa again at SDL_Quit, while the threads
        // that drew keep thread-exit destructors pointing into it: such a
        // thread crashed when it ended (signal 11 at an unmapped address, in
        // the tests, where lanes start and stop SDL many times in one process).
        let headless = ["offscreen", "dummy"].contains(videoDriver.lowercased())
        for (hint, value) in [(SDL_HINT_RENDER_DRIVER, "software"), (SDL_HINT_FRAMEBUFFER_ACCELERATION, "0")]
        {
            if headless { SDL_SetHint(hint, value) } else { SDL_ResetHint(hint) }
        }
    }

    static func stop() {
        TTF_Quit()
        SDL_Quit()
        videoDriver = ""
    }
}

/// `SDL_GetError()`, which SDL_ttf also reports through.
func lastSDLError() -> String {
    SDL_GetError().map { String(cString: $0) } ?? "unknown SDL error"
}
