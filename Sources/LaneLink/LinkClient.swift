import Foundation
import LinkCore
import Logging
import RoadCargo
import SerialPort
import Synchronization

/// The lane's end of the lane link: a long-running service that keeps one
/// session to central up, over TCP or a serial line, for as long as it runs.
///
/// Everything the lane says goes through ``send(_:topic:)``, which stores the
/// message in the outbox before anything else: from then on it is sent,
/// resent and replayed after every reconnect (and after a restart of laned,
/// which opens the same outbox) until central acknowledges it. Central's
/// messages (decisions, officer commands, cache pushes) go to the handler;
/// each is acknowledged only after the handler returns.
///
/// ```swift
/// let client = LaneLinkClient(
///     configuration: .init(key: key, line: .tcp(TCPLinkConnector(host: "central", port: 4711))),
///     outbox: try SQLiteOutbox(path: "/var/lib/laned/outbox.sqlite"),
///     handler: { message in await lane.received(message) })
/// // in a ServiceGroup, or: try await client.run()
/// let id = try client.send(.decisionRequest(request))
/// ```
///
/// Over TCP the line may list several central nodes in order
/// (``Line/tcpEndpoints(_:)``): the client is linked to one at a time, moves
/// to the next when it fails, and drains the outbox to whichever it reaches
/// (``EndpointRotation``, `docs/link-operations.md`, "Failover").
public final class LaneLinkClient: Sendable {
    /// How the lane reaches central.
    public enum Line: Sendable {
        /// A TCP connection; a new one per attempt.
        case tcp(TCPLinkConnector)
        /// Central's nodes in order, at least one and at most
        /// ``maxEndpoints``: the lane is linked to one at a time and moves
        /// to the next when it fails (``EndpointRotation``).
        case tcpEndpoints([TCPLinkConnector])
        /// A serial port through libserialport, reopened per attempt.
        case serial(path: String, configuration: SerialPort.Configuration = SerialPort.Configuration())
        /// Any transport (tests, simulators).
        case custom(@Sendable () async throws -> any LinkTransport)

        /// The most endpoints a line may list: enough for every node of a
        /// territory's central, few enough that one round of connect
        /// timeouts (5 s each) stays under a minute.
        public static let maxEndpoints = 8

        /// How many endpoints the client rotates over.
        var endpointCount: Int {
            switch self {
            case .tcpEndpoints(let connectors): connectors.count
            case .tcp, .serial, .custom: 1
            }
        }

        /// Endpoint `index` as the status and the log name it: `host:port`,
        /// the serial device, or `custom`.
        public func name(endpoint index: Int) -> String {
            switch self {
            case .tcp(let connector): TCPAddress.format(host: connector.host, port: connector.port)
            case .tcpEndpoints(let connectors):
                TCPAddress.format(host: connectors[index].host, port: connectors[index].port)
            case .serial(let path, _): path
            case .custom: "custom"
            }
        }

        func open(endpoint index: Int) async throws -> any LinkTransport {
            switch self {
            case .tcp(let connector): try await connector.connect()
            case .tcpEndpoints(let connectors): try await connectors[index].connect()
            case .serial(let path, let configuration):
                try await SerialLinkTransport(path: path, configuration: configuration)
            case .custom(let open): try await open()
            }
        }
    }

    /// Who the lane is and how it talks.
    public struct Configuration: Sendable {
        /// The lane's own key; its lane id is the lane's identity on the link.
        public var key: LinkKey
        public var line: Line
        /// Optional features offered in the hello.
        public var capabilities: Set<String> = []
        /// Session timers and limits; the role is set by the client.
        public var session: LinkSession.Configuration
        /// The wait after every endpoint failed in a row; its `base` also
        /// bounds the pause before trying the next endpoint (``EndpointRotation``).
        public var backoff = ReconnectBackoff.Configuration()

        /// A configuration with the session's and the backoff's defaults.
        public init(key: LinkKey, line: Line, capabilities: Set<String> = []) {
            self.key = key
            self.line = line
            self.capabilities = capabilities
            self.session = LinkSession.Configuration(
                role: .initiator(
                    SessionHello(
                        versions: LaneMessage.supportedVersions, laneID: key.laneID,
                        capabilities: capabilities)))
        }

        var laneID: LaneID { key.laneID }
    }

    private struct State {
        var endpoint: LinkEndpoint?
        /// Which endpoint of the line to try next, and when.
        var rotation: EndpointRotation
        /// The endpoint of the established session, by name; nil while none is.
        var linkedCentral: String?
        /// Counters of the connections that have ended.
        var finished = EndpointCounters()
        /// Hello counters across connections (``SigningTimestamper``).
        var helloCounters = SigningTimestamper()
        var sessionsEstablished = 0
        var connectsFailed = 0
        var lastCloseReason: LinkSession.CloseReason?
        var up = false
    }

