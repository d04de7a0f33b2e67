import RoadCargo

/// One lane-link session, from connection to close, as a pure value: the
/// executor (a NIO handler, a serial-line task) feeds it events and performs
/// the actions each event returns, in order. No clock, no socket, no database.
///
/// A session lives for one connection. On the lane a new one is made for each
/// connection attempt and loaded with the outbox's pending messages
/// (``enqueue(messageID:payload:now:)`` for each, in order), or made with
/// ``successor()`` from the last one. Either way everything unacknowledged is
/// sent again after a reconnect.
///
/// The rules (see `docs/link-reliability.md`):
/// - every packet carries a sequence number one higher than the last one
///   sent; a received packet whose sequence is not above the last accepted one
///   is dropped and counted (a duplicate, a replay, or overtaken);
/// - a data packet is delivered once per session and acknowledged only after
///   the executor reports it applied (``applied(messageID:now:)``); a repeat of
///   an applied id is acknowledged again, not delivered again;
/// - an unacknowledged data packet is sent again after 250 ms, 500 ms, ... up
///   to 5 s between attempts, with a fresh sequence number, until acknowledged;
/// - with nothing else to send, a heartbeat goes out every second; a peer
///   silent for 3 s is dead and the session closes.
///
/// Illegal events (a packet before ``connected(now:)``, an ``applied(messageID:now:)``
/// for an id never delivered) are executor bugs and trap. Late events after
/// the session decided to close (a packet still in flight, an apply that
/// finished after the line dropped) are legal and do nothing.
public struct LinkSession: Sendable {
    public enum State: Sendable, Hashable {
        /// Made, not yet connected.
        case idle
        /// Initiator: hello sent, waiting for welcome or refuse. The hello is
        /// sent again at `helloDue` (with the data resend backoff), because on
        /// a noisy serial line a lost hello or welcome is as likely as a lost
        /// data packet.
        case awaitingWelcome(deadline: SessionInstant, helloDue: SessionInstant, helloAttempts: Int)
        /// Responder: connected, waiting for the lane's hello.
        case awaitingHello(deadline: SessionInstant)
        /// Responder: the hello is acceptable on versions; the executor decides
        /// whether the lane is (``admit(now:)`` or ``refuse(_:now:)``).
        case admitting(SessionHello, deadline: SessionInstant)
        /// Handshake done: data, acks and heartbeats flow.
        case established(Established)
        /// The session asked the executor to close the transport and waits
        /// for ``disconnected()``.
        case closing(CloseReason)
        /// Over. Make a new session (or a ``successor()``) for the next connection.
        case closed(CloseReason)
    }

    /// What both ends agreed on, and the liveness timers.
    public struct Established: Sendable, Hashable {
        public var welcome: SessionWelcome
        public var laneID: LaneID
        public var heartbeat: HeartbeatTimer
    }

    /// What the executor must do, in the order returned.
    public enum Action: Sendable, Hashable {
        /// Frame, sign and write this packet.
        case send(LinkPacket)
        /// Apply this application message (through the applied log, so a
        /// message applied in an earlier session changes nothing), then call
        /// ``applied(messageID:now:)``, whether or not it changed anything.
        case deliver(messageID: UInt64, payload: [UInt8])
        /// The peer applied these of our messages: mark them acknowledged in
        /// the outbox.
        case acknowledged([UInt64])
        /// Responder only: decide whether this lane may connect (its key, its
        /// registration) and answer with ``admit(now:)`` or ``refuse(_:now:)``.
        case admit(SessionHello)
        /// The handshake finished; tell the reconnect backoff and the application.
        case established(SessionWelcome, laneID: LaneID)
        /// Close the transport, then call ``disconnected()``.
        case close(CloseReason)
    }

    public let configuration: Configuration
    public internal(set) var state: State = .idle
    public internal(set) var counters = Counters()
    var outbound = SessionOutbound()
    /// The last sequence number we used; the next packet carries one more.
    var sendSequence: UInt32 = 0
    /// The last sequence number we accepted from the peer.
    var receiveSequence: UInt32 = 0
    /// Delivered to the executor, not yet reported applied.
    var awaitingApply: Set<UInt64> = []
    var recentlyApplied: SessionRecentIDs

    /// Sequences above this close the session: a margin so that no event's
    /// burst of packets can wrap around.
    static let sequenceLimit = UInt32.max - 1 << 20

    public init(configuration: Configuration) {
        precondition(
            configuration.maxInFlight > 0 && configuration.maxIDsPerAck > 0, "limits must be positive")
        self.configuration = configuration
        self.recentlyApplied = SessionRecentIDs(capacity: configuration.recentlyAppliedCapacity)
    }

