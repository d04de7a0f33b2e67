import AnyJSON
import CargoStore
import Central
import ClearanceCore
import Foundation
import GPIO
import LaneConfig
import LaneControl
import LaneLink
import LaneRuntime
import LinkCore
import Logging
import NIOCore
import NIOPosix
import RoadCargo
import Synchronization
import TestKit
import Testing

/// A real central (store, LaneHub, LaneLinkServer on TCP loopback, cache
/// pushes) and real lanes (`LaneDaemon` from a YAML config: SQLite journal,
/// headless SDL boards, virtual GPIO, control socket), sharing one
/// simulated business clock. Nothing is mocked: the lane talks to central
/// over the signed link and is driven through its Unix control socket.
final class LaneRig: Sendable {
    /// 2026-11-26 09:00 Hong Kong.
    static let start = try! HongKongTime.parse("2026-11-26T09:00:00+08:00")
    static let laneID = try! LaneID("LMC-IN-01")
    static let lane = Lane(id: laneID, controlPoint: .lokMaChau, direction: .inbound)

    let clock = SimulatedWallClock(LaneRig.start)
    let timers: SimulatedTimerScheduler
    let store: SQLiteCargoStore
    let key = LinkKey.generate(for: LaneRig.laneID)
    let directory: String
    /// The link port of each central node; the lane's config lists them in
    /// this order (`link.tcp.endpoints` with more than one).
    let ports: [Int]
    /// The first node's link port.
    var port: Int { ports[0] }
    /// Each running central node as clearanced assembles it, and the task
    /// running its services, by node index.
    private let central = Mutex<[Int: (assembly: CentralAssembly, running: Task<Void, Never>)]>([:])

    /// - Parameters:
    ///   - centralUp: false leaves the lane's link ports closed until ``startCentral(node:)``.
    ///   - nodes: How many central nodes, each a `CentralAssembly` with its
    ///     own link listener over the rig's one store (several clearanced
    ///     on one database); the lane fails over between them.
    init(centralUp: Bool = true, nodes: Int = 1) async throws {
        timers = SimulatedTimerScheduler(clock: clock)
        store = try SQLiteCargoStore.inMemory()
        try await store.putLane(Self.lane)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lane-rig-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Free ports, closed again so that the lane first finds nobody there.
        var ports: [Int] = []
        for _ in 0..<nodes {
            let probe = try await TCPLinkListener(host: "127.0.0.1", port: 0)
            ports.append(probe.port)
            await probe.close()
        }
        self.ports = ports
        if centralUp {
            for node in 0..<nodes { try await startCentral(node: node) }
        }
    }

    deinit {
        central.withLock { $0.values.forEach { $0.running.cancel() } }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A loopback port nobody listens on now.
    static func freePort() async throws -> Int {
        let probe = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        defer { Task { await probe.close() } }
        return probe.port
    }

    /// Starts central node `node` (its link listener on its port, its help desk).
    func startCentral(node: Int = 0) async throws {
        var logger = Logger(label: "LaneRig.central")
        logger.logLevel = .critical
        let policy = DecisionPolicy(
            phase: .full,
            selection: SelectionSettings(key: Data(repeating: 7, count: 32), ladenRate: 0, unladenRate: 0))
        var options = CentralOptions(store: store, clock: clock, policy: policy, logger: logger)
        // Help calls escalate when a test asks the desk.
        options.runsEscalations = false
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: ports[node])
        var link = CentralOptions.Link(keys: LinkKeyring([key]), tcp: .bound(listener))
        // A busy test machine can stall the cooperative pool for seconds;
        // the handshake's deadline is tested where a test sets it short.
        link.configuration.session.handshakeTimeout = .seconds(60)
        // Lanes' caches follow central as in clearanced: polled every 250 ms.
        options.link = link
        let assembly = try await CentralAssembly(options)
        let running = Task { _ = try? await assembly.run() }
        central.withLock { $0[node] = (assembly, running) }
    }

