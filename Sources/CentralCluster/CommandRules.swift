import Foundation
import RoadCargo

/// Where an officer's message to a lane goes, decided from what this node
/// has and what the lane-session table says.
public enum CommandRoute: Sendable, Hashable {
    /// The lane has a session here: send it over that session now.
    case here
    /// Queue it in the command table: for `holder`, the live node that has
    /// the lane, or (nil) for whichever node links the lane next.
    case queue(holder: NodeID?)

    /// - Parameters:
    ///   - localSession: whether this node has a session with the lane.
    ///   - claim: the lane's row in the lane-session table.
    ///   - alive: the nodes whose heartbeat is recent.
    public static func decide(
        localSession: Bool, claim: LaneClaim?, alive: Set<NodeID>, me: NodeID
    ) -> CommandRoute {
        if localSession { return .here }
        guard let holder = claim?.node, holder != me, alive.contains(holder) else {
            return .queue(holder: nil)
        }
        return .queue(holder: holder)
    }
}

/// Whether a queued command still makes sense when a node comes to deliver
/// it: an "open the lane" from ten minutes ago, replayed when the lane
/// links again, would surprise the officer who has moved on.
public enum CommandReplay: Sendable, Hashable {
    case deliver
    /// Marked expired and never sent; the console lists it.
    case expire(ageSeconds: Int)

    /// The default: a minute, past any link failover (5 s) and short enough
    /// that the officer who asked is still at the console.
    public static let defaultMaxAge: TimeInterval = 60

    public static func decide(requestedAt: Date, now: Date, maxAge: TimeInterval = defaultMaxAge)
        -> CommandReplay
    {
        let age = now.timeIntervalSince(requestedAt)
        // A clock moved back (a restored snapshot) leaves a negative age: deliver.
        return age > maxAge ? .expire(ageSeconds: Int(age.rounded(.down))) : .deliver
    }
}

/// Which nodes are alive: those whose heartbeat, written with the
/// database's clock, is no older than `deadAfter` by the same clock, so
/// that nodes whose own clocks disagree still agree on who is dead.
public enum NodeLiveness {
    /// The default: three missed heartbeats at ``ClusterSettings/heartbeat``'s default.
    public static let defaultDeadAfter: TimeInterval = 6

    public static func alive(
        heartbeats: [(node: NodeID, at: Date)], now: Date, deadAfter: TimeInterval = defaultDeadAfter
    ) -> Set<NodeID> {
        Set(heartbeats.filter { now.timeIntervalSince($0.at) <= deadAfter }.map(\.node))
    }
}

/// A command row as the command table keeps it.
public struct QueuedCommand: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, Codable {
        case queued
        case delivered
        case expired
    }

    public var id: Int64
    public var lane: LaneID
    /// What the console calls it: open, close, offline, override, help.
    public var kind: String
    /// The link message, encoded (LinkCore's `LaneMessage.encode()`).
    public var message: [UInt8]
    /// The officer-action record it carries out, when it is one.
    public var actionID: Int64?
    public var officer: String
    /// Push a fresh bundle cache before the message ("offline on").
    public var pushCacheFirst: Bool
    public var requestedAt: Date
    public var queuedBy: NodeID
    /// The node that held the lane when it was queued; nil: none did.
    public var queuedFor: NodeID?
    public var state: State
    /// The node that delivered or expired it, and when.
    public var settledBy: NodeID?
    public var settledAt: Date?
    /// The link message id it went out under.
    public var messageID: UInt64?

    public init(
        id: Int64 = 0, lane: LaneID, kind: String, message: [UInt8], actionID: Int64?, officer: String,
        pushCacheFirst: Bool, requestedAt: Date, queuedBy: NodeID, queuedFor: NodeID?, state: State = .queued,
        settledBy: NodeID? = nil, settledAt: Date? = nil, messageID: UInt64? = nil
    ) {
        self.id = id
        self.lane = lane
        self.kind = kind
        self.message = message
        self.actionID = actionID
        self.officer = officer
        self.pushCacheFirst = pushCacheFirst
        self.requestedAt = requestedAt
        self.queuedBy = queuedBy
        self.queuedFor = queuedFor
        self.state = state
        self.settledBy = settledBy
        self.settledAt = settledAt
        self.messageID = messageID
    }
}
