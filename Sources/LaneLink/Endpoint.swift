import Foundation
import LinkCore
import Logging
import RoadCargo
import Synchronization

/// Runs one ``LinkSession`` over one ``LinkTransport``: the imperative shell
/// around the session's and the cipher's functional cores.
///
/// Bytes read from the transport go through a ``FrameDeframer`` and the
/// connection's ``LinkCipher`` into the session; the session's actions are
/// executed here: `send` is sealed and written, `deliver` goes to the
/// ``Handlers`` (one at a time, in order) and is reported applied when the
/// handler returns, `admit` asks the owner (asynchronously, outside the lock)
/// and feeds the answer back, `close` closes the transport. Timers follow
/// ``LinkSession/nextDeadline`` on the continuous clock.
///
/// Every event is handled synchronously under one lock, and every frame is
/// sealed under it too, so sequence numbers and counters leave in the order
/// they were made; a single writer task then writes them out in that order.
/// Nothing slow (a handler, a database call, a write) ever runs under the lock.
public final class LinkEndpoint: Sendable {
    /// What the endpoint asks of its owner (the lane client or the server).
    public struct Handlers: Sendable {
        /// Apply one application message from the peer. Its acknowledgement
        /// goes out when this returns; when it throws the session is ended
        /// (goodbye) and the peer sends the message again on its next session.
        public var deliver: @Sendable (_ messageID: UInt64, _ message: LaneMessage) async throws -> Void
        /// The peer applied these of our messages (mark the outbox rows).
        public var acknowledged: @Sendable (_ messageIDs: [UInt64]) -> Void
        /// Responder only: whether the lane of this hello (decrypted with the
        /// lane's key, so its lane id is the key's) may connect, given the
        /// hello's counter, and what it is owed. Runs outside the lock, on its own task.
        public var admit: @Sendable (_ hello: SessionHello, _ helloCounter: UInt64) async -> Admission
        /// The handshake finished (on central: the welcome went out).
        public var established: @Sendable (_ welcome: SessionWelcome, _ laneID: LaneID) -> Void
        /// Responder only: the lane's first transport frame decrypted, so the
        /// lane holds the handshake's keys (a replayed hello never gets here).
        /// Runs on its own task.
        public var confirmed: @Sendable (_ laneID: LaneID) async -> Void
        /// Responder only: a hello frame for `laneID` arrived; false drops it
        /// (the handshake rate limit). Runs under the lock: a leaf lock at most.
        public var helloArrived: @Sendable (_ keyID: LaneID) -> Bool

        /// Handlers that do nothing, to be replaced field by field.
        public init(
            deliver: @escaping @Sendable (UInt64, LaneMessage) async throws -> Void = { _, _ in },
            acknowledged: @escaping @Sendable ([UInt64]) -> Void = { _ in },
            admit: @escaping @Sendable (SessionHello, UInt64) async -> Admission = { _, _ in
                .admit(pending: [])
            },
            established: @escaping @Sendable (SessionWelcome, LaneID) -> Void = { _, _ in },
            confirmed: @escaping @Sendable (LaneID) async -> Void = { _ in },
            helloArrived: @escaping @Sendable (LaneID) -> Bool = { _ in true }
        ) {
            self.deliver = deliver
            self.acknowledged = acknowledged
            self.admit = admit
            self.established = established
            self.confirmed = confirmed
            self.helloArrived = helloArrived
        }
    }

    /// A responder's answer to a hello.
    public enum Admission: Sendable {
        /// Welcome the lane, then send it these outbox rows (id, payload) first, in order.
        case admit(pending: [(UInt64, [UInt8])])
        /// Turn the lane away.
        case refuse(SessionRefusal)
    }

    struct State: Sendable {
        var session: LinkSession
        var cipher: LinkCipher
        var deframer = FrameDeframer()
        var counters = EndpointCounters()
        /// The counter of the hello this connection decrypted (central).
        var helloCounter: UInt64?
        /// Central: the lane proved its keys with a transport frame.
        var confirmed = false
        /// Frames that failed their tag on this connection.
        var badTags = 0
        /// Central: when an unconfirmed connection is given up.
        var confirmDeadline: SessionInstant?
        /// Whether `run` has called `connected`; enqueues before that are
        /// left to the outbox, which the connect step reads.
        var started = false
        var finished = false
        /// Offered before `run` started the session: sent after the pending rows.
        var held: [(UInt64, [UInt8])] = []
    }

    private let state: Mutex<State>
    private let keys: @Sendable (LaneID) -> [LinkKey]
    private let maxBadTags: Int
    private let wallClock: any WallClock
    let handlers: Handlers
    private let logger: Logger
    private let outbound: AsyncStream<[UInt8]>.Continuation
    private let outboundStream: AsyncStream<[UInt8]>
    private let deliveries: AsyncStream<(UInt64, [UInt8])>.Continuation
    private let deliveryStream: AsyncStream<(UInt64, [UInt8])>

    /// The default limit of frames failing their tag before a connection is dropped.
    public static let defaultMaxBadTags = LinkLimits.defaultMaxBadTags

