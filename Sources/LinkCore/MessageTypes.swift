import Foundation
import RoadCargo

/// Optional features a peer supports, one bit each in a u32 (bit 0 first).
/// Unknown bits are kept, so a newer peer's bits survive a round trip.
public struct LinkCapabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Decides from pushed bundle data while central is unreachable.
    public static let offlineCache = LinkCapabilities(rawValue: 1 << 0)
    /// Has a help button and intercom.
    public static let helpCall = LinkCapabilities(rawValue: 1 << 1)
    /// Help calls carry video.
    public static let helpVideo = LinkCapabilities(rawValue: 1 << 2)
    /// Answers time-sync requests.
    public static let timeSync = LinkCapabilities(rawValue: 1 << 3)

    /// The names the session layer uses for the known bits.
    public static let names: [(LinkCapabilities, String)] = [
        (.offlineCache, "offline-cache"), (.helpCall, "help-call"), (.helpVideo, "help-video"),
        (.timeSync, "time-sync"),
    ]
}

/// A lane opens a session: the payload of a hello packet. This layout is
/// frozen across protocol versions, because it is how versions are chosen.
public struct LinkHello: Sendable, Hashable {
    /// Every protocol (message layout) version the lane speaks.
    public var versions: [UInt16]
    /// Must equal the key id that signed the frame; central checks.
    public var laneID: LaneID
    public var capabilities: LinkCapabilities

    public init(versions: [UInt16], laneID: LaneID, capabilities: LinkCapabilities) {
        self.versions = versions
        self.laneID = laneID
        self.capabilities = capabilities
    }
}

/// Central accepts a hello: the payload of a welcome packet (frozen layout).
public struct LinkWelcome: Sendable, Hashable {
    /// The highest version both speak; everything after uses it.
    public var version: UInt16
    /// The capabilities both sides have.
    public var capabilities: LinkCapabilities
    /// Central's clock when it answered, so the lane can see its own offset
    /// at once (time sync refines it).
    public var centralTime: Date

    public init(version: UInt16, capabilities: LinkCapabilities, centralTime: Date) {
        self.version = version
        self.capabilities = capabilities
        self.centralTime = centralTime
    }
}

/// Central refuses a hello: the payload of a refuse packet (frozen layout).
public struct LinkRefuse: Sendable, Hashable {
    /// 1 unknown lane, 2 no common version, 3 malformed hello, 4 unavailable;
    /// others are kept as they come (``SessionRefusal/Reason`` raw values).
    public var code: UInt8
    /// A sentence for the lane's log.
    public var text: String

    public init(code: UInt8, text: String) {
        self.code = code
        self.text = text
    }
}

/// A vehicle has arrived at a lane (from a plate reader or immigration,
/// through central).
public struct VehicleArrival: Sendable, Hashable {
    public var vrn: VRN
    public var arrivedAt: Date

    public init(vrn: VRN, arrivedAt: Date) {
        self.vrn = vrn
        self.arrivedAt = arrivedAt
    }
}

/// A lane asks central to decide about a vehicle: the lane's
/// ``PassageRequest`` and the lane's id, which on the wire sits between the
/// passage id and the VRN (docs/link-protocol.md, section 5).
///
/// Central decides about the passage: a bundle it claimed for the passage
/// is the passage's for every later request with the same passage id.
public struct DecisionRequestMessage: Sendable, Hashable {
    /// The lane that asks; central refuses a lane other than the one its key authenticated.
    public var lane: LaneID
    /// What it asks, under its request and passage ids.
    public var request: PassageRequest

    public init(lane: LaneID, request: PassageRequest) {
        self.lane = lane
        self.request = request
    }

    /// The message for `request` from `lane`, field by field in wire order.
    public init(
        requestID: UInt64, passageID: UInt64, lane: LaneID, vrn: VRN, arrivedAt: Date, unladenPressed: Bool
    ) {
        self.init(
            lane: lane,
            request: PassageRequest(
                requestID: requestID, passageID: passageID, vrn: vrn, arrivedAt: arrivedAt,
                unladenPressed: unladenPressed))
    }
}

/// Central's decision for a request.
public struct DecisionMessage: Sendable, Hashable {
    public var requestID: UInt64
    /// Central's id for the decision (journal, overrides, "instruction shown").
    public var decisionID: UInt64
    public var decision: Decision

    public init(requestID: UInt64, decisionID: UInt64, decision: Decision) {
        self.requestID = requestID
        self.decisionID = decisionID
        self.decision = decision
    }
}

/// The buttons on a kiosk.
public enum LaneButton: UInt8, Sendable, Hashable, CaseIterable {
    case unladen = 1
    case help = 2
}

