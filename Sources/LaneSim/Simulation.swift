import CargoStore
import Central
import ClearanceCore
import Foundation
import GPIO
import LaneConfig
import LaneLink
import LaneRuntime
import LinkCore
import LinkTestSupport
import Logging
import RoadCargo
import Synchronization

/// A control point without hardware: the real clearanced core (store,
/// decision hub, link server, dispatcher) and real lanes (`LaneDaemon`:
/// journal, SDL boards, control socket) talking over the real signed link on
/// TCP loopback, all on one simulated clock. Each lane reaches central
/// through its own cable (a loopback proxy) that the simulation can pull.
public final class Simulation: Sendable {
    /// What the control point is made of.
    public struct Settings: Sendable {
        public var start: Date
        public var lanes: [Lane]
        public var phase: ImplementationPhase = .full
        public var ladenRate: Double = 0
        public var unladenRate: Double = 0
        public var decisionTimeout: Duration = .seconds(2)
        public var unladenGrace: Duration = .seconds(20)
        /// `headless` (default) or `window` (a desktop: each board in its own window).
        public var displays = "headless"
        public var logLevel: Logger.Level = .critical
        /// Each lane on a serial line (a pair of ptys through the real
        /// libserialport at both ends) instead of TCP. libserialport opens
        /// ptys only with the serial-pty shim preloaded (docs/serial-testing.md).
        public var serial = false
        /// A clearanced that runs elsewhere, instead of the embedded one.
        public var remote: RemoteCentral.Options?

        public init(start: Date, lanes: [Lane]) {
            self.start = start
            self.lanes = lanes
        }
    }

    public let settings: Settings
    public let clock: SimulatedWallClock
    public let timers: SimulatedTimerScheduler
    /// Where the store, the journals, the keys and the control sockets live.
    public let directory: String
    /// The embedded central's store; nil with a remote central.
    let store: SQLiteCargoStore?
    let remote: RemoteCentral?
    let keys: [LaneID: LinkKey]
    let shipper = Account(name: "sim-shipper", role: .shipper)
    let driver = Account(name: "sim-driver", role: .driver)
    let officer = Account(name: "sim-officer", role: .officer)
    private let logger: Logger
    private let linkPort: Int
    let central = Mutex<RunningCentral?>(nil)
    private let lanes = Mutex<[LaneID: SimLane]>([:])
    private let cables: [LaneID: Cable]

    struct RunningCentral: Sendable {
        var assembly: CentralAssembly
        /// Runs the assembly's services (the link, the cache feed); cancelled to stop.
        var running: Task<Void, Never>
        var helpDesk: HelpDesk { assembly.helpDesk }
    }

    /// A lane's line to central, which a scenario can pull.
    enum Cable: Sendable {
        case tcp(NoisyLineProxy)
        case serial(NoisyPtyProxy)

        func cut() async {
            switch self {
            case .tcp(let proxy): await proxy.cut()
            case .serial(let proxy): proxy.cut()
            }
        }

        func restore() {
            switch self {
            case .tcp(let proxy): proxy.restore()
            case .serial(let proxy): proxy.restore()
            }
        }

        func close() async {
            switch self {
            case .tcp(let proxy): await proxy.close()
            case .serial(let proxy): await proxy.close()
            }
        }

        /// The `link` section's line, as a lane's config writes it.
        var laneLine: String {
            switch self {
            case .tcp(let proxy): "tcp: {host: 127.0.0.1, port: \(proxy.port)}"
            case .serial(let proxy): "serial: {device: \(proxy.lanePath)}"
            }
        }
    }

    /// `count` lanes at Lok Ma Chau, alternately inbound and outbound:
    /// LMC-IN-01, LMC-OUT-01, LMC-IN-02, ... (traffic and interactive modes).
    public static func lokMaChauLanes(_ count: Int) throws -> [Lane] {
        try (1...max(1, count)).map { n in
            let inbound = n % 2 == 1
            let number = (n + 1) / 2
            return Lane(
                id: try LaneID("LMC-\(inbound ? "IN" : "OUT")-\(number < 10 ? "0" : "")\(number)"),
                controlPoint: .lokMaChau, direction: inbound ? .inbound : .outbound)
        }
    }

