import BoardLayout
import Foundation
import LaneCore
import RoadCargo

/// One lane's config file (`laned --config FILE`), validated: every value is
/// in range and every section agrees with the others. ``keys`` describes
/// every key, its type, default and whether SIGHUP reloads it;
/// `docs/lane-config.md` shows that table.
public struct LaneConfiguration: Sendable, Hashable {
    /// The file it was read from (absolute); relative paths in it were
    /// resolved against its directory.
    public var file: String
    public var lane: LaneSection
    public var decision: DecisionSection
    public var offline: OfflineSection
    public var link: LinkSection
    public var gpio: GPIOSection
    /// The lane's own VRN reader feed, when it has one.
    public var reader: ReaderSection?
    /// The help call's voice path, when the lane has an intercom.
    public var intercom: IntercomSection?
    public var displays: DisplaysSection
    public var journal: JournalSection
    public var control: ControlSection
    public var watchdog: WatchdogSection
    public var log: LogSection

    /// What the lane state machine takes from the config.
    public var settings: LaneSettings {
        LaneSettings(
            lane: lane.id, decisionTimeout: decision.timeout, unladenGrace: decision.unladenGrace,
            defaultLanguage: displays.defaultLanguage)
    }

    /// `lane`: which kiosk this is.
    public struct LaneSection: Sendable, Hashable {
        public var id: LaneID
        public var controlPoint: ControlPoint
        public var direction: Direction

        /// The lane as central knows it.
        public var lane: Lane { Lane(id: id, controlPoint: controlPoint, direction: direction) }
    }

    /// `decision`: the clearance rules' lane timings.
    public struct DecisionSection: Sendable, Hashable {
        /// Rule 4: how long to wait for central's answer. Default 2 s.
        public var timeout: Duration
        /// How long a driver without a bundle may still press Unladen. Default 20 s.
        public var unladenGrace: Duration
    }

    /// `offline`: how the lane decides by itself when an officer switches it
    /// to offline mode (rule 4), from the bundle cache central pushed.
    public struct OfflineSection: Sendable, Hashable {
        public enum Phase: String, Sendable, Hashable, CaseIterable {
            /// Paper manifests still accepted: no bundle means DROP_MANIFEST.
            case transitional
            /// Submission mandatory: no bundle means INSPECT.
            case full
        }

        /// The implementation phase, as central runs it. Default `full`.
        public var phase: Phase
        /// Random inspection rate for laden vehicles on a bundle, 0 to 1. Default 0.05.
        public var ladenRate: Double
        /// Random inspection rate for unladen and paper-manifest vehicles. Default 0.05.
        public var unladenRate: Double
        /// At least 16 secret bytes keying random selection; nil draws a
        /// key per run (selection then cannot be replayed after a restart).
        public var selectionKeyFile: String?
    }

    /// `link`: the lane link to central.
    public struct LinkSection: Sendable, Hashable {
        public enum Transport: Sendable, Hashable {
            /// Central's nodes in the order the lane tries them, 1 to
            /// ``TCPEndpoint/maxCount``: `link.tcp.endpoints`, or the one
            /// node of `link.tcp.host` and `link.tcp.port`.
            case tcp([TCPEndpoint])
            case serial(SerialLine)

            /// One central node (`link.tcp.host`, `link.tcp.port`).
            public static func tcp(host: String, port: Int) -> Transport {
                .tcp([TCPEndpoint(host: host, port: port)])
            }
        }

        public var transport: Transport
        /// The lane's link key file (`clearanced lane key` writes it).
        public var keyFile: String
        /// How often an idle link sends a heartbeat. Default 1 s.
        public var heartbeat: Duration
        /// A link silent this long is dead and reconnects. Default 3 s.
        public var deadAfter: Duration
    }

    /// One central node's link listener, an entry of `link.tcp.endpoints`.
    public struct TCPEndpoint: Sendable, Hashable, CustomStringConvertible {
        /// A host name or address; an IPv6 address without its brackets.
        public var host: String
        public var port: Int

