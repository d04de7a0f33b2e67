import BoardLayout
import Foundation
import RoadCargo

// The table of config keys, in file order. Each key is written here once;
// the section readers (ConfigSections*.swift) read it by its descriptor and
// only say how keys combine (one transport of two, lines used once, the
// lane id agreeing with its control point). docs/lane-config.md's key
// tables are generated from this list (ConfigReferenceTests).

extension LaneConfiguration {
    /// Every key a lane's config file may hold, in file order. Keys of a
    /// repeated section template (`link.serial` and `reader.serial`,
    /// `displays.xdb` and `displays.aiop`) are listed once per place.
    public static let keys: [ConfigKeyDescriptor] = {
        typealias K = ConfigKeys
        var keys: [ConfigKeyDescriptor] = [
            K.laneID.descriptor, K.controlPoint.descriptor, K.direction.descriptor,
            K.decisionTimeout.descriptor, K.unladenGrace.descriptor,
            K.offlinePhase.descriptor, K.ladenRate.descriptor, K.unladenRate.descriptor,
            K.selectionKeyFile.descriptor,
            K.linkTCPHost.descriptor, K.linkTCPPort.descriptor, K.linkTCPEndpoints,
        ]
        keys += K.linkSerial.descriptors
        keys += [
            K.linkKeyFile.descriptor, K.heartbeat.descriptor, K.deadAfter.descriptor,
            K.gpioBackend.descriptor, K.gpioChip.descriptor,
            K.unladenLine.descriptor, K.helpLine.descriptor, K.exitLoopLine.descriptor,
            K.bias.descriptor, K.activeLow.descriptor, K.debounce.descriptor, K.stuckAfter.descriptor,
            K.unladenLamp.descriptor, K.helpLamp.descriptor,
            K.readerListenHost.descriptor, K.readerListenPort.descriptor,
            K.readerConnectHost.descriptor, K.readerConnectPort.descriptor,
        ]
        keys += K.readerSerial.descriptors
        keys += [
            K.intercomCommand, K.sipURI.descriptor, K.sipClient, K.intercomTimeout.descriptor,
            K.displaysBackend.descriptor,
        ]
        keys += K.xdb.descriptors + K.aiop.descriptors
        keys += [
            K.font.descriptor, K.outputDirectory.descriptor, K.defaultLanguage.descriptor,
            K.journalPath.descriptor, K.retentionDays.descriptor,
            K.controlSocket.descriptor, K.allowVirtualInputs.descriptor,
            K.watchdogEnabled.descriptor, K.watchdogInterval.descriptor,
            K.logLevel.descriptor,
        ]
        return keys
    }()
}

extension ConfigKeys {
    typealias Kind = ConfigReader.Kind
    typealias C = LaneConfiguration

    // MARK: lane

    static let laneID = ConfigKey<LaneID>(
        "lane.id",
        Kind(
            expected: "a lane id of 1 to 32 letters, digits, '-' and '_', such as LMC-IN-01", type: "lane id"
        ) {
            try? LaneID($0.string)
        }, default: .required, field: \C.lane.id,
        "1 to 32 of `A-Z a-z 0-9 - _`, as central knows the lane. An id of the form `CP-IN-NN` or `CP-OUT-NN` "
            + "must agree with the two keys below.")
    static let controlPoint = ConfigKey<ControlPoint>(
        "lane.control_point",
        Kind(
            expected: "a control point code: "
                + ControlPoint.allCases.map(\.rawValue).joined(separator: ", "),
            type: "control point code", show: \.rawValue
        ) { ControlPoint(rawValue: $0.string) }, default: .required, field: \C.lane.controlPoint,
        "`LMC` Lok Ma Chau, `MKT` Man Kam To, `STK` Sha Tau Kok, `SBC` Shenzhen Bay, `HYW` Heung Yuen Wai, "
            + "`HZM` Hong Kong-Zhuhai-Macao Bridge.")
    static let direction = ConfigKey<Direction>(
        "lane.direction",
        Kind(
            expected: "import (an inbound lane) or export (an outbound lane)", type: "`import` or `export`",
            show: \.rawValue
        ) { try? Direction($0.string) }, default: .required, field: \C.lane.direction,
        "`import` (inbound lane) or `export` (outbound); `inbound`/`outbound` are accepted too.")

    // MARK: decision

    static let decisionTimeout = ConfigKey<Duration>(
        "decision.timeout", .duration(.milliseconds(100) ... .seconds(60)), default: .value(.seconds(2)),
        reloadable: true, field: \C.decision.timeout,
        "Rule 4: no answer within this shows STOP, drop manifest, and alerts an officer.")
    static let unladenGrace = ConfigKey<Duration>(
        "decision.unladen_grace", .duration(.zero ... .seconds(600)), default: .value(.seconds(20)),
        reloadable: true, field: \C.decision.unladenGrace,
        "How long a driver without a bundle may still press Unladen after arriving; a press this long before "
            + "arrival counts too.")

    // MARK: offline