    /// A new idle session with the same configuration that will send this
    /// one's unacknowledged messages first, in their order.
    public func successor() -> LinkSession {
        var next = LinkSession(configuration: configuration)
        next.outbound = outbound.unsent
        return next
    }

    /// Our messages not yet acknowledged, in the order they were enqueued.
    public var unacknowledgedMessageIDs: [UInt64] { outbound.messageIDs }

    /// When the executor should call ``tick(now:)`` next, if ever. Events move
    /// it, so read it again after each one. Calling ``tick(now:)`` earlier or
    /// more often (a fixed 100 ms timer) is harmless.
    public var nextDeadline: SessionInstant? {
        switch state {
        case .idle, .closing, .closed:
            return nil
        case .awaitingWelcome(let deadline, let helloDue, _):
            return min(deadline, helloDue)
        case .awaitingHello(let deadline), .admitting(_, let deadline):
            return deadline
        case .established(let established):
            return [established.heartbeat.nextDeadline, outbound.nextDue].compactMap { $0 }.min()
        }
    }

    // MARK: Events

    /// The transport is up. The initiator says hello; the responder waits for one.
    public mutating func connected(now: SessionInstant) -> [Action] {
        guard case .idle = state else { preconditionFailure("connected in state \(state)") }
        let deadline = now + configuration.handshakeTimeout
        switch configuration.role {
        case .initiator(let hello):
            state = .awaitingWelcome(
                deadline: deadline, helloDue: now + configuration.resendInitial, helloAttempts: 1)
            return [.send(packet(.hello, payload: configuration.handshakeCoding.encodeHello(hello)))]
        case .responder:
            state = .awaitingHello(deadline: deadline)
            return []
        }
    }

    /// A packet arrived, already deframed and its signature checked.
    public mutating func packetReceived(_ packet: LinkPacket, now: SessionInstant) -> [Action] {
        switch state {
        case .idle:
            preconditionFailure("packet received before connected")
        case .closing, .closed:
            return []
        case .awaitingWelcome, .awaitingHello, .admitting, .established:
            break
        }
        guard packet.sequence > receiveSequence else {
            counters.staleDropped += 1
            return []
        }
        if case .awaitingWelcome = state, [.data, .ack, .heartbeat].contains(packet.kind) {
            // Central is established and its welcome is still on the way (or
            // lost): these overtook it. Drop them without taking their sequence,
            // or the welcome, numbered lower, would be dropped as stale when it
            // arrives. Central resends unacknowledged data anyway.
            counters.earlyDropped += 1
            return []
        }
        receiveSequence = packet.sequence
        if packet.kind == .goodbye { return close(.peerSaidGoodbye) }

        switch (state, packet.kind) {
        case (.awaitingWelcome, .welcome):
            return welcomeReceived(packet.payload, now: now)
        case (.awaitingWelcome, .refuse):
            guard let refusal = configuration.handshakeCoding.decodeRefusal(packet.payload) else {
                return close(.protocolViolation("refuse payload does not decode"))
            }
            return close(.refused(refusal))
        case (.awaitingHello(let deadline), .hello):
            return helloReceived(packet.payload, deadline: deadline)
        case (.admitting, .hello):
            // The lane said hello again while we decide; one answer will do.
            return []
        case (.established(var established), _):
            established.heartbeat.heard(at: now)
            state = .established(established)
            return finish(establishedReceived(packet, now: now))
        default:
            return close(.protocolViolation("\(packet.kind) packet while \(state.name)"))
        }
    }

    /// Responder: the executor accepts the lane of the hello in
    /// ``Action/admit(_:)``. Sends the welcome and establishes the session.
    public mutating func admit(now: SessionInstant) -> [Action] {
        switch state {
        case .admitting(let hello, _):
            guard case .responder(let versions, let capabilities) = configuration.role,
                let version = Set(versions).intersection(hello.versions).max()
            else { preconditionFailure("admitting a hello without a common version") }
            let welcome = SessionWelcome(
                version: version, capabilities: capabilities.intersection(hello.capabilities))
            var actions: [Action] = [
                .send(packet(.welcome, payload: configuration.handshakeCoding.encodeWelcome(welcome)))
            ]
            actions += establish(welcome, laneID: hello.laneID, now: now)
            return finish(actions)
        case .closing, .closed:
            return []
        default:
            preconditionFailure("admit in state \(state)")
        }
    }

