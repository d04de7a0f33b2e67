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
/// `stop` with `LANEKIOSK_VOICE=stop` (e.g. a script that switches an
/// amplifier, or tells an IP intercom to call). The command's exit status
/// is checked; a run that outlasts `timeout` is killed with every process it
/// started, and fails.
public struct CommandVoicePath: VoicePath {
    public var executable: String
    public var arguments: [String]
    /// Added to laned's own environment for every run, e.g. `LANEKIOSK_LANE`.
    public var environment: [String: String]
    /// Nil waits as long as the command takes.
    public var timeout: Duration?

    public init(
        executable: String, arguments: [String] = [], environment: [String: String] = [:],
        timeout: Duration? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.timeout = timeout
    }

    public func start(callID: UInt64) async throws { try await run("start", callID) }
    public func stop(callID: UInt64) async throws { try await run("stop", callID) }

    /// How long a command killed at its timeout gets to end after SIGTERM before SIGKILL.
    static let killGrace: Duration = .seconds(1)

    private enum Event: Sendable {
        case exited(status: Int32, signalled: Bool)
        case timedOut
        case graceOver
    }

    private func run(_ verb: String, _ callID: UInt64) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment.merge(self.environment) { _, configured in configured }
        environment["LANEKIOSK_CALL_ID"] = String(callID)
        environment["LANEKIOSK_VOICE"] = verb
        process.environment = environment
        let (events, feed) = AsyncStream.makeStream(of: Event.self)
        process.terminationHandler = {
            feed.yield(
                .exited(status: $0.terminationStatus, signalled: $0.terminationReason == .uncaughtSignal))
        }
        do { try process.run() } catch {
            throw VoicePathError.cannotRun(executable, verb: verb, reason: "\(error)")
        }
        // Foundation starts the command as the leader of a process group of
        // its own, and sees it end only once everything it started has ended
        // too (they inherit the descriptor it watches): at the timeout the
        // whole group must go, or the wait would outlast it.
        let group = process.processIdentifier
        func after(_ delay: Duration, _ event: Event) -> Task<Void, Never> {
            Task {
                guard (try? await Task.sleep(for: delay)) != nil else { return }
                feed.yield(event)
            }
        }
        let timer = timeout.map { after($0, .timedOut) }
        var grace: Task<Void, Never>?
        defer {
            timer?.cancel()
            grace?.cancel()
        }
        var timedOut = false
        for await event in events {
            switch event {
            case .exited(let status, let signalled):
                if timedOut, let timeout {
                    throw VoicePathError.timedOut(executable, verb: verb, after: timeout)
                }
                guard status == 0, !signalled else {
                    throw VoicePathError.commandFailed(
                        executable, verb: verb, status: status, signalled: signalled)
                }
                return
            case .timedOut:
                timedOut = true
                kill(-group, SIGTERM)
                grace = after(Self.killGrace, .graceOver)
            case .graceOver:
                kill(-group, SIGKILL)
            }
        }
        // Cancelled (the lane is stopping): the command must not outlive it.
        kill(-group, SIGKILL)
        throw CancellationError()
    }
}

/// A voice path that dials a SIP URI when the call is answered and hangs up
/// when it ends, through a SIP client program: the program runs as
/// ``CommandVoicePath`` runs its command, with `LANEKIOSK_SIP_URI` as well.
/// `scripts/intercom-baresip` is such a program (`docs/intercom.md`).
public struct SIPVoicePath: VoicePath {
    public let uri: String
    private let client: CommandVoicePath

    /// - Parameter client: the program and its arguments; not empty.
    public init(
        uri: String, client: [String], environment: [String: String] = [:], timeout: Duration? = nil
    ) {
        precondition(!client.isEmpty, "a SIP client needs a program")
        self.uri = uri
        self.client = CommandVoicePath(
            executable: client[0], arguments: Array(client.dropFirst()),
            environment: environment.merging(["LANEKIOSK_SIP_URI": uri]) { _, uri in uri }, timeout: timeout)
    }

    public func start(callID: UInt64) async throws { try await client.start(callID: callID) }
    public func stop(callID: UInt64) async throws { try await client.stop(callID: callID) }
}

/// A voice command that did not work.
public enum VoicePathError: Error, CustomStringConvertible {
    static func milliseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }

    case cannotRun(String, verb: String, reason: String)
    case commandFailed(String, verb: String, status: Int32, signalled: Bool)
    case timedOut(String, verb: String, after: Duration)

    public var description: String {
        switch self {
        case .cannotRun(let path, let verb, let reason):
            "the voice command \(path) (LANEKIOSK_VOICE=\(verb)) cannot be run: \(reason)"
        case .commandFailed(let path, let verb, let status, let signalled):
            signalled
                ? "the voice command \(path) (LANEKIOSK_VOICE=\(verb)) was killed by signal \(status)"
                : "the voice command \(path) (LANEKIOSK_VOICE=\(verb)) exited with status \(status)"
        case .timedOut(let path, let verb, let timeout):
            "the voice command \(path) (LANEKIOSK_VOICE=\(verb)) took longer than its timeout "
                + "(\(Self.milliseconds(timeout)) ms) and was killed"
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