    /// Builds the control point and starts central; lanes start with ``startLane(_:)``.
    public init(settings: Settings, directory: String? = nil) async throws {
        self.settings = settings
        clock = SimulatedWallClock(settings.start)
        timers = SimulatedTimerScheduler(clock: clock)
        // Short: Unix socket paths must fit in 108 bytes.
        let base = directory ?? "/tmp/lanesim-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        self.directory = base
        var logger = Logger(label: "lanesim")
        logger.logLevel = settings.logLevel
        self.logger = logger
        var keys: [LaneID: LinkKey] = [:]
        if let options = settings.remote {
            guard !settings.serial else {
                throw SimulationError.unsupported(
                    "--serial with an external central: its serial ports are its own")
            }
            let remote = RemoteCentral(options: options)
            self.remote = remote
            store = nil
            for lane in settings.lanes {
                keys[lane.id] = try LinkKey.load(from: "\(options.keysDirectory)/\(lane.id.value).key")
            }
            // The scenario's time is central's time.
            try await remote.setClock(settings.start)
        } else {
            remote = nil
            let store = try await SQLiteCargoStore.open(path: "\(base)/central.sqlite")
            self.store = store
            for account in [shipper, driver, officer] { _ = try await store.addAccount(account) }
            for lane in settings.lanes {
                try await store.putLane(lane)
                let key = LinkKey.generate(for: lane.id)
                try key.write(to: "\(base)/\(lane.id.value).key")
                keys[lane.id] = key
            }
        }
        self.keys = keys
        let probe = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        linkPort = settings.remote?.linkPort ?? probe.port
        await probe.close()
        var cables: [LaneID: Cable] = [:]
        for lane in settings.lanes {
            if settings.serial {
                cables[lane.id] = .serial(try await NoisyPtyProxy())
            } else {
                cables[lane.id] = .tcp(
                    try await NoisyLineProxy(
                        targetHost: settings.remote?.linkHost ?? "127.0.0.1", targetPort: linkPort))
            }
        }
        self.cables = cables
        if remote != nil { return }
        try await startCentral()
    }

    // MARK: Central

