import Foundation
import TestKit
import Testing

/// The `lanesim` executable as a technician runs it.
@Suite struct LaneSimCommandTests {
    /// Runs lanesim (built beside this test bundle) with `input` on its standard input.
    func lanesim(_ arguments: [String], input: String = "") async throws -> (status: Int32, output: String) {
        try await run("lanesim", arguments, input: input)
    }

    /// Runs one of the package's executables to its end.
    func run(_ executable: String, _ arguments: [String], input: String = "") async throws
        -> (status: Int32, output: String)
    {
        let process = Process()
        process.executableURL = BuiltProducts.url(executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["SDL_VIDEODRIVER"] = "offscreen"
        process.environment = environment
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = await process.finish(reading: stdout)
        return (process.terminationStatus, output)
    }

    @Test func aFailedExpectationExitsOneWithItsDiff() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lanesim-\(UUID()).yaml")
        try """
        lanes:
          - {id: LMC-IN-01, control_point: LMC, direction: import}
        steps:
          - open: {lane: LMC-IN-01}
          - expect: {lane: LMC-IN-01, xdb: CLEARED, within: 300ms}
        """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try await lanesim(["run", file.path])
        #expect(run.status == 1, "\(run.output)")
        #expect(run.output.contains("\(file.path):5:"), "\(run.output)")
        #expect(run.output.contains("xdb: expected CLEARED, shown WELCOME"), "\(run.output)")
        #expect(run.output.contains("lanesim: 0 passed, 1 failed"), "\(run.output)")

        try "steps: []\n".write(to: file, atomically: true, encoding: .utf8)
        let broken = try await lanesim(["run", file.path])
        #expect(broken.status == 65, "a file that cannot run is a data error: \(broken.output)")
        #expect(broken.output.contains("lanes:"), "\(broken.output)")
    }

    @Test func interactiveTakesPlatesAndButtonsFromTheTerminal() async throws {
        let run = try await lanesim(["interactive", "--lanes", "1"], input: "ab 1234\nu\ns\nq\n")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("LMC-IN-01  XDB STOP, vrn AB1234"), "\(run.output)")
        #expect(run.output.contains("LMC-IN-01: stop, XDB STOP"), "the status line: \(run.output)")
    }

    @Test func aScenarioRunsAgainstARunningClearanced() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lanesim-central-\(UUID())")
        let keys = directory.appendingPathComponent("keys")
        try FileManager.default.createDirectory(
            at: keys, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("central.db").path
        let added = try await run(
            "clearanced",
            [
                "lane", "add", "--db", db, "--id", "LMC-IN-01", "--control-point", "LMC", "--direction",
                "import",
                "--keys-dir", keys.path,
            ])
        #expect(added.status == 0, "\(added.output)")
        var tokens = ""
        for role in ["shipper", "driver", "officer"] {
            let account = try await run(
                "clearanced", ["account", "add", "--db", db, "--name", "sim-\(role)", "--role", role])
            let token = try #require(account.output.split(separator: "\n").last.map(String.init))
            tokens += "\(role): \(token)\n"
        }
        let tokensFile = directory.appendingPathComponent("tokens.yaml")
        try tokens.write(to: tokensFile, atomically: true, encoding: .utf8)

        // clearanced serves on its own, as in a control point's server room.
        let out = directory.appendingPathComponent("central.out")
        #expect(FileManager.default.createFile(atPath: out.path, contents: nil))
        let central = Process()
        central.executableURL = BuiltProducts.url("clearanced")
        central.arguments = [
            "serve", "--db", db, "--port", "0", "--simulated-clock", "--start", "2026-11-26T08:00:00+08:00",
            "--link-keys", keys.path, "--link-port", "0", "--laden-rate", "0", "--unladen-rate", "0",
        ]
        central.standardOutput = try FileHandle(forWritingTo: out)
        central.standardError = FileHandle.nullDevice
        try central.run()
        defer { central.terminate() }
        var api: String?
        var link: String?
        _ = try await eventually(within: .seconds(15), every: .milliseconds(50)) {
            for line in (try String(contentsOf: out, encoding: .utf8)).split(separator: "\n") {
                if line.hasPrefix("listening on ") { api = "http://" + line.dropFirst("listening on ".count) }
                if line.hasPrefix("link listening on ") {
                    link = String(line.dropFirst("link listening on ".count))
                }
            }
            return api != nil && link != nil
        }
        let scenario = directory.appendingPathComponent("cleared.yaml")
        try """
        start: 2026-11-26T09:00:00+08:00
        lanes:
          - {id: LMC-IN-01, control_point: LMC, direction: import}
        steps:
          - open: {lane: LMC-IN-01}
          - submit: {name: toys, direction: import}
          - bundle: {name: b, vrn: AB1234, direction: import, consignments: [toys]}
          - advance: 30m
          - arrive: {lane: LMC-IN-01, vrn: AB1234, via: immigration}
          - expect: {lane: LMC-IN-01, xdb: CLEARED, reason: BUNDLE_OK}
          - kill: central
        """.write(to: scenario, atomically: true, encoding: .utf8)
        let result = try await lanesim([
            "run", "--central", try #require(api), "--central-link", try #require(link), "--keys", keys.path,
            "--tokens", tokensFile.path, scenario.path,
        ])
        // Everything up to the kill ran against the real server; the kill is refused by name.
        #expect(
            result.output.contains("kill central with an external central is not possible"),
            "\(result.output)")
        #expect(!result.output.contains("xdb: expected"), "the lane cleared the truck: \(result.output)")
        #expect(result.status == 1)
    }
}
