import BoardLayout
import Foundation
import LaneCore
import RoadCargo
import Testing

@testable import LaneConfig

@Suite("Lane config: what a valid file gives")
struct ConfigTests {
    let directory: ConfigDirectory

    init() throws { directory = try ConfigDirectory() }

    @Test func theInboundExampleLoadsAsATCPLaneWithAReaderListening() throws {
        let config = try LaneConfiguration.load(
            path: repositoryConfig.appendingPathComponent("laned-LMC-IN-01.yaml").path)
        #expect(
            config.lane.lane
                == Lane(id: try LaneID("LMC-IN-01"), controlPoint: .lokMaChau, direction: .inbound))
        #expect(config.link.transport == .tcp(host: "central.lmc.example", port: 4711))
        #expect(config.reader == .tcpListen(host: "127.0.0.1", port: 7010))
        #expect(config.gpio.backend == .libgpiod && config.gpio.exitLoop == .offset(22))
        #expect(config.displays.backend == .kmsdrm)
        #expect(!config.control.allowVirtualInputs)
    }

    @Test func theOutboundExampleLoadsAsASerialLaneWithDefaultsWhereKeysAreLeftOut() throws {
        let config = try LaneConfiguration.load(
            path: repositoryConfig.appendingPathComponent("laned-LMC-OUT-01.yaml").path)
        #expect(config.lane.direction == .outbound)
        guard case .serial(let line) = config.link.transport else {
            Issue.record("expected a serial link, got \(config.link.transport)")
            return
        }
        #expect(line.device == "/dev/lanekiosk/LMC-OUT-01/link" && line.flow == .rtsCts)
        #expect(config.gpio.unladen == .name("UNLADEN_BTN") && config.gpio.helpLamp == nil)
        #expect(config.decision.timeout == .seconds(2) && config.decision.unladenGrace == .seconds(20))
        #expect(config.control.socket == "/run/laned/LMC-OUT-01.sock")
        #expect(config.displays.xdb == .xdbDefault && config.displays.aiop == .aiopDefault)
        #expect(config.displays.defaultLanguage == .simplifiedChinese)
        guard case .serial(let reader)? = config.reader else {
            Issue.record("expected a serial reader, got \(String(describing: config.reader))")
            return
        }
        #expect(reader.baud == 9600 && reader.parity == .none && reader.dataBits == 8 && reader.stopBits == 1)
    }

    @Test func aMinimalFileGetsEveryDefault() throws {
        let config = try LaneConfiguration.load(path: try directory.write(minimal))
        #expect(config.decision.timeout == .seconds(2))
        #expect(config.decision.unladenGrace == .seconds(20))
        #expect(config.link.heartbeat == .seconds(1) && config.link.deadAfter == .seconds(3))
        #expect(config.gpio.debounce == .milliseconds(30) && config.gpio.stuckAfter == .seconds(30))
        #expect(config.gpio.bias == .asIs && !config.gpio.activeLow && config.gpio.chip == nil)
        #expect(config.reader == nil)
        #expect(config.displays.font == nil && config.displays.outputDirectory == nil)
        #expect(config.displays.defaultLanguage == .traditionalChinese)
        #expect(config.journal.path == "/var/lib/lanekiosk/LMC-IN-01/journal.sqlite")
        #expect(config.journal.retentionDays == 90)
        #expect(config.control == .init(socket: "/run/laned/LMC-IN-01.sock", allowVirtualInputs: false))
        #expect(config.watchdog == .init(enabled: true, interval: nil))
        #expect(config.log.level == .info)
        #expect(
            config.settings
                == LaneSettings(
                    lane: try LaneID("LMC-IN-01"), decisionTimeout: .seconds(2), unladenGrace: .seconds(20),
                    defaultLanguage: .traditionalChinese))
    }

    /// Every key, each away from its default.
    @Test func everyKeyIsReadIntoItsField() throws {
        let path = try directory.write(
            """
            lane: {id: mkt_out_7, control_point: MKT, direction: export}
            decision: {timeout: 1500ms, unladen_grace: 1m}
            link:
              serial: {device: /dev/ttyS1, baud: 57600, parity: even, data_bits: 7, stop_bits: 2, flow: rtscts}
              key_file: keys/lane.key
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
            displays:
              backend: window
              xdb: {width_px: 512, height_px: 384, width_cm: 120, height_cm: 90.5, viewing_distance_m: 12.5}
              aiop: {width_px: 1024, height_px: 768, width_cm: 24, height_cm: 18, viewing_distance_m: 0.8}
              font: fonts/cjk.ttf
              output_dir: /tmp/screens
              default_language: en
            journal: {path: /data/j.sqlite, retention_days: 7}
            control: {socket: run/lane.sock, allow_virtual_inputs: true}
            watchdog: {enabled: false, interval: 3s}
            log: {level: debug}
            """)
        let c = try LaneConfiguration.load(path: path)
        let dir = directory.url.standardizedFileURL.path
        #expect(c.file == path)
        #expect(
            c.lane.lane == Lane(id: try LaneID("mkt_out_7"), controlPoint: .manKamTo, direction: .outbound))
        #expect(c.decision.timeout == .milliseconds(1500) && c.decision.unladenGrace == .seconds(60))
        #expect(
            c.link.transport
                == .serial(
                    .init(
                        device: "/dev/ttyS1", baud: 57_600, parity: .even, dataBits: 7, stopBits: 2,
                        flow: .rtsCts)))
        #expect(c.link.keyFile == "\(dir)/keys/lane.key")
        #expect(c.link.heartbeat == .milliseconds(2500) && c.link.deadAfter == .seconds(8))
        #expect(
            c.gpio
                == .init(
                    backend: .libgpiod, chip: "gpiochip2", unladen: .offset(5), help: .name("HELP"),
                    exitLoop: .offset(7),
                    bias: .pullDown, activeLow: true, debounce: .zero, stuckAfter: .seconds(120),
                    unladenLamp: .offset(8), helpLamp: .name("LAMP_HELP")))
        #expect(c.reader == .tcpConnect(host: "reader.local", port: 9000))
        #expect(c.displays.backend == .window)
        #expect(
            c.displays.xdb
                == (try BoardGeometry(
                    width: 512, height: 384, physicalWidthMillimetres: 1200, physicalHeightMillimetres: 905,
                    viewingDistanceMetres: 12.5)))
        #expect(c.displays.aiop.width == 1024 && c.displays.aiop.viewingDistanceMetres == 0.8)
        #expect(c.displays.font == "\(dir)/fonts/cjk.ttf" && c.displays.outputDirectory == "/tmp/screens")
        #expect(c.displays.defaultLanguage == .english)
        #expect(c.journal == .init(path: "/data/j.sqlite", retentionDays: 7))
        #expect(c.control == .init(socket: "\(dir)/run/lane.sock", allowVirtualInputs: true))
        #expect(c.watchdog == .init(enabled: false, interval: .seconds(3)))
        #expect(c.log.level == .debug)
        // Every key the file set is in the flattened view with its value.
        let flat = Dictionary(uniqueKeysWithValues: c.flattened)
        #expect(flat["link.serial.parity"] == "even" && flat["decision.timeout"] == "1.5s")
        #expect(flat["gpio.lines.help"] == "HELP" && flat["watchdog.interval"] == "3s")
    }

    @Test func aReaderListeningOnTCPDefaultsToEveryAddress() throws {
        let config = try LaneConfiguration.load(
            path: try directory.write(minimal + "reader:\n  tcp:\n    listen:\n      port: 7010\n"))
        #expect(config.reader == .tcpListen(host: "0.0.0.0", port: 7010))
    }

    @Test(arguments: [
        ("30ms", Duration.milliseconds(30)), ("2s", .seconds(2)), ("1.5s", .milliseconds(1500)),
        ("5m", .seconds(300)),
        ("1h", .seconds(3600)), ("0ms", .zero),
    ])
    func durationsAreANumberAndAUnit(text: String, expected: Duration) {
        #expect(ConfigDuration.parse(text) == expected)
    }

    @Test(arguments: ["2", "2 s", "-1s", "1e3ms", "s", ".5s", "2sec", "1.s", "0x10s", ""])
    func anythingElseIsNotADuration(text: String) {
        #expect(ConfigDuration.parse(text) == nil)
    }

    @Test func durationsPrintInTheirShortestExactForm() {
        #expect(ConfigDuration.format(.milliseconds(30)) == "30ms")
        #expect(ConfigDuration.format(.milliseconds(1500)) == "1.5s")
        #expect(ConfigDuration.format(.seconds(120)) == "2m")
        #expect(ConfigDuration.format(.zero) == "0s")
    }

    @Test func sighupAppliesTheReloadableKeysAndNamesTheRestForARestart() throws {
        let old = try LaneConfiguration.load(path: try directory.write(minimal, as: "old.yaml"))
        let newText = minimalReloaded(
            adding: """
                decision: {timeout: 3s}
                log: {level: warning}
                journal: {retention_days: 30}
                control: {allow_virtual_inputs: true}
                reader: {tcp: {listen: {port: 7010}}}

                """)
        let new = try LaneConfiguration.load(path: try directory.write(newText, as: "new.yaml"))
        let (changed, restart) = old.reloadable(from: new)
        #expect(
            Set(changed)
                == [
                    "decision.timeout", "log.level", "journal.retention_days", "displays.default_language",
                    "control.allow_virtual_inputs",
                ])
        #expect(Set(restart) == ["link.tcp.port", "reader.tcp.listen.host", "reader.tcp.listen.port"])
        // And back: the reader's keys go away, which also needs a restart.
        #expect(Set(new.reloadable(from: old).needsRestart) == Set(restart))
        #expect(old.reloadable(from: old) == ([], []))
    }
}
