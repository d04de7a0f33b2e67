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
///
/// Central also refuses a hello more than its window ahead of its own clock
/// (and does not record it). So after a forward clock step is undone, the
/// counters sent during the step would keep the lane refused until real time
/// caught up with them. Every second hello after one that opened no session
/// therefore takes the clock itself when the clock is past the last hello
/// that did open one but behind the highest sent: central accepted that
/// opened one, and refused as ahead (without recording) the ones above the
/// clock, so the clock is above its record unless a hello central accepted
/// never reached the lane as a session; then the other hellos, which count
/// on from the highest sent, get through. Counting below refused hellos lets
/// nothing in that replaying a captured one could not already bring.
public struct SigningTimestamper: Sendable, Hashable {
    /// The highest counter handed out; zero before the first.
    public private(set) var last: UInt64
    /// The counter of the last hello that opened a session; zero before one.
    public private(set) var opened: UInt64 = 0
    /// Hellos handed out since one opened a session.
    public private(set) var unopened = 0

    /// Start after `last` (the lane's last hello before a reconnect).
    public init(last: UInt64 = 0) { self.last = last }

    /// The counter for a hello made at `now`.
    public mutating func next(now: Date) -> UInt64 {
        let us = WireTime.microseconds(now)
        let clock = us > 0 ? UInt64(us) : 0
        unopened += 1
        if unopened.isMultiple(of: 2), clock > opened, clock < last { return clock }
        last = clock > last ? clock : last &+ 1
        return last
    }

    /// The hello with `counter` opened a session: central accepted it and
    /// holds it as the lane's last. Later hellos count on from it.
    public mutating func didOpen(_ counter: UInt64) {
        opened = counter
        last = counter
        unopened = 0
    }
}
