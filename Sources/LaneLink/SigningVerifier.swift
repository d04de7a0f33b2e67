import Foundation
import RoadCargo

/// A packet that passed every check, with who signed it.
public struct ReceivedPacket: Sendable, Hashable {
    /// The packet as the sender framed it.
    public var packet: LinkPacket
    /// The authenticated sender's lane id (the key that verified the frame).
    /// Central must take the lane from here, never from a payload field.
    public var keyID: LaneID
    /// The sender's signing timestamp, µs since the Unix epoch.
    public var timestamp: UInt64

    /// A packet verified as sent by `keyID` at `timestamp`.
    public init(packet: LinkPacket, keyID: LaneID, timestamp: UInt64) {
        self.packet = packet
        self.keyID = keyID
        self.timestamp = timestamp
    }
}

/// The receiver's half of signing: key lookup, HMAC, direction, time window
/// and replay, in that order. A value: the transport owns it and feeds it
/// frames; tests need no clock but a `Date`.
///
/// Central should share one verifier (behind a lock) across all connections
/// of its lanes, so that a frame replayed on a second connection meets the
/// same last-timestamp table. Nothing is updated for a frame that fails a
/// check, so unauthenticated input cannot move the table.
public struct SignatureVerifier: Sendable {
    /// The keys accepted; replace or edit while running to add or withdraw lanes.
    public var keys: LinkKeyring
    /// The direction of the frames this side receives.
    public let receiving: LinkDirection
    /// How far a frame's timestamp may be from the receiver's clock, either
    /// way, in microseconds.
    public var windowMicroseconds: UInt64
    /// The last timestamp accepted per key in the receiving direction.
    /// Persist it across restarts to keep replays out then too; without it a
    /// restarted receiver accepts a replay younger than the window once (the
    /// session layer's applied-id table keeps that harmless).
    public private(set) var lastAccepted: [LaneID: UInt64]

    /// The default window: ±60 s.
    public static let defaultWindowSeconds: Double = 60

    /// A verifier for frames travelling `receiving`, with a ±`windowSeconds` window.
    public init(
        keys: LinkKeyring, receiving: LinkDirection, windowSeconds: Double = defaultWindowSeconds,
        lastAccepted: [LaneID: UInt64] = [:]
    ) {
        precondition(windowSeconds >= 0, "a time window is not negative")
        self.keys = keys
        self.receiving = receiving
        self.windowMicroseconds = UInt64(windowSeconds * 1_000_000)
        self.lastAccepted = lastAccepted
    }

    /// Authenticates `frame` against the clock reading `now`; on success,
    /// records its timestamp as the last accepted from its key.
    public mutating func verify(_ frame: SignedFrame, now: Date) -> Result<ReceivedPacket, FrameDropCause> {
        guard let key = keys[frame.keyID] else { return .failure(.unknownKey) }
        let expected = Signing.tag(frame.signedBytes, key: key)
        guard Signing.constantTimeEqual(expected[...], frame.tag[...]) else { return .failure(.badSignature) }
        guard frame.direction == receiving else { return .failure(.wrongDirection) }
        let clock = UInt64(max(0, WireTime.microseconds(now)))
        let distance = frame.timestamp > clock ? frame.timestamp - clock : clock - frame.timestamp
        guard distance <= windowMicroseconds else { return .failure(.outsideWindow) }
        if let last = lastAccepted[frame.keyID], frame.timestamp <= last { return .failure(.replay) }
        lastAccepted[frame.keyID] = frame.timestamp
        return .success(ReceivedPacket(packet: frame.packet, keyID: frame.keyID, timestamp: frame.timestamp))
    }
}
