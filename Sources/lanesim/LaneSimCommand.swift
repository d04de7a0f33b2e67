import ArgumentParser
import Foundation
import LaneSim

/// lanesim: whole lanes without hardware (docs/lanesim.md).
@main
struct LaneSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lanesim",
        abstract: "A control point without hardware: real lanes and a real central on one simulated clock.",
        subcommands: [Run.self])
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

    @Flag(help: "Show each board in a window (needs a display server) instead of drawing off screen.")
    var window = false

    @Option(help: "Pause this long after every step (e.g. 1s), for people watching the windows.")
    var pace: String?

    mutating func run() async throws {
        if !window { setenv("SDL_VIDEODRIVER", "offscreen", 0) }
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
            runner.displays = window ? "window" : "headless"
            if narrate { printer("== \(scenario.name) (\(scenario.file))") }
            let result = await runner.run(scenario)
            results.append(result)
            let verdict = result.passed ? "ok  " : "FAIL"
            printer(
                "\(verdict) \(scenario.file): \(scenario.name) (\(result.expectations) expectations, "
                    + String(format: "%.1f s)", result.seconds))
            for failure in result.failures { printer(failure.description) }
        }
        if let junit {
            try ScenarioRunner.Result.junit(results).write(toFile: junit, atomically: true, encoding: .utf8)
        }
        let failed = results.filter { !$0.passed }.count
        FileHandle.standardOutput.write(
            Data("lanesim: \(results.count - failed) passed, \(failed) failed\n".utf8))
        if failed > 0 { throw ExitCode(1) }
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
