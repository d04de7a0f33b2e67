import Foundation
import LinkCore
import RoadCargo
import Synchronization

/// A ``LinkKeyring`` behind a lock, shared by every connection of one link
/// end: central adds, rotates and withdraws lanes' keys while it runs.
public final class SharedKeyring: Sendable {
    private let ring: Mutex<LinkKeyring>

    /// Shares `ring`.
    public init(_ ring: LinkKeyring) { self.ring = Mutex(ring) }

    /// The keys to try for a hello from `laneID` at `now` (current, then previous).
    public func candidates(for laneID: LaneID, now: Date) -> [LinkKey] {
        ring.withLock { $0.candidates(for: laneID, now: now) }
    }

    /// The current key for `laneID`, if the keyring holds one.
    public func key(for laneID: LaneID) -> LinkKey? { ring.withLock { $0[laneID] } }

    /// Adds or replaces a lane's key while running.
    public func insert(_ key: LinkKey) { ring.withLock { $0.insert(key) } }

    /// Rotates a lane's key while running; the previous one stays valid until `until`.
    public func rotate(to key: LinkKey, previous: LinkKey, until: Date) {
        ring.withLock { $0.rotate(to: key, previous: previous, until: until) }
    }

    /// Withdraws a lane's key: its hellos are dropped from now on.
    public func remove(_ laneID: LaneID) { ring.withLock { $0.remove(laneID) } }

    /// Replaces every key at once (central's key directory read again) and
    /// returns the keyring it replaced.
    public func replace(with new: LinkKeyring) -> LinkKeyring {
        ring.withLock { ring in
            let old = ring
            ring = new
            return old
        }
    }
}

/// What one endpoint counted, for tests, metrics and `lanectl status`.
public struct EndpointCounters: Sendable, Hashable {
    /// Frames the deframer or the cipher dropped, by cause.
    public var frameDrops = FrameDropCounts()
    /// Authentic frames signed by a lane other than the one this connection
    /// belongs to (another lane's key on this lane's line). Dropped.
    public var wrongLaneDropped = 0
    /// Authentic data packets whose payload is not a message this build
    /// understands. Acknowledged (the peer would resend them forever) and dropped.
    public var undecodable = 0
    /// Deliveries whose handler threw; the session was ended so the peer resends.
    public var handlerFailures = 0
    /// Frames written and bytes written, bytes read.
    public var framesSent = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    /// Packets that passed every check and went to the session.
    public var packetsReceived = 0
    /// Connections closed for too many frames that failed their tag.
    public var closedForBadTags = 0
    /// Hellos dropped by the handshake rate limits (central).
    public var helloRateLimited = 0
    /// Hellos whose counter was at or below the lane's last accepted one
    /// (a replay, refused; central).
    public var helloReplays = 0
    /// Hellos whose counter was ahead of central's clock by more than the
    /// window (a lane's clock stepped forward; refused, not recorded; central).
    public var helloAhead = 0
    /// Connections refused at accept by the connection caps (central).
    public var connectionsRefused = 0
    /// Connections closed because the lane never proved its keys in time.
    public var unconfirmedTimeouts = 0
    /// The session's own counters (stale packets, duplicates, resends...).
    public var session = LinkSession.Counters()

    public init() {}

    /// Every frame dropped below the session, for any reason.
    public var totalDropped: Int { frameDrops.total + wrongLaneDropped }

    /// Adds another endpoint's counters (one lane's successive connections).
    public static func + (a: EndpointCounters, b: EndpointCounters) -> EndpointCounters {
        var sum = a
        sum.frameDrops = a.frameDrops + b.frameDrops
        sum.wrongLaneDropped += b.wrongLaneDropped
        sum.undecodable += b.undecodable
        sum.handlerFailures += b.handlerFailures
        sum.framesSent += b.framesSent
        sum.bytesSent += b.bytesSent
        sum.bytesReceived += b.bytesReceived
        sum.packetsReceived += b.packetsReceived
        sum.closedForBadTags += b.closedForBadTags
        sum.helloRateLimited += b.helloRateLimited
        sum.helloReplays += b.helloReplays
        sum.helloAhead += b.helloAhead
        sum.connectionsRefused += b.connectionsRefused
        sum.unconfirmedTimeouts += b.unconfirmedTimeouts
        sum.session.staleDropped += b.session.staleDropped
        sum.session.earlyDropped += b.session.earlyDropped
        sum.session.duplicatesSuppressed += b.session.duplicatesSuppressed
        sum.session.resends += b.session.resends
        sum.session.unexpectedAcks += b.session.unexpectedAcks
        sum.session.heartbeatsSent += b.session.heartbeatsSent
        sum.session.deadPeers += b.session.deadPeers
        return sum
    }
}

/// Encodes an application message as a data payload, and back.
enum EndpointPayload {
    static func encode(_ message: LaneMessage) throws -> [UInt8] {
        guard message.packetKind == .data else {
            throw EndpointError.notApplicationMessage(message.name)
        }
        return try message.packet(sequence: 0).payload
    }

    static func decode(_ payload: [UInt8]) throws -> LaneMessage {
        try LaneMessage(packet: LinkPacket(kind: .data, sequence: 0, payload: payload))
    }
}

/// Misuse of the link's executor.
public enum EndpointError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Control messages (hello, ack, heartbeat...) belong to the session, not
    /// to the application.
    case notApplicationMessage(String)

    public var description: String {
        switch self {
        case .notApplicationMessage(let name):
            "a \(name) is a control message; only application messages can be sent"
        }
    }
}
