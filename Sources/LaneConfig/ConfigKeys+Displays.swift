import BoardLayout
import Foundation
import RoadCargo

// The table of config keys, continued: intercom to log (ConfigKeys.swift has the rest).
extension ConfigKeys {
    // MARK: intercom

    /// As a YAML flow list, the form the file gives it in.
    private static func list(_ items: [String]) -> String { "[\(items.joined(separator: ", "))]" }

    /// A program and its arguments, a list, read by `commandLine` rather
    /// than by a scalar kind: the descriptor only names and documents it.
    static let intercomCommand = ConfigKeyDescriptor(
        name: "intercom.command", type: "list: a program and its arguments",
        defaultText: "required without `sip_uri`",
        summary:
            "A program and its arguments as a list, `[/usr/local/lib/lanekiosk/intercom, --device, \"hw:1\"]` "
            + "(a lone program may be given without brackets). Run directly, not through a shell, once per start "
            + "and once per stop, with `LANEKIOSK_VOICE=start` or `stop`, `LANEKIOSK_CALL_ID` and "
            + "`LANEKIOSK_LANE` in its environment. A relative path is taken from the config file's directory.",
        value: { c in
            if case .command(let command)? = c.intercom?.voice { list(command) } else { nil }
        })
    static let sipURI = ConfigKey<String>(
        "intercom.sip_uri", .sipURI, default: .requiredWith("without `command`"),
        get: { if case .sip(let uri, _)? = $0.intercom?.voice { uri } else { nil } },
        "`sip:user@host` or `sips:user@host`, with an optional port and parameters "
            + "(`sips:8100@pbx.example:5061;transport=tls`): the officers' extension the lane dials on answer "
            + "and hangs up on hold or end.")
    static let sipClient = ConfigKeyDescriptor(
        name: "intercom.sip_client", type: "list: a program and its arguments",
        defaultText: "`\(list(LaneConfiguration.IntercomSection.defaultSIPClient))`",
        summary:
            "With `sip_uri` only: the program that dials, run as `command` is, with `LANEKIOSK_SIP_URI` as "
            + "well. The default is `scripts/intercom-baresip`, which drives a baresip beside laned; give "
            + "`[/usr/local/lib/lanekiosk/intercom-baresip, --ctrl, \"127.0.0.1:4445\"]` for a second lane's "
            + "baresip.",
        value: { c in
            if case .sip(_, let client)? = c.intercom?.voice { list(client) } else { nil }
        })
    static let intercomTimeout = ConfigKey<Duration>(
        "intercom.timeout", .duration(.milliseconds(100) ... .seconds(60)), default: .value(.seconds(5)),
        get: { $0.intercom?.timeout },
        "How long one start or stop may take. A program still running then is killed, with what it started, "
            + "and the lane raises the `voice_failed` fault.")

    // MARK: displays

    static let displaysBackend = ConfigKey<LaneConfiguration.DisplaysSection.Backend>(
        "displays.backend", .choice, default: .required, field: \C.displays.backend,
        "`kmsdrm` (full screen on the cabinet's outputs), `window` (an SDL window per board) or `headless` "
            + "(off screen).")
    static let xdb = GeometryKeys(
        "displays.xdb", default: .xdbDefault, get: \.displays.xdb, board: "The XDB's",
        size: "Its lit area (briefing: 98 cm x 98 cm).",
        distance: "From the driver's eyes: text sizes follow from it.")
    static let aiop = GeometryKeys(
        "displays.aiop", default: .aiopDefault, get: \.displays.aiop, board: "The AIOP's",
        size: "Its lit area (briefing: 21 cm x 15.8 cm).", distance: "From the cab window.")
    static let font = ConfigKey<String>(
        "displays.font", .path, default: .absent("the Displays module's default"), get: \.displays.font,
        "A font file with Traditional and Simplified Chinese.")
    static let outputDirectory = ConfigKey<String>(
        "displays.output_dir", .path, default: .absent("none"), get: \.displays.outputDirectory,
        "Where `headless` writes `xdb.png` and `aiop.png`.")
    static let defaultLanguage = ConfigKey<BoardState.Language>(
        "displays.default_language", .choice, default: .value(.traditionalChinese), reloadable: true,
        field: \C.displays.defaultLanguage, "The AIOP's language when a vehicle arrives.")

