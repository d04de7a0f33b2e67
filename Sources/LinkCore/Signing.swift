import Foundation

/// Which way a frame travels. Carried in every frame (flags bit 0) and
/// authenticated with it; the two directions also use different transport
/// keys, so a frame reflected back to its sender does not decrypt.
public enum LinkDirection: UInt8, Sendable, Hashable, CaseIterable {
    case laneToCentral = 0
    case centralToLane = 1

    /// The direction of the replies.
    public var reversed: LinkDirection { self == .laneToCentral ? .centralToLane : .laneToCentral }
}

/// Comparison helpers for secrets.
public enum Signing {
    /// Compares without an early exit, so the time taken does not tell an
    /// attacker how many leading bytes of a guess were right.
    public static func constantTimeEqual(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= x ^ y }
        return diff == 0
    }
}

/// The lane's hello counters: microseconds since the Unix epoch from the
/// injected clock, strictly increasing even when two hellos are made in the
/// same microsecond or the clock steps back (then it counts on from the last
/// one by one).
///
/// Strictly increasing because central persists the last hello counter it
/// accepted from each lane and refuses any hello at or below it: that keeps
/// a captured hello out, even after central restarts.
public struct SigningTimestamper: Sendable, Hashable {
    /// The last counter handed out; zero before the first.
    public private(set) var last: UInt64

    /// Start after `last` (the lane's last hello before a reconnect).
    public init(last: UInt64 = 0) { self.last = last }

    /// The counter for a hello made at `now`.
    public mutating func next(now: Date) -> UInt64 {
        let us = WireTime.microseconds(now)
        let clock = us > 0 ? UInt64(us) : 0
        last = clock > last ? clock : last &+ 1
        return last
    }
}
