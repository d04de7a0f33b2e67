/// When to send a heartbeat and when to give up on a silent peer.
///
/// Any packet counts both ways: a heartbeat goes out only after
/// ``interval`` without sending anything else, so a busy link carries none,
/// and any accepted packet from the peer proves it alive. A peer that sends
/// every ``interval`` is declared dead only after ``deadPeerInterval`` (3 s
/// by default against 1 s heartbeats), which tolerates two lost heartbeats.
public struct HeartbeatTimer: Sendable, Hashable {
    public let interval: Duration
    public let deadPeerInterval: Duration
    /// When we last sent anything.
    public private(set) var lastSent: SessionInstant
    /// When we last accepted anything from the peer.
    public private(set) var lastHeard: SessionInstant

    /// Starts both clocks at `now`: the handshake just proved the peer alive
    /// and we just sent to it.
    public init(interval: Duration, deadPeerInterval: Duration, now: SessionInstant) {
        precondition(
            interval > .zero && deadPeerInterval > interval,
            "the dead-peer interval must exceed the heartbeat interval")
        self.interval = interval
        self.deadPeerInterval = deadPeerInterval
        self.lastSent = now
        self.lastHeard = now
    }

    public mutating func sent(at now: SessionInstant) { lastSent = max(lastSent, now) }
    public mutating func heard(at now: SessionInstant) { lastHeard = max(lastHeard, now) }

    /// Whether we have been quiet long enough to owe the peer a heartbeat.
    public func heartbeatDue(at now: SessionInstant) -> Bool { now >= lastSent + interval }

    /// Whether the peer has been silent for the dead-peer interval.
    public func peerDead(at now: SessionInstant) -> Bool { now >= lastHeard + deadPeerInterval }

    /// The earlier of the next heartbeat and the dead-peer deadline.
    public var nextDeadline: SessionInstant { min(lastSent + interval, lastHeard + deadPeerInterval) }
}
