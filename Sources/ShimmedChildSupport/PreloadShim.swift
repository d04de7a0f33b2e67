import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One of the test-support `LD_PRELOAD` shims in `TestSupport/<name>`, and the
/// way to run a Swift Testing test body in a process that preloads it.
///
/// A preload has to be there when a process starts, and a test binary starts
/// without it. So `run` in the parent builds
/// the shim (`TestSupport/<name>/build.sh`, once per process, next to the test
/// binary) and starts a child copy of the test binary with the shim prepended
/// to `LD_PRELOAD` and a `--filter` that selects only the calling test; in that
/// child it runs the body. The parent fails, with the child's output, unless
/// the child exits 0 *and* creates a marker file after the body has run, so a
/// filter that selects nothing, or a child that crashes, cannot pass. A child
/// still running after ``timeout`` is killed with SIGKILL and reported as hung.
///
/// Names follow from ``name`` (here for `serial-pty`): the build script
/// `TestSupport/serial-pty/build.sh`, the library
/// `<test binary's directory>/serial-pty/libserial_pty_shim.so`, the symbol
/// `serial_pty_shim_version` that proves it is loaded, and the environment
/// variable `LANEKIOSK_SERIAL_PTY_MARKER` that carries the marker's path to
/// the child.
public struct PreloadShim: Sendable {
    /// The shim's directory in `TestSupport`, such as `serial-pty` or `gpio-chip`.
    public let name: String
    /// Variables removed from the child's environment, so that a hand-run
    /// setting cannot change what the test body sets up.
    public let clearedVariables: [String]
    /// How long the child may run before it is killed and reported as hung.
    public let timeout: Duration
    /// Why this machine cannot run the child at all, or nil; a reason cancels
    /// the test (reported as skipped) instead of failing it.
    private let unavailable: @Sendable () -> String?

    /// - Parameters:
    ///   - name: the shim's directory in `TestSupport`.
    ///   - clearing: environment variables the child must not inherit.
    ///   - timeout: how long the child may run.
    ///   - unavailable: why this machine cannot run the child (checked in
    ///     the parent before the shim is built), or nil when it can.
    public init(
        name: String, clearing: [String] = [], timeout: Duration = .seconds(120),
        unavailable: @escaping @Sendable () -> String? = { nil }
    ) {
        self.name = name
        self.clearedVariables = clearing
        self.timeout = timeout
        self.unavailable = unavailable
    }

    private var cName: String { name.replacingOccurrences(of: "-", with: "_") }

    /// Set in the child: the path of the marker file to create once the body has run.
    public var markerVariable: String { "LANEKIOSK_\(cName.uppercased())_MARKER" }

    /// True when the shim is mapped into this process (asked of the dynamic
    /// linker, not guessed from `LD_PRELOAD`).
    public var isLoaded: Bool {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "\(cName)_shim_version") != nil
    }

    /// In the parent: runs the calling test again in a child with the shim
    /// preloaded and records the child's failure as this test's. In the child:
    /// runs `body`.
    public func run(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) throws {
        if let marker = ProcessInfo.processInfo.environment[markerVariable] {
            try requireLoaded(sourceLocation)
            // One test per child, so blocking this thread (part of the
            // cooperative pool) holds up nothing else.
            try body()
            try Data("ran\n".utf8).write(to: URL(fileURLWithPath: marker))
            return
        }
        guard let child = try prepareChild(sourceLocation) else { return }
        defer { try? FileManager.default.removeItem(atPath: child.marker) }
        let result = ChildProcess.run(
            ChildProcess.executablePath, child.arguments, environment: child.environment, timeout: timeout)
        report(result, of: child, sourceLocation)
    }

    /// `run` for an async body. The parent
    /// waits for the child without holding a thread of the cooperative pool,
    /// so other tests go on meanwhile.
    public func run(
        sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
    ) async throws {
        if let marker = ProcessInfo.processInfo.environment[markerVariable] {
            try requireLoaded(sourceLocation)
            try await body()
            try Data("ran\n".utf8).write(to: URL(fileURLWithPath: marker))
            return
        }
        guard let child = try prepareChild(sourceLocation) else { return }
        defer { try? FileManager.default.removeItem(atPath: child.marker) }
        let result = await ChildProcess.run(
            ChildProcess.executablePath, child.arguments, environment: child.environment, timeout: timeout)
        report(result, of: child, sourceLocation)
    }

    private func requireLoaded(_ sourceLocation: SourceLocation) throws {
        try #require(isLoaded, "child started without the \(name) shim", sourceLocation: sourceLocation)
    }

    private struct Child {
        var arguments: [String]
        var environment: [String: String]
        var filter: String
        var marker: String
    }

    /// The child to start for the calling test; nil when the shim failed to
    /// build (recorded as an issue). Cancels the test when the machine cannot.
    private func prepareChild(_ sourceLocation: SourceLocation) throws -> Child? {
        if let why = unavailable() { try Test.cancel(Comment(rawValue: why)) }
        let shim: String
        switch build() {
        case .built(let path): shim = path
        case .unavailable(let why): try Test.cancel("cannot build the \(name) shim here: \(why)")
        case .failed(let why):
            Issue.record("\(name) shim did not build: \(why)", sourceLocation: sourceLocation)
            return nil
        }
        let test = try #require(Test.current, sourceLocation: sourceLocation)
        // --filter is a regular expression matched against test IDs; the calling
        // test's own ID, escaped, selects it and only it (the ID ends in its
        // source location, so no other test's ID contains it).
        let filter = NSRegularExpression.escapedPattern(for: test.id.description)
        let marker = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(name)-\(UUID().uuidString).ran").path
        var environment = ProcessInfo.processInfo.environment
        // Prepended, so that a preload already there (a sanitizer's) still loads.
        let preloads = (environment["LD_PRELOAD"] ?? "").split(separator: ":").map(String.init)
        environment["LD_PRELOAD"] = ([shim] + preloads.filter { $0 != shim }).joined(separator: ":")
        environment[markerVariable] = marker
        for variable in clearedVariables { environment[variable] = nil }
        return Child(
            arguments: ["--testing-library", "swift-testing", "--filter", filter], environment: environment,
            filter: filter, marker: marker)
    }

    private func report(_ result: ChildProcess.Outcome, of child: Child, _ sourceLocation: SourceLocation) {
        let ran = FileManager.default.fileExists(atPath: child.marker)
        guard result.status != 0 || !ran else { return }
        let why =
            result.timedOut
            ? "hung: killed after \(timeout)"
            : ran
                ? "exited \(result.status)"
                : "exited \(result.status) without running the test body (filter \(child.filter))"
        Issue.record(
            "shimmed child \(why); its output:\n\(result.output.suffix(6000))", sourceLocation: sourceLocation
        )
    }

    // MARK: - Building the shim

    private enum BuildOutcome: Sendable {
        case built(String)
        /// The machine cannot build it (no C compiler): tests are cancelled, not passed.
        case unavailable(String)
        case failed(String)
    }

    /// The package root, from this file's path (a fresh clone builds and tests
    /// in place, so the path is valid when the tests run).
    private static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private static let builds = BuildCache()

    /// Built once per test process, next to the test binary (in the scratch
    /// path, so that parallel checkouts and scratch paths never share it).
    private func build() -> BuildOutcome {
        Self.builds.outcome(for: name) {
            let output = URL(fileURLWithPath: ChildProcess.executablePath).deletingLastPathComponent()
                .appendingPathComponent("\(name)/lib\(cName)_shim.so").path
            let script = Self.packageRoot.appendingPathComponent("TestSupport/\(name)/build.sh").path
            // A test binary run away from its sources has nothing to build from.
            guard FileManager.default.fileExists(atPath: script) else {
                return .unavailable("\(script) is missing")
            }
            let result = ChildProcess.run("/bin/bash", [script, output], timeout: .seconds(120))
            switch result.status {
            case 0: return .built(output)
            // build-shim.sh's EX_UNAVAILABLE: no C compiler on this machine.
            case 69: return .unavailable(result.output)
            default: return .failed("build.sh exited \(result.status): \(result.output)")
            }
        }
    }

    /// Outcomes by shim name. A test that asks while another builds the same
    /// shim waits for that build rather than starting a second one.
    private final class BuildCache: @unchecked Sendable {
        // @unchecked: `outcomes` is read and written only under `lock`.
        private let lock = NSLock()
        private var outcomes: [String: BuildOutcome] = [:]

        func outcome(for name: String, _ build: () -> BuildOutcome) -> BuildOutcome {
            lock.withLock {
                if let known = outcomes[name] { return known }
                let outcome = build()
                outcomes[name] = outcome
                return outcome
            }
        }
    }
}

