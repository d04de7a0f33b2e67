import BoardLayout
import Displays
import Foundation
import LaneCore
import Logging

/// The lane's two boards, as the shell drives them.
public protocol LaneBoards: Sendable {
    /// Draws `state` on both boards; returns when it is on the glass.
    func show(_ state: BoardState) async throws
    /// The board's current picture as PNG bytes (`lanectl screenshot`).
    func screenshot(_ board: BoardKind) async throws -> [UInt8]
    /// The board's current picture as pixels; nil before its first frame.
    func picture(_ board: BoardKind) async throws -> RGBAImage?
}

/// The real boards: SDL2 through the Displays module, on its own thread.
public struct DisplayBoards: LaneBoards {
    public let displays: BoardDisplays

    public init(_ displays: BoardDisplays) { self.displays = displays }

    public func show(_ state: BoardState) async throws { try await displays.show(state) }

    public func screenshot(_ board: BoardKind) async throws -> [UInt8] {
        try await displays.screenshotPNG(board)
    }

    public func picture(_ board: BoardKind) async throws -> RGBAImage? {
        try await displays.snapshot(board)
    }
}

/// The buttons' lamps.
public protocol LaneLamps: Sendable {
    func setLamp(_ button: LaneButton, on: Bool) async throws
}

/// The intercom's voice path for help calls.
public protocol VoicePath: Sendable {
    func start(callID: UInt64) async throws
    func stop(callID: UInt64) async throws
}

/// A voice path that runs a configured command: `start` runs it with
/// `LANEKIOSK_CALL_ID` and `LANEKIOSK_VOICE=start` in its environment,
/// `stop` with `LANEKIOSK_VOICE=stop` (e.g. a script that dials or hangs up
/// a SIP intercom). The command's exit status is checked.
public struct CommandVoicePath: VoicePath {
    public var executable: String
    public var arguments: [String]

    public init(executable: String, arguments: [String] = []) {
        self.executable = executable
        self.arguments = arguments
    }

    public func start(callID: UInt64) async throws { try await run("start", callID) }
    public func stop(callID: UInt64) async throws { try await run("stop", callID) }

    private func run(_ verb: String, _ callID: UInt64) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LANEKIOSK_CALL_ID"] = String(callID)
        environment["LANEKIOSK_VOICE"] = verb
        process.environment = environment
        let finished = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished.continuation.yield($0.terminationStatus) }
        try process.run()
        var statuses = finished.stream.makeAsyncIterator()
        let status = await statuses.next() ?? -1
        guard status == 0 else { throw VoicePathError.commandFailed(executable, verb: verb, status: status) }
    }
}

/// A voice command that did not work.
public enum VoicePathError: Error, CustomStringConvertible {
    case commandFailed(String, verb: String, status: Int32)

    public var description: String {
        switch self {
        case .commandFailed(let path, let verb, let status):
            "the voice command \(path) (LANEKIOSK_VOICE=\(verb)) exited with status \(status)"
        }
    }
}

/// No intercom configured: calls are signalled and shown, voice is logged only.
public struct NoVoicePath: VoicePath {
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func start(callID: UInt64) async throws {
        logger.notice("no voice path configured; help call has no audio", metadata: ["call": "\(callID)"])
    }

    public func stop(callID: UInt64) async throws {}
}
