import Foundation
import Logging
import RoadCargo
import Synchronization

/// Runs one ``LinkSession`` over one ``LinkTransport``: the imperative shell
/// around the session's functional core.
///
/// Bytes read from the transport go through a ``FrameDeframer`` and a
/// ``SharedVerifier`` into the session; the session's actions are executed
/// here: `send` is signed and written, `deliver` goes to the ``Handlers``
/// (one at a time, in order) and is reported applied when the handler
/// returns, `close` closes the transport. Timers follow
/// ``LinkSession/nextDeadline`` on the continuous clock.
///
/// Every event is handled synchronously under one lock, and every frame is
/// encoded under it too, so sequence numbers and signing timestamps leave in
/// the order they were made; a single writer task then writes them out in
/// that order. Nothing slow (a handler, a write) ever runs under the lock.
public final class LinkEndpoint: Sendable {
    /// What the endpoint asks of its owner (the lane client or the server).
    public struct Handlers: Sendable {
        /// Apply one application message from the peer. Its acknowledgement
        /// goes out when this returns; when it throws the session is ended
        /// (goodbye) and the peer sends the message again on its next session.
        public var deliver: @Sendable (_ messageID: UInt64, _ message: LaneMessage) async throws -> Void
        /// The peer applied these of our messages (mark the outbox rows).
        public var acknowledged: @Sendable (_ messageIDs: [UInt64]) -> Void
        /// Responder only: whether the lane of this hello, already matched
        /// against the key that signed it, may connect, and if so what it is
        /// owed. Runs under the endpoint's lock: keep it short, never call back
        /// into this endpoint.
        public var admit: @Sendable (_ hello: SessionHello) -> Admission
        /// The handshake finished.
        public var established: @Sendable (_ welcome: SessionWelcome, _ laneID: LaneID) -> Void

        /// Handlers that do nothing, to be replaced field by field.
        public init(
            deliver: @escaping @Sendable (UInt64, LaneMessage) async throws -> Void = { _, _ in },
            acknowledged: @escaping @Sendable ([UInt64]) -> Void = { _ in },
            admit: @escaping @Sendable (SessionHello) -> Admission = { _ in .admit(pending: []) },
            established: @escaping @Sendable (SessionWelcome, LaneID) -> Void = { _, _ in }
        ) {
            self.deliver = deliver
            self.acknowledged = acknowledged
            self.admit = admit
            self.established = established
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
        var deframer = FrameDeframer()
        /// Nil on central until the first authentic frame names the lane.
        var encoder: FrameEncoder?
        /// The only key id accepted on this line once known.
        var lane: LaneID?
        var counters = EndpointCounters()
        /// Whether `run` has called `connected`; enqueues before that are
        /// left to the outbox, which the connect step reads.
        var started = false
        var finished = false
    }

    private let state: Mutex<State>
    private let verifier: SharedVerifier
    private let signingKey: @Sendable (LaneID) -> LinkKey?
    private let direction: LinkDirection
    private let wallClock: any WallClock
    let handlers: Handlers
    private let logger: Logger
    private let outbound: AsyncStream<[UInt8]>.Continuation
    private let outboundStream: AsyncStream<[UInt8]>
    private let deliveries: AsyncStream<(UInt64, [UInt8])>.Continuation
    private let deliveryStream: AsyncStream<(UInt64, [UInt8])>