    /// central's help desk (the first node's), as officers' consoles use it.
    var helpDesk: HelpDesk {
        get throws { try #require(central.withLock { $0[0]?.assembly.helpDesk }, "central is not up") }
    }

    /// Queues `message` in central node `node`'s outbox for the lane, as
    /// central's own parts do: it reaches the lane over the link.
    func sendFromCentral(_ message: LaneMessage, node: Int = 0) async throws {
        let server = try #require(central.withLock { $0[node]?.assembly.link?.server }, "central is not up")
        try await server.send(message, to: Self.laneID)
    }

    /// Whether the lane has a session with central node `node` now.
    func isLinked(toNode node: Int) -> Bool {
        central.withLock { $0[node]?.assembly.link?.server }?.connectedLanes.contains(Self.laneID) ?? false
    }

    /// Central node `node`'s link counters over every connection so far.
    func linkCounters(node: Int = 0) -> EndpointCounters? {
        central.withLock { $0[node]?.assembly.link?.server }?.counters
    }

    /// The lane's config names node `node` so (`lanectl status`'s `central`).
    func endpoint(ofNode node: Int) -> String { "127.0.0.1:\(ports[node])" }

    /// Stops central node `node`.
    func stopCentral(node: Int = 0) async {
        guard let running = central.withLock({ $0.removeValue(forKey: node) }) else { return }
        // Cancelled as a crash would: the listener closes, every session drops.
        running.running.cancel()
        await running.running.value
    }

    // MARK: Cargo

    /// A driver's active bundle for `vrn` with one consignment, completed
    /// now; the clock then moves past its earliest crossing.
    @discardableResult
    func bundle(_ vrn: VRN) async throws -> CargoBundle {
        let shipper = Account(name: "shipper-\(vrn.value)", role: .shipper)
        let driver = Account(name: "driver-\(vrn.value)", role: .driver)
        _ = try await store.addAccount(shipper)
        _ = try await store.addAccount(driver)
        let submission = ConsignmentSubmission(
            direction: .inbound, expectedDate: CalendarDay(containing: clock.now()).advanced(by: 1),
            consignor: Party(
                name: "Shenzhen Winning Co", countryCode: "CN", addressLines: ["1 Shennan Road"]),
            consignee: Party(
                name: "Wilson Development Ltd", countryCode: "HK", addressLines: ["2 Castle Peak Road"]),
            goodsItems: [
                GoodsItem(
                    description: "Plastic toys", packaging: Packaging(count: 10, kind: "CT"),
                    grossWeight: Measure(value: 550, unit: "KGM"))
            ])
        let consignment = try await store.submitConsignment(submission, by: shipper, at: clock.now())
        let bundle = try await store.createBundle(
            BundleRequest(driverName: "Ho Ka Chun", vrn: vrn, direction: .inbound, ccrns: [consignment.ccrn]),
            by: driver, at: clock.now())
        clock.advance(by: 31 * 60)
        return bundle
    }

    /// central's crossings for `vrn`.
    func crossings(_ vrn: VRN) async throws -> [Crossing] { try await store.crossings(vrn: vrn, limit: 100) }

    // MARK: Lanes

    /// The link's `tcp` section: one node as host and port, several as endpoints.
    var tcpSection: String {
        ports.count == 1
            ? "{host: 127.0.0.1, port: \(port)}"
            : "{endpoints: [\(ports.map { "\"127.0.0.1:\($0)\"" }.joined(separator: ", "))]}"
    }

    /// The lane's config, as a technician would write it.
    /// - Parameter deadAfter: how long the lane waits for central's frames
    ///   before it drops the session (central heartbeats less often than
    ///   that, so the session restarts every second or so: longer keeps one).
    func configuration(
        allowVirtualInputs: Bool = true, extra: String = "", deadAfter: String = "1s",
        journal: String = "journal.sqlite"
    ) throws -> LaneConfiguration {
        let yaml = """
            lane: {id: LMC-IN-01, control_point: LMC, direction: import}
            decision: {timeout: 2s, unladen_grace: 20s}
            offline: {phase: full, laden_rate: 0, unladen_rate: 0}
            link:
              tcp: \(tcpSection)
              key_file: link.key
              heartbeat: 200ms
              dead_after: \(deadAfter)
            gpio: {backend: virtual}
            displays: {backend: headless, output_dir: boards}
            journal: {path: \(journal)}
            control: {socket: \(directory)/lane.sock, allow_virtual_inputs: \(allowVirtualInputs)}
            watchdog: {enabled: false}
            \(extra)
            """
        return try LaneConfiguration.parse(yaml: yaml, file: "\(directory)/lane.yaml")
    }

    /// Starts a lane daemon on the rig's journal (a second start after
    /// ``RunningLane/stop()`` is a restart of laned).
    /// - Parameters:
    ///   - partStopped: told as each part of the lane stops.
    ///   - run: runs the daemon (its own group by default).
    func startLane(
        allowVirtualInputs: Bool = true, extra: String = "", timers: (any LaneTimerScheduler)? = nil,
        deadAfter: String = "1s", journal: String = "journal.sqlite",
        partStopped: (@Sendable (LanePart) -> Void)? = nil,
        run: @escaping @Sendable (LaneDaemon) async throws -> Void = { try await $0.run() }
    ) async throws -> RunningLane {
        var logger = Logger(label: "LaneRig.lane")
        logger.logLevel = .critical
        let buttons = VirtualButtonBackend(roles: [.unladen, .help], stuckAfter: .seconds(30))
        var backoff = ReconnectBackoff.Configuration()
        backoff.base = .milliseconds(50)
        backoff.cap = .milliseconds(300)
        let daemon = try await LaneDaemon(
            configuration: try configuration(
                allowVirtualInputs: allowVirtualInputs, extra: extra, deadAfter: deadAfter, journal: journal),
            environment: .init(
                clock: clock, timers: timers ?? self.timers, buttons: buttons, linkKey: key,
                backoff: backoff, logger: logger, partStopped: partStopped))
        return RunningLane(daemon: daemon, buttons: buttons, socket: "\(directory)/lane.sock", run: run)
    }
}

