import ArgumentParser
import Displays
import Foundation
import LaneSim

/// lanesim: whole lanes without hardware (docs/lanesim.md).
@main
struct LaneSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lanesim",
        abstract: "A control point without hardware: real lanes and a real central on one simulated clock.",
        subcommands: [Run.self, TrafficCommand.self, Interactive.self])
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run scenario files (docs/scenarios.md); exit 1 if any expectation fails.")

    @Argument(help: "Scenario files (YAML).")
    var files: [String]

    @Option(help: "Write a JUnit XML report here.")
    var junit: String?

    @Option(help: "Write both boards of every lane as PNG after each step into this directory.")
    var pictures: String?

    @Flag(help: "Print every step and every board change as it happens.")
    var narrate = false

    @Flag(
        help:
            "Show every lane's boards side by side in a window while the scenarios run (needs a display server)."
    )
    var window = false

    @Option(help: "Pause this long after every step (e.g. 1s), for people watching the windows.")
    var pace: String?

    @Flag(
        help:
            "Link each lane to central over a pty serial line through libserialport (run under scripts/with-pty-serial.sh, which preloads the shim ptys need)."
    )
    var serial = false

    @Option(
        help:
            "A running clearanced's API (e.g. http://127.0.0.1:8080) instead of the embedded one; it must run with --simulated-clock and know the scenario's lanes."
    )
    var central: String?

    @Option(help: "With --central: its lane link listener, HOST:PORT.")
    var centralLink: String?

    @Option(help: "With --central: the directory of the lanes' key files (clearanced lane add --keys-dir).")
    var keys: String?

    @Option(help: "With --central: a file of `shipper: TOKEN`, `driver: TOKEN`, `officer: TOKEN` lines.")
    var tokens: String?

    mutating func run() async throws {
        if !window { setenv("SDL_VIDEODRIVER", "offscreen", 0) }
        if serial, !(ProcessInfo.processInfo.environment["LD_PRELOAD"] ?? "").contains("serial-pty") {
            printError(
                "lanesim: --serial needs the serial-pty shim preloaded (libserialport refuses ptys without it); "
                    + "run: scripts/with-pty-serial.sh -- \(CommandLine.arguments.joined(separator: " "))")
            throw ExitCode(69)
        }
        var remote: RemoteCentral.Options?
        if let central {
            guard let api = URL(string: central), let link = centralLink, let keys, let tokens else {
                throw ValidationError(
                    "--central needs a URL, --central-link HOST:PORT, --keys DIR and --tokens FILE")
            }
            let parts = link.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]) else {
                throw ValidationError("--central-link \(link): expected HOST:PORT")
            }
            remote = RemoteCentral.Options(
                api: api, linkHost: String(parts[0]), linkPort: port, keysDirectory: keys,
                tokens: try RemoteCentral.Options.tokens(fromFile: tokens))
        }
        var pause: Duration?
        if let pace {
            guard
                let seconds = Double(
                    pace.replacingOccurrences(of: "ms", with: "").replacingOccurrences(of: "s", with: ""))
            else { throw ValidationError("--pace \(pace): expected a duration such as 500ms or 1s") }
            pause = pace.hasSuffix("ms") ? .milliseconds(Int(seconds)) : .milliseconds(Int(seconds * 1000))
        }
        var scenarios: [Scenario] = []
        var broken = false
        for file in files {
            do { scenarios.append(try Scenario.load(path: file)) } catch {
                printError("lanesim: \(error)")
                broken = true
            }
        }
        if broken { throw ExitCode(65) }
        // The boards are drawn off screen either way; the window shows their pictures.
        let rows = scenarios.map(\.lanes.count).max() ?? 1
        holdSDLForTheProcess()
        let shown: SimulatorWindow? =
            window ? try await SimulatorWindow.open(lanes: rows, title: "lanesim") : nil
        let narrate = self.narrate
        var results: [ScenarioRunner.Result] = []
        let printer: @Sendable (String) -> Void = { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        for scenario in scenarios {
            var pictures = self.pictures
            if let base = pictures, scenarios.count > 1 {
                pictures =
                    "\(base)/\((scenario.file as NSString).lastPathComponent.replacingOccurrences(of: ".yaml", with: ""))"
            }
            var runner = ScenarioRunner(picturesDirectory: pictures, narrate: narrate ? printer : nil)
            runner.pace = pause
            runner.window = shown
            runner.serial = serial
            runner.remote = remote
            if narrate { printer("== \(scenario.name) (\(scenario.file))") }
            let result = await runner.run(scenario)
            results.append(result)
            let verdict = result.passed ? "ok  " : "FAIL"
            printer(
                "\(verdict) \(scenario.file): \(scenario.name) (\(result.expectations) expectations, "
                    + String(format: "%.1f s)", result.seconds))
            for failure in result.failures { printer(failure.description) }
        }
        await shown?.close()
        if let junit {
            try ScenarioRunner.Result.junit(results).write(toFile: junit, atomically: true, encoding: .utf8)
        }
        let failed = results.filter { !$0.passed }.count
        FileHandle.standardOutput.write(
            Data("lanesim: \(results.count - failed) passed, \(failed) failed\n".utf8))
        if failed > 0 { throw ExitCode(1) }
    }
}

