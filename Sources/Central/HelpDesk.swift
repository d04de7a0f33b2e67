import CargoStore
import Foundation
import LaneLink
import LinkCore
import Logging
import RoadCargo
import Synchronization

/// Tells every open console that something changed. A console then builds
/// a fresh snapshot; a burst of changes wakes it once (each subscriber's
/// buffer holds one wake-up).
public final class ConsoleBus: Sendable {
    private let subscribers = Mutex<[UUID: AsyncStream<Void>.Continuation]>([:])

    public init() {}

    /// A stream that yields after every change until `cancel` is called.
    public func subscribe() -> (id: UUID, changes: AsyncStream<Void>) {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        subscribers.withLock { $0[id] = continuation }
        return (id, stream)
    }

    public func cancel(_ id: UUID) {
        subscribers.withLock { $0.removeValue(forKey: id) }?.finish()
    }

    private let relay = Mutex<(@Sendable () -> Void)?>(nil)

    /// Something the consoles show changed here: wakes this process's
    /// consoles and, in a cluster, tells the other nodes'.
    public func changed() {
        changedElsewhere()
        relay.withLock { $0 }?()
    }

    /// Something changed on another node: wakes this process's consoles only.
    public func changedElsewhere() {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield() }
    }

    /// Where ``changed()`` tells other nodes (a cluster's console channel).
    public func relayChanges(to relay: @escaping @Sendable () -> Void) {
        self.relay.withLock { $0 = relay }
    }

    var subscriberCount: Int { subscribers.withLock { $0.count } }
}

