import Crypto
import Foundation
import GRDB
import LinkCore
import Logging
import RoadCargo
import SerialPort
import Synchronization

/// Central's end of the lane link: serves any number of lanes over TCP
/// connections and serial ports, one session per connection.
///
/// Every connection starts with a Noise NNpsk0 handshake keyed by the lane's
/// key (docs/link-protocol.md); its hello binds the connection to its lane,
/// frames for any other lane's key are dropped and counted, and a hello
/// naming another lane than its key is refused. A hello whose counter is not
/// above the last one accepted from that lane (kept in the database, so it
/// survives a restart) is refused; and a lane is admitted (replacing its old
/// connection, getting its pending rows and the established callback) only
/// once its first encrypted frame proves it holds the session keys. Each inbound
/// application message is applied through the ``SQLiteAppliedLog`` at most
/// once, and the handler's replies are stored in that lane's outbox in the
/// same transaction as the applied id, then sent until acknowledged, on this
/// connection or the lane's next one. A lane that reconnects replaces its old
/// connection.
///
/// ```swift
/// let server = try LaneLinkServer(keys: try LinkKeyring.load(directory: keyDir),
///                                 database: store.writer) { lane, message in
///     guard case .decisionRequest(let request) = message else { return [] }
///     return [.decision(try await decide(request))]
/// }
/// let listener = try await TCPLinkListener(host: "0.0.0.0", port: 4711)
/// try await server.serve(listener)   // and/or server.serveSerial(path: "/dev/ttyS1")
/// ```
public final class LaneLinkServer: Sendable {
    /// Applies one lane's message and returns central's replies to it.
    public typealias Handler = @Sendable (LaneID, LaneMessage) async throws -> [LaneMessage]

    /// Timers, limits and what central offers.
    public struct Configuration: Sendable {
        /// Session timers and limits; the role is set by the server.
        public var session = LinkSession.Configuration(role: .responder(versions: [], capabilities: []))
        public var versions: [UInt16] = LaneMessage.supportedVersions
        public var capabilities: Set<String> = []
        /// How far ahead of our clock a hello's counter (the lane's clock in
        /// µs) may be: a lane whose clock ran ahead would otherwise burn
        /// counters it could not use again after its clock is corrected.
        public var windowSeconds: Double = 60
        /// Limits for strangers: handshake rates, connection caps, bad tags.
        public var limits = LinkLimits()

        public init() {}
    }

    /// One lane's link as central sees it.
    public enum LaneConnection: Sendable, Hashable {
        /// Never connected since central started.
        case neverConnected
        /// A session is established over the line to `peer`.
        case connected(peer: String, since: Date)
        /// The last session ended.
        case disconnected(since: Date, reason: LinkSession.CloseReason)
    }

    struct LaneEntry {
        var outbox: SQLiteOutbox
        var endpoint: LinkEndpoint?
        var connection: LaneConnection = .neverConnected
        var finished = EndpointCounters()
        /// Set while a confirmed connection reads its pending rows: messages
        /// sent meanwhile wait here to follow them.
        var loading: [(UInt64, [UInt8])]?
    }

    struct State {
        var lanes: [LaneID: LaneEntry] = [:]
        /// Every live connection, bound to a lane or not yet.
        var live: [ObjectIdentifier: LinkEndpoint] = [:]
        /// Counters of ended connections that never named a lane.
        var unbound = EndpointCounters()
        var onEstablished: (@Sendable (LaneID, SessionWelcome) -> Void)?
        /// Observers of sessions starting and ending (a cluster's lane claims).
        var observers: [@Sendable (SessionChange) -> Void] = []
        /// Counters of the server itself (refused connections, replays).
        var own = EndpointCounters()
        /// Lane messages being applied now, by "lane/id", with who waits for
        /// them: a lane's old and new connection may deliver the same
        /// message at once, and only one may run the handler.
        var applying: [String: [CheckedContinuation<Void, Never>]] = [:]
    }