    public let configuration: Configuration
    private let outbox: any Outbox
    private let appliedLog: (any AppliedLog)?
    private let handler: @Sendable (LaneMessage) async throws -> Void
    private let connectionChanged: @Sendable (Bool) -> Void
    private let wallClock: any WallClock
    private let logger: Logger
    private let state: Mutex<State>

    /// - Parameters:
    ///   - outbox: The lane's durable outbox; its pending rows are sent first on every connection.
    ///   - appliedLog: Central's message ids the lane has handled (in laned's
    ///     journal). With it a message central resends after a lost ack, in a
    ///     later session, skips the handler; without it the handler must be
    ///     idempotent (by decision id, command id).
    ///   - handler: Applies one message from central; it is acknowledged when this returns.
    ///     A throw ends the session, and central sends the message again on the next.
    ///   - wallClock: For signing timestamps and central's time window.
    ///   - connectionChanged: Told `true` when a session is established and
    ///     `false` when an established one ends (the lane's "link down" mark).
    public init(
        configuration: Configuration, outbox: any Outbox, appliedLog: (any AppliedLog)? = nil,
        wallClock: any WallClock = SystemWallClock(),
        logger: Logger = Logger(label: "lane-link-client"),
        connectionChanged: @escaping @Sendable (Bool) -> Void = { _ in },
        handler: @escaping @Sendable (LaneMessage) async throws -> Void
    ) {
        precondition(
            (1...Line.maxEndpoints).contains(configuration.line.endpointCount),
            "a lane link needs 1 to \(Line.maxEndpoints) central endpoints")
        var configuration = configuration
        configuration.session.role = .initiator(
            SessionHello(
                versions: LaneMessage.supportedVersions, laneID: configuration.laneID,
                capabilities: configuration.capabilities))
        self.configuration = configuration
        self.outbox = outbox
        self.appliedLog = appliedLog
        self.handler = handler
        self.connectionChanged = connectionChanged
        self.wallClock = wallClock
        self.logger = logger
        self.state = Mutex(
            State(
                rotation: EndpointRotation(
                    endpoints: configuration.line.endpointCount, backoff: configuration.backoff)))
    }

    // MARK: Sending

    /// Stores `message` in the outbox, then offers it to the live session if
    /// there is one. Returns its message id. Once this returns the message
    /// will reach central exactly once in effect, whatever happens to the line
    /// or to this process.
    /// - Throws: ``EndpointError/notApplicationMessage(_:)`` for control
    ///   messages; the outbox's error when it cannot store the message.
    @discardableResult
    public func send(_ message: LaneMessage, topic: String? = nil) async throws -> UInt64 {
        let payload = try EndpointPayload.encode(message)
        let id = try await outbox.append(topic: topic ?? message.name, payload: payload)
        offer(messageID: id, payload: payload)
        return id
    }

    /// The payload `message` travels as: for a caller that stores it in the
    /// outbox inside its own database transaction (the lane's journal entry
    /// and the message it causes commit together), then calls ``offer(messageID:payload:)``.
    /// - Throws: ``EndpointError/notApplicationMessage(_:)`` for control messages.
    public static func payload(for message: LaneMessage) throws -> [UInt8] {
        try EndpointPayload.encode(message)
    }

    /// Offers a message the caller already stored in this client's outbox to
    /// the live session, if there is one; otherwise the next session reads it
    /// from the outbox.
    public func offer(messageID: UInt64, payload: [UInt8]) {
        state.withLock { $0.endpoint }?.enqueue(messageID: messageID, payload: payload)
    }

    // MARK: Status

    /// Whether a session with central is established now.
    public var isConnected: Bool { state.withLock { $0.endpoint }?.isEstablished ?? false }

    /// The central endpoint the lane is linked to now, as `host:port` (the
    /// serial device for a serial line); nil while no session is established.
    public var linkedCentral: String? {
        let (name, endpoint) = state.withLock { ($0.linkedCentral, $0.endpoint) }
        return endpoint?.isEstablished == true ? name : nil
    }

    /// Sessions established since the client started.
    public var sessionsEstablished: Int { state.withLock { $0.sessionsEstablished } }

    /// Attempts whose transport could not be opened (refused, timed out), since the client started.
    public var connectsFailed: Int { state.withLock { $0.connectsFailed } }

    /// Why the last session ended, if one has.
    public var lastCloseReason: LinkSession.CloseReason? { state.withLock { $0.lastCloseReason } }

    /// Messages in the outbox that central has not acknowledged yet.
    public func pendingCount() async throws -> Int { try await outbox.countPending() }

