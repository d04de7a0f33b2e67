import Crypto
import Foundation

/// Which way a frame travels. Signed into every frame (flags bit 0) so that a
/// frame central sent to a lane cannot be reflected back to central as if the
/// lane had sent it: both directions use the same lane key.
public enum LinkDirection: UInt8, Sendable, Hashable, CaseIterable {
    case laneToCentral = 0
    case centralToLane = 1

    /// The direction of the replies.
    public var reversed: LinkDirection { self == .laneToCentral ? .centralToLane : .laneToCentral }
}

/// The frame signature: HMAC-SHA256 truncated to ``tagLength`` bytes, as in
/// MAVLink v2 signing.
public enum Signing {
    /// 8 bytes (64 bits). MAVLink v2 uses 48. A forger without the key must
    /// guess; each guess costs a frame on a line central watches, and even at
    /// 10,000 frames/s the expected time to one success is about 29 million
    /// years. The 24 bytes saved against the full 32 are about 2 ms per frame
    /// at 115200 baud, which matters on serial lanes.
    public static let tagLength = 8

    /// The truncated tag over `signed` with `key`.
    public static func tag(_ signed: ArraySlice<UInt8>, key: LinkKey) -> [UInt8] {
        var h = key.hmac
        h.update(data: signed)
        return Array(h.finalize().prefix(tagLength))
    }

    /// Compares without an early exit, so the time taken does not tell a
    /// forger how many leading bytes of a guessed tag were right.
    public static func constantTimeEqual(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= x ^ y }
        return diff == 0
    }
}

/// The sender's signing timestamps: microseconds since the Unix epoch from
/// the injected clock, strictly increasing even when two frames are sent in
/// the same microsecond or the clock steps back (then it counts on from the
/// last one by one microsecond).
///
/// Strictly increasing because the receiver drops any frame whose timestamp
/// is not greater than the last it accepted from that key and direction:
/// that is the replay protection.
public struct SigningTimestamper: Sendable, Hashable {
    /// The last timestamp handed out; zero before the first.
    public private(set) var last: UInt64

    /// Start after `last`: a sender that persisted its last timestamp (as
    /// MAVLink recommends) resumes beyond it even if its clock is behind.
    public init(last: UInt64 = 0) { self.last = last }

    /// The timestamp for a frame sent at `now`.
    public mutating func next(now: Date) -> UInt64 {
        let us = WireTime.microseconds(now)
        let clock = us > 0 ? UInt64(us) : 0
        last = clock > last ? clock : last &+ 1
        return last
    }
}