/// A process with stdout and stderr in a temporary file (a pipe could fill and
/// stall it), killed by its pid after a timeout.
enum ChildProcess {
    struct Outcome {
        var status: Int32
        var output: String
        var timedOut: Bool
    }

    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
    }

    /// Runs the process, polling it from this thread.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, timeout: Duration
    ) -> Outcome {
        let started: Started
        do { started = try start(executable, arguments, environment: environment, timeout: timeout) } catch {
            return Outcome(status: -1, output: error.message, timedOut: false)
        }
        var watch = started.watch
        while watch.mustWait() { usleep(20_000) }
        return finish(watch, logPath: started.logPath)
    }

    /// Runs the process, polling it between sleeps of this task.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, timeout: Duration
    ) async -> Outcome {
        let started: Started
        do { started = try start(executable, arguments, environment: environment, timeout: timeout) } catch {
            return Outcome(status: -1, output: error.message, timedOut: false)
        }
        var watch = started.watch
        while watch.mustWait() {
            // A cancelled task's sleep returns at once: the child still gets its
            // timeout, and this loop must not spin meanwhile.
            do { try await Task.sleep(for: .milliseconds(20)) } catch { usleep(20_000) }
        }
        return finish(watch, logPath: started.logPath)
    }

    /// A running process and its deadline.
    private struct Watch {
        let process: Process
        let deadline: ContinuousClock.Instant
        private(set) var timedOut = false

        init(_ process: Process, timeout: Duration) {
            self.process = process
            deadline = .now + timeout
        }

        /// Whether the process still runs within its time; one past it is killed.
        mutating func mustWait() -> Bool {
            guard process.isRunning else { return false }
            guard ContinuousClock.now >= deadline else { return true }
            kill(process.processIdentifier, SIGKILL)
            timedOut = true
            return false
        }
    }

    private struct Started {
        var watch: Watch
        var logPath: String
    }

    private struct StartFailure: Error {
        var message: String
    }

    private static func start(
        _ executable: String, _ arguments: [String], environment: [String: String]?, timeout: Duration
    ) throws(StartFailure) -> Started {
        let logPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("shimmed-child-\(UUID().uuidString).log").path
        guard FileManager.default.createFile(atPath: logPath, contents: nil),
            let log = FileHandle(forWritingAtPath: logPath)
        else { throw StartFailure(message: "cannot create \(logPath)") }
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
            throw StartFailure(message: "cannot start \(executable): \(error)")
        }
        try? log.close()
        return Started(watch: Watch(process, timeout: timeout), logPath: logPath)
    }

    private static func finish(_ watch: Watch, logPath: String) -> Outcome {
        watch.process.waitUntilExit()
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: logPath)
        return Outcome(status: watch.process.terminationStatus, output: output, timedOut: watch.timedOut)
    }
}
