import Foundation
import Testing

/// `laned --check` and the intercom: an installer learns that the voice
/// program is missing or not executable before the first help call does.
@Suite struct LanedIntercomCheckTests {
    @Test func checkNamesAnIntercomProgramThatCannotRunAndExits78() async throws {
        let files = try await LanedProcessTests.LaneFiles(
            extra:
                "intercom: {sip_uri: 'sip:lmc-officers@pbx.lmc.example', sip_client: [bin/dial, --ctrl, x]}")
        defer { files.remove() }
        let program = files.directory.appendingPathComponent("bin/dial").path
        func check() async throws -> Tool.Run {
            try await Tool.run(Tool.path("laned"), ["--config", files.config.path, "--check"])
        }

        let missing = try await check()
        #expect(missing.status == 78, "\(missing)")
        #expect(
            missing.stderr.contains(
                "intercom.sip_client: \(program) does not exist; expected the program to run"),
            "\(missing)")
        #expect(missing.stdout.contains("intercom.sip_uri: sip:lmc-officers@pbx.lmc.example"), "\(missing)")
        #expect(missing.stdout.contains("intercom.sip_client: [\(program), --ctrl, x]"), "\(missing)")
        #expect(missing.stdout.contains("intercom.timeout: 5s"), "\(missing)")

        try FileManager.default.createDirectory(
            atPath: files.directory.appendingPathComponent("bin").path, withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: program, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: program)
        let notExecutable = try await check()
        #expect(notExecutable.status == 78, "\(notExecutable)")
        #expect(
            notExecutable.stderr.contains("intercom.sip_client: \(program) is not executable"),
            "\(notExecutable)")

        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: program)
        let good = try await check()
        #expect(good.status == 0, "\(good)")
        #expect(!good.stderr.contains("intercom"), "\(good)")

        // A command is checked the same way, under its own key.
        try files.write(timeout: "2s", extra: "intercom: {command: [bin]}")
        let directory = try await check()
        #expect(directory.status == 78, "\(directory)")
        #expect(
            directory.stderr.contains(
                "intercom.command: \(files.directory.appendingPathComponent("bin").path) is a directory"),
            "\(directory)")
    }
}