    static let offlinePhase = ConfigKey<C.OfflineSection.Phase>(
        "offline.phase", .choice, default: .value(.full), field: \C.offline.phase,
        "`transitional` (no bundle: DROP_MANIFEST) or `full` (no bundle: INSPECT), as `clearanced serve --phase`."
    )
    static let ladenRate = ConfigKey<Double>(
        "offline.laden_rate", .number(0...1, unit: "inspections per vehicle"), default: .value(0.05),
        field: \C.offline.ladenRate, "Random inspection rate for laden vehicles on a bundle.")
    static let unladenRate = ConfigKey<Double>(
        "offline.unladen_rate", .number(0...1, unit: "inspections per vehicle"), default: .value(0.05),
        field: \C.offline.unladenRate, "Random inspection rate for unladen and paper-manifest vehicles.")
    static let selectionKeyFile = ConfigKey<String>(
        "offline.selection_key_file", .path, default: .absent("none"), get: \.offline.selectionKeyFile,
        "A file of at least 16 secret bytes keying random selection; without it laned draws a key per run.")

    // MARK: link

    /// The one central node of a config, shown as `host` and `port`; a
    /// config of several shows them as `endpoints`.
    private static func single(_ c: C) -> C.TCPEndpoint? {
        if case .tcp(let endpoints) = c.link.transport, endpoints.count == 1 { endpoints[0] } else { nil }
    }
    static let linkTCPHost = ConfigKey<String>(
        "link.tcp.host", .text, default: .requiredWith("with `tcp` without `endpoints`"),
        get: { single($0)?.host }, "Central's host name or address, for a lane with one central node.")
    static let linkTCPPort = ConfigKey<Int>(
        "link.tcp.port", .integer(1...65_535, "a TCP port"),
        default: .requiredWith("with `tcp` without `endpoints`"),
        get: { single($0)?.port }, "Central's link listener, e.g. 4711.")
    /// A list, read by `tcpEndpoints` rather than by a scalar kind.
    static let linkTCPEndpoints = ConfigKeyDescriptor(
        name: "link.tcp.endpoints", type: "list of 1 to \(C.TCPEndpoint.maxCount) `host:port`",
        defaultText: "instead of `host` and `port`",
        summary:
            "Central's nodes in the order the lane tries them, `[central-a:4711, central-b:4711]` (IPv6 in "
            + "brackets and quoted, `\"[fd00::5]:4711\"`): linked to one at a time, the lane moves to the next when its node fails and "
            + "stays where it works (see \"Failover\" below).",
        value: { c in
            guard case .tcp(let endpoints) = c.link.transport, endpoints.count > 1 else { return nil }
            return "[\(endpoints.map(\.description).joined(separator: ", "))]"
        })
    static let linkSerial = SerialKeys(
        "link.serial",
        get: { if case .serial(let line) = $0.link.transport { line } else { nil } },
        device: "The serial device, best the udev name `/dev/lanekiosk/LANE/link`.",
        flow: "`xonxoff` is refused on the link: its frames are binary and may hold the XON and XOFF bytes.")
    static let linkKeyFile = ConfigKey<String>(
        "link.key_file", .path, default: .required, field: \C.link.keyFile,
        "The lane's link key from `clearanced lane key` (mode 0600; see `link-operations.md`).")
    static let heartbeat = ConfigKey<Duration>(
        "link.heartbeat", .duration(.milliseconds(100) ... .seconds(60)), default: .value(.seconds(1)),
        field: \C.link.heartbeat, "An idle link sends a heartbeat this often.")
    static let deadAfter = ConfigKey<Duration>(
        "link.dead_after", .duration(.milliseconds(200) ... .seconds(600)), default: .value(.seconds(3)),
        field: \C.link.deadAfter, "A link silent this long is dead and reconnects. More than `heartbeat`.")

    // MARK: gpio