    /// Starts central on the store as it is (after ``stopCentral()``, a restart).
    public func startCentral() async throws {
        guard central.withLock({ $0 }) == nil else { return }
        let store = try embedded("restart central")
        let policy = DecisionPolicy(
            phase: settings.phase,
            selection: try SelectionSettings(
                key: Data(repeating: 7, count: 32), ladenRate: settings.ladenRate,
                unladenRate: settings.unladenRate
            ).validated())
        var options = CentralOptions(store: store, clock: clock, policy: policy, logger: logger)
        // Calls escalate only when the scenario advances the clock, as all its timers do.
        options.runsEscalations = false
        // Caches follow central in real time (the feed polls every 250 ms),
        // as clearanced's do; a scenario that must not wait calls ``syncCaches()``.
        var link = CentralOptions.Link(keys: LinkKeyring(Array(keys.values)), tcp: nil)
        if settings.serial {
            // Central opens the far end of each lane's serial line.
            link.serial = cables.values.compactMap { cable in
                guard case .serial(let proxy) = cable else { return nil }
                return proxy.centralPath
            }
            link.serialRetry = .milliseconds(100)
        } else {
            var listener: TCPLinkListener?
            // The port was free a moment ago; after a stop the kernel may hold it briefly.
            for _ in 0..<100 where listener == nil {
                listener = try? await TCPLinkListener(host: "127.0.0.1", port: linkPort)
                if listener == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            guard let listener else { throw SimulationError.portTaken(linkPort) }
            link.tcp = .bound(listener)
        }
        options.link = link
        let assembly = try await CentralAssembly(options)
        let running = Task { _ = try? await assembly.run() }
        central.withLock { $0 = RunningCentral(assembly: assembly, running: running) }
    }

    /// Stops the embedded central as a crash would (an external one cannot be stopped from here).
    public func killCentral() async throws {
        _ = try embedded("kill central")
        await stopCentral()
    }

    /// Stops central as a crash would: every lane connection drops at once.
    public func stopCentral() async {
        guard
            let running = central.withLock({ state -> RunningCentral? in
                defer { state = nil }
                return state
            })
        else { return }
        // Cancelled, not shut down gracefully: the link closes its listener
        // and drops every session at once.
        running.running.cancel()
        await running.running.value
        for cable in cables.values {
            await cable.cut()
            cable.restore()
        }
    }

    public var isCentralRunning: Bool { remote != nil || central.withLock { $0 } != nil }

    /// Queues now every cache delta central's changes call for, instead of
    /// at the feed's next poll (within 250 ms).
    public func syncCaches() async throws {
        try await dispatcher().pollCacheFeed()
    }

    func dispatcher() throws -> LaneDispatcher {
        guard let running = central.withLock({ $0 }) else { throw SimulationError.centralDown }
        guard let link = running.assembly.link else { throw SimulationError.centralDown }
        return link.dispatcher
    }

    // MARK: Lanes

    /// Starts (or restarts, on its journal) the lane `id`.
    @discardableResult
    public func startLane(_ id: LaneID) async throws -> SimLane {
        if let running = lanes.withLock({ $0[id] }) { return running }
        guard let lane = settings.lanes.first(where: { $0.id == id }), let cable = cables[id],
            let key = keys[id]
        else { throw SimulationError.unknownLane(id) }
        let laneDirectory = "\(directory)/\(id.value)"
        let yaml = """
            lane: {id: \(id.value), control_point: \(lane.controlPoint.rawValue), direction: \(lane.direction.rawValue)}
            decision: {timeout: \(Self.duration(settings.decisionTimeout)), unladen_grace: \(Self.duration(settings.unladenGrace))}
            offline: {phase: \(settings.phase.rawValue), laden_rate: \(settings.ladenRate), unladen_rate: \(settings.unladenRate)}
            link:
              \(cable.laneLine)
              key_file: \(directory)/\(id.value).key
              heartbeat: 500ms
              dead_after: 3s
            gpio: {backend: virtual}
            displays: {backend: \(settings.displays)}
            journal: {path: \(laneDirectory)/journal.sqlite}
            control: {socket: \(directory)/\(id.value).sock, allow_virtual_inputs: true}
            watchdog: {enabled: false}
            """
        let configuration = try LaneConfiguration.parse(yaml: yaml, file: "\(laneDirectory).yaml")
        let buttons = VirtualButtonBackend(roles: [.unladen, .help], stuckAfter: .seconds(30))
        var backoff = ReconnectBackoff.Configuration()
        backoff.base = .milliseconds(50)
        backoff.cap = .milliseconds(300)
        var laneLogger = logger
        laneLogger[metadataKey: "lane"] = "\(id.value)"
        let daemon = try await LaneDaemon(
            configuration: configuration,
            environment: .init(
                clock: clock, timers: timers.scoped(id.value), buttons: buttons, linkKey: key,
                backoff: backoff,
                logger: laneLogger))
        let running = SimLane(lane: lane, daemon: daemon, buttons: buttons, cable: cable)
        lanes.withLock { $0[id] = running }
        return running
    }

    /// Stops the lane as a crash would (its journal stays; ``startLane(_:)`` recovers it).
    public func stopLane(_ id: LaneID) async {
        guard let running = lanes.withLock({ $0.removeValue(forKey: id) }) else { return }
        await running.stop()
    }

    /// The running lane `id`.
    public func lane(_ id: LaneID) throws -> SimLane {
        guard let running = lanes.withLock({ $0[id] }) else {
            throw settings.lanes.contains(where: { $0.id == id })
                ? SimulationError.laneDown(id) : SimulationError.unknownLane(id)
        }
        return running
    }

    public var runningLanes: [SimLane] {
        lanes.withLock { Array($0.values) }.sorted { $0.lane.id.value < $1.lane.id.value }
    }

    /// Stops everything and removes the directory unless asked to keep it.
    public func shutdown(keepFiles: Bool = false) async {
        for lane in runningLanes { await stopLane(lane.lane.id) }
        await stopCentral()
        for cable in cables.values { await cable.close() }
        if !keepFiles { try? FileManager.default.removeItem(atPath: directory) }
    }

    // MARK: Time

    /// Moves the simulated clock, firing every lane's timers that fall due;
    /// an external central's clock follows.
    public func advance(by seconds: TimeInterval) async throws {
        await timers.advance(by: seconds)
        if let remote { try await remote.setClock(clock.now()) }
        if let desk = central.withLock({ $0?.helpDesk }) { try await desk.escalateDue() }
    }

    // MARK: Cargo and officers

    /// The embedded store, or a refusal naming what needs it.
    func embedded(_ what: String) throws -> SQLiteCargoStore {
        guard let store else { throw SimulationError.unsupported("\(what) with an external central") }
        return store
    }

    /// A shipper's consignment that every rule accepts, expected `daysAhead` after today.
    public func submit(
        direction: Direction, daysAhead: Int = 1, consignee: String = "Wilson Development Ltd"
    ) async throws -> Submitted {
        let day = CalendarDay(containing: clock.now()).advanced(by: daysAhead)
        if let remote { return try await remote.submit(direction: direction, day: day, consignee: consignee) }
        let c = try await embedded("submit").submitConsignment(
            Self.submission(direction: direction, day: day, consignee: consignee), by: shipper,
            at: clock.now())
        return Submitted(ccrn: c.ccrn, validUntil: c.validUntil.description)
    }

    /// The shipper amends `ccrn`: a new expected day or consignee.
    public func amend(_ ccrn: CCRN, daysAhead: Int?, consignee: String?) async throws {
        let newDay = daysAhead.map { CalendarDay(containing: clock.now()).advanced(by: $0) }
        if let remote {
            let current = try await remote.consignment(ccrn)
            let direction = try Direction(current["direction"] as? String ?? "")
            let day = try newDay ?? CalendarDay(current["expectedDate"] as? String ?? "")
            let name = consignee ?? ((current["consignee"] as? [String: Any])?["name"] as? String ?? "")
            try await remote.amend(ccrn, direction: direction, day: day, consignee: name)
            return
        }
        let store = try embedded("amend")
        guard let current = try await store.consignment(ccrn) else { throw SimulationError.unknownCCRN(ccrn) }
        var submission = current.submission
        if let newDay { submission.expectedDate = newDay }
        if let consignee { submission.consignee.name = consignee }
        _ = try await store.amendConsignment(ccrn, to: submission, by: shipper, at: clock.now())
    }

    public func bundle(vrn: VRN, direction: Direction, ccrns: [CCRN], controlPoint: ControlPoint? = nil)
        async throws -> Bundled
    {
        if let remote {
            return try await remote.bundle(
                vrn: vrn, direction: direction, ccrns: ccrns, controlPoint: controlPoint)
        }
        let b = try await embedded("bundle").createBundle(
            BundleRequest(
                driverName: "Ho Wa Ping", vrn: vrn, direction: direction, expectedControlPoint: controlPoint,
                ccrns: ccrns),
            by: driver, at: clock.now())
        return Bundled(ubr: b.ubr, earliestCrossing: b.earliestCrossing)
    }

    public func debundle(_ ubr: UBR) async throws {
        if let remote { return try await remote.debundle(ubr) }
        _ = try await embedded("debundle").debundle(ubr, by: driver, at: clock.now())
    }

    public func watch(_ target: WatchTarget) async throws {
        if let remote { return try await remote.watch(target) }
        _ = try await embedded("watch").addWatch(target, note: "lanesim", by: officer, at: clock.now())
    }

    /// An officer's command to a lane, through central and the link.
    public func command(_ command: LaneCommand, lane id: LaneID, officer name: String) async throws {
        guard let lane = settings.lanes.first(where: { $0.id == id }) else {
            throw SimulationError.unknownLane(id)
        }
        if let remote { return try await remote.command(command, lane: id) }
        _ = try await dispatcher().send(command, to: lane, by: Account(name: name, role: .officer))
    }

    /// Immigration clears a vehicle for a lane: central sends the arrival over the link.
    public func immigrationArrival(_ vrn: VRN, lane id: LaneID) async throws {
        guard let lane = settings.lanes.first(where: { $0.id == id }) else {
            throw SimulationError.unknownLane(id)
        }
        if let remote { return try await remote.arrival(vrn, lane: id) }
        _ = try await dispatcher().sendArrival(vrn, to: lane)
    }

    /// Central's crossings for a VRN, newest first (the embedded central only).
    public func crossings(_ vrn: VRN) async throws -> [Crossing] {
        try await embedded("crossings").crossings(vrn: vrn, limit: 50)
    }

    static func submission(direction: Direction, day: CalendarDay, consignee: String) -> ConsignmentSubmission
    {
        ConsignmentSubmission(
            direction: direction, expectedDate: day,
            consignor: Party(
                name: "Shenzhen Winning Co", countryCode: "CN", addressLines: ["1 Shennan Road"]),
            consignee: Party(name: consignee, countryCode: "HK", addressLines: ["2 Castle Peak Road"]),
            goodsItems: [
                GoodsItem(
                    description: "Plastic toys", packaging: Packaging(count: 10, kind: "CT"),
                    grossWeight: Measure(value: 550, unit: "KGM"))
            ])
    }

    static func duration(_ d: Duration) -> String {
        "\(Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000))ms"
    }
}

/// One simulated lane: the real lane runtime with virtual buttons, and its cable.
public final class SimLane: Sendable {
    public let lane: Lane
    public let daemon: LaneDaemon
    public let buttons: VirtualButtonBackend
    let cable: Simulation.Cable
    private let task: Task<Void, any Error>

    init(lane: Lane, daemon: LaneDaemon, buttons: VirtualButtonBackend, cable: Simulation.Cable) {
        self.lane = lane
        self.daemon = daemon
        self.buttons = buttons
        self.cable = cable
        task = Task { try await daemon.run() }
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }

    public var controller: LaneController { daemon.controller }

    /// A vehicle arrives, as the lane's reader would report it; returns once
    /// the lane has handled it (STOP on the boards).
    public func arrive(_ vrn: VRN) async throws {
        try await controller.submit(.vehicleArrived(vrn, source: .simulated))
    }

    /// The vehicle drives off (the exit loop).
    public func leave() async throws { try await controller.submit(.vehicleLeft) }

    public func press(_ role: ButtonRole) { buttons.press(role) }
    public func release(_ role: ButtonRole) { buttons.release(role) }
    public func click(_ role: ButtonRole) { buttons.click(role) }

    /// Pulls the lane's link cable (central stays up).
    public func cutLink() async { await cable.cut() }
    public func restoreLink() { cable.restore() }

    public func status() async -> LaneStatus { await controller.status() }
}
