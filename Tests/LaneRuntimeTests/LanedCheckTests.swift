import Foundation
import LaneControl
import LaneLink
import LinkCore
import RoadCargo
import TestKit
import Testing

/// `laned --check` as a technician runs it before starting a lane: it opens
/// the ground the config names (GPIO chip and lines, display backend, font
/// faces and glyphs) and exits 78 with a line naming what is wrong; and
/// `laned` refuses a config nested too deep with 78, before parsing it.
@Suite struct LanedCheckTests {
    static let latinOnly = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    let directory: String

    init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("laned-check-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try LinkKey.generate(for: try LaneID("LMC-IN-01")).write(to: "\(directory)/link.key")
    }

    /// A lane config that passes `--check` here, with `gpio` and `displays` as given.
    func config(
        gpio: String = "{backend: virtual}", displays: String = "{backend: headless}", extra: String = ""
    ) throws -> String {
        let yaml = """
            lane: {id: LMC-IN-01, control_point: LMC, direction: import}
            link:
              tcp: {host: 127.0.0.1, port: 4711}
              key_file: link.key
            gpio: \(gpio)
            displays: \(displays)
            journal: {path: journal.sqlite}
            control: {socket: \(directory)/lane.sock}
            \(extra)
            """
        let path = "\(directory)/lane.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs laned to its end with the environment of a bare service (no
    /// SDL_VIDEODRIVER, no DISPLAY), returning its status and standard error.
    /// `withChip`: through `TestSupport/gpio-chip/launch.sh`, which preloads
    /// a GPIO chip this kernel does not have (docs/gpio-testing.md): one chip
    /// labelled lane-buttons, lines UNLADEN, HELP, EXIT_LOOP, LAMP_UNLADEN, LAMP_HELP.
    func laned(_ arguments: [String], withChip: Bool = false) async throws -> (status: Int32, errors: String)
    {
        let process = Process()
        let laned = BuiltProducts.url("laned").path
        if withChip {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [Self.repository + "/TestSupport/gpio-chip/launch.sh", laned] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: laned)
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["LANEKIOSK_GPIO_CHIPS"] = nil
        for key in ["SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"] { environment[key] = nil }
        process.environment = environment
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let text = await process.finish(reading: errors)
        return (process.terminationStatus, text)
    }

    @Test func aGoodGroundPasses() async throws {
        let result = try await laned(["--config", try config(), "--check"])
        #expect(result.status == 0, "\(result.errors)")
    }

    @Test func aMissingGPIOChipIsNamed() async throws {
        let path = try config(gpio: "{backend: libgpiod, chip: gpiochip7, lines: {unladen: 1, help: 2}}")
        let result = try await laned(["--config", path, "--check"])
        #expect(result.status == 78)
        #expect(
            result.errors.contains(
                "gpio.chip: no GPIO chip has the path, name, number or label \"gpiochip7\""),
            "\(result.errors)")
    }

    @Test func aChipWithTheConfiguredLinesPassesAndALineItLacksIsNamed() async throws {
        let good = try config(
            gpio: "{backend: libgpiod, chip: lane-buttons, lines: {unladen: UNLADEN, help: HELP}}")
        let passed = try await laned(["--config", good, "--check"], withChip: true)
        #expect(passed.status == 0, "\(passed.errors)")
        let bad = try config(
            gpio: "{backend: libgpiod, chip: lane-buttons, lines: {unladen: UNLADEN, help: HELP_BUTTON}}")
        let refused = try await laned(["--config", bad, "--check"], withChip: true)
        #expect(refused.status == 78)
        #expect(
            refused.errors.contains("gpio.chip: ") && refused.errors.contains("HELP_BUTTON"),
            "\(refused.errors)")
    }

    /// DejaVu Sans has one face and no Han: the lane's faces cannot be opened.
    @Test func aLatinOnlyFontIsRefused() async throws {
        let path = try config(displays: "{backend: headless, font: \(Self.latinOnly)}")
        let result = try await laned(["--config", path, "--check"])
        #expect(result.status == 78)
        #expect(
            result.errors.contains("displays.font: cannot open font \(Self.latinOnly) face 3"),
            "\(result.errors)")
    }

    @Test func anUnavailableDisplayDriverIsNamed() async throws {
        // No /dev/dri here: KMS/DRM cannot start.
        let path = try config(displays: "{backend: kmsdrm}")
        let result = try await laned(["--config", path, "--check"])
        #expect(result.status == 78)
        #expect(
            result.errors.contains(
                "displays.backend: the kmsdrm backend cannot start: SDL_Init(video: KMSDRM)"),
            "\(result.errors)")
    }

    @Test func aDeeplyNestedConfigExits78BeforeParsing() async throws {
        let path = try config(extra: "deep: " + String(repeating: "[", count: 10_000))
        let result = try await laned(["--config", path])
        #expect(result.status == 78)
        #expect(result.errors.contains("\(path):"), "\(result.errors)")
        #expect(result.errors.contains("nested deeper than 32 levels"), "\(result.errors)")
    }

    /// SIGHUP with a nested file: the lane keeps running on its old config
    /// (the crash path is gone), says why in `status`, and a good file clears it.
    @Test func aReloadOfANestedFileKeepsTheRunningLane() async throws {
        let port = try await LaneRig.freePort()
        let good = try config(extra: "watchdog: {enabled: false}")
        let text = try String(contentsOfFile: good, encoding: .utf8).replacingOccurrences(
            of: "port: 4711", with: "port: \(port)")
        try text.write(toFile: good, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = BuiltProducts.url("laned")
        process.arguments = ["--config", good]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let socket = "\(directory)/lane.sock"

        /// Status once laned answers and `condition` holds; nil after 30 s of
        /// waiting, or when laned has exited.
        func status(until condition: (ControlStatus) -> Bool) async throws -> ControlStatus? {
            var found: ControlStatus?
            _ = await eventually(within: .seconds(30), every: .milliseconds(50)) {
                guard process.isRunning else { return true }
                // Not answering yet is what is waited out, not a failure.
                if let status = try? await ControlClient.call(socket, .status, ControlStatus.self),
                    condition(status)
                {
                    found = status
                }
                return found != nil
            }
            return found
        }

        _ = try #require(try await status { _ in true }, "laned never answered on its control socket")
        try (text + "deep: " + String(repeating: "[", count: 10_000) + "\n").write(
            toFile: good, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        let kept = try await status { $0.faults.contains("config_not_reloaded") }
        #expect(kept != nil, "no config_not_reloaded fault after SIGHUP")
        #expect(process.isRunning, "laned died on SIGHUP with a nested config")

        try text.write(toFile: good, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        let cleared = try await status { !$0.faults.contains("config_not_reloaded") }
        #expect(cleared != nil, "a good config did not clear the fault")

        process.terminate()
        await process.finish()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }
}
