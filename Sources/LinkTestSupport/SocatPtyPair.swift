import Foundation
import Synchronization

/// Two pseudo-terminals joined back to back by `socat`: a perfect null-modem
/// cable, when a test needs no noise and no control over the line.
///
/// ``NoisyPtyProxy`` with the default models does the same in-process and can
/// also damage and cut the line; this one exists for scripts and for checking
/// the proxy against an independent implementation.
public final class SocatPtyPair: Sendable {
    /// One end; what is written here is read at ``secondPath``.
    public let firstPath: String
    /// The other end.
    public let secondPath: String
    private let process: Process

    /// Starts `socat -d -d pty,raw,echo=0 pty,raw,echo=0` and waits for it to
    /// print the two device names.
    /// - Throws: ``SocatPtyPairError`` when socat is missing, fails or is silent for `timeout`.
    public init(executable: String = "/usr/bin/socat", timeout: Duration = .seconds(5)) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let names = NameCollector()
        errors.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            // Keep draining after the names, so socat never blocks on a full pipe.
            if data.isEmpty { handle.readabilityHandler = nil } else { names.take(data) }
        }
        do {
            try process.run()
        } catch {
            throw SocatPtyPairError(reason: "cannot start \(executable): \(error.localizedDescription)")
        }
        let found = await names.wait(timeout: timeout)
        guard let found else {
            Self.stop(process)
            throw SocatPtyPairError(reason: "socat printed no pty names within \(timeout)")
        }
        self.process = process
        (firstPath, secondPath) = found
    }

    deinit {
        Self.stop(process)
    }

    /// Stops socat; both devices vanish.
    public func close() {
        Self.stop(process)
    }

    /// SIGKILL, not `terminate()`'s SIGTERM: a child started from a Swift
    /// concurrency or NIO thread inherits that thread's signal mask, in which
    /// SIGTERM is blocked, so socat would never see it and waiting would hang.
    private static func stop(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Collects "N PTY is /dev/pts/N" lines from socat's diagnostics.
    private final class NameCollector: Sendable {
        private struct State {
            var text = ""
            var names: [String] = []
            var waiter: CheckedContinuation<(String, String)?, Never>?
            var resumed = false
        }
        private let state = Mutex(State())

        func take(_ data: Data) {
            let waiter = state.withLock {
                state -> ((String, String)?, CheckedContinuation<(String, String)?, Never>)? in
                state.text += String(decoding: data, as: UTF8.self)
                state.names = state.text.split(separator: "\n").compactMap { line in
                    line.range(of: "PTY is ").map { String(line[$0.upperBound...]) }
                }
                guard state.names.count >= 2, !state.resumed, let waiter = state.waiter else { return nil }
                state.resumed = true
                return ((state.names[0], state.names[1]), waiter)
            }
            if let (names, continuation) = waiter { continuation.resume(returning: names) }
        }

        func wait(timeout: Duration) async -> (String, String)? {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> (String, String)?? in
                    if state.names.count >= 2 {
                        state.resumed = true
                        return .some((state.names[0], state.names[1]))
                    }
                    state.waiter = continuation
                    return .none
                }
                if let ready {
                    continuation.resume(returning: ready)
                    return
                }
                Task {
                    try? await Task.sleep(for: timeout)
                    let late = state.withLock { state -> CheckedContinuation<(String, String)?, Never>? in
                        guard !state.resumed else { return nil }
                        state.resumed = true
                        return state.waiter
                    }
                    late?.resume(returning: nil)
                }
            }
        }
    }
}

/// socat could not provide a pty pair.
public struct SocatPtyPairError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
