import BoardLayout
import ClearanceCore
import Displays
import Foundation
import GPIO
import LaneConfig
import LaneControl
import LaneCore
import LaneJournal
import LaneLink
import LinkCore
import Logging
import RoadCargo
import SerialPort
import Synchronization

/// One lane, assembled from its config: journal, boards, buttons, link,
/// reader feed and control socket around one ``LaneController``, each a
/// service of one `ServiceGroup` (``services(heartbeat:)``, ``LanePart``).
/// `laned` runs one; the simulator and the tests run several in one
/// process, with their own clock, timers and virtual buttons.
public final class LaneDaemon: Sendable {
    /// What a caller may put in place of what the config says.
    public struct Environment: Sendable {
        /// The lane's business clock: journal times, arrival times, decisions.
        /// The daemon reads it through ``LaneDaemon/clockOffset``.
        public var clock: any WallClock
        /// Stamps the link's hello counters: always real time, since central
        /// checks them against its own real clock even when the business
        /// clock is simulated. Read through the same offset as `clock`: a
        /// step of the host's clock moves both (docs/laned.md, "Clock steps").
        public var linkClock: any WallClock
        /// Nil: timers on the host's monotonic clock.
        public var timers: (any LaneTimerScheduler)?
        /// Nil: the backend `gpio.backend` names.
        public var buttons: (any ButtonBackend)?
        /// Nil: the line `link` names.
        public var linkLine: LaneLinkClient.Line?
        /// Nil: read `link.key_file`.
        public var linkKey: LinkKey?
        /// Nil: the link's default reconnect backoff (250 ms doubling to 10 s, jittered).
        public var backoff: ReconnectBackoff.Configuration?
        public var logger: Logger
        /// Told each time a part of the lane has stopped (tests of the
        /// shutdown order).
        public var partStopped: (@Sendable (LanePart) -> Void)?

        public init(
            clock: any WallClock = SystemWallClock(), linkClock: any WallClock = SystemWallClock(),
            timers: (any LaneTimerScheduler)? = nil,
            buttons: (any ButtonBackend)? = nil, linkLine: LaneLinkClient.Line? = nil,
            linkKey: LinkKey? = nil,
            backoff: ReconnectBackoff.Configuration? = nil, logger: Logger = Logger(label: "laned"),
            partStopped: (@Sendable (LanePart) -> Void)? = nil
        ) {
            self.clock = clock
            self.linkClock = linkClock
            self.timers = timers
            self.buttons = buttons
            self.linkLine = linkLine
            self.linkKey = linkKey
            self.backoff = backoff
            self.logger = logger
            self.partStopped = partStopped
        }
    }

    /// A part of the lane that would not start, named for the technician.
    public struct StartError: Error, CustomStringConvertible {
        /// Which part: `journal`, `link.key_file`, `displays`, `gpio`, `control.socket`.
        public var part: String
        public var underlying: any Error
        /// True when the config (or a file it names) is at fault: laned exits 78.
        public var isConfiguration: Bool

        public var description: String { "\(part): \(underlying)" }
    }

    public let controller: LaneController
    public let journal: LaneJournal
    public let buttons: any ButtonBackend
    public let link: LaneLinkClient
    public let control: ControlSocket
    /// Seconds added to both of the lane's clocks; the control socket's
    /// `clock` command steps it. Zero unless stepped.
    public let clockOffset: ClockOffset
    let displays: BoardDisplays
    let readerFeed: ReaderFeed?
    let inbox: LinkInbox
    let partStopped: (@Sendable (LanePart) -> Void)?
    let logger: Logger
    private let current: Mutex<LaneConfiguration>

    /// The config in force (after reloads).
    public var configuration: LaneConfiguration { current.withLock { $0 } }

