import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs an async test body in a child copy of the test binary with the
/// serial-pty shim preloaded, so that the real libserialport opens ptys
/// (docs/serial-testing.md).
///
/// The same protocol as `SerialPtyShim.runInShimmedChild` in
/// Tests/SerialPortTests (marker file, the test's own ID as the filter, the
/// shim built by TestSupport/serial-pty/build.sh), for async bodies. Test
/// targets cannot import each other; if a shared test-support target appears,
/// both belong there.
enum ShimmedChild {
    static let markerVariable = "LANEKIOSK_SERIAL_PTY_MARKER"

    /// Whether the shim is mapped into this process, asked of the dynamic linker.
    static var isLoaded: Bool {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "serial_pty_shim_version") != nil
    }

    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shim's path, or why there is none: `.unavailable` cancels (the machine
    /// cannot build it), `.failed` fails.
    static let build: Result<String, BuildProblem> = {
        let output = URL(fileURLWithPath: executablePath()).deletingLastPathComponent()
            .appendingPathComponent("serial-pty/libserial_pty_shim.so").path
        let script = packageRoot.appendingPathComponent("TestSupport/serial-pty/build.sh").path
        guard FileManager.default.fileExists(atPath: script) else {
            return .failure(.unavailable("\(script) is missing"))
        }
        let result = run("/bin/bash", [script, output], timeout: .seconds(120))
        switch result.status {
        case 0: return .success(output)
        case 69: return .failure(.unavailable(result.output))
        default: return .failure(.failed("build.sh exited \(result.status): \(result.output)"))
        }
    }()

    enum BuildProblem: Error {
        case unavailable(String)
        case failed(String)
    }

    /// In the parent: re-runs the calling test in a shimmed child and reports
    /// its failure here. In the child: runs `body`.
    static func run(
        timeout: Duration = .seconds(120), sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async throws {
        let environment = ProcessInfo.processInfo.environment
        if let marker = environment[markerVariable] {
            try #require(
                isLoaded, "child started without the serial-pty shim", sourceLocation: sourceLocation)
            try await body()
            try Data("ran\n".utf8).write(to: URL(fileURLWithPath: marker))
            return
        }
        guard FileManager.default.isReadableFile(atPath: "/dev/ptmx") else {
            try Test.cancel("no /dev/ptmx: this machine cannot make pseudo-terminals")
        }
        let shim: String
        switch build {
        case .success(let path): shim = path
        case .failure(.unavailable(let why)):
            try Test.cancel("cannot build the serial-pty shim (TestSupport/serial-pty/build.sh): \(why)")
        case .failure(.failed(let why)):
            Issue.record("serial-pty shim did not build: \(why)", sourceLocation: sourceLocation)
            return
        }
        let test = try #require(Test.current, sourceLocation: sourceLocation)
        // The test's own ID (it ends in its source location) selects it and only it.
        let filter = NSRegularExpression.escapedPattern(for: test.id.description)
        let marker = FileManager.default.temporaryDirectory
            .appendingPathComponent("serial-pty-\(UUID().uuidString).ran").path
        defer { try? FileManager.default.removeItem(atPath: marker) }
        var childEnvironment = environment
        let preloads = (environment["LD_PRELOAD"] ?? "").split(separator: ":").map(String.init)
        childEnvironment["LD_PRELOAD"] = ([shim] + preloads.filter { $0 != shim }).joined(separator: ":")
        childEnvironment[markerVariable] = marker
        let result = await runAsync(
            executablePath(), ["--testing-library", "swift-testing", "--filter", filter],
            environment: childEnvironment, timeout: timeout)
        let ran = FileManager.default.fileExists(atPath: marker)
        if result.status != 0 || !ran {
            let why =
                result.timedOut
                ? "hung: killed after \(timeout)"
                : ran
                    ? "exited \(result.status)"
                    : "exited \(result.status) without running the body (\(filter))"
            Issue.record(
                "shimmed child \(why); its output:\n\(result.output.suffix(6000))",
                sourceLocation: sourceLocation)
        }
    }

    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
    }

    /// ``run(_:_:environment:timeout:)`` without holding a thread of the
    /// cooperative pool while the child runs: other tests go on meanwhile.
    static func runAsync(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, timeout: Duration
    ) async -> (status: Int32, output: String, timedOut: Bool) {
        await run(executable, arguments, environment: environment, timeout: timeout) {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Runs a process with its output in a temporary file (a pipe could fill and
    /// stall it), killed by its pid after `timeout`.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, timeout: Duration
    ) -> (status: Int32, output: String, timedOut: Bool) {
        let (process, logPath, failure) = start(executable, arguments, environment: environment)
        guard let process else { return failure }
        var timedOut = false
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(20_000)
        }
        return finish(process, logPath: logPath, timedOut: timedOut)
    }

    private static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]?, timeout: Duration,
        pause: () async -> Void
    ) async -> (status: Int32, output: String, timedOut: Bool) {
        let (process, logPath, failure) = start(executable, arguments, environment: environment)
        guard let process else { return failure }
        var timedOut = false
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            await pause()
        }
        return finish(process, logPath: logPath, timedOut: timedOut)
    }

    private static func start(
        _ executable: String, _ arguments: [String], environment: [String: String]?
    ) -> (Process?, String, (status: Int32, output: String, timedOut: Bool)) {
        let logPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("serial-pty-\(UUID().uuidString).log").path
        guard FileManager.default.createFile(atPath: logPath, contents: nil),
            let log = FileHandle(forWritingAtPath: logPath)
        else { return (nil, logPath, (-1, "cannot create \(logPath)", false)) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        do { try process.run() } catch {
            try? log.close()
            try? FileManager.default.removeItem(atPath: logPath)
            return (nil, logPath, (-1, "cannot start \(executable): \(error)", false))
        }
        try? log.close()
        return (process, logPath, (0, "", false))
    }

    private static func finish(_ process: Process, logPath: String, timedOut: Bool)
        -> (status: Int32, output: String, timedOut: Bool)
    {
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: logPath)
        return (process.terminationStatus, output, timedOut)
    }
}
