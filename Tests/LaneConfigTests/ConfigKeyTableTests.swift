import Foundation
import Testing

@testable import LaneConfig

/// The descriptor table (`LaneConfiguration.keys`) against what it drives:
/// the reference in docs/lane-config.md, `--check` output and SIGHUP.
/// Serialized so that a regenerating run rewrites the doc before the
/// other doc check reads it.
@Suite("Lane config: one descriptor per key", .serialized)
struct ConfigKeyTableTests {
    let directory: ConfigDirectory

    init() throws { directory = try ConfigDirectory() }

    static let reference = repositoryConfig.deletingLastPathComponent().appendingPathComponent(
        "docs/lane-config.md")

    /// Set to 1 to rewrite docs/lane-config.md's key tables from the table.
    static let updateVariable = "LANEKIOSK_UPDATE_CONFIG_REFERENCE"

    @Test func theReferenceInTheDocsIsTheTableOfDescriptors() throws {
        let document = try String(contentsOf: Self.reference, encoding: .utf8)
        let expected = ConfigReference.updating(document)
        if document != expected, ProcessInfo.processInfo.environment[Self.updateVariable] == "1" {
            try expected.write(to: Self.reference, atomically: true, encoding: .utf8)
            return
        }
        #expect(
            document == expected,
            """
            docs/lane-config.md's key tables differ from LaneConfiguration.keys; regenerate them with
            \(Self.updateVariable)=1 swift test --filter ConfigKeyTableTests
            """)
        #expect(ConfigReference.sectionsWithoutTable(in: document) == [])
    }

    @Test func everyKeyRowInTheDocsNamesAKeyThatExists() throws {
        let document = try String(contentsOf: Self.reference, encoding: .utf8)
        let known = Set(LaneConfiguration.keys.map(\.name))
        let rows = document.split(separator: "\n").filter { $0.hasPrefix("| `") }
        let named = rows.compactMap { $0.dropFirst(3).split(separator: "`").first.map(String.init) }
        #expect(!named.isEmpty)
        #expect(named.filter { !known.contains($0) } == [])
        #expect(Set(named) == known, "every key has a row")
    }

    @Test func theTableHasEachKeyOnceAndInSectionOrder() {
        let names = LaneConfiguration.keys.map(\.name)
        #expect(Set(names).count == names.count)
        var sections: [String] = []
        for key in LaneConfiguration.keys where sections.last != key.section { sections.append(key.section) }
        #expect(
            sections == [
                "lane", "decision", "offline", "link", "gpio", "reader", "intercom", "displays", "journal",
                "control", "watchdog", "log",
            ], "each section's keys are together, in file order")
    }

    @Test func theReloadableKeysAreTheOnesSIGHUPHasAlwaysApplied() {
        #expect(
            LaneConfiguration.reloadableKeys == [
                "decision.timeout", "decision.unladen_grace", "log.level", "journal.retention_days",
                "displays.default_language", "control.allow_virtual_inputs",
            ])
    }

    /// `laned --check` prints `flattened`: a minimal file's output, every default included.
    @Test func aMinimalFileFlattensToEveryDefaultInFileOrder() throws {
        let config = try LaneConfiguration.load(path: try directory.write(minimal))
        let printed = config.flattened.map { "\($0.key): \($0.value)" }
        #expect(
            printed == [
                "lane.id: LMC-IN-01", "lane.control_point: LMC", "lane.direction: import",
                "decision.timeout: 2s", "decision.unladen_grace: 20s", "offline.phase: full",
                "offline.laden_rate: 0.05", "offline.unladen_rate: 0.05", "link.tcp.host: 127.0.0.1",
                "link.tcp.port: 4711", "link.key_file: /etc/lanekiosk/LMC-IN-01.key", "link.heartbeat: 1s",
                "link.dead_after: 3s", "gpio.backend: virtual", "gpio.bias: as-is", "gpio.active_low: false",
                "gpio.debounce: 30ms", "gpio.stuck_after: 30s", "displays.backend: headless",
                "displays.xdb.width_px: 256", "displays.xdb.height_px: 256", "displays.xdb.width_cm: 98.0",
                "displays.xdb.height_cm: 98.0", "displays.xdb.viewing_distance_m: 10.0",
                "displays.aiop.width_px: 800", "displays.aiop.height_px: 600", "displays.aiop.width_cm: 21.0",
                "displays.aiop.height_cm: 15.8", "displays.aiop.viewing_distance_m: 1.0",
                "displays.default_language: zh-Hant",
                "journal.path: /var/lib/lanekiosk/LMC-IN-01/journal.sqlite",
                "journal.retention_days: 90", "control.socket: /run/laned/LMC-IN-01.sock",
                "control.allow_virtual_inputs: false", "watchdog.enabled: true", "log.level: info",
            ])
    }

    /// Two files that between them set every key of the table, each away
    /// from its default: every key is read (the parser asserts that no key
    /// of the table goes unread) and printed with the value the file gave.
    @Test func everyKeyOfTheTableIsReadAndPrinted() throws {
        let serialLane = """
            lane: {id: mkt_out_7, control_point: MKT, direction: export}
            decision: {timeout: 1500ms, unladen_grace: 1m}
            offline: {phase: transitional, laden_rate: 0.5, unladen_rate: 1, selection_key_file: /k/sel.key}
            link:
              serial: {device: /dev/ttyS1, baud: 57600, parity: even, data_bits: 7, stop_bits: 2, flow: rtscts}
              key_file: /k/lane.key
              heartbeat: 2.5s
              dead_after: 8s
            gpio:
              backend: libgpiod
              chip: gpiochip2
              lines: {unladen: 5, help: HELP, exit_loop: 7}
              bias: pull-down
              active_low: true
              debounce: 0ms
              stuck_after: 2m
              lamps: {unladen: 8, help: LAMP_HELP}
            reader:
              tcp:
                connect: {host: reader.local, port: 9000}
            intercom:
              sip_uri: sip:officers@pbx.example:5061;transport=tls
              sip_client: [/bin/dial, --ctrl, "127.0.0.1:4445"]
              timeout: 2s
            displays:
              backend: window
              xdb: {width_px: 512, height_px: 384, width_cm: 120, height_cm: 90.5, viewing_distance_m: 12.5}
              aiop: {width_px: 1024, height_px: 768, width_cm: 24, height_cm: 18, viewing_distance_m: 0.8}
              font: /f/cjk.ttf
              output_dir: /tmp/screens
              default_language: en
            journal: {path: /data/j.sqlite, retention_days: 7}
            control: {socket: /run/lane.sock, allow_virtual_inputs: true}
            watchdog: {enabled: false, interval: 3s}
            log: {level: debug}

            """
        let first = try LaneConfiguration.load(path: try directory.write(serialLane, as: "serial.yaml"))
        let second = try LaneConfiguration.load(
            path: try directory.write(
                minimal
                    + "reader: {serial: {device: /dev/ttyS2, baud: 9600, parity: odd, data_bits: 7, "
                    + "stop_bits: 2, flow: xonxoff}}\nintercom: {command: [/bin/voice, -x]}\n",
                as: "tcp.yaml"))
        let third = try LaneConfiguration.load(
            path: try directory.write(minimal + "reader: {tcp: {listen: {host: 10.0.0.1, port: 7010}}}\n"))
        let fourth = try LaneConfiguration.load(
            path: try directory.write(
                minimal.replacingOccurrences(
                    of: "    host: 127.0.0.1\n    port: 4711\n",
                    with: "    endpoints: [a:4711, \"[::1]:4712\"]\n"),
                as: "endpoints.yaml"))
        let printed = [first, second, third, fourth].flatMap(\.flattened)
        #expect(Set(printed.map(\.key)) == Set(LaneConfiguration.keys.map(\.name)))
        let values = Dictionary(printed.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(
            values["offline.selection_key_file"] == "/k/sel.key"
                && values["intercom.sip_client"] == "[/bin/dial, --ctrl, 127.0.0.1:4445]")
        #expect(values["reader.serial.flow"] == "xonxoff" && values["intercom.command"] == "[/bin/voice, -x]")
        #expect(
            values["reader.tcp.listen.host"] == "10.0.0.1"
                && values["displays.aiop.viewing_distance_m"] == "0.8")
        #expect(values["gpio.lamps.help"] == "LAMP_HELP" && values["watchdog.interval"] == "3s")
        #expect(values["link.tcp.endpoints"] == "[a:4711, [::1]:4712]")
    }

    /// A reload takes the reloadable keys from the new file and nothing else.
    @Test func applyingAReloadTakesExactlyTheReloadableKeys() throws {
        let old = try LaneConfiguration.load(path: try directory.write(minimal, as: "old.yaml"))
        let newText = minimalReloaded(
            adding: """
                decision: {timeout: 3s, unladen_grace: 45s}
                log: {level: warning}
                journal: {retention_days: 30, path: /data/j.sqlite}
                control: {allow_virtual_inputs: true, socket: /run/other.sock}
                watchdog: {enabled: false}

                """)
        let new = try LaneConfiguration.load(path: try directory.write(newText, as: "new.yaml"))
        let applied = old.applyingReloadable(from: new)
        #expect(applied.decision == new.decision)
        #expect(applied.log == new.log)
        #expect(applied.journal == .init(path: old.journal.path, retentionDays: 30))
        #expect(applied.control == .init(socket: old.control.socket, allowVirtualInputs: true))
        #expect(
            applied.displays.defaultLanguage == .english && applied.displays.backend == old.displays.backend)
        #expect(applied.link == old.link && applied.watchdog == old.watchdog && applied.file == old.file)
        // What is left between the applied config and the file is what needs a restart.
        let (changed, restart) = applied.reloadable(from: new)
        #expect(changed == [])
        #expect(Set(restart) == Set(old.reloadable(from: new).needsRestart))
        #expect(Set(restart) == ["link.tcp.port", "journal.path", "control.socket", "watchdog.enabled"])
    }

    /// The one message the table changed: the reader section's known keys
    /// are listed in one order whichever feed is given.
    @Test func anUnknownKeyInTheReaderSectionListsItsFeeds() throws {
        let error = try problems(
            minimal + "reader:\n  serial: {device: /dev/ttyS0}\n  sereal: 1\n", in: directory)
        #expect(
            error.problems.map(\.message) == [
                "unknown key; expected one of: tcp, serial (did you mean serial?)"
            ])
    }
}
