/// The session layer's vocabulary: what a packet on the lane link is for.
///
/// Application messages (decision requests, decisions, lane events, help
/// calls, officer commands, cache pushes) all travel as ``data`` packets; the
/// session layer neither knows nor cares what is inside, it only delivers
/// each one at least once and lets the receiver apply it at most once.
public enum PacketKind: UInt8, Sendable, Hashable, CaseIterable {
    /// Opens a session: the sender's protocol versions, lane id, capabilities.
    case hello = 1
    /// Central accepts a hello: the chosen version and central's clock.
    case welcome = 2
    /// Central refuses a hello: unsupported version, unknown lane.
    case refuse = 3
    /// An application message that must be acknowledged.
    case data = 4
    /// Acknowledges data packets by message id.
    case ack = 5
    /// Keeps the session alive; a peer silent for the dead-peer interval is gone.
    case heartbeat = 6
    /// Orderly end of a session (shutdown, reload).
    case goodbye = 7
}

/// One packet, before framing and signing.
public struct LinkPacket: Sendable, Hashable {
    public var kind: PacketKind
    /// Strictly increasing per direction within one session; a receiver drops
    /// a packet whose sequence it has already passed (a replay or duplicate).
    public var sequence: UInt32
    /// For data packets: the sender's idempotency id, unique per sender for
    /// all time (a lane's outbox row id; central's own counter). The receiver
    /// applies a message id at most once. Zero for control packets.
    public var messageID: UInt64
    /// Kind-specific bytes: the encoded hello/welcome/refuse, an application
    /// message for data, acknowledged ids for ack, nothing for heartbeat.
    public var payload: [UInt8]

    public init(kind: PacketKind, sequence: UInt32, messageID: UInt64 = 0, payload: [UInt8] = []) {
        self.kind = kind
        self.sequence = sequence
        self.messageID = messageID
        self.payload = payload
    }
}