/// Central's help desk: every help call from every lane, from the ring to
/// its end. Each step is checked by ``HelpCallRecord/applying(_:at:)``,
/// journaled in the store, then signalled to the lane through its durable
/// outbox and announced to the consoles.
///
/// One actor, so two officers answering at once are decided in turn: the
/// second finds the call taken.
public actor HelpDesk {
    public let repository: any CargoRepository
    public let clock: any WallClock
    public let bus: ConsoleBus
    /// How long a call may ring unanswered before it escalates.
    public let escalateAfter: Duration
    let logger: Logger
    private var send: (@Sendable (LaneMessage, LaneID) async throws -> UInt64)?

    public init(
        repository: any CargoRepository, clock: any WallClock, bus: ConsoleBus, escalateAfter: Duration,
        logger: Logger
    ) {
        self.repository = repository
        self.clock = clock
        self.bus = bus
        self.escalateAfter = escalateAfter
        self.logger = logger
    }

    /// Where signals to lanes go: the link server's reliable send. Set once
    /// the server exists (the server's handler needs the desk first).
    public func attach(_ server: LaneLinkServer) {
        send = { message, lane in try await server.send(message, to: lane) }
    }

    /// Signals go through `send` instead (a cluster routes them to the node
    /// that holds the lane); it returns the link message id, 0 when queued.
    public func attach(send: @escaping @Sendable (LaneMessage, LaneID) async throws -> UInt64) {
        self.send = send
    }

    /// The lane's driver pressed Help. A ring the lane sends again (its
    /// outbox after a link flap) finds the same call and changes nothing.
    @discardableResult
    public func laneRang(lane id: LaneID, laneCallID: UInt64) async throws -> HelpCallRecord {
        guard let lane = try await repository.lane(id) else { throw LaneHubRefusal.unknownLane(id) }
        let now = clock.now()
        // A lane has one call at a time; an older one still open here means
        // its end was lost (the lane's journal ends calls on restart).
        for old in try await repository.openHelpCalls() where old.lane == id && old.laneCallID != laneCallID {
            try await apply(
                .endedByLane(why: "the lane rang again with call \(laneCallID)"), to: old, at: now)
        }
        let vrn = try await LaneView.currentVRN(of: id, in: repository)
        let fresh = HelpCallRecord(
            lane: id, controlPoint: lane.controlPoint, laneCallID: laneCallID, vrn: vrn, rangAt: now)
        let (call, inserted) = try await repository.insertHelpCall(
            fresh,
            step: HelpCallStep(
                step: "ring", actor: "lane",
                details: ["laneCallId": "\(laneCallID)", "vrn": vrn?.value ?? ""],
                at: now))
        if inserted {
            logger.notice(
                "help call ringing",
                metadata: ["call": "\(call.id)", "lane": "\(id)", "controlPoint": "\(lane.controlPoint)"])
            bus.changed()
        }
        return call
    }

    /// The lane ended its call (or ended it by restarting).
    public func laneEnded(lane id: LaneID, laneCallID: UInt64) async throws {
        for call in try await repository.openHelpCalls()
        where call.lane == id && call.laneCallID == laneCallID {
            try await apply(.endedByLane(why: "the lane ended the call"), to: call, at: clock.now())
        }
    }

    /// An officer's step on call `id`.
    /// - Throws: ``HelpCallRefusal`` when the step is not allowed, and
    ///   ``StoreError/notFound(_:)`` for an unknown call; nothing changes.
    public func act(_ input: HelpCallInput, onCall id: Int64) async throws -> HelpCallRecord {
        guard let call = try await repository.helpCall(id: id) else {
            throw StoreError.notFound("help call \(id)")
        }
        return try await apply(input, to: call, at: clock.now())
    }

    /// Escalates every call that has rung too long; returns them.
    @discardableResult
    public func escalateDue() async throws -> [HelpCallRecord] {
        let now = clock.now()
        var escalated: [HelpCallRecord] = []
        for call in try await repository.openHelpCalls()
        where call.isEscalationDue(at: now, after: escalateAfter) {
            let updated = try await apply(.escalate, to: call, at: now)
            logger.warning(
                "help call unanswered: escalated",
                metadata: [
                    "call": "\(call.id)", "lane": "\(call.lane)", "controlPoint": "\(call.controlPoint)",
                    "rangAt": "\(HongKongTime.iso8601(call.rangAt))",
                ])
            escalated.append(updated)
        }
        return escalated
    }

    /// Checks for due escalations every `interval` until cancelled.
    public func runEscalations(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            do { try await escalateDue() } catch {
                logger.error("help desk: cannot check escalations", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    @discardableResult
    private func apply(_ input: HelpCallInput, to call: HelpCallRecord, at now: Date) async throws
        -> HelpCallRecord
    {
        // Judged on the call as read, written only if it is still so: an
        // officer on another node (or another node's escalation) may have
        // taken a step meanwhile; then the step is judged again on the call
        // as it is now, which may refuse it ("answered by ...").
        var call = call
        var attempt = 0
        var judged = try call.applying(input, at: now)
        while let step = judged.step {
            do {
                // Journal first: a crash after this and before the send leaves a
                // journaled step the lane never heard, which the officer sees and
                // can repeat; the other order could leave a lane acting on a step
                // central has no record of.
                try await repository.updateHelpCall(judged.call, from: call, step: step)
                break
            } catch is HelpCallChanged where attempt < 4 {
                attempt += 1
                guard let fresh = try await repository.helpCall(id: call.id) else {
                    throw StoreError.notFound("help call \(call.id)")
                }
                call = fresh
                judged = try call.applying(input, at: now)
            }
        }
        let (updated, signals) = (judged.call, judged.signals)
        guard let step = judged.step else { return updated }
        for signal in signals {
            guard let send else {
                logger.warning(
                    "help desk: no lane link; the lane was not told",
                    metadata: ["call": "\(call.id)", "lane": "\(call.lane)"])
                break
            }
            _ = try await send(.helpCall(signal), call.lane)
        }
        logger.info(
            "help call \(step.step)",
            metadata: [
                "call": "\(call.id)", "lane": "\(call.lane)", "by": "\(step.actor)",
                "state": "\(updated.state)",
            ])
        bus.changed()
        return updated
    }
}