/// SDL initialised until the process ends: quitting it while lanes and the
/// window wind down unloaded code still in use and crashed now and then.
nonisolated(unsafe) var processSDL: SDLContext?

func holdSDLForTheProcess() {
    if processSDL == nil { processSDL = try? SDLContext() }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

struct TrafficCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traffic",
        abstract:
            "Random arrivals across N lanes; prints decisions per second and arrival-to-display latency.")

    @Option(help: "Lanes (alternately inbound and outbound).")
    var lanes = 2

    @Option(help: "Arrivals per second over all lanes.")
    var rate = 2.0

    @Option(help: "Seconds of traffic (real time; the simulated clock follows it).")
    var duration = 30.0

    @Option(help: "Shares of each kind of truck: bundled, unladen, early, targeted, unbundled.")
    var mix = "bundled=50,unladen=15,early=10,targeted=5,unbundled=20"

    @Option(help: "Seed for arrivals and the mix: the same seed gives the same traffic.")
    var seed: UInt64 = 1

    @Option(help: "Write one row per vehicle here (CSV).")
    var csv: String?

    func validate() throws {
        guard lanes >= 1, lanes <= 32 else { throw ValidationError("--lanes: 1 to 32") }
        guard rate > 0, duration > 0 else { throw ValidationError("--rate and --duration must be above 0") }
        _ = try parsedMix()
    }

    func parsedMix() throws -> [Traffic.Kind: Double] {
        var out: [Traffic.Kind: Double] = [:]
        for part in mix.split(separator: ",") {
            let pair = part.split(separator: "=")
            guard pair.count == 2, let kind = Traffic.Kind(rawValue: String(pair[0])),
                let share = Double(pair[1]),
                share >= 0
            else {
                throw ValidationError(
                    "--mix: '\(part)' is not kind=share; kinds: \(Traffic.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            out[kind] = share
        }
        guard out.values.reduce(0, +) > 0 else { throw ValidationError("--mix: every share is 0") }
        return out
    }

    func run() async throws {
        setenv("SDL_VIDEODRIVER", "offscreen", 0)
        var settings = Traffic.Settings()
        settings.lanes = lanes
        settings.rate = rate
        settings.duration = .milliseconds(Int64(duration * 1000))
        settings.mix = try parsedMix()
        settings.seed = seed
        let report = try await Traffic(settings: settings).run { say($0) }
        say(
            "traffic: \(report.passages.count) vehicles on \(lanes) lanes in "
                + String(format: "%.1f s: %.2f decisions/s", report.seconds, report.decisionsPerSecond))
        say("                                    p50        p90        p99        max")
        for (name, recorder) in [
            ("arrival -> STOP on the boards", report.toStop),
            ("arrival -> decision on the boards", report.toDecision),
        ] {
            let cells = [0.5, 0.9, 0.99, 1.0].map { p in
                recorder.percentile(p).map { String(format: "%7.2f ms", $0 / 1000) } ?? "          -"
            }
            say(name.padding(toLength: 34, withPad: " ", startingAt: 0) + cells.joined(separator: " "))
        }
        var byKind: [String: [String: Int]] = [:]
        for p in report.passages {
            byKind[p.kind.rawValue, default: [:]]["\(p.instruction) \(p.reason)", default: 0] += 1
        }
        for kind in Traffic.Kind.allCases {
            guard let outcomes = byKind[kind.rawValue] else { continue }
            let text = outcomes.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(
                separator: ", ")
            say("  \(kind.rawValue): \(text)")
        }
        say("(unbundled trucks wait out a 1 s unladen grace before their answer shows)")
        if let csv {
            try report.csv.write(toFile: csv, atomically: true, encoding: .utf8)
            say("one row per vehicle: \(csv)")
        }
    }
}

func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