    /// - Parameters:
    ///   - session: A fresh (idle) session, initiator on the lane, responder on central.
    ///   - lane: The lane this line belongs to when known in advance (the
    ///     lane's own id); nil on central, where the first authentic frame decides.
    ///   - signingKey: The key to sign with once the lane is known.
    ///   - sending: The direction of the frames this end writes.
    ///   - lastTimestamp: The last signing timestamp used on an earlier
    ///     connection, so this one continues above it.
    public init(
        session: LinkSession, lane: LaneID?, verifier: SharedVerifier,
        signingKey: @escaping @Sendable (LaneID) -> LinkKey?, sending: LinkDirection,
        lastTimestamp: UInt64 = 0, wallClock: any WallClock = SystemWallClock(), handlers: Handlers,
        logger: Logger = Logger(label: "lane-link")
    ) {
        var initial = State(session: session)
        initial.lane = lane
        if let lane, let key = signingKey(lane) {
            initial.encoder = FrameEncoder(key: key, direction: sending, lastTimestamp: lastTimestamp)
        }
        self.state = Mutex(initial)
        self.verifier = verifier
        self.signingKey = signingKey
        self.direction = sending
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
    public var lane: LaneID? { state.withLock { $0.lane } }

    /// The last signing timestamp used, for the next connection's encoder.
    public var lastSigningTimestamp: UInt64 { state.withLock { $0.encoder?.timestamps.last ?? 0 } }

    // MARK: Commands

    /// Offers an outbound application message to the live session. Returns
    /// false when the session has not started or has ended: the message must
    /// already be in the outbox, which the next session reads.
    @discardableResult
    public func enqueue(messageID: UInt64, payload: [UInt8]) -> Bool {
        let now = ContinuousClock.now
        return perform { s in
            guard s.started, !s.finished else { return ([], false) }
            return (s.session.enqueue(messageID: messageID, payload: payload, now: now), true)
        }
    }

    /// Says goodbye and closes. `run` returns soon after.
    public func shutDown() {
        let now = ContinuousClock.now
        perform { s in (s.session.shutDown(now: now), ()) }
    }

    // MARK: Running

    /// Runs the session over `transport` until it closes, for whatever reason
    /// (dead peer, goodbye, the line dropped, ``shutDown()``, cancellation),
    /// and returns why. Closes the transport before returning.
    ///
    /// - Parameter pending: Called under the endpoint's lock just before the
    ///   session starts: the outbox rows to send first, in order. Under the
    ///   lock so that a message enqueued concurrently is either in this list
    ///   or offered through ``enqueue(messageID:payload:)`` after it, never lost
    ///   between the two.
    public func run(
        over transport: any LinkTransport, pending: @Sendable () -> [(UInt64, [UInt8])] = { [] }
    ) async -> LinkSession.CloseReason {
        let now = ContinuousClock.now
        perform { s in
            var actions: [LinkSession.Action] = []
            for (id, payload) in pending() {
                actions += s.session.enqueue(messageID: id, payload: payload, now: now)
            }
            s.started = true
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

    /// Bytes from the line: deframe, authenticate, check the lane, feed the session.
    private func received(_ chunk: [UInt8]) {
        let wallNow = wallClock.now()
        let now = ContinuousClock.now
        perform { s in
            s.counters.bytesReceived += chunk.count
            var actions: [LinkSession.Action] = []
            for parsed in s.deframer.feed(chunk) {
                let result = parsed.flatMap { verifier.verify($0, now: wallNow) }
                guard case .success(let received) = result else {
                    if case .failure(let cause) = result { s.counters.frameDrops[cause] += 1 }
                    continue
                }
                if let lane = s.lane, lane != received.keyID {
                    s.counters.wrongLaneDropped += 1
                    continue
                }
                if s.lane == nil {
                    // Central learns the lane from the first authentic frame
                    // and signs its answers with that lane's key.
                    s.lane = received.keyID
                    if let key = signingKey(received.keyID) {
                        s.encoder = FrameEncoder(key: key, direction: direction)
                    }
                }
                s.counters.packetsReceived += 1
                actions += s.session.packetReceived(received.packet, now: now)
            }
            return (actions, ())
        }
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
            perform { s in (s.session.tick(now: now), ()) }
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

    func wallClockNow() -> Date { wallClock.now() }
    func yieldOutbound(_ bytes: [UInt8]) { outbound.yield(bytes) }
    func yieldDelivery(_ id: UInt64, _ payload: [UInt8]) { deliveries.yield((id, payload)) }
    func finishOutbound() { outbound.finish() }
    func logEncodingFailure(_ error: any Error, packet: LinkPacket) {
        logger.error("cannot frame a packet", metadata: ["kind": "\(packet.kind)", "error": "\(error)"])
    }

    private func reportApplied(_ id: UInt64) {
        let now = ContinuousClock.now
        perform { s in (s.session.applied(messageID: id, now: now), ()) }
    }

    /// Runs one event under the lock and executes its actions: sending
    /// (which only encodes and queues the bytes) and the session's follow-up
    /// events under the lock, in order; the owner's callbacks after it.
    @discardableResult
    private func perform<R>(_ event: (inout State) -> ([LinkSession.Action], R)) -> R {
        var callbacks: [@Sendable () -> Void] = []
        let result = state.withLock { s in
            let (actions, value) = event(&s)
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
