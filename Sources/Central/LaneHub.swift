import CargoStore
import ClearanceCore
import Foundation
import LaneLink
import LinkCore
import Logging
import RoadCargo
import Synchronization

/// Central's side of the lane link above the transport: what clearanced does
/// with each message a lane sends. `LaneLinkServer` authenticates the lane,
/// applies each message once and calls ``handle(lane:message:)``; the
/// messages it returns go back to that lane reliably.
///
/// Decisions are made with
/// `CargoRepository.decideCrossing(requestID:claimant:request:policy:at:)`,
/// which reads the VRN's bundle, decides with the same rules and policy as
/// the HTTP dry run, claims the bundle and records the crossing in one store
/// transaction. It is idempotent by request id: a lane that resends a
/// request (its answer was lost, it restarted from its outbox) gets the
/// decision recorded the first time, never a second decision about the
/// same vehicle.
///
/// Lane events (buttons, instruction shown, vehicle left, faults) are stored
/// in the store's `lane_events` (read through `GET /v1/lanes/{laneId}/events`),
/// logged with structured metadata and counted. Storing is idempotent, so a
/// resend after a crash between storing and the link's applied record adds
/// nothing. A `vehicleLeft` turns the bundle that passage claimed into used
/// (its CCRNs spent); a leaving on a bundle no passage of that lane claimed
/// is stored and logged, and changes no bundle.
///
/// Offline crossings (decisions a lane made in officer-switched offline
/// mode, clearance rule 4) are reconciled with
/// `CargoRepository.applyOfflineCrossing(_:lane:claimant:receivedAt:)`: the
/// bundle is claimed for the passage, so the lane's vehicle-left report
/// that follows makes it used exactly as for an online decision; a bundle
/// that had ended or was another passage's is recorded as a conflict, logged
/// as a warning and shown to officers until one acknowledges it. Applying is
/// idempotent by the lane's request id, so a resend changes nothing.
public final class LaneHub: Sendable {
    public let repository: any CargoRepository
    public let clock: any WallClock
    public let policy: DecisionPolicy
    let logger: Logger
    /// Where help calls go; nil leaves them in the lane events only.
    public let helpDesk: HelpDesk?
    /// Told after every decision and report, so consoles refresh.
    public let bus: ConsoleBus?
    private let counters = Mutex(Counters())
    private let resyncHook = Mutex<(@Sendable (LaneID, CacheVersion?) async -> Void)?>(nil)

    /// What the hub has handled since it started, for logs and tests.
    public struct Counters: Sendable, Hashable {
        /// Decision requests answered (a resend answered again counts again).
        public var decisions = 0
        /// Decision requests refused (unknown lane, another lane's request).
        public var refused = 0
        /// Lane events stored (a resent one counts again).
        public var laneEvents = 0
        /// Messages central does not act on from a lane (logged, then acknowledged).
        public var ignored = 0
        /// Offline crossings applied (a resend counts again), and of them conflicts.
        public var offlineCrossings = 0
        public var reconciliationConflicts = 0
    }

    public init(
        repository: any CargoRepository, clock: any WallClock, policy: DecisionPolicy, logger: Logger,
        helpDesk: HelpDesk? = nil, bus: ConsoleBus? = nil
    ) {
        self.repository = repository
        self.clock = clock
        self.policy = policy
        self.logger = logger
        self.helpDesk = helpDesk
        self.bus = bus
    }

    /// Calls `hook` for every lane's request for a full cache push (it
    /// missed a delta); replaces an earlier hook. It runs on a task of its
    /// own, so the link acknowledges the request without waiting for the push.
    public func onCacheResync(_ hook: @escaping @Sendable (LaneID, CacheVersion?) async -> Void) {
        resyncHook.withLock { $0 = hook }
    }

    /// A snapshot of the counters.
    public var counts: Counters { counters.withLock { $0 } }

