import Foundation
import Testing

@testable import LaneConfig

/// Each kind of mistake a technician makes, and the message laned prints:
/// it must name the file, the line, the key and what was expected.
@Suite("Lane config: what a wrong file says")
struct ConfigErrorTests {
    let directory: ConfigDirectory

    init() throws { directory = try ConfigDirectory() }

    /// `minimal` with `old` replaced by `new` (which must be there).
    func edit(_ old: String, _ new: String) -> String {
        precondition(minimal.contains(old), "the minimal config has no \(old)")
        return minimal.replacingOccurrences(of: old, with: new)
    }

    /// The one problem `yaml` has, printed as laned prints it.
    func only(_ yaml: String) throws -> String {
        let error = try problems(yaml, in: directory)
        #expect(error.problems.count == 1, "\(error)")
        #expect(error.exitCode == 78)
        return error.problems.first?.description ?? ""
    }

    var file: String { directory.url.appendingPathComponent("lane.yaml").path }

    @Test func aValueOfTheWrongTypeNamesTheKeyAndWhatItShouldBe() throws {
        #expect(
            try only(edit("port: 4711", "port: \"4711\""))
                == "\(file):8:11: link.tcp.port: expected a TCP port from 1 to 65535; got \"4711\"")
        #expect(
            try only(edit("backend: virtual", "backend: [virtual]"))
                == "\(file):11:12: gpio.backend: expected one of libgpiod, virtual; got a list")
        #expect(
            try only(minimal + "control:\n  allow_virtual_inputs: yes\n")
                == "\(file):15:25: control.allow_virtual_inputs: expected true or false; got \"yes\"")
        #expect(
            try only(minimal + "decision: 2s\n")
                == "\(file):14:11: decision: expected a mapping of keys to values; got \"2s\"")
    }

    @Test func aBadDurationSaysWhatADurationLooksLike() throws {
        #expect(
            try only(minimal + "decision:\n  timeout: 2 seconds\n")
                == "\(file):15:12: decision.timeout: expected a duration such as 500ms, 2s or 1m, from 100ms to 1m; "
                + "got \"2 seconds\"")
        #expect(
            try only(minimal + "decision:\n  unladen_grace: 20\n")
                .hasSuffix(
                    "decision.unladen_grace: expected a duration such as 500ms, 2s or 1m, from 0s to 10m; got \"20\""
                ))
        #expect(
            try only(minimal + "decision:\n  timeout: 90s\n")
                .hasSuffix(
                    "decision.timeout: expected a duration such as 500ms, 2s or 1m, from 100ms to 1m; got \"90s\""
                ))
    }

    @Test func anUnknownKeyIsAnErrorWithTheKnownKeysAndTheNearestOne() throws {
        #expect(
            try only(minimal + "decision:\n  timout: 3s\n")
                == "\(file):15:3: decision.timout: unknown key; expected one of: timeout, unladen_grace "
                + "(did you mean timeout?)")
        #expect(
            try only(minimal + "logging:\n  level: debug\n")
                == "\(file):14:1: logging: unknown key; expected one of: lane, decision, offline, link, gpio, "
                + "reader, intercom, displays, journal, control, watchdog, log")
        // A misspelt required key is both unknown and missing: both are said.
        let misspelt = try problems(edit("  key_file:", "  keyfile:"), in: directory)
        #expect(
            misspelt.problems.map(\.description) == [
                "\(file):6:3: link.key_file: missing; expected a file path",
                "\(file):9:3: link.keyfile: unknown key; expected one of: tcp, serial, key_file, heartbeat, "
                    + "dead_after (did you mean key_file?)",
            ])
    }

    @Test func aMissingRequiredKeyIsNamedWithWhatItShouldHold() throws {
        let text = try only(edit("  id: LMC-IN-01\n", ""))
        #expect(
            text
                == "\(file):2:3: lane.id: missing; expected a lane id of 1 to 32 letters, digits, '-' and '_', "
                + "such as LMC-IN-01")
        let noTransport = """
            lane: {id: LMC-IN-01, control_point: LMC, direction: import}
            link:
              heartbeat: 1s
            gpio: {backend: virtual}
            displays: {backend: headless}
            """
        let error = try problems(noTransport, in: directory)
        #expect(error.keys == ["link", "link.key_file"])
        #expect(
            error.problems[0].message
                == "no transport; expected link.tcp (host, port) or link.serial (device, baud, ...)")
    }

    @Test func aValueNotInTheListNamesTheList() throws {
        #expect(
            try only(edit("backend: headless", "backend: framebuffer"))
                == "\(file):13:12: displays.backend: expected one of headless, window, kmsdrm; got \"framebuffer\""
        )
        #expect(
            try only(edit("control_point: LMC", "control_point: XYZ"))
                == "\(file):3:18: lane.control_point: expected a control point code: LMC, MKT, STK, SBC, HYW, HZM; "
                + "got \"XYZ\"")
    }

    @Test func aLaneIDThatIsNotOneOrDisagreesWithItsLaneIsRefused() throws {
        #expect(
            try only(edit("id: LMC-IN-01", "id: LMC IN 01"))
                == "\(file):2:7: lane.id: expected a lane id of 1 to 32 letters, digits, '-' and '_', such as "
                + "LMC-IN-01; got \"LMC IN 01\"")
        #expect(
            try only(edit("direction: import", "direction: export"))
                == "\(file):2:7: lane.id: LMC-IN-01 names an inbound (IN) lane but lane.direction is export; "
                + "expected the id to agree")
        #expect(
            try only(edit("control_point: LMC", "control_point: MKT"))
                == "\(file):2:7: lane.id: LMC-IN-01 names control point LMC but lane.control_point is MKT; "
                + "expected the id to agree")
    }

    @Test func aPortOutOfRangeSaysTheRange() throws {
        #expect(
            try only(edit("port: 4711", "port: 70000"))
                == "\(file):8:11: link.tcp.port: expected a TCP port from 1 to 65535; got \"70000\"")
        #expect(try only(edit("port: 4711", "port: 0")).hasSuffix("got \"0\""))
    }

    @Test func everyProblemIsReportedInFileOrderNotJustTheFirst() throws {
        let yaml = """
            lane:
              id: LMC-IN-01
              control_point: LMC
              direction: sideways
            link:
              serial:
                device: /dev/ttyUSB0
                baud: fast
                flow: xonxoff
              key_file: /k
            gpio:
              backend: libgpiod
              lines: {unladen: 17, help: 17}
            displays:
              backend: headless
              colour: red
            journal:
              retention_days: 0

            """
        let error = try problems(yaml, in: directory)
        #expect(
            error.keys == [
                "lane.direction", "link.serial.baud", "link.serial.flow", "gpio.chip", "gpio.lines.help",
                "displays.colour", "journal.retention_days",
            ])
        // A missing key is reported where its section's keys begin.
        #expect(error.problems.map(\.line) == [4, 8, 9, 12, 13, 16, 18])
        #expect(error.problems.allSatisfy { $0.file == file })
        #expect(error.description.hasPrefix("7 problems in \(file):\n  \(file):4:14: lane.direction: "))
        #expect(error.problems[2].message.hasPrefix("expected none or rtscts: the link's frames are binary"))
        #expect(error.problems[4].message == "line 17 is also gpio.lines.unladen; expected every line once")
    }

    @Test func crossKeyMistakesNameBothKeys() throws {
        let deadEarly = edit(
            "  key_file: /etc/lanekiosk/LMC-IN-01.key\n",
            "  key_file: /k\n  heartbeat: 2s\n  dead_after: 2s\n")
        #expect(
            try only(deadEarly)
                == "\(file):11:15: link.dead_after: expected more than link.heartbeat (2s): a peer is dead only after "
                + "it missed heartbeats; got 2s")
        let both = edit("  tcp:\n", "  serial: {device: /dev/ttyS0}\n  tcp:\n")
        #expect(
            try only(both).hasSuffix("link: both link.tcp and link.serial are given; expected exactly one"))
        let shared =
            edit("  tcp:\n    host: 127.0.0.1\n    port: 4711\n", "  serial: {device: /dev/ttyS0}\n")
            + "reader:\n  serial: {device: /dev/ttyS0}\n"
        #expect(
            try only(shared)
                == "\(file): reader.serial.device: /dev/ttyS0 is also link.serial.device; expected the reader on a "
                + "port of its own")
    }

    @Test func aKeyGivenTwiceIsNotSilentlyOverwritten() throws {
        #expect(
            try only(edit("  backend: virtual\n", "  backend: virtual\n  backend: libgpiod\n"))
                == "\(file):12:3: gpio.backend: given twice (first on line 11); expected each key once")
    }

    @Test func brokenYAMLSaysWhereItBroke() throws {
        let text = try only("lane:\n  id: [LMC\n")
        #expect(text.hasPrefix("\(file):3:1: not valid YAML: "))
        #expect(text.hasSuffix("expected `key: value` lines, indented by section"))
    }

    /// The error loading `path` raises, or nil when it loads.
    func failure(_ path: String) -> ConfigError? {
        do {
            _ = try LaneConfiguration.load(path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test func aFileThatIsNotUTF8OrIsADirectoryIsNamed() throws {
        let path = directory.url.appendingPathComponent("latin1.yaml").path
        try Data([0x6C, 0x61, 0x6E, 0x65, 0x3A, 0x20, 0xE9, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: path))
        #expect(
            failure(path)?.description
                == "1 problem in \(path):\n  \(path): not UTF-8 text; expected the lane's YAML config")
        #expect(
            failure(directory.url.path)?.problems.first?.message
                == "a directory, not a file; expected the lane's YAML config")
    }

    @Test func anEmptyOrMissingFileIsNamed() throws {
        #expect(
            try only("# nothing yet\n")
                == "\(file): the file is empty; expected the sections lane, decision, offline, link, gpio, reader, "
                + "intercom, displays, journal, control, watchdog, log")
        let missing = directory.url.appendingPathComponent("nope.yaml").path
        #expect(
            failure(missing)?.problems.map(\.description) == [
                "\(missing): no such file; expected the lane's YAML config"
            ])
    }
}