    /// Responder: the executor refuses the lane of the hello in ``Action/admit(_:)``.
    public mutating func refuse(_ refusal: SessionRefusal, now: SessionInstant) -> [Action] {
        switch state {
        case .admitting:
            return refuseHello(refusal)
        case .closing, .closed:
            return []
        default:
            preconditionFailure("refuse in state \(state)")
        }
    }

    /// A new outbound application message. On the lane `messageID` is its
    /// outbox row id. Queued until the session is established and there is
    /// room in the window; ignored when the id is already queued. Queued also
    /// once the session is closing or closed, so that ``successor()`` carries it.
    public mutating func enqueue(messageID: UInt64, payload: [UInt8], now: SessionInstant) -> [Action] {
        precondition(messageID != 0, "message id 0 is reserved for control packets")
        guard outbound.add(messageID: messageID, payload: payload), case .established = state else {
            return []
        }
        return finish(flush(now: now))
    }

    /// The executor applied a delivered message (or found it applied before).
    /// Sends its acknowledgement.
    public mutating func applied(messageID: UInt64, now: SessionInstant) -> [Action] {
        applied(messageIDs: [messageID], now: now)
    }

    /// Several delivered messages were applied: one ack packet per
    /// ``Configuration/maxIDsPerAck`` ids, which saves bytes on a serial line.
    public mutating func applied(messageIDs: [UInt64], now: SessionInstant) -> [Action] {
        switch state {
        case .closing, .closed:
            // The peer resends in the next session; the applied log absorbs it.
            return []
        case .established:
            for id in messageIDs {
                guard awaitingApply.remove(id) != nil else {
                    preconditionFailure("applied message \(id) was not delivered or was reported twice")
                }
                recentlyApplied.insert(id)
            }
            return finish(sendAcks(messageIDs, now: now))
        case .idle, .awaitingWelcome, .awaitingHello, .admitting:
            preconditionFailure("applied before the session was established")
        }
    }

    /// Time passed: handshake timeout, dead peer, resends, heartbeat.
    public mutating func tick(now: SessionInstant) -> [Action] {
        switch state {
        case .idle, .closing, .closed:
            return []
        case .awaitingWelcome(let deadline, let helloDue, let attempts):
            if now >= deadline { return close(.handshakeTimedOut) }
            guard now >= helloDue, case .initiator(let hello) = configuration.role else { return [] }
            let wait = ResendBackoff.delay(
                attempt: attempts + 1, initial: configuration.resendInitial, cap: configuration.resendCap)
            state = .awaitingWelcome(deadline: deadline, helloDue: now + wait, helloAttempts: attempts + 1)
            counters.resends += 1
            return [.send(packet(.hello, payload: configuration.handshakeCoding.encodeHello(hello)))]
        case .awaitingHello(let deadline), .admitting(_, let deadline):
            return now >= deadline ? close(.handshakeTimedOut) : []
        case .established(let established):
            if established.heartbeat.peerDead(at: now) {
                counters.deadPeers += 1
                return close(.deadPeer)
            }
            var actions = flush(now: now)
            // Re-read: sending data just now counts as being heard from.
            if case .established(var current) = state, current.heartbeat.heartbeatDue(at: now) {
                actions.append(.send(packet(.heartbeat)))
                counters.heartbeatsSent += 1
                current.heartbeat.sent(at: now)
                state = .established(current)
            }
            return finish(actions)
        }
    }

    /// We are shutting down: say goodbye if connected, then close.
    public mutating func shutDown(now: SessionInstant) -> [Action] {
        switch state {
        case .idle:
            state = .closed(.localShutdown)
            return []
        case .closing, .closed:
            return []
        case .awaitingWelcome, .awaitingHello, .admitting, .established:
            let goodbye = packet(.goodbye)
            return [.send(goodbye)] + close(.localShutdown)
        }
    }

    /// The transport is gone (closed by us after ``Action/close(_:)``, or by the
    /// line). Always legal; keeps the first reason.
    public mutating func disconnected() {
        switch state {
        case .closing(let reason), .closed(let reason):
            state = .closed(reason)
        case .idle, .awaitingWelcome, .awaitingHello, .admitting, .established:
            state = .closed(.disconnected)
        }
    }
}

extension LinkSession.State {
    /// The state's name, for violation messages and logs.
    var name: String {
        switch self {
        case .idle: "idle"
        case .awaitingWelcome: "awaiting welcome"
        case .awaitingHello: "awaiting hello"
        case .admitting: "admitting"
        case .established: "established"
        case .closing: "closing"
        case .closed: "closed"
        }
    }
}