    /// - Parameters:
    ///   - session: A fresh (idle) session, initiator on the lane, responder on central.
    ///   - cipher: A fresh cipher of the same role.
    ///   - keys: Central: the keys to try for a hello's key id (current, previous).
    ///   - maxBadTags: Frames failing their tag (or failing to open a hello)
    ///     tolerated on one connection; the next closes it.
    public init(
        session: LinkSession, cipher: LinkCipher,
        keys: @escaping @Sendable (LaneID) -> [LinkKey] = { _ in [] },
        maxBadTags: Int = LinkEndpoint.defaultMaxBadTags,
        wallClock: any WallClock = SystemWallClock(), handlers: Handlers,
        logger: Logger = Logger(label: "lane-link")
    ) {
        self.state = Mutex(State(session: session, cipher: cipher))
        self.keys = keys
        self.maxBadTags = maxBadTags
        self.wallClock = wallClock
        self.handlers = handlers
        self.logger = logger
        (outboundStream, outbound) = AsyncStream<[UInt8]>.makeStream()
        (deliveryStream, deliveries) = AsyncStream<(UInt64, [UInt8])>.makeStream()
    }

    // MARK: Reading state

    /// Counters so far, including the session's.
    public var counters: EndpointCounters {
        state.withLock { s in
            var c = s.counters
            c.session = s.session.counters
            return c
        }
    }

    /// The session's state now.
    public var sessionState: LinkSession.State { state.withLock { $0.session.state } }

    /// Whether the handshake finished and the session has not ended.
    public var isEstablished: Bool {
        if case .established = sessionState { return true }
        return false
    }

    /// The lane at the other end (central) or this lane, once known.
    public var lane: LaneID? { state.withLock { $0.cipher.lane } }

    /// Central: whether the lane proved it holds this session's keys.
    public var isConfirmed: Bool { state.withLock { $0.confirmed } }

    // MARK: Commands

    /// Offers an outbound application message to the session (held until it
    /// starts). Returns false when the session has ended: the message must
    /// already be in the outbox, which the next session reads.
    @discardableResult
    public func enqueue(messageID: UInt64, payload: [UInt8]) -> Bool {
        let now = ContinuousClock.now
        return perform { s, _ in
            guard !s.finished else { return ([], false) }
            guard s.started else {
                // Read after the pending rows, which `run` is fetching now.
                s.held.append((messageID, payload))
                return ([], true)
            }
            return (s.session.enqueue(messageID: messageID, payload: payload, now: now), true)
        }
    }

    /// Says goodbye and closes. `run` returns soon after.
    public func shutDown() {
        let now = ContinuousClock.now
        perform { s, _ in (s.session.shutDown(now: now), ()) }
    }

    // MARK: Running