    // MARK: journal, control, watchdog, log

    static let journalPath = ConfigKey<String>(
        "journal.path", .path,
        default: .derived("`/var/lib/lanekiosk/LANE/journal.sqlite`") {
            "/var/lib/lanekiosk/\($0?.value ?? "LANE")/journal.sqlite"
        }, field: \C.journal.path,
        "The lane's SQLite file (journal, outbox, bundle cache; `lane-journal.md`).")
    static let retentionDays = ConfigKey<Int>(
        "journal.retention_days", .integer(1...3650, "a number of days"), default: .value(90),
        reloadable: true,
        field: \C.journal.retentionDays,
        "Entries older than this go, never ones central has not yet received.")
    static let controlSocket = ConfigKey<String>(
        "control.socket",
        Kind(
            expected: "a socket path of at most 107 bytes (a Unix socket address's limit)",
            type: "file path, at most 107 bytes"
        ) { s, directory in
            Kind<String>.path.read(s, directory).flatMap { $0.utf8.count <= 107 ? $0 : nil }
        },
        default: .derived("`/run/laned/LANE.sock`") { "/run/laned/\($0?.value ?? "LANE").sock" },
        field: \C.control.socket, "`lanectl`'s Unix socket (`control-socket.md`).")
    static let allowVirtualInputs = ConfigKey<Bool>(
        "control.allow_virtual_inputs", .bool, default: .value(false), reloadable: true,
        field: \C.control.allowVirtualInputs,
        "Virtual presses and arrivals through the socket: test lanes and the simulator only.")
    static let watchdogEnabled = ConfigKey<Bool>(
        "watchdog.enabled", .bool, default: .value(true), field: \C.watchdog.enabled,
        "Feed systemd's watchdog (`WatchdogSec=` in the unit) from the main loop. Without the unit's watchdog "
            + "there is nothing to feed.")
    static let watchdogInterval = ConfigKey<Duration>(
        "watchdog.interval", .duration(.milliseconds(100) ... .seconds(600)),
        default: .absent("half of `WatchdogSec`"), get: \.watchdog.interval, "How often to feed it.")
    static let logLevel = ConfigKey<LaneConfiguration.LogLevel>(
        "log.level", .choice, default: .value(.info), reloadable: true, field: \C.log.level,
        "The lowest level logged.")
}

/// The keys of a board's geometry, `displays.xdb` or `displays.aiop`.
struct GeometryKeys: Sendable {
    let width: ConfigKey<Int>
    let height: ConfigKey<Int>
    let widthCM: ConfigKey<Double>
    let heightCM: ConfigKey<Double>
    let distance: ConfigKey<Double>

    init(
        _ prefix: String, default d: BoardGeometry,
        get: @escaping @Sendable (LaneConfiguration) -> BoardGeometry,
        board: String, size: String, distance distanceText: String
    ) {
        let pixels = ConfigReader.Kind<Int>.integer(48...8192, "a number of pixels")
        let length = ConfigReader.Kind<Double>.number(1...1000, unit: "centimetres")
        width = ConfigKey(
            "\(prefix).width_px", pixels, default: .value(d.width), get: { get($0).width },
            "\(board) width in pixels.")
        height = ConfigKey(
            "\(prefix).height_px", pixels, default: .value(d.height), get: { get($0).height },
            "\(board) height in pixels.")
        widthCM = ConfigKey(
            "\(prefix).width_cm", length, default: .value(d.physicalWidthMillimetres / 10),
            get: { get($0).physicalWidthMillimetres / 10 }, size)
        heightCM = ConfigKey(
            "\(prefix).height_cm", length, default: .value(d.physicalHeightMillimetres / 10),
            get: { get($0).physicalHeightMillimetres / 10 }, "Its height, likewise.")
        distance = ConfigKey(
            "\(prefix).viewing_distance_m", .number(0.1...100, unit: "metres"),
            default: .value(d.viewingDistanceMetres),
            get: { get($0).viewingDistanceMetres }, distanceText)
    }

    var descriptors: [ConfigKeyDescriptor] {
        [width.descriptor, height.descriptor, widthCM.descriptor, heightCM.descriptor, distance.descriptor]
    }
}
