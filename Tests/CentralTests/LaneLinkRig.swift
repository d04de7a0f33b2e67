import CargoStore
import Central
import ClearanceCore
import Foundation
import Hummingbird
import HummingbirdTesting
import LaneLink
import LinkCore
import Logging
import RoadCargo
import Synchronization
import TestKit
import Testing

/// clearanced with the lane link as `serve` builds it (``CentralAssembly``:
/// store, LaneHub, LaneLinkServer on the store's database, LaneDispatcher,
/// HTTP routes; no cache feed, tests poll it themselves),
/// plus real lanes: `LaneLinkClient`s over TCP loopback, each with its own
/// outbox and applied-log files, recording every message central sends them.
final class LaneLinkRig: Sendable {
    static let lmc = try! LaneID("LMC-IN-01")
    static let mkt = try! LaneID("MKT-OUT-01")
    /// Has a key but is not in the store: a test that wants a second lane
    /// facing the same way as ``lmc`` adds it.
    static let lmc2 = try! LaneID("LMC-IN-02")

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
    /// Central as `serve` assembles it.
    let assembly: CentralAssembly
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
        keys = Dictionary(
            uniqueKeysWithValues: [Self.lmc, Self.mkt, Self.lmc2].map { ($0, LinkKey.generate(for: $0)) })
        var logger = Logger(label: "LaneLinkRig")
        logger.logLevel = .critical
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        self.listener = listener
        var options = CentralOptions(store: h.store, clock: h.clock, policy: h.central.policy, logger: logger)
        options.escalateAfter = escalateAfter
        // Help calls escalate when a test asks the desk.
        options.runsEscalations = false
        var link = CentralOptions.Link(keys: LinkKeyring(Array(keys.values)), tcp: .bound(listener))
        // The link signs with the real clock (its replay window must match
        // the lane's); the simulated one is central's business clock.
        // A busy test machine can stall the cooperative pool for seconds;
        // the handshake's deadline is tested where a test sets it short.
        link.configuration.session.handshakeTimeout = .seconds(60)
        link.maxPayload = maxPayload
        link.cacheFeed = nil
        options.link = link
        let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/Central/Console").standardized
        var console = CentralOptions.Console(
            files: try ConsoleFiles(directory: page), settings: .init(cost: .cheap))
        console.sessionClock = sessionClock
        console.refresh = .milliseconds(200)
        options.console = console
        let assembly = try await CentralAssembly(options)
        self.assembly = assembly
        bus = assembly.bus
        desk = assembly.helpDesk
        hub = assembly.link!.hub
        server = assembly.link!.server
        dispatcher = assembly.link!.dispatcher
        central = assembly.app
        serving = Task { _ = try? await assembly.run() }
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
        // The link closes its listener and drops every session.
        serving.cancel()
        await serving.value
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