/// A lane daemon running in this process.
final class RunningLane: Sendable {
    let daemon: LaneDaemon
    let buttons: VirtualButtonBackend
    let socket: String
    private let task: Task<Void, any Error>

    init(
        daemon: LaneDaemon, buttons: VirtualButtonBackend, socket: String,
        run: @escaping @Sendable (LaneDaemon) async throws -> Void = { try await $0.run() }
    ) {
        self.daemon = daemon
        self.buttons = buttons
        self.socket = socket
        task = Task { try await run(daemon) }
    }

    /// Waits until the lane has stopped by itself (a graceful shutdown).
    func stopped() async throws { try await task.value }

    /// Stops the lane as SIGTERM would, and waits until it has.
    func stop() async {
        task.cancel()
        _ = await task.result
    }

    /// One request built from LaneControl's types, as lanectl sends it; its
    /// result read into `type`. A refusal fails the test with laned's words.
    @discardableResult
    func call<Result: Decodable>(
        _ request: ControlRequest, _ type: Result.Type = ControlEmptyResult.self,
        id: JSONValue = .string("t-1")
    ) async throws -> Result {
        try await ControlClient.call(socket, request, type, id: id)
    }

    /// One request that laned must refuse; its failure (nil, and the test
    /// fails, when laned accepted it).
    func refusal(
        _ request: ControlRequest, id: JSONValue = .integer(9),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ControlFailure? {
        let reply = try await ControlClient.exchange(socket, Array(request.line(id: id).utf8))
        guard case .refused(let echoed, let failure) = ControlResponse.read(reply) else {
            Issue.record(
                "not refused: \(String(decoding: reply, as: UTF8.self))", sourceLocation: sourceLocation)
            return nil
        }
        #expect(echoed == id, "the refusal carries the request's id", sourceLocation: sourceLocation)
        return failure
    }

    /// `status`'s result.
    func status() async throws -> ControlStatus { try await call(.status, ControlStatus.self) }

    /// The journal's newest entries, oldest first.
    func journal(limit: Int = 200) async throws -> [ControlJournalEntry] {
        try await call(.journal(limit: limit), ControlJournalResult.self).entries
    }

    /// The journal's newest entries' kinds, oldest first.
    func journalKinds(limit: Int = 200) async throws -> [String] {
        try await journal(limit: limit).map(\.kind)
    }

    /// Waits until `status` satisfies `condition`; returns that status. The
    /// wait counts only this task's own naps (TestKit's `eventually`), so a
    /// busy machine stretches it instead of failing it.
    @discardableResult
    func waitFor(
        _ what: String, timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: (ControlStatus) -> Bool
    ) async throws -> ControlStatus {
        var last = try await status()
        let held = try await eventually(within: timeout) {
            last = try await status()
            return condition(last)
        }
        if !held {
            Issue.record(
                "timed out waiting for \(what); last status: \(last)", sourceLocation: sourceLocation)
        }
        return last
    }
}

/// A client of laned's control socket over a real Unix socket: one JSON
/// line out, one back.
enum ControlClient {
    /// One request built from LaneControl's types; its result read into
    /// `type`. A refusal throws laned's `ControlFailure`.
    static func call<Result: Decodable>(
        _ path: String, _ request: ControlRequest, _ type: Result.Type, id: JSONValue = .string("t-1")
    ) async throws -> Result {
        let reply = try await exchange(path, Array(request.line(id: id).utf8))
        switch ControlResponse.read(reply) {
        case .result(let echoed, let result):
            #expect(echoed == id, "the reply carries the request's id")
            return try ControlResponse.result(type, from: result)
        case .refused(_, let failure):
            throw failure
        case .noOK, .notAnObject:
            throw ControlFailure(.internal, "not a response: \(String(decoding: reply, as: UTF8.self))")
        }
    }

    /// Sends `bytes` and returns the first line that comes back.
    static func exchange(_ path: String, _ bytes: [UInt8]) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: path) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: bytes))
            var received: [UInt8] = []
            for try await chunk in inbound {
                received += chunk.readableBytesView
                if let newline = received.firstIndex(of: UInt8(ascii: "\n")) {
                    return Array(received[..<newline])
                }
            }
            return received
        }
    }
}