    public let configuration: Configuration
    /// Central's durable memory of applied lane messages.
    public let appliedLog: SQLiteAppliedLog
    let database: any DatabaseWriter
    let keyring: SharedKeyring
    /// Last accepted hello counter per lane, in the database.
    public let helloCounters: HelloCounterStore
    let limiter: Mutex<HandshakeLimiter>
    /// Creates the link's tables once, through GRDB's async API; every
    /// database use awaits it first.
    let prepared: Task<Void, any Error>
    let handler: Handler
    let wallClock: any WallClock
    let logger: Logger
    let state = Mutex(State())

    /// - Parameters:
    ///   - keys: Every lane's key; add or withdraw later with ``insert(_:)`` and ``remove(_:)``.
    ///   - database: Central's store: the applied log and the per-lane outboxes
    ///     live there, so a handler's effects recorded in it commit with them.
    ///   - handler: Applies a lane's message; its replies are sent back reliably.
    ///     When it throws, nothing is recorded, the session ends, and the lane
    ///     sends the message again.
    public init(
        keys: LinkKeyring, database: any DatabaseWriter, configuration: Configuration = Configuration(),
        wallClock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "lane-link-server"),
        handler: @escaping Handler
    ) throws {
        var configuration = configuration
        configuration.session.role = .responder(
            versions: configuration.versions, capabilities: configuration.capabilities)
        self.configuration = configuration
        self.database = database
        let appliedLog = try SQLiteAppliedLog(unpreparedWriter: database, now: { wallClock.now() })
        let helloCounters = try HelloCounterStore(writer: database)
        self.appliedLog = appliedLog
        self.helloCounters = helloCounters
        self.keyring = SharedKeyring(keys)
        self.limiter = Mutex(HandshakeLimiter(limits: configuration.limits, now: wallClock.now()))
        self.prepared = Task {
            try await appliedLog.prepare()
            try await helloCounters.prepare()
        }
        self.handler = handler
        self.wallClock = wallClock
        self.logger = logger
    }

    /// The same with its own SQLite file at `path` (WAL), for a central
    /// whose store lives elsewhere and for tests.
    public convenience init(
        keys: LinkKeyring, path: String, configuration: Configuration = Configuration(),
        wallClock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "lane-link-server"),
        handler: @escaping Handler
    ) throws {
        try self.init(
            keys: keys, database: LinkDatabase.open(path: path, label: "LaneLinkServer"),
            configuration: configuration, wallClock: wallClock, logger: logger, handler: handler)
    }

    // MARK: Keys

    /// Adds or replaces a lane's key while running (`clearanced lane add`).
    public func insert(_ key: LinkKey) { keyring.insert(key) }

    /// Rotates a lane's key while running: `key` becomes current and the
    /// lane's current key stays accepted until `until` (the lane's previous
    /// key, until a technician installs the new one on the lane).
    public func rotate(to key: LinkKey, previousUntil until: Date) {
        guard let previous = keyring.key(for: key.laneID) else { return keyring.insert(key) }
        keyring.rotate(to: key, previous: previous, until: until)
    }

    /// What ``reloadKeys(_:)`` changed, by lane.
    public struct KeyReload: Sendable, Hashable {
        /// Lanes that had no key before.
        public var added: [LaneID] = []
        /// Lanes whose current or previous key changed (a rotation).
        public var changed: [LaneID] = []
        /// Lanes whose key is gone; their live connections were closed.
        public var removed: [LaneID] = []
    }

    /// Installs a whole keyring at once, as central's key directory now
    /// holds it (SIGHUP after `clearanced lane rotate-key`, `lane key` or a
    /// withdrawn lane), so a rotation needs no restart of central. Live
    /// sessions keep their session keys: a rotated lane stays linked and
    /// uses the keyring at its next hello. A lane whose key is gone is cut off.
    @discardableResult
    public func reloadKeys(_ new: LinkKeyring) -> KeyReload {
        let old = keyring.replace(with: new)
        var report = KeyReload()
        let now = wallClock.now()
        for lane in Set(old.laneIDs).union(new.laneIDs).sorted() {
            switch (old[lane], new[lane]) {
            case (nil, .some): report.added.append(lane)
            case (.some, nil): report.removed.append(lane)
            case (.some(let before), .some(let after)):
                let previousBefore = old.candidates(for: lane, now: now).dropFirst().first
                let previousAfter = new.candidates(for: lane, now: now).dropFirst().first
                if before.fingerprint != after.fingerprint
                    || previousBefore?.fingerprint != previousAfter?.fingerprint
                {
                    report.changed.append(lane)
                }
            case (nil, nil): break
            }
        }
        let cut = state.withLock { s in report.removed.compactMap { s.lanes[$0]?.endpoint } }
        for endpoint in cut { endpoint.shutDown() }
        return report
    }

    /// Withdraws a lane's key; its live connection is closed.
    public func remove(_ laneID: LaneID) {
        keyring.remove(laneID)
        state.withLock { $0.lanes[laneID]?.endpoint }?.shutDown()
    }

    // MARK: Serving

    /// Serves every connection `listener` accepts, until it closes or the task is cancelled.
    public func serve(_ listener: TCPLinkListener) async {
        await withDiscardingTaskGroup { group in
            for await transport in listener.connections {
                group.addTask { await self.serve(transport: transport) }
            }
        }
    }

    /// Serves the lane on a serial port, reopening it after the line fails,
    /// until the task is cancelled.
    public func serveSerial(
        path: String, configuration: SerialPort.Configuration = SerialPort.Configuration(),
        retry: Duration = .seconds(1)
    ) async {
        while !Task.isCancelled {
            do {
                let transport = try await SerialLinkTransport(path: path, configuration: configuration)
                await serve(transport: transport)
            } catch {
                logger.warning(
                    "cannot open lane serial port", metadata: ["path": "\(path)", "error": "\(error)"])
            }
            try? await Task.sleep(for: retry)
        }
    }

    /// Serves one connection until its session ends; closes it. A
    /// connection over the caps (unconfirmed, all) is closed at once.
    public func serve(transport: any LinkTransport) async {
        let limits = configuration.limits
        let slot = Mutex<LinkEndpoint?>(nil)
        let peer = transport.peer
        let handlers = LinkEndpoint.Handlers(
            deliver: { [weak self] id, message in
                guard let self, let endpoint = slot.withLock({ $0 }), let lane = endpoint.lane else { return }
                try await self.apply(message, id: id, lane: lane, endpoint: endpoint)
            },
            acknowledged: { [weak self] ids in
                guard let self, let lane = slot.withLock({ $0 })?.lane else { return }
                Task { await self.acknowledged(ids, lane: lane) }
            },
            admit: { [weak self] hello, counter in
                guard let self else {
                    return .refuse(SessionRefusal(.unavailable, detail: "central is shutting down"))
                }
                return await self.admit(hello, counter: counter)
            },
            confirmed: { [weak self] lane in
                guard let self, let endpoint = slot.withLock({ $0 }) else { return }
                await self.confirmed(lane, endpoint: endpoint, peer: peer)
            },
            helloArrived: { [weak self] _ in
                guard let self else { return false }
                return limiter.withLock { $0.helloFrame(now: self.wallClock.now()) }
            })
        let endpoint = LinkEndpoint(
            session: LinkSession(configuration: configuration.session),
            cipher: LinkCipher(role: .responder()),
            keys: { [keyring, wallClock] in keyring.candidates(for: $0, now: wallClock.now()) },
            maxBadTags: limits.maxBadTagsPerConnection, wallClock: wallClock,
            handlers: handlers, logger: logger)
        slot.withLock { $0 = endpoint }
        // Checked and registered in one step, so that a burst of connections
        // cannot all pass the check before any of them counts.
        let admitted = state.withLock { s in
            let unconfirmed = s.live.values.filter { !$0.isConfirmed }.count
            guard s.live.count < limits.maxConnections, unconfirmed < limits.maxUnconfirmedConnections else {
                s.own.connectionsRefused += 1
                return false
            }
            s.live[ObjectIdentifier(endpoint)] = endpoint
            return true
        }
        guard admitted else {
            logger.warning(
                "link connection refused: too many connections", metadata: ["peer": "\(transport.peer)"])
            await transport.close()
            return
        }
        let reason = await endpoint.run(over: transport)
        ended(endpoint, reason: reason)
        slot.withLock { $0 = nil }
    }

    /// Calls `callback` each time a lane's session is established (after
    /// the handshake, once per connection; replaces an earlier callback).
    /// Central uses it to push state a lane needs fresh after a reconnect,
    /// such as its offline bundle cache: queue it with ``send(_:to:)``.
    /// It runs once the lane proved its session keys (a replayed hello
    /// never gets here), on the connection's own task: keep it short and
    /// never wait in it; start a task for anything slow.
    public func onSessionEstablished(_ callback: @escaping @Sendable (LaneID, SessionWelcome) -> Void) {
        state.withLock { $0.onEstablished = callback }
    }

    /// A lane's session here started or ended for good (not replaced by a
    /// newer connection of the same lane to this server).
    public enum SessionChange: Sendable, Hashable {
        case established(LaneID)
        case ended(LaneID)
    }

    /// Adds an observer of ``SessionChange``s, beside the established
    /// callback; it runs on the connection's task: keep it short, never wait.
    public func observeSessions(_ observer: @escaping @Sendable (SessionChange) -> Void) {
        state.withLock { $0.observers.append(observer) }
    }

    /// Closes the lane's session here, if it has one (a cluster found the
    /// lane linked to another node more recently: a split brain).
    public func closeSession(of lane: LaneID) {
        state.withLock { $0.lanes[lane]?.endpoint }?.shutDown()
    }

    // MARK: Central's own messages

    /// Stores `message` in `lane`'s outbox and sends it if the lane is
    /// connected; otherwise on its next connection. Returns its message id.
    @discardableResult
    public func send(_ message: LaneMessage, to lane: LaneID) async throws -> UInt64 {
        let payload = try EndpointPayload.encode(message)
        let outbox = try await outbox(for: lane)
        let id = try await outbox.append(topic: message.name, payload: payload)
        offer(id: id, payload: payload, to: lane)
        return id
    }

    /// Stores `messages` in `lane`'s outbox in one transaction (all or
    /// none), then offers them in order like ``send(_:to:)``. Returns their
    /// message ids, increasing.
    @discardableResult
    public func send(_ messages: [LaneMessage], to lane: LaneID) async throws -> [UInt64] {
        let encoded = try messages.map { (topic: $0.name, payload: try EndpointPayload.encode($0)) }
        let outbox = try await outbox(for: lane)
        let ids = try await outbox.append(encoded)
        for (id, message) in zip(ids, encoded) { offer(id: id, payload: message.payload, to: lane) }
        return ids
    }

    // MARK: Status

    /// The lane's link now.
    public func connection(of lane: LaneID) -> LaneConnection {
        state.withLock { $0.lanes[lane]?.connection ?? .neverConnected }
    }

    /// Lanes with an established session, sorted.
    public var connectedLanes: [LaneID] {
        state.withLock { s in s.lanes.filter { $0.value.endpoint?.isEstablished ?? false }.keys.sorted() }
    }

    /// Counters over every connection so far, live ones included, lanes or not.
    public var counters: EndpointCounters {
        let (ended, live) = state.withLock { s in
            (s.lanes.values.reduce(s.unbound + s.own) { $0 + $1.finished }, Array(s.live.values))
        }
        return live.reduce(ended) { $0 + $1.counters }
    }

    /// Link connections open now, confirmed or not.
    public var liveConnectionCount: Int { state.withLock { $0.live.count } }

    /// One lane's counters over its connections so far.
    public func counters(for lane: LaneID) -> EndpointCounters {
        let (ended, live) = state.withLock { s in
            (s.lanes[lane]?.finished ?? EndpointCounters(), s.lanes[lane]?.endpoint)
        }
        return live.map { ended + $0.counters } ?? ended
    }

    /// Central's messages to `lane` not yet acknowledged.
    public func pendingCount(for lane: LaneID) async throws -> Int {
        try await outbox(for: lane).countPending()
    }
}
