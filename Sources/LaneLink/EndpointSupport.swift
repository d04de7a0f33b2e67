import Foundation
import RoadCargo
import Synchronization

/// A ``SignatureVerifier`` behind a lock, shared by every connection of one
/// link end.
///
/// Central shares one across all lanes' connections and the lane keeps one
/// across reconnections: the last-timestamp table must outlive a connection,
/// or a frame captured from an old connection could be replayed on a new one.
public final class SharedVerifier: Sendable {
    private let verifier: Mutex<SignatureVerifier>

    /// Shares `verifier`.
    public init(_ verifier: SignatureVerifier) { self.verifier = Mutex(verifier) }

    /// A verifier for frames travelling `receiving`, accepting `keys`.
    public convenience init(
        keys: LinkKeyring, receiving: LinkDirection,
        windowSeconds: Double = SignatureVerifier.defaultWindowSeconds
    ) {
        self.init(SignatureVerifier(keys: keys, receiving: receiving, windowSeconds: windowSeconds))
    }

    /// Authenticates one frame against the clock reading `now`.
    public func verify(_ frame: SignedFrame, now: Date) -> Result<ReceivedPacket, FrameDropCause> {
        verifier.withLock { $0.verify(frame, now: now) }
    }

    /// The key for `laneID`, if the keyring holds one.
    public func key(for laneID: LaneID) -> LinkKey? { verifier.withLock { $0.keys[laneID] } }

    /// Adds or replaces a lane's key while running.
    public func insert(_ key: LinkKey) { verifier.withLock { $0.keys.insert(key) } }

    /// Withdraws a lane's key: its frames are dropped from now on.
    public func remove(_ laneID: LaneID) { verifier.withLock { $0.keys.remove(laneID) } }
}

/// What one endpoint counted, for tests, metrics and `lanectl status`.
public struct EndpointCounters: Sendable, Hashable {
    /// Frames the deframer or the verifier dropped, by cause.
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
