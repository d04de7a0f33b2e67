import Foundation
import RoadCargo

/// One clearanced process in a cluster: 1 to 64 of A-Z, a-z, 0-9, '.', '-'
/// and '_' (a host name fits), unique among the nodes on one database.
public struct NodeID: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let value: String

    /// - Throws: ``ClusterError/invalidNodeID(_:)`` naming what is wrong.
    public init(_ raw: String) throws(ClusterError) {
        guard !raw.isEmpty, raw.utf8.count <= 64,
            raw.unicodeScalars.allSatisfy({
                ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0)
                    || $0 == "-" || $0 == "_" || $0 == "."
            })
        else { throw .invalidNodeID(raw) }
        value = raw
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        try self.init(raw)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    public var description: String { value }
    public static func < (a: NodeID, b: NodeID) -> Bool { a.value < b.value }
}

/// What the cluster refuses, in sentences a person can act on.
public enum ClusterError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidNodeID(String)
    /// A lane has too many commands waiting for a node to take it.
    case tooManyQueued(lane: LaneID, limit: Int)
    /// A command's message is larger than the link carries.
    case messageTooLarge(lane: LaneID, bytes: Int, limit: Int)
    /// A row in the cluster's tables this build cannot read.
    case badRow(String)
    /// Another process beats under this node's id.
    case nodeIDInUse(NodeID)

    public var description: String {
        switch self {
        case .invalidNodeID(let raw):
            "a node id is 1 to 64 of A-Z, a-z, 0-9, '.', '-' and '_'; \"\(raw)\" is not"
        case .tooManyQueued(let lane, let limit):
            "lane \(lane) already has \(limit) commands waiting for a node to link it; wait until it is linked"
        case .messageTooLarge(let lane, let bytes, let limit):
            "a command to lane \(lane) of \(bytes) bytes is over the link's \(limit)"
        case .badRow(let what): "the cluster's tables hold a row this version cannot read: \(what)"
        case .nodeIDInUse(let node):
            "another clearanced is running as node \(node) on this database; give each node its own --node-id"
        }
    }
}

/// One row of the lane-session table: who holds the lane since when, under
/// which epoch. The epoch only grows, so of two claims the later one wins.
public struct LaneClaim: Sendable, Hashable, Codable {
    public var lane: LaneID
    /// nil once the holder let the lane go (its session ended).
    public var node: NodeID?
    public var epoch: Int64
    public var linkedAt: Date?

    public init(lane: LaneID, node: NodeID?, epoch: Int64, linkedAt: Date?) {
        self.lane = lane
        self.node = node
        self.epoch = epoch
        self.linkedAt = linkedAt
    }
}

/// Which lanes this node holds, and what to do when sessions start and end
/// here and claims arrive from the other nodes: a value fed one event at a
/// time, returning the actions its owner (``ClusterNode``) performs.
///
/// The rule for a split brain (a lane linked to two nodes at once after a
/// network blip, the older session not yet timed out): the newest claim
/// wins. A node that sees another node's claim on a lane above its own
/// epoch closes its own session with that lane; the lane's newer session
/// is the one that can still talk to it.
public struct LaneOwnership: Sendable, Hashable {
    public enum Event: Sendable, Hashable {
        /// The link server here established a session with the lane.
        case sessionEstablished(LaneID)
        /// Our claim for the lane is committed under `epoch`.
        case claimed(LaneID, epoch: Int64)
        /// The lane's session here ended (and no newer one here replaced it).
        case sessionEnded(LaneID)
        /// A claim read from the table (a notification or a sweep).
        case observed(LaneClaim)
        /// Commands for the lane were queued in the table.
        case commandsQueued(LaneID)
        /// The periodic sweep: the table's rows for every lane this node has
        /// a session with (a lane missing from `rows` has no row).
        case sweep(rows: [LaneClaim])
    }

    public enum Action: Sendable, Hashable {
        /// Write a claim for the lane with a new epoch, and announce it.
        case claim(LaneID)
        /// Let the lane go in the table, if the claim under `epoch` is still ours.
        case release(LaneID, epoch: Int64)
        /// Close this node's session with the lane: `winner` holds it now.
        case closeSession(LaneID, winner: LaneClaim)
        /// Deliver the lane's queued commands over its session here.
        case deliverPending(LaneID)
    }

    enum Session: Sendable, Hashable {
        /// The claim is being written; the highest epoch another node was
        /// seen to hold meanwhile, which may turn out newer than ours.
        case claiming(rival: LaneClaim?)
        case held(epoch: Int64)
    }

    public let node: NodeID
    var sessions: [LaneID: Session] = [:]

    public init(node: NodeID) {
        self.node = node
    }

    /// Lanes with a session here whose claim is committed, and their epochs.
    public var held: [LaneID: Int64] {
        sessions.compactMapValues { if case .held(let epoch) = $0 { epoch } else { nil } }
    }

    /// Whether the lane has a session here (claimed or being claimed).
    public func hasSession(_ lane: LaneID) -> Bool { sessions[lane] != nil }

    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .sessionEstablished(let lane):
            // A reconnect to this node claims again: the new session gets a
            // new epoch, so that an old claim read later loses.
            sessions[lane] = .claiming(rival: nil)
            return [.claim(lane)]

        case .claimed(let lane, let epoch):
            switch sessions[lane] {
            case nil:
                // The session ended while the claim was written.
                return [.release(lane, epoch: epoch)]
            case .claiming(let rival?) where rival.epoch > epoch:
                sessions[lane] = nil
                return [.closeSession(lane, winner: rival)]
            case .held(let old) where old > epoch:
                return []
            case .claiming, .held:
                sessions[lane] = .held(epoch: epoch)
                return [.deliverPending(lane)]
            }

        case .sessionEnded(let lane):
            let session = sessions.removeValue(forKey: lane)
            if case .held(let epoch) = session { return [.release(lane, epoch: epoch)] }
            // A claim still being written is released when it returns.
            return []

        case .observed(let claim):
            return observe(claim)

        case .commandsQueued(let lane):
            if case .held = sessions[lane] { return [.deliverPending(lane)] }
            return []

        case .sweep(let rows):
            let byLane = Dictionary(
                rows.map { ($0.lane, $0) }, uniquingKeysWith: { a, b in a.epoch > b.epoch ? a : b })
            var actions: [Action] = []
            for (lane, session) in sessions.sorted(by: { $0.key < $1.key }) {
                guard case .held(let epoch) = session else { continue }
                // Read before our newer claim committed: says nothing now.
                if let row = byLane[lane], row.epoch < epoch { continue }
                if let row = byLane[lane], row.epoch > epoch, row.node != node {
                    actions += observe(row)
                } else if let row = byLane[lane], row.epoch == epoch, row.node == node {
                    // A notification may have been missed while the
                    // listener reconnected: look for commands anyway.
                    actions.append(.deliverPending(lane))
                } else {
                    // Our row is gone or was released by mistake: claim
                    // again rather than hold a lane nobody can route to.
                    sessions[lane] = .claiming(rival: nil)
                    actions.append(.claim(lane))
                }
            }
            return actions
        }
    }

    private mutating func observe(_ claim: LaneClaim) -> [Action] {
        guard let session = sessions[claim.lane], let holder = claim.node, holder != node else { return [] }
        switch session {
        case .claiming(let rival):
            if claim.epoch > (rival?.epoch ?? .min) { sessions[claim.lane] = .claiming(rival: claim) }
            return []
        case .held(let epoch):
            guard claim.epoch > epoch else { return [] }
            sessions[claim.lane] = nil
            return [.closeSession(claim.lane, winner: claim)]
        }
    }
}
