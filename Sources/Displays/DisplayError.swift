/// A failure while setting up SDL or drawing a display.
public enum DisplayError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An SDL or SDL_ttf call failed; `message` is `SDL_GetError()` right after it.
    case sdl(call: String, message: String)
    /// SDL runs one video driver per process; a second context asked for another.
    case videoDriverConflict(requested: String, active: String)
    /// The font file is missing, unreadable, or has no face at `faceIndex`.
    case fontUnavailable(path: String, faceIndex: Int, message: String)
    /// A canvas needs a positive width and height.
    case invalidSize(width: Int, height: Int)
    /// The image could not be written.
    case writeFailed(path: String, message: String)
    /// libpng could not encode the image.
    case encodeFailed(message: String)
    /// The configured display (a KMS/DRM connector, or a monitor) does not exist.
    case displayNotFound(index: Int, available: Int)
    /// The display actor was closed; nothing is drawn any more.
    case closed

    public var description: String {
        switch self {
        case .sdl(let call, let message):
            return "\(call) failed: \(message)"
        case .videoDriverConflict(let requested, let active):
            return
                "SDL video driver \(requested) requested, but SDL already runs with \(active) in this process"
        case .fontUnavailable(let path, let faceIndex, let message):
            return "cannot open font \(path) face \(faceIndex): \(message)"
        case .invalidSize(let width, let height):
            return "invalid canvas size \(width)x\(height)"
        case .writeFailed(let path, let message):
            return "cannot write image \(path): \(message)"
        case .encodeFailed(let message):
            return "cannot encode the image as PNG: \(message)"
        case .displayNotFound(let index, let available):
            return "display \(index) not found: SDL sees \(available) display(s), numbered from 0"
        case .closed:
            return "the displays were closed"
        }
    }
}