        /// The most entries `link.tcp.endpoints` may have.
        public static let maxCount = 8

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `host:port`, an IPv6 address in brackets (`[::1]:4711`).
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        /// Reads `host:port` or `[IPv6]:port`; nil when it is neither.
        /// A host is a name or IPv4 address of letters, digits, `-`, `_`
        /// and `.` (at most 253 characters); the port 1 to 65535.
        public init?(parsing text: String) {
            let host: Substring
            let port: Substring
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":")
                else { return nil }
                host = text[text.index(after: text.startIndex)..<close]
                port = text[text.index(close, offsetBy: 2)...]
                guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                    return nil
                }
            } else {
                let parts = text.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2 else { return nil }
                (host, port) = (parts[0], parts[1])
                guard host.count <= 253,
                    host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
                else { return nil }
            }
            guard !host.isEmpty, !port.isEmpty, port.count <= 5,
                port.allSatisfy({ $0.isASCII && $0.isNumber }),
                let number = Int(port), (1...65_535).contains(number)
            else { return nil }
            self.init(host: String(host), port: number)
        }
    }

    /// A serial line's settings (`link.serial`, `reader.serial`).
    public struct SerialLine: Sendable, Hashable {
        public enum Parity: String, Sendable, Hashable, CaseIterable { case none, odd, even }
        public enum Flow: String, Sendable, Hashable, CaseIterable {
            case none
            case rtsCts = "rtscts"
            case xonXoff = "xonxoff"
        }

        public var device: String
        /// Default 115200.
        public var baud: Int
        public var parity: Parity
        /// 5 to 8; default 8.
        public var dataBits: Int
        /// 1 or 2; default 1.
        public var stopBits: Int
        public var flow: Flow
    }

    /// `gpio`: the buttons (and the exit loop, and the lamps).
    public struct GPIOSection: Sendable, Hashable {
        public enum Backend: String, Sendable, Hashable, CaseIterable {
            /// The kernel's GPIO character device through libgpiod.
            case libgpiod
            /// No hardware: presses come from the control socket or the simulator.
            case virtual
        }

        /// A line by its offset on the chip, or by the name the device tree gives it.
        public enum Line: Sendable, Hashable, CustomStringConvertible {
            case offset(UInt32)
            case name(String)

            public var description: String {
                switch self {
                case .offset(let o): "\(o)"
                case .name(let n): n
                }
            }
        }

        public enum Bias: String, Sendable, Hashable, CaseIterable {
            case asIs = "as-is"
            case disabled
            case pullUp = "pull-up"
            case pullDown = "pull-down"
        }

        public var backend: Backend
        /// The chip as `gpiodetect` names it: a path, a name, a number or a
        /// label (labels survive kernel updates). Required for libgpiod.
        public var chip: String?
        public var unladen: Line?
        public var help: Line?
        /// An optional vehicle-detection loop at the exit: a vehicle left.
        public var exitLoop: Line?
        public var bias: Bias
        public var activeLow: Bool
        /// Default 30 ms.
        public var debounce: Duration
        /// A button held this long is reported stuck. Default 30 s.
        public var stuckAfter: Duration
        /// Optional output lines lighting the buttons.
        public var unladenLamp: Line?
        public var helpLamp: Line?
    }

    /// `reader`: a local VRN reader, one plate per line.
    public enum ReaderSection: Sendable, Hashable {
        case serial(SerialLine)
        /// Readers connect to the lane.
        case tcpListen(host: String, port: Int)
        /// The lane connects to a reader.
        case tcpConnect(host: String, port: Int)
    }

    /// `intercom`: the voice path of help calls, started when an officer
    /// answers a call and stopped when the call is held or ended
    /// (`docs/intercom.md`).
    public struct IntercomSection: Sendable, Hashable {
        /// How the voice path is switched.
        public enum Voice: Sendable, Hashable {
            /// A program and its arguments, run once for each start and
            /// each stop with `LANEKIOSK_VOICE=start|stop` and `LANEKIOSK_CALL_ID`.
            case command([String])
            /// A SIP URI the lane dials when the call is answered and hangs
            /// up when it ends, through `client` (run as `command` is, with
            /// `LANEKIOSK_SIP_URI` as well).
            case sip(uri: String, client: [String])
        }

        public var voice: Voice
        /// How long one start or stop may take before it is killed and
        /// reported as a fault. Default 5 s.
        public var timeout: Duration

        /// The SIP client when `sip_client` is left out: `scripts/intercom-baresip`
        /// as installed, which asks a baresip beside laned to dial and hang up.
        public static let defaultSIPClient = ["/usr/local/lib/lanekiosk/intercom-baresip"]

        /// The program and arguments run for each start and stop.
        public var program: [String] {
            switch voice {
            case .command(let command): command
            case .sip(_, let client): client
            }
        }

        /// The key that names ``program``, for messages.
        public var programKey: String {
            switch voice {
            case .command: "intercom.command"
            case .sip: "intercom.sip_client"
            }
        }
    }

    /// `displays`: the XDB and the AIOP.
    public struct DisplaysSection: Sendable, Hashable {
        public enum Backend: String, Sendable, Hashable, CaseIterable {
            /// Rendered off screen; PNGs into `output_dir` when set.
            case headless
            /// An SDL window per board (a desktop, the simulator).
            case window
            /// Full screen on the console through KMS/DRM (the cabinet).
            case kmsdrm
        }

        public var backend: Backend
        public var xdb: BoardGeometry
        public var aiop: BoardGeometry
        /// A font file with Han characters; nil for the Displays module's default.
        public var font: String?
        /// Where the headless backend writes `xdb.png` and `aiop.png`.
        public var outputDirectory: String?
        /// The AIOP language a vehicle starts with. Default zh-Hant.
        public var defaultLanguage: BoardState.Language
    }

    /// `journal`: the lane's SQLite file.
    public struct JournalSection: Sendable, Hashable {
        /// Default `/var/lib/lanekiosk/LANE/journal.sqlite` (the unit's StateDirectory).
        public var path: String
        /// Default 90.
        public var retentionDays: Int
    }

    /// `control`: the Unix control socket for `lanectl`.
    public struct ControlSection: Sendable, Hashable {
        /// Default `/run/laned/LANE.sock`.
        public var socket: String
        /// Virtual presses and arrivals through the socket. Default false.
        public var allowVirtualInputs: Bool
    }

    /// `watchdog`: systemd's watchdog.
    public struct WatchdogSection: Sendable, Hashable {
        /// Default true; the pings are sent only when systemd asks (WATCHDOG_USEC).
        public var enabled: Bool
        /// How often to ping; nil (the default) for half of systemd's WatchdogSec.
        public var interval: Duration?
    }

    /// `log`.
    public struct LogSection: Sendable, Hashable {
        public var level: LogLevel
    }

    /// swift-log's levels, by the names swift-log gives them.
    public enum LogLevel: String, Sendable, Hashable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }
}

