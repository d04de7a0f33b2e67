import Foundation
import Testing

/// The `lanesim` executable as a technician runs it.
@Suite struct LaneSimCommandTests {
    /// Runs lanesim (built beside this test bundle) with `input` on its standard input.
    func lanesim(_ arguments: [String], input: String = "") async throws -> (status: Int32, output: String) {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let process = Process()
        process.executableURL = products.appendingPathComponent("lanesim")
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
        let output = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let data = stdout.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }
        }
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
}
