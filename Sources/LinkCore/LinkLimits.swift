import Foundation
import RoadCargo

/// A token bucket as a pure value: `capacity` tokens, refilled at `rate` per
/// second of the injected clock; taking one fails when none is left.
public struct TokenBucket: Sendable, Hashable {
    public let capacity: Double
    public let rate: Double
    public private(set) var tokens: Double
    public private(set) var updated: Date

    /// A full bucket at `now`.
    public init(capacity: Double, rate: Double, now: Date) {
        precondition(capacity >= 1 && rate > 0, "a bucket holds at least one token and refills")
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.updated = now
    }

    /// Takes a token at `now` if there is one.
    public mutating func take(now: Date) -> Bool {
        let elapsed = max(0, now.timeIntervalSince(updated))
        tokens = min(capacity, tokens + elapsed * rate)
        updated = max(updated, now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// What central allows strangers (and lanes) on the link: see
/// docs/link-operations.md for the defaults and why.
public struct LinkLimits: Sendable, Hashable {
    /// Hello frames per second from anybody, with a burst (a reconnect storm
    /// of every lane at once must fit in the burst).
    public var handshakesPerSecond: Double = 20
    public var handshakeBurst: Double = 200
    /// Accepted hellos per second per lane, with a burst.
    public var laneHandshakesPerSecond: Double = 0.5
    public var laneHandshakeBurst: Double = 5
    /// Connections that have not proved their keys yet (handshake running).
    public var maxUnconfirmedConnections = 256
    /// Link connections in all.
    public var maxConnections = 1024
    /// Frames failing their tag tolerated per connection; the next closes it.
    public var maxBadTagsPerConnection = LinkLimits.defaultMaxBadTags

    /// The default limit of frames failing their tag before a connection is dropped.
    public static let defaultMaxBadTags = 8

    public init() {}
}

/// The handshake rate limits as one value: a bucket for all hellos and one
/// per lane.
public struct HandshakeLimiter: Sendable {
    public let limits: LinkLimits
    private var all: TokenBucket
    private var lanes: [LaneID: TokenBucket] = [:]

    public init(limits: LinkLimits, now: Date) {
        self.limits = limits
        self.all = TokenBucket(capacity: limits.handshakeBurst, rate: limits.handshakesPerSecond, now: now)
    }

    /// A hello frame arrived (not yet decrypted): charged to the global bucket.
    public mutating func helloFrame(now: Date) -> Bool { all.take(now: now) }

    /// A hello decrypted and passed its replay check: charged to its lane,
    /// so that nobody without the lane's key can use up the lane's budget.
    public mutating func laneHello(_ lane: LaneID, now: Date) -> Bool {
        var bucket =
            lanes[lane]
            ?? TokenBucket(
                capacity: limits.laneHandshakeBurst, rate: limits.laneHandshakesPerSecond, now: now)
        let ok = bucket.take(now: now)
        lanes[lane] = bucket
        return ok
    }
}
