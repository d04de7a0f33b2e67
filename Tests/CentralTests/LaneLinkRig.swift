import CargoStore
import Central
import ClearanceCore
import Foundation
import Hummingbird
import HummingbirdTesting
import LaneLink
import Logging
import RoadCargo
import Synchronization
import TestKit
import Testing

/// clearanced with the lane link as `serve` builds it (store, LaneHub,
/// LaneLinkServer on the store's database, LaneDispatcher, HTTP routes),
/// plus real lanes: `LaneLinkClient`s over TCP loopback, each with its own
/// outbox and applied-log files, recording every message central sends them.
final class LaneLinkRig: Sendable {
    static let lmc = try! LaneID("LMC-IN-01")
    static let mkt = try! LaneID("MKT-OUT-01")

    let h: Harness
    let central: CentralApp
    let hub: LaneHub
    let dispatcher: LaneDispatcher
    let server: LaneLinkServer
    let keys: [LaneID: LinkKey]
    let directory: String
    let listener: TCPLinkListener
    /// The help desk and console, as `serve` builds them.
    let desk: HelpDesk
    let bus: ConsoleBus
    /// The console sessions' own clock (the business clock is `h.clock`).
    let sessionClock = SimulatedWallClock(Harness.start)
    private let serving: Task<Void, Never>

    /// - Parameters:
    ///   - maxPayload: the cache chunk limit (the link's by default).
    ///   - escalateAfter: how long a help call rings before it escalates.
    init(maxPayload: Int = FrameFormat.maxPayload, escalateAfter: Duration = .seconds(30)) async throws {
        var h = try await Harness()
        try await h.store.putLane(Lane(id: Self.mkt, controlPoint: .manKamTo, direction: .outbound))
        for (name, role, cp) in [
            ("immigration", AccountRole.immigration, ControlPoint?.none),
            ("immigration-mkt", .immigration, .manKamTo), ("officer-mkt", .officer, .manKamTo),
        ] {
            h.tokens[name] = try await h.store.addAccount(Account(name: name, role: role, controlPoint: cp))
        }
        self.h = h
        directory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("lane-link-rig-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        keys = [Self.lmc: LinkKey.generate(for: Self.lmc), Self.mkt: LinkKey.generate(for: Self.mkt)]
        var logger = Logger(label: "LaneLinkRig")
        logger.logLevel = .critical
        let bus = ConsoleBus()
        let desk = HelpDesk(
            repository: h.store, clock: h.clock, bus: bus, escalateAfter: escalateAfter, logger: logger)
        self.bus = bus
        self.desk = desk
        let hub = LaneHub(
            repository: h.store, clock: h.clock, policy: h.central.policy, logger: logger, helpDesk: desk,
            bus: bus)
        self.hub = hub
        // The link signs with the real clock (its replay window must match
        // the lane's); the simulated one is central's business clock.
        var configuration = LaneLinkServer.Configuration()
        // A busy test machine can stall the cooperative pool for seconds;
        // the handshake's deadline is tested where a test sets it short.
        configuration.session.handshakeTimeout = .seconds(60)
        server = try LaneLinkServer(
            keys: LinkKeyring(Array(keys.values)), database: h.store.writer, configuration: configuration,
            logger: logger
        ) { lane, message in
            try await hub.handle(lane: lane, message: message)
        }
        dispatcher = LaneDispatcher(
            server: server, repository: h.store, clock: h.clock, logger: logger, maxPayload: maxPayload)
        dispatcher.pushCacheOnEverySession()
        await desk.attach(server)
        let sessions = ConsoleSessions(
            repository: h.store, clock: sessionClock, settings: .init(cost: .cheap))
        let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/Central/Console").standardized
        central = CentralApp(
            repository: h.store, clock: h.clock, policy: h.central.policy, logger: logger, lanes: dispatcher,
            console: OfficersConsole(
                sessions: sessions, helpDesk: desk, bus: bus, files: try ConsoleFiles(directory: page),
                refresh: .milliseconds(200)))
        listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        serving = Task { [server, listener] in await server.serve(listener) }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func app() -> some ApplicationProtocol {
        central.buildApplication(configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    /// Starts a lane; its outbox and applied log live in files named after
    /// it, so a lane started again continues where the last one stopped.
    func lane(_ id: LaneID = lmc) throws -> RigLane {
        var configuration = LaneLinkClient.Configuration(
            key: keys[id]!, line: .tcp(TCPLinkConnector(host: "127.0.0.1", port: listener.port)))
        configuration.backoff.base = .milliseconds(50)
        configuration.backoff.cap = .milliseconds(500)
        let received = Inbox()
        var logger = Logger(label: "RigLane")
        logger.logLevel = .critical
        let client = LaneLinkClient(
            configuration: configuration, outbox: try SQLiteOutbox(path: "\(directory)/\(id)-outbox.sqlite"),
            appliedLog: try SQLiteAppliedLog(path: "\(directory)/\(id)-applied.sqlite"), logger: logger
        ) { message in
            received.append(message)
        }
        return RigLane(client: client, received: received, running: Task { try await client.run() })
    }

    /// Waits until central's outbox to `lane` is empty: everything sent was
    /// applied by the lane and acknowledged.
    func drained(_ lane: LaneID = lmc) async throws {
        try await eventually("central's outbox to \(lane) acknowledged") {
            try await server.pendingCount(for: lane) == 0
        }
    }

    func stop() async {
        await listener.close()
        serving.cancel()
    }
}

/// What a lane's handler was given, in order.
final class Inbox: Sendable {
    private let messages = Mutex<[LaneMessage]>([])
    func append(_ m: LaneMessage) { messages.withLock { $0.append(m) } }
    var all: [LaneMessage] { messages.withLock { $0 } }
}

/// One lane's end of the link and what it received.
final class RigLane: Sendable {
    let client: LaneLinkClient
    let received: Inbox
    let running: Task<Void, any Error>

    init(client: LaneLinkClient, received: Inbox, running: Task<Void, any Error>) {
        self.client = client
        self.received = received
        self.running = running
    }

    var messages: [LaneMessage] { received.all }

    var arrivals: [VehicleArrival] {
        messages.compactMap {
            if case .vehicleArrival(let a) = $0 { return a }
            return nil
        }
    }

    var commands: [OfficerCommand] {
        messages.compactMap {
            if case .officerCommand(let c) = $0 { return c }
            return nil
        }
    }

    var chunks: [BundleCacheChunk] {
        messages.compactMap {
            if case .bundleCache(let c) = $0 { return c }
            return nil
        }
    }

    /// The chunks of one generation, by index.
    func generation(_ g: UInt64) -> [BundleCacheChunk] {
        chunks.filter { $0.generation == g }.sorted { $0.index < $1.index }
    }

    func stop() async {
        running.cancel()
        _ = await running.result
    }
}