    /// The link server's handler: one inbound application message from the
    /// authenticated lane `lane`, and the messages to send back.
    ///
    /// - Throws: ``LaneHubRefusal`` for a decision request central will not
    ///   answer; the message is then not recorded as applied, so the lane
    ///   offers it again (with backoff) and succeeds once an officer has
    ///   fixed the lane's configuration.
    public func handle(lane: LaneID, message: LaneMessage) async throws -> [LaneMessage] {
        switch message {
        case .decisionRequest(let request):
            let decision = try await decide(lane: lane, request: request)
            bus?.changed()
            return [.decision(decision)]
        case .laneEvent(let event):
            try await record(event, from: lane)
            bus?.changed()
            return []
        case .offlineCrossing(let crossing):
            try await reconcile(crossing, from: lane)
            bus?.changed()
            return []
        case .helpCall(.ring(let callID)) where helpDesk != nil:
            try await helpDesk?.laneRang(lane: lane, laneCallID: callID)
            return []
        case .helpCall(.end(let callID)) where helpDesk != nil:
            try await helpDesk?.laneEnded(lane: lane, laneCallID: callID)
            return []
        case .cacheResync(let have):
            logger.notice(
                "lane link: a lane asks for a full cache push",
                metadata: ["lane": "\(lane)", "have": "\(have.map(\.description) ?? "none")"])
            if let hook = resyncHook.withLock({ $0 }) { Task { await hook(lane, have) } }
            return []
        case .timeSync(.request(let sentAt)):
            // Receive and reply times are the same instant here: the handler
            // runs after the frame was read, and nothing slow happens between.
            let now = clock.now()
            return [.timeSync(.reply(requestSentAt: sentAt, receivedAt: now, repliedAt: now))]
        default:
            counters.withLock { $0.ignored += 1 }
            logger.notice(
                "lane link: ignoring a message central does not act on",
                metadata: ["lane": "\(lane)", "message": "\(message.name)"])
            return []
        }
    }

    /// Decides one request from the authenticated lane `lane`, records the
    /// crossing once, and returns the decision to send.
    public func decide(lane: LaneID, request: DecisionRequestMessage) async throws -> DecisionMessage {
        do {
            let decided = try await decideChecked(lane: lane, request: request)
            counters.withLock { $0.decisions += 1 }
            return decided
        } catch let refusal as LaneHubRefusal {
            counters.withLock { $0.refused += 1 }
            logger.warning(
                "lane link: refused a decision request",
                metadata: [
                    "lane": "\(lane)", "requestID": "\(request.request.requestID)", "why": "\(refusal)",
                ])
            throw refusal
        }
    }

    private func decideChecked(lane: LaneID, request message: DecisionRequestMessage) async throws
        -> DecisionMessage
    {
        // The key authenticated `lane`; a request naming another lane is a
        // lane bug or a copied key, and deciding it would record a crossing
        // at a lane the vehicle never stood in.
        guard message.lane == lane else {
            throw LaneHubRefusal.otherLane(authenticated: lane, named: message.lane)
        }
        guard let known = try await repository.lane(lane) else { throw LaneHubRefusal.unknownLane(lane) }
        let request = message.request
        let question = request.decision(at: known)
        // Read, decide and claim in one store transaction: two lanes (or two
        // central processes) asking about one bundle at once get one
        // decision on it, and a resend gets the first crossing's decision.
        // The claimant is the passage, not the request: an Unladen press or a
        // retry is a new request about the same stay, and is decided with
        // the bundle the first one claimed (UNLADEN_CONFLICT, never CLEARED
        // UNLADEN on a laden truck).
        let requestID = Self.crossingRequestID(lane: lane, requestID: request.requestID)
        let crossing = try await repository.decideCrossing(
            requestID: requestID, claimant: Self.passageClaimant(lane: lane, passageID: request.passageID),
            request: question, policy: policy, at: clock.now())
        logger.info(
            "lane link: decision",
            metadata: [
                "lane": "\(lane)", "requestID": "\(request.requestID)", "vrn": "\(request.vrn)",
                "instruction": "\(crossing.decision.instruction.rawValue)",
                "reason": "\(crossing.decision.reason.rawValue)", "crossing": "\(crossing.id)",
            ])
        return DecisionMessage(
            requestID: request.requestID, decisionID: UInt64(crossing.id), decision: crossing.decision)
    }

    /// The crossing's request id in the store. A lane's request ids are its
    /// own (unique per lane, not across lanes), so the lane id qualifies them.
    public static func crossingRequestID(lane: LaneID, requestID: UInt64) -> String {
        "link:\(lane):\(requestID)"
    }

    /// The claimant a passage's decisions claim bundles as.
    public static func passageClaimant(lane: LaneID, passageID: UInt64) -> String {
        "passage:\(lane):\(passageID)"
    }