    /// Counters over every connection so far, the live one included.
    public var counters: EndpointCounters {
        let (finished, live) = state.withLock { ($0.finished, $0.endpoint) }
        return live.map { finished + $0.counters } ?? finished
    }

    // MARK: Running

    /// Connects, handshakes, and reconnects whenever the session ends, until
    /// the task is cancelled; then says goodbye and returns. With several
    /// endpoints a failed one is left for the next at once, and a whole
    /// round of failures waits the backoff (``EndpointRotation``).
    public func run() async throws {
        var random = SystemRandomNumberGenerator()
        let line = configuration.line
        while !Task.isCancelled {
            let index = state.withLock { $0.rotation.current }
            let central = line.name(endpoint: index)
            let transport: any LinkTransport
            do {
                transport = try await line.open(endpoint: index)
            } catch {
                logger.info("cannot reach central", metadata: ["central": "\(central)", "error": "\(error)"])
                state.withLock { $0.connectsFailed += 1 }
                await pause(after: .connectFailed, &random)
                continue
            }
            let reason = await runSession(over: transport, central: central)
            logger.info(
                "link session ended",
                metadata: ["central": "\(central)", "peer": "\(transport.peer)", "reason": "\(reason)"])
            if Task.isCancelled { break }
            await pause(after: .sessionEnded(at: ContinuousClock.now), &random)
        }
    }

    private func runSession(over transport: any LinkTransport, central: String) async
        -> LinkSession.CloseReason
    {
        let wallNow = wallClock.now()
        let endpoint = state.withLock { s in
            let endpoint = makeEndpoint(helloCounter: s.helloCounters.next(now: wallNow), central: central)
            s.endpoint = endpoint
            return endpoint
        }
        let reason = await endpoint.run(over: transport) { [outbox, logger] in
            do {
                return try await outbox.readPending(limit: nil).map { ($0.id, $0.payload) }
            } catch {
                // The rows stay; the next session tries again.
                logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
                return []
            }
        }
        let wasUp = state.withLock { s in
            defer { s.up = false }
            return s.up
        }
        if wasUp { connectionChanged(false) }
        state.withLock { s in
            s.endpoint = nil
            s.linkedCentral = nil
            s.finished = s.finished + endpoint.counters
            s.lastCloseReason = reason
        }
        return reason
    }

    private func makeEndpoint(helloCounter: UInt64, central: String) -> LinkEndpoint {
        let handlers = LinkEndpoint.Handlers(
            deliver: { [handler, appliedLog, lane = configuration.laneID] id, message in
                guard let appliedLog else { return try await handler(message) }
                if try await appliedLog.wasApplied(lane: lane, messageID: id) { return }
                try await handler(message)
                // Recorded after the handler, not with it: a crash in between
                // runs the handler again, the same as without a log.
                // In a task of its own: a cancelled connection must not
                // leave the handler's run unrecorded.
                try await Task { try await appliedLog.record(lane: lane, messageID: id) }.value
            },
            acknowledged: { [outbox, logger] ids in
                Task {
                    do { try await outbox.acknowledge(ids) } catch {
                        // Harmless: the rows are sent again and central re-acknowledges them.
                        logger.error("cannot mark outbox rows acknowledged", metadata: ["error": "\(error)"])
                    }
                }
            },
            established: { [weak self] welcome, lane in
                let now = ContinuousClock.now
                var random = SystemRandomNumberGenerator()
                self?.state.withLock { s in
                    _ = s.rotation.handle(.established(at: now), using: &random)
                    s.linkedCentral = central
                    s.sessionsEstablished += 1
                    s.helloCounters.didOpen(helloCounter)
                    s.up = true
                }
                self?.connectionChanged(true)
                self?.logger.info(
                    "link established",
                    metadata: ["lane": "\(lane)", "central": "\(central)", "version": "\(welcome.version)"])
            })
        return LinkEndpoint(
            session: LinkSession(configuration: configuration.session),
            cipher: LinkCipher(role: .initiator(key: configuration.key, helloCounter: helloCounter)),
            wallClock: wallClock, handlers: handlers, logger: logger)
    }

    /// Feeds the attempt's outcome to the rotation and waits as long as it
    /// says before the next attempt; returns early when cancelled.
    private func pause(after event: EndpointRotation.Event, _ random: inout SystemRandomNumberGenerator) async
    {
        let action = state.withLock { $0.rotation.handle(event, using: &random) }
        guard case .connect(let next, let delay) = action else { return }
        if configuration.line.endpointCount > 1 {
            logger.info(
                "trying the next central",
                metadata: ["central": "\(configuration.line.name(endpoint: next))", "after": "\(delay)"])
        }
        try? await Task.sleep(for: delay)
    }
}