    /// Runs the session over `transport` until it closes, for whatever reason
    /// (dead peer, goodbye, the line dropped, ``shutDown()``, cancellation),
    /// and returns why. Closes the transport before returning.
    ///
    /// - Parameter pending: The outbox rows to send first, in order, read
    ///   before the session starts (asynchronously, never under the lock).
    ///   A message enqueued concurrently is either in this list or offered
    ///   through ``enqueue(messageID:payload:)`` after the session started
    ///   (the owner offers to an endpoint it registered before reading), and
    ///   the session ignores an id it already holds, so none is lost between.
    public func run(
        over transport: any LinkTransport, pending: @Sendable () async -> [(UInt64, [UInt8])] = { [] }
    ) async -> LinkSession.CloseReason {
        let rows = await pending()
        let now = ContinuousClock.now
        perform { s, _ in
            var actions: [LinkSession.Action] = []
            for (id, payload) in rows + s.held {
                actions += s.session.enqueue(messageID: id, payload: payload, now: now)
            }
            s.held = []
            s.started = true
            s.confirmDeadline = now + s.session.configuration.handshakeTimeout
            return (actions + s.session.connected(now: now), ())
        }
        // Unstructured on purpose: a cancelled run must still write its goodbye
        // and close the transport, and a child of a cancelled group could not.
        let writer = Task { [outboundStream, logger] in
            for await bytes in outboundStream {
                do { try await transport.write(bytes) } catch {
                    logger.debug(
                        "link write failed", metadata: ["peer": "\(transport.peer)", "error": "\(error)"])
                    break
                }
            }
            await transport.close()
        }
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.runTimers() }
                group.addTask { await self.runDeliveries() }
                do {
                    for try await chunk in transport.inbound { received(chunk) }
                } catch {
                    logger.debug(
                        "link read ended", metadata: ["peer": "\(transport.peer)", "error": "\(error)"])
                }
                group.cancelAll()
            }
        } onCancel: {
            shutDown()
        }
        state.withLock { s in
            s.session.disconnected()
            s.finished = true
        }
        outbound.finish()
        deliveries.finish()
        await writer.value
        if case .closed(let reason) = sessionState { return reason }
        return .disconnected
    }

    /// Bytes from the line: deframe, decrypt, check the lane, feed the session.
    private func received(_ chunk: [UInt8]) {
        let wallNow = wallClock.now()
        let now = ContinuousClock.now
        perform { s, callbacks in
            s.counters.bytesReceived += chunk.count
            var actions: [LinkSession.Action] = []
            for parsed in s.deframer.feed(chunk) {
                guard case .success(let frame) = parsed else {
                    if case .failure(let cause) = parsed { s.counters.frameDrops[cause] += 1 }
                    continue
                }
                if let lane = s.cipher.lane, lane != frame.keyID {
                    s.counters.wrongLaneDropped += 1
                    continue
                }
                if frame.kind == .hello, s.cipher.sending == .centralToLane, s.cipher.lane == nil,
                    !handlers.helloArrived(frame.keyID)
                {
                    s.counters.helloRateLimited += 1
                    continue
                }
                switch s.cipher.open(frame, keys: { [keys] in keys($0) }) {
                case .failure(let cause):
                    s.counters.frameDrops[cause] += 1
                    if cause == .badTag { actions += badTag(&s, now: now) }
                case .success(.ignored):
                    continue
                case .success(.resend(let bytes)):
                    s.counters.framesSent += 1
                    s.counters.bytesSent += bytes.count
                    yieldOutbound(bytes)
                case .success(.packet(let packet, let helloCounter, let confirmed)):
                    if let helloCounter { s.helloCounter = helloCounter }
                    if confirmed, let lane = s.cipher.lane {
                        s.confirmed = true
                        let confirm = handlers.confirmed
                        callbacks.append { Task { await confirm(lane) } }
                    }
                    s.counters.packetsReceived += 1
                    actions += s.session.packetReceived(packet, now: now)
                }
            }
            _ = wallNow
            return (actions, ())
        }
    }

    /// One more frame failed its tag: past the limit the connection goes.
    private func badTag(_ s: inout State, now: SessionInstant) -> [LinkSession.Action] {
        s.badTags += 1
        guard s.badTags == maxBadTags + 1 else { return [] }
        s.counters.closedForBadTags += 1
        logger.warning(
            "closing a link connection: too many frames failed their tag",
            metadata: ["lane": "\(s.cipher.lane.map(\.value) ?? "?")", "limit": "\(maxBadTags)"])
        return s.session.shutDown(now: now)
    }

    private func runTimers() async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            // Ticking early is harmless, so a fixed ceiling saves waking up
            // when an event moves the deadline earlier.
            let ceiling = clock.now + .milliseconds(50)
            let deadline = state.withLock { $0.session.nextDeadline }.map { min($0, ceiling) } ?? ceiling
            do { try await clock.sleep(until: deadline) } catch { return }
            let now = clock.now
            perform { s, _ in
                if s.cipher.sending == .centralToLane, !s.confirmed, let deadline = s.confirmDeadline,
                    now >= deadline
                {
                    // Admission waits for the lane's first sealed frame; a
                    // hello replayed by someone without its ephemeral key
                    // never sends one, so its connection ends here.
                    s.confirmDeadline = nil
                    s.counters.unconfirmedTimeouts += 1
                    return (s.session.shutDown(now: now), ())
                }
                return (s.session.tick(now: now), ())
            }
        }
    }

    private func runDeliveries() async {
        for await (id, payload) in deliveryStream {
            let message: LaneMessage
            do { message = try EndpointPayload.decode(payload) } catch {
                logger.warning(
                    "undecodable message acknowledged and dropped",
                    metadata: ["id": "\(id)", "error": "\(error)"])
                state.withLock { $0.counters.undecodable += 1 }
                reportApplied(id)
                continue
            }
            do {
                try await handlers.deliver(id, message)
            } catch {
                if Task.isCancelled { return }
                logger.error(
                    "applying a message failed; ending the session",
                    metadata: ["id": "\(id)", "error": "\(error)"])
                state.withLock { $0.counters.handlerFailures += 1 }
                shutDown()
                return
            }
            reportApplied(id)
        }
    }

    func yieldOutbound(_ bytes: [UInt8]) { outbound.yield(bytes) }
    func yieldDelivery(_ id: UInt64, _ payload: [UInt8]) { deliveries.yield((id, payload)) }
    func finishOutbound() { outbound.finish() }
    func logSealFailure(_ error: any Error, packet: LinkPacket) {
        logger.error("cannot frame a packet", metadata: ["kind": "\(packet.kind)", "error": "\(error)"])
    }

    private func reportApplied(_ id: UInt64) {
        let now = ContinuousClock.now
        perform { s, _ in (s.session.applied(messageID: id, now: now), ()) }
    }

    /// Runs one event under the lock and executes its actions: sending
    /// (which only encodes and queues the bytes) and the session's follow-up
    /// events under the lock, in order; the owner's callbacks after it.
    @discardableResult
    func perform<R>(_ event: (inout State, inout [@Sendable () -> Void]) -> ([LinkSession.Action], R)) -> R {
        var callbacks: [@Sendable () -> Void] = []
        let result = state.withLock { s in
            let (actions, value) = event(&s, &callbacks)
            var queue = actions[...]
            while let action = queue.popFirst() {
                queue += execute(action, state: &s, callbacks: &callbacks)
            }
            return value
        }
        for callback in callbacks { callback() }
        return result
    }
}