    /// Opens every part; nothing runs until ``run(heartbeat:)`` (or the
    /// group of ``services(heartbeat:)``) runs.
    /// - Throws: ``StartError`` naming the part that failed.
    public init(configuration config: LaneConfiguration, environment env: Environment)
        async throws(StartError)
    {
        var env = env
        let clockOffset = ClockOffset()
        self.clockOffset = clockOffset
        env.clock = OffsetWallClock(base: env.clock, offset: clockOffset)
        env.linkClock = OffsetWallClock(base: env.linkClock, offset: clockOffset)
        let logger = env.logger
        self.logger = logger
        partStopped = env.partStopped
        current = Mutex(config)
        func step<T>(_ part: String, configuration: Bool = false, _ body: () async throws -> T)
            async throws(StartError)
            -> T
        {
            do { return try await body() } catch {
                throw StartError(part: part, underlying: error, isConfiguration: configuration)
            }
        }

        let key: LinkKey = try await step("link.key_file", configuration: true) {
            let key = try env.linkKey ?? LinkKey.load(from: config.link.keyFile)
            guard key.laneID == config.lane.id else {
                throw LaneDaemonError.keyForAnotherLane(key: key.laneID, lane: config.lane.id)
            }
            return key
        }
        let journal = try await step("journal") {
            // Opening reads and may migrate the file: off the cooperative pool.
            let path = config.journal.path
            let clock = env.clock
            do {
                return try await Blocking.run {
                    let directory = (path as NSString).deletingLastPathComponent
                    try FileManager.default.createDirectory(
                        atPath: directory, withIntermediateDirectories: true)
                    return try LaneJournal(path: path, clock: clock)
                }
            } catch {
                throw LaneDaemonError.journalUnopenable(path: path, underlying: error)
            }
        }
        self.journal = journal
        let outbox = try await step("journal") {
            let clock = env.clock
            return try await Blocking.run {
                try SQLiteOutbox(writer: journal.writer, table: journal.outboxTable, now: clock.now)
            }
        }
        let applied = try await step("journal") {
            let clock = env.clock
            return try await Blocking.run {
                try SQLiteAppliedLog(writer: journal.writer, table: "link_applied", now: clock.now)
            }
        }
        let policy = try await step("offline.selection_key_file", configuration: true) {
            try Self.offlinePolicy(config.offline)
        }
        let displays = try await step("displays", configuration: true) {
            if let directory = config.displays.outputDirectory {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            return try await BoardDisplays.start(Self.displayConfiguration(config.displays))
        }
        self.displays = displays
        let buttons: any ButtonBackend = try await step("gpio", configuration: true) {
            if let buttons = env.buttons { return buttons }
            return try await Self.buttons(config.gpio)
        }
        self.buttons = buttons

        // The link is built before the controller (which sends through it):
        // it reaches the lane through the input stream and the inbox, both
        // made first.
        let inputs = LaneInputs()
        let inbox = LinkInbox()
        self.inbox = inbox
        var linkConfiguration = LaneLinkClient.Configuration(
            key: key, line: env.linkLine ?? Self.line(config.link.transport))
        linkConfiguration.session.heartbeatInterval = config.link.heartbeat
        linkConfiguration.session.deadPeerInterval = config.link.deadAfter
        if let backoff = env.backoff { linkConfiguration.backoff = backoff }
        let link = LaneLinkClient(
            configuration: linkConfiguration, outbox: outbox, appliedLog: applied, wallClock: env.linkClock,
            logger: {
                var link = Logger(label: "lane-link-client")
                link.logLevel = logger.logLevel
                return link
            }(),
            connectionChanged: { up in inputs.post(.linkChanged(up: up)) },
            handler: { message in try await inbox.deliver(message) })
        self.link = link

        let lane = config.lane.lane
        let parts = LaneController.Parts(
            lane: lane, settings: config.settings, journal: journal, outbox: outbox, link: link,
            boards: DisplayBoards(displays), lamps: BackendLamps(backend: buttons),
            voice: Self.voicePath(config.intercom, lane: config.lane.id, logger: logger),
            timers: env.timers ?? SystemTimerScheduler(),
            clock: env.clock,
            offline: OfflineDecider(
                lane: lane, policy: policy, lookup: OfflineDecider.journalLookup(journal)),
            logger: logger, clockOffset: clockOffset)
        let controller = try await step("journal") { try await LaneController(parts: parts, inputs: inputs) }
        self.controller = controller

        control = try await step("control.socket") {
            try await ControlSocket(
                options: .init(
                    path: config.control.socket, allowVirtualInputs: config.control.allowVirtualInputs,
                    configPath: config.file),
                controller: controller, journal: journal,
                buttons: { [buttons] button, pressed in
                    guard let virtual = buttons as? VirtualButtonBackend else {
                        throw ControlFailure(
                            .notAllowed, "the lane's buttons are real (gpio.backend: libgpiod); press them")
                    }
                    _ = pressed ? virtual.press(button.role) : virtual.release(button.role)
                },
                logger: logger)
        }
        readerFeed = config.reader.map { ReaderFeed(source: Self.readerSource($0), logger: logger) }
    }

    /// Applies a reloaded config (SIGHUP): the keys that may change while
    /// running take effect; for the others laned logs that a restart is needed.
    public func reload(_ new: LaneConfiguration) async -> (changed: [String], needsRestart: [String]) {
        let old = configuration
        let difference = old.reloadable(from: new)
        let applied = old.applyingReloadable(from: new)
        current.withLock { $0 = applied }
        await controller.reload(settings: applied.settings)
        control.setAllowVirtualInputs(applied.control.allowVirtualInputs)
        return difference
    }

    // MARK: From config to parts

    /// What `laned --check` can find wrong in the files the config names,
    /// without opening the hardware: the link key, the selection key, the
    /// intercom's program.
    public static func checkFiles(_ config: LaneConfiguration) -> [String] {
        var problems: [String] = []
        do {
            let key = try LinkKey.load(from: config.link.keyFile)
            if key.laneID != config.lane.id {
                problems.append(
                    "link.key_file: \(LaneDaemonError.keyForAnotherLane(key: key.laneID, lane: config.lane.id))"
                )
            }
        } catch {
            problems.append("link.key_file: \(error)")
        }
        do { _ = try offlinePolicy(config.offline) } catch {
            problems.append("offline.selection_key_file: \(error)")
        }
        if let intercom = config.intercom, let problem = checkProgram(intercom.program[0]) {
            problems.append("\(intercom.programKey): \(problem)")
        }
        return problems
    }

    /// What `laned --check` finds wrong with the ground the config names,
    /// by opening it as the lane would and letting it go again: the files
    /// (``checkFiles(_:)``), the GPIO chip and its lines (requested, then
    /// released), and the display backend and the font's faces and glyphs
    /// (``DisplayCheck``). Each problem starts with the key it concerns.
    public static func checkGround(_ config: LaneConfiguration) async -> [String] {
        var problems = checkFiles(config)
        if config.gpio.backend == .libgpiod {
            do {
                let backend = try await buttons(config.gpio)
                await backend.shutdown()
            } catch {
                // GPIOError names the chip and the line.
                problems.append("gpio.chip: \(error)")
            }
        }
        // SDL's start and the font files block: a thread of their own.
        let display = displayConfiguration(config.displays)
        let found = await withCheckedContinuation {
            (done: CheckedContinuation<[DisplayCheck.Problem], Never>) in
            Thread.detachNewThread { done.resume(returning: DisplayCheck.problems(display)) }
        }
        for problem in found {
            switch problem.part {
            case .backend: problems.append("displays.backend: \(problem)")
            case .font:
                problems.append(
                    "displays.font: \(problem)\(config.displays.font == nil ? " (the default font)" : "")")
            }
        }
        return problems
    }

    /// Why `path` cannot be run as a program, or nil when it can.
    static func checkProgram(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return "\(path) does not exist; expected the program to run"
        }
        if isDirectory.boolValue { return "\(path) is a directory; expected the program to run" }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return "\(path) is not executable by this user (uid \(getuid())); expected mode 0755 or similar"
        }
        return nil
    }

    /// The help call's voice path: none (calls are signalled and shown, and
    /// have no audio), a command, or a SIP URI through its client. Each run
    /// gets `LANEKIOSK_LANE`, so one script can serve every lane of a cabinet.
    static func voicePath(_ intercom: LaneConfiguration.IntercomSection?, lane: LaneID, logger: Logger)
        -> any VoicePath
    {
        guard let intercom else { return NoVoicePath(logger: logger) }
        if let problem = checkProgram(intercom.program[0]) {
            // The lane still clears vehicles and signals help calls; each
            // answer will raise voice_failed until the program is there.
            logger.error(
                "the intercom cannot work",
                metadata: ["key": "\(intercom.programKey)", "problem": "\(problem)"])
        }
        let environment = ["LANEKIOSK_LANE": lane.value]
        switch intercom.voice {
        case .command(let command):
            return CommandVoicePath(
                executable: command[0], arguments: Array(command.dropFirst()), environment: environment,
                timeout: intercom.timeout)
        case .sip(let uri, let client):
            return SIPVoicePath(uri: uri, client: client, environment: environment, timeout: intercom.timeout)
        }
    }

    static func offlinePolicy(_ section: LaneConfiguration.OfflineSection) throws -> DecisionPolicy {
        let key: Data
        if let file = section.selectionKeyFile {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw LaneDaemonError.unreadable(file)
            }
            key = data
        } else {
            var random = SystemRandomNumberGenerator()
            key = Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &random) })
        }
        let selection = try SelectionSettings(
            key: key, ladenRate: section.ladenRate, unladenRate: section.unladenRate
        ).validated()
        return DecisionPolicy(phase: section.phase == .full ? .full : .transitional, selection: selection)
    }

    static func displayConfiguration(_ section: LaneConfiguration.DisplaysSection) -> DisplayConfiguration {
        var fonts = FontConfiguration()
        if let font = section.font {
            fonts.regularPath = font
            // A configured font has no separate bold file: SDL_ttf emboldens it.
            fonts.boldPath = nil
        }
        let backend: DisplayConfiguration.Backend =
            switch section.backend {
            case .headless: .headless
            case .window: .window
            case .kmsdrm: .kmsdrm
            }
        return DisplayConfiguration(
            backend: backend,
            xdb: .init(geometry: section.xdb, displayIndex: 0),
            aiop: .init(geometry: section.aiop, displayIndex: 1),
            fonts: fonts, outputDirectory: section.outputDirectory, defaultLanguage: section.defaultLanguage)
    }

    static func buttons(_ gpio: LaneConfiguration.GPIOSection) async throws -> any ButtonBackend {
        switch gpio.backend {
        case .virtual:
            var roles: Set<ButtonRole> = [.unladen, .help]
            if gpio.exitLoop != nil { roles.insert(.exitLoop) }
            return VirtualButtonBackend(roles: roles, stuckAfter: gpio.stuckAfter)
        case .libgpiod:
            func selector(_ line: LaneConfiguration.GPIOSection.Line) -> GPIOLineSelector {
                switch line {
                case .offset(let offset): .offset(offset)
                case .name(let name): .name(name)
                }
            }
            let bias: GPIOLineOptions.Bias =
                switch gpio.bias {
                case .asIs: .asIs
                case .disabled: .disabled
                case .pullUp: .pullUp
                case .pullDown: .pullDown
                }
            var lines: [ButtonLineConfiguration] = []
            for (role, line, lamp) in [
                (ButtonRole.unladen, gpio.unladen, gpio.unladenLamp), (.help, gpio.help, gpio.helpLamp),
                (.exitLoop, gpio.exitLoop, nil),
            ] {
                guard let line else { continue }
                lines.append(
                    ButtonLineConfiguration(
                        role: role, line: selector(line), bias: bias, activeLow: gpio.activeLow,
                        debounce: gpio.debounce,
                        // A truck may stand on the exit loop as long as it likes.
                        stuckAfter: role == .exitLoop ? nil : gpio.stuckAfter,
                        lamp: lamp.map { LampLineConfiguration(line: selector($0)) }))
            }
            return try await LibgpiodButtonBackend(
                configuration: LibgpiodButtonConfiguration(chip: gpio.chip, buttons: lines))
        }
    }

    static func serial(_ line: LaneConfiguration.SerialLine) -> SerialPort.Configuration {
        let parity: SerialPort.Configuration.Parity =
            switch line.parity {
            case .none: .none
            case .odd: .odd
            case .even: .even
            }
        let flow: SerialPort.Configuration.FlowControl =
            switch line.flow {
            case .none: .none
            case .rtsCts: .rtsCts
            case .xonXoff: .xonXoff
            }
        return SerialPort.Configuration(
            baudRate: line.baud, dataBits: line.dataBits, parity: parity,
            stopBits: line.stopBits == 2 ? .two : .one,
            flowControl: flow)
    }

    static func line(_ transport: LaneConfiguration.LinkSection.Transport) -> LaneLinkClient.Line {
        switch transport {
        case .tcp(let endpoints) where endpoints.count == 1:
            .tcp(TCPLinkConnector(host: endpoints[0].host, port: endpoints[0].port))
        case .tcp(let endpoints):
            .tcpEndpoints(endpoints.map { TCPLinkConnector(host: $0.host, port: $0.port) })
        case .serial(let line): .serial(path: line.device, configuration: serial(line))
        }
    }

    static func readerSource(_ section: LaneConfiguration.ReaderSection) -> ReaderFeed.Source {
        switch section {
        case .serial(let line): .serial(path: line.device, configuration: serial(line))
        case .tcpListen(let host, let port): .tcpListen(host: host, port: port)
        case .tcpConnect(let host, let port): .tcpConnect(host: host, port: port)
        }
    }
}

/// What the daemon's own checks find wrong.
public enum LaneDaemonError: Error, CustomStringConvertible {
    case keyForAnotherLane(key: LaneID, lane: LaneID)
    case unreadable(String)
    case journalUnopenable(path: String, underlying: any Error)

    public var description: String {
        switch self {
        case .keyForAnotherLane(let key, let lane):
            "the key file is lane \(key)'s, but this lane is \(lane); expected `clearanced lane key \(lane)`'s file"
        case .unreadable(let path): "cannot read \(path) (missing, or not readable by this user)"
        case .journalUnopenable(let path, let underlying):
            "cannot open the journal \(path): \(underlying); expected a writable file in a directory laned "
                + "may write (journal.path; uid \(getuid()))"
        }
    }
}