/// Something that happened at a lane, reported to central.
public struct LaneEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// `kernelNanoseconds` is the GPIO event's own timestamp (see
        /// `ButtonEvent.timestampNanoseconds`): compare it only with others.
        case buttonPressed(LaneButton, kernelNanoseconds: UInt64)
        case buttonReleased(LaneButton, kernelNanoseconds: UInt64)
        case instructionShown(Instruction, decisionID: UInt64)
        /// The vehicle of passage `passageID` left the lane; `ubr` is the
        /// bundle of the decision it was shown, if any. Central turns the
        /// bundle the passage claimed into used (lane decisions, rule 1).
        case vehicleLeft(vrn: VRN, ubr: UBR?, passageID: UInt64)
        case laneOpened
        case laneClosed
        case fault(code: UInt16, text: String)
    }

    /// The lane's wall-clock time of the event: an event may wait in the
    /// outbox, so the send time is not the event time.
    public var occurredAt: Date
    public var kind: Kind

    public init(occurredAt: Date, _ kind: Kind) {
        self.occurredAt = occurredAt
        self.kind = kind
    }
}

/// Help-call signalling between a lane's intercom and an officer.
public enum HelpCallSignal: Sendable, Hashable {
    /// The driver pressed help; the lane picks `callID`.
    case ring(callID: UInt64)
    case answer(callID: UInt64, officer: String)
    case hold(callID: UInt64)
    case end(callID: UInt64)
    /// A canned phrase (shown translated on the lane) plus free text.
    case officerMessage(callID: UInt64, phraseID: UInt16, text: String)
}

/// An officer's command to a lane.
public enum OfficerCommand: Sendable, Hashable {
    /// Replace the decision for `requestID` with this instruction and reason.
    case override(requestID: UInt64, instruction: Instruction, reason: Reason, officer: String, text: String)
    case openLane(officer: String)
    case closeLane(officer: String)
    case offlineMode(on: Bool, officer: String)
}

/// A CCRN as a lane's offline cache holds it.
public struct CachedCCRN: Sendable, Hashable {
    public var ccrn: CCRN
    /// The last Hong Kong day on which it may cross.
    public var validUntil: CalendarDay

    public init(ccrn: CCRN, validUntil: CalendarDay) {
        self.ccrn = ccrn
        self.validUntil = validUntil
    }
}

/// A bundle as a lane's offline cache holds it.
public struct CachedBundle: Sendable, Hashable {
    public var ubr: UBR
    public var vrn: VRN
    public var direction: Direction
    public var ccrns: [CachedCCRN]
    public var earliestCrossing: Date
    public var status: BundleStatus

    public init(
        ubr: UBR, vrn: VRN, direction: Direction, ccrns: [CachedCCRN], earliestCrossing: Date,
        status: BundleStatus
    ) {
        self.ubr = ubr
        self.vrn = vrn
        self.direction = direction
        self.ccrns = ccrns
        self.earliestCrossing = earliestCrossing
        self.status = status
    }
}

/// One chunk of a bundle-cache push. A push is `count` chunks with the same
/// `generation`; a lane swaps its cache only when it holds all of them, so
/// it never decides from half a generation.
public struct BundleCacheChunk: Sendable, Hashable {
    /// Increases with every push; a chunk of an older generation is ignored.
    public var generation: UInt64
    /// 0-based, below ``count``.
    public var index: UInt16
    public var count: UInt16
    public var bundles: [CachedBundle]
    public var watchList: [WatchTarget]

    public init(
        generation: UInt64, index: UInt16, count: UInt16, bundles: [CachedBundle], watchList: [WatchTarget]
    ) {
        self.generation = generation
        self.index = index
        self.count = count
        self.bundles = bundles
        self.watchList = watchList
    }
}

/// NTP-style time sync: the lane asks, central answers with when it got the
/// request and when it replied; the lane takes its own receive time.
public enum TimeSync: Sendable, Hashable {
    case request(sentAt: Date)
    case reply(requestSentAt: Date, receivedAt: Date, repliedAt: Date)

    /// Central's clock minus the lane's, from a reply the lane received at
    /// `replyReceivedAt`: ((t2 - t1) + (t3 - t4)) / 2, which cancels a
    /// symmetric network delay. Nil for a request.
    public func offset(replyReceivedAt t4: Date) -> TimeInterval? {
        guard case .reply(let t1, let t2, let t3) = self else { return nil }
        return (t2.timeIntervalSince(t1) + t3.timeIntervalSince(t4)) / 2
    }
}

/// A change to a lane's cache after a full push, numbered so that the lane
/// can tell when it missed one. Deltas of one generation are numbered 1,
/// 2, 3, ... and apply only in that order; a lane that sees a gap (or a
/// delta for a generation it does not hold) asks for a full push with
/// ``LaneMessage/cacheResync(have:)``.
public struct BundleCacheDelta: Sendable, Hashable {
    public enum Change: Sendable, Hashable {
        /// The bundle is active (new, or changed): hold it as given.
        case put(CachedBundle)
        /// The bundle is no longer active (used, claimed at another lane,
        /// debundled, a CCRN withdrawn): drop it.
        case drop(UBR)
        /// The watch list, whole, as the lane should now hold it.
        case watchList([WatchTarget])
    }

    /// The full push these changes apply on top of.
    public var generation: UInt64
    /// 1 for the first delta after the push, then one more each.
    public var sequence: UInt64
    public var changes: [Change]

    public init(generation: UInt64, sequence: UInt64, changes: [Change]) {
        self.generation = generation
        self.sequence = sequence
        self.changes = changes
    }

    /// The cache version a lane holds once this delta is applied.
    public var version: CacheVersion { CacheVersion(generation: generation, sequence: sequence) }
}
