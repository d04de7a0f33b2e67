import Foundation
import RoadCargo

/// Turns packets into signed, COBS-encoded, delimited bytes for the wire.
/// One per link end and direction; it owns the sender's timestamps.
public struct FrameEncoder: Sendable {
    /// The lane's key (central holds one encoder per lane, with that lane's key).
    public let key: LinkKey
    /// The direction of the frames this encoder writes.
    public let direction: LinkDirection
    /// Hands out strictly increasing signing timestamps.
    public private(set) var timestamps: SigningTimestamper

    /// An encoder signing with `key`; `lastTimestamp` resumes after a
    /// persisted timestamp.
    public init(key: LinkKey, direction: LinkDirection, lastTimestamp: UInt64 = 0) {
        self.key = key
        self.direction = direction
        self.timestamps = SigningTimestamper(last: lastTimestamp)
    }

    /// Appends the wire bytes of `packet`, stamped at `now`, to `output`:
    /// 0x00, COBS(frame), 0x00.
    ///
    /// The leading delimiter costs one byte and saves a frame: line noise
    /// just before it would otherwise run into the frame's first bytes and
    /// take the frame down with it. Between two frames the receiver sees an
    /// empty frame, which it ignores.
    public mutating func encode(_ packet: LinkPacket, now: Date, into output: inout [UInt8])
        throws(FrameEncodingError)
    {
        guard packet.payload.count <= FrameFormat.maxPayload else {
            throw .payloadTooLarge(count: packet.payload.count, limit: FrameFormat.maxPayload)
        }
        let frame = FrameFormat.build(
            packet, direction: direction, key: key, timestamp: timestamps.next(now: now))
        output.append(0)
        COBS.encode(frame, into: &output)
        output.append(0)
    }

    /// The wire bytes of `packet`, stamped with `clock`'s time.
    public mutating func encode(_ packet: LinkPacket, clock: any WallClock) throws(FrameEncodingError)
        -> [UInt8]
    {
        try encode(packet, now: clock.now())
    }

    /// The wire bytes of `packet`, stamped at `now`.
    public mutating func encode(_ packet: LinkPacket, now: Date) throws(FrameEncodingError) -> [UInt8] {
        var out: [UInt8] = []
        try encode(packet, now: now, into: &out)
        return out
    }
}

/// Why a packet could not be framed.
public enum FrameEncodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Split the message (bundle-cache pushes come in chunks for this).
    case payloadTooLarge(count: Int, limit: Int)

    public var description: String {
        switch self {
        case .payloadTooLarge(let count, let limit):
            "payload of \(count) bytes exceeds the \(limit)-byte frame limit"
        }
    }
}