extension LaneConfiguration {
    /// Reads and validates `path`.
    /// - Throws: ``ConfigError`` with every problem found, not only the first.
    public static func load(path: String) throws(ConfigError) -> LaneConfiguration {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        func unreadable(_ why: String) -> ConfigError {
            ConfigError(
                file: path,
                problems: [
                    .init(
                        file: path, line: nil, column: nil, key: "",
                        message: "\(why); expected the lane's YAML config")
                ])
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) else {
            throw unreadable("no such file")
        }
        guard !isDirectory.boolValue else { throw unreadable("a directory, not a file") }
        // Refused before reading it whole: a huge file must not cost the memory of reading it.
        let limits = ConfigLimits.standard
        if let size = (try? FileManager.default.attributesOfItem(atPath: absolute)[.size]) as? Int,
            size > limits.maxBytes
        {
            throw shapeError(.tooLarge(bytes: size, limit: limits.maxBytes), file: absolute)
        }
        guard let data = FileManager.default.contents(atPath: absolute) else {
            throw unreadable("cannot be read by this user (uid \(getuid())): check its owner and mode")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw unreadable("not UTF-8 text") }
        return try parse(yaml: text, file: absolute)
    }

    /// Validates `yaml` as if read from `file` (which names it in errors and
    /// anchors relative paths).
    public static func parse(
        yaml: String, file: String, limits: ConfigLimits = .standard
    ) throws(ConfigError) -> LaneConfiguration {
        if let violation = ConfigShape.check(yaml, limits: limits) { throw shapeError(violation, file: file) }
        var reader = ConfigReader(file: file)
        let config = reader.read(yaml)
        guard reader.problems.isEmpty, let config else {
            throw ConfigError(file: file, problems: reader.sortedProblems)
        }
        return config
    }

    static func shapeError(_ violation: ConfigShape.Violation, file: String) -> ConfigError {
        ConfigError(
            file: file,
            problems: [
                .init(
                    file: file, line: violation.place?.line, column: violation.place?.column, key: "",
                    message: violation.description)
            ])
    }
}