    /// Applies an offline crossing once and logs what it did; a conflict is
    /// a warning, since officers must act on it.
    ///
    /// - Throws: ``LaneHubRefusal/unknownLane(_:)`` when central does not
    ///   know the lane: the crossing then stays in the lane's outbox and
    ///   is applied once an officer has added the lane, never dropped.
    public func reconcile(_ crossing: OfflineCrossing, from lane: LaneID) async throws {
        guard let known = try await repository.lane(lane) else {
            counters.withLock { $0.refused += 1 }
            logger.warning(
                "lane link: an offline crossing from a lane central does not know; it stays in the lane's outbox",
                metadata: ["lane": "\(lane)", "requestID": "\(crossing.requestID)"])
            throw LaneHubRefusal.unknownLane(lane)
        }
        let record = try await repository.applyOfflineCrossing(
            crossing, lane: known, claimant: Self.passageClaimant(lane: lane, passageID: crossing.passageID),
            receivedAt: clock.now())
        counters.withLock {
            $0.offlineCrossings += 1
            if record.outcome == .conflict { $0.reconciliationConflicts += 1 }
        }
        var metadata: Logger.Metadata = [
            "lane": "\(lane)", "passage": "\(crossing.passageID)", "requestID": "\(crossing.requestID)",
            "vrn": "\(crossing.vrn)", "ubr": "\(crossing.decision.ubr.map(\.value) ?? "-")",
            "instruction": "\(crossing.decision.instruction.rawValue)",
            "reason": "\(crossing.decision.reason.rawValue)", "outcome": "\(record.outcome.rawValue)",
            "record": "\(record.id)",
        ]
        if let why = record.conflict {
            metadata["why"] = "\(why)"
            logger.warning("lane link: offline crossing conflicts with central's bundles", metadata: metadata)
        } else {
            logger.info("lane link: offline crossing reconciled", metadata: metadata)
        }
    }

    /// Stores the event and logs it; a fault is logged as a warning, since
    /// it is what an officer must notice.
    private func record(_ event: LaneEvent, from lane: LaneID) async throws {
        let (kind, fields) = Self.describe(event.kind)
        let stored = try await repository.recordLaneEvent(
            LaneEventRecord(
                lane: lane, occurredAt: event.occurredAt, kind: kind, fields: fields, receivedAt: clock.now())
        )
        counters.withLock { $0.laneEvents += 1 }
        if case .vehicleLeft(_, let ubr, let passageID) = event.kind {
            let outcome = try await repository.recordVehicleLeft(
                lane: lane, claimant: Self.passageClaimant(lane: lane, passageID: passageID), ubr: ubr,
                at: clock.now())
            switch outcome {
            case .used:
                logger.info(
                    "lane link: bundle used",
                    metadata: [
                        "lane": "\(lane)", "passage": "\(passageID)", "ubr": "\(ubr.map(\.value) ?? "-")",
                    ])
            case .alreadyUsed, .nothingClaimed:
                break  // a resent report; an unladen truck or one with no bundle
            case .refused, .unknownBundle:
                logger.warning(
                    "lane link: a vehicle left on a bundle this lane did not claim; no bundle changed",
                    metadata: [
                        "lane": "\(lane)", "ubr": "\(ubr.map(\.value) ?? "-")", "outcome": "\(outcome)",
                    ])
            }
        }
        var metadata: Logger.Metadata = [
            "lane": "\(lane)", "occurredAt": "\(HongKongTime.iso8601(event.occurredAt))",
            "event": "\(stored.id)",
        ]
        for (key, value) in fields { metadata[key] = "\(value)" }
        if case .fault = event.kind {
            logger.warning("lane link: lane fault", metadata: metadata)
        } else {
            logger.info("lane link: \(kind.replacingOccurrences(of: "_", with: " "))", metadata: metadata)
        }
    }

    /// An event's stored name and fields. The names are the journal's
    /// (snake case); field names are the API's (camel case).
    public static func describe(_ kind: LaneEvent.Kind) -> (kind: String, fields: [String: String]) {
        func name(_ button: LaneButton) -> String {
            switch button {
            case .unladen: "unladen"
            case .help: "help"
            }
        }
        switch kind {
        case .buttonPressed(let button, let ns):
            return ("button_pressed", ["button": name(button), "kernelNanoseconds": "\(ns)"])
        case .buttonReleased(let button, let ns):
            return ("button_released", ["button": name(button), "kernelNanoseconds": "\(ns)"])
        case .instructionShown(let instruction, let decisionID):
            return (
                "instruction_shown", ["instruction": instruction.rawValue, "decisionId": "\(decisionID)"]
            )
        case .vehicleLeft(let vrn, let ubr, let passageID):
            var fields = ["vrn": vrn.value, "passage": "\(passageID)"]
            fields["ubr"] = ubr?.value
            return ("vehicle_left", fields)
        case .laneOpened:
            return ("lane_opened", [:])
        case .laneClosed:
            return ("lane_closed", [:])
        case .fault(let code, let text):
            return ("fault", ["code": "\(code)", "text": text])
        }
    }
}

/// Why central will not answer a lane's decision request.
public enum LaneHubRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// The lane authenticated, but central's lanes table does not hold it.
    case unknownLane(LaneID)
    /// The request names a lane other than the one whose key signed it.
    case otherLane(authenticated: LaneID, named: LaneID)

    public var description: String {
        switch self {
        case .unknownLane(let lane):
            "lane \(lane) has a link key but is not in central's lanes; add it with clearanced lane add"
        case .otherLane(let authenticated, let named):
            "lane \(authenticated) sent a request naming lane \(named); a lane asks only about itself"
        }
    }
}