    static let gpioBackend = ConfigKey<C.GPIOSection.Backend>(
        "gpio.backend", .choice, default: .required, field: \C.gpio.backend,
        "`libgpiod` (the kernel's GPIO character device) or `virtual` (no hardware; presses come from `lanectl` "
            + "or the simulator).")
    static let gpioChip = ConfigKey<String>(
        "gpio.chip", .text, default: .requiredWith("with `libgpiod`"), get: \.gpio.chip,
        "The chip as `gpiodetect` shows it: a label (best: it survives kernel updates), a name (`gpiochip0`), "
            + "a number or a path (`/dev/lanekiosk/LANE/gpiochip`).")
    static let line = Kind<C.GPIOSection.Line>(
        expected: "a line offset (0 to 1023) or a line name", type: "line offset (0 to 1023) or name"
    ) { s in
        if s.style == .plain, let offset = UInt32(s.string) {
            return offset <= 1023 ? .offset(offset) : nil
        }
        return s.string.isEmpty ? nil : .name(s.string)
    }
    static let unladenLine = ConfigKey(
        "gpio.lines.unladen", line, default: .requiredWith("with `libgpiod`"), get: \.gpio.unladen,
        "The Unladen Vehicle button: an offset on the chip or the line's name.")
    static let helpLine = ConfigKey(
        "gpio.lines.help", line, default: .requiredWith("with `libgpiod`"), get: \.gpio.help,
        "The Help button, likewise.")
    static let exitLoopLine = ConfigKey(
        "gpio.lines.exit_loop", line, default: .absent("none"), get: \.gpio.exitLoop,
        "A vehicle loop at the exit, reporting that the vehicle left.")
    static let bias = ConfigKey<C.GPIOSection.Bias>(
        "gpio.bias", .choice, default: .value(.asIs), field: \C.gpio.bias,
        "Buttons to ground want `pull-up`.")
    static let activeLow = ConfigKey<Bool>(
        "gpio.active_low", .bool, default: .value(false), field: \C.gpio.activeLow,
        "Invert the lines (a button pulling the line low reads as pressed).")
    static let debounce = ConfigKey<Duration>(
        "gpio.debounce", .duration(.zero ... .seconds(1)), default: .value(.milliseconds(30)),
        field: \C.gpio.debounce, "Edges closer than this are contact bounce.")
    static let stuckAfter = ConfigKey<Duration>(
        "gpio.stuck_after", .duration(.seconds(1) ... .seconds(3600)), default: .value(.seconds(30)),
        field: \C.gpio.stuckAfter, "A button held this long is reported as a stuck-button fault.")
    static let unladenLamp = ConfigKey(
        "gpio.lamps.unladen", line, default: .absent("none"), get: \.gpio.unladenLamp,
        "An output line lighting the Unladen button.")
    static let helpLamp = ConfigKey(
        "gpio.lamps.help", line, default: .absent("none"), get: \.gpio.helpLamp,
        "An output line lighting the Help button.")

    // MARK: reader

    static let tcpPort = Kind<Int>.integer(1...65_535, "a TCP port")
    static let readerListenHost = ConfigKey<String>(
        "reader.tcp.listen.host", .text, default: .value("0.0.0.0"),
        get: { if case .tcpListen(let host, _)? = $0.reader { host } else { nil } },
        "Readers connect to the lane on this address...")
    static let readerListenPort = ConfigKey<Int>(
        "reader.tcp.listen.port", tcpPort, default: .requiredWith("with `listen`"),
        get: { if case .tcpListen(_, let port)? = $0.reader { port } else { nil } }, "...and port.")
    static let readerConnectHost = ConfigKey<String>(
        "reader.tcp.connect.host", .text, default: .requiredWith("with `connect`"),
        get: { if case .tcpConnect(let host, _)? = $0.reader { host } else { nil } },
        "The lane connects to a reader at this host...")
    static let readerConnectPort = ConfigKey<Int>(
        "reader.tcp.connect.port", tcpPort, default: .requiredWith("with `connect`"),
        get: { if case .tcpConnect(_, let port)? = $0.reader { port } else { nil } }, "...and port.")
    static let readerSerial = SerialKeys(
        "reader.serial",
        get: { if case .serial(let line)? = $0.reader { line } else { nil } },
        device: "The reader's serial device; not the link's.",
        flow: "`xonxoff` is allowed here: the feed is text.")
}

/// The keys of a serial line's section, `link.serial` or `reader.serial`.
struct SerialKeys: Sendable {
    typealias Line = LaneConfiguration.SerialLine
    let device: ConfigKey<String>
    let baud: ConfigKey<Int>
    let parity: ConfigKey<Line.Parity>
    let dataBits: ConfigKey<Int>
    let stopBits: ConfigKey<Int>
    let flow: ConfigKey<Line.Flow>

    init(
        _ prefix: String, get: @escaping @Sendable (LaneConfiguration) -> Line?, device deviceText: String,
        flow flowText: String
    ) {
        device = ConfigKey(
            "\(prefix).device", .text, default: .requiredWith("with `serial`"), get: { get($0)?.device },
            deviceText)
        baud = ConfigKey(
            "\(prefix).baud", .integer(50...4_000_000, "a baud rate"), default: .value(115_200),
            get: { get($0)?.baud }, "Bits per second.")
        parity = ConfigKey(
            "\(prefix).parity", .choice, default: .value(.none), get: { get($0)?.parity }, "The parity bit.")
        dataBits = ConfigKey(
            "\(prefix).data_bits", .integer(5...8), default: .value(8), get: { get($0)?.dataBits },
            "Data bits per character.")
        stopBits = ConfigKey(
            "\(prefix).stop_bits", .integer(1...2), default: .value(1), get: { get($0)?.stopBits },
            "Stop bits per character.")
        flow = ConfigKey(
            "\(prefix).flow", .choice, default: .value(.none), get: { get($0)?.flow },
            "Flow control. \(flowText)")
    }

    var descriptors: [ConfigKeyDescriptor] {
        [
            device.descriptor, baud.descriptor, parity.descriptor, dataBits.descriptor, stopBits.descriptor,
            flow.descriptor,
        ]
    }
}
