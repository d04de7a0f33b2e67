/// The instant type every session timer uses: monotonic, so a wall-clock step
/// (NTP, an officer fixing the date) never fires or starves a timer.
public typealias SessionInstant = ContinuousClock.Instant

extension LinkSession {
    /// Which end of the link this session is.
    public enum Role: Sendable, Hashable {
        /// The lane: connects, says hello, waits for a welcome.
        case initiator(SessionHello)
        /// Central: waits for a hello and answers it with the highest version
        /// both speak and the capabilities both have.
        case responder(versions: [UInt16], capabilities: Set<String>)
    }

    /// Timers and limits. The defaults are the ones `docs/link-reliability.md`
    /// gives reasons for.
    public struct Configuration: Sendable {
        public var role: Role
        /// How long the handshake may take from `connected` to established.
        public var handshakeTimeout: Duration = .seconds(5)
        /// A heartbeat goes out when nothing else was sent for this long, so the
        /// peer hears from us at least this often.
        public var heartbeatInterval: Duration = .seconds(1)
        /// A peer heard nothing from for this long is dead; the session closes
        /// with ``CloseReason/deadPeer``. Must exceed the heartbeat interval by
        /// enough for a lost heartbeat or two.
        public var deadPeerInterval: Duration = .seconds(3)
        /// The first resend of an unacknowledged data packet waits this long;
        /// each further one waits twice as long as the last, up to ``resendCap``.
        public var resendInitial: Duration = .milliseconds(250)
        public var resendCap: Duration = .seconds(5)
        /// Data packets sent and not yet acknowledged, at most. Bounds the burst
        /// of resends after a loss, which matters at 115200 baud.
        public var maxInFlight: Int = 16
        /// Message ids per ack packet: 64 ids make a 514-byte payload.
        public var maxIDsPerAck: Int = 64
        /// How many applied message ids the session remembers, to re-acknowledge
        /// a duplicate without delivering it again. Older duplicates are delivered
        /// again and the applied log turns them into no-ops.
        public var recentlyAppliedCapacity: Int = 1024
        /// Turns handshake payloads into bytes and back.
        public var handshakeCoding: SessionHandshakeCoding = .interim

        public init(role: Role) {
            self.role = role
        }
    }

    /// Why a session ended. The executor logs it and, on the lane, hands it to
    /// the reconnect backoff.
    public enum CloseReason: Sendable, Hashable {
        /// No packet from the peer for the dead-peer interval.
        case deadPeer
        /// The handshake did not finish within its timeout.
        case handshakeTimedOut
        /// Central refused our hello (initiator).
        case refused(SessionRefusal)
        /// We refused the peer's hello (responder).
        case refusedPeer(SessionRefusal)
        /// The peer said goodbye.
        case peerSaidGoodbye
        /// We are shutting down (``LinkSession/shutDown(now:)``).
        case localShutdown
        /// The peer broke the protocol: a packet that has no place in the
        /// current state, or a payload that does not decode.
        case protocolViolation(String)
        /// Our send sequence reached its maximum; a fresh session starts over.
        case sequenceExhausted
        /// The transport went away (``LinkSession/disconnected()``).
        case disconnected
    }

    /// What the session counted; for metrics and for tests.
    public struct Counters: Sendable, Hashable {
        /// Packets dropped because their sequence was not past the last accepted one.
        public var staleDropped = 0
        /// Packets that overtook central's welcome and were dropped unread.
        public var earlyDropped = 0
        /// Data packets whose id was already applied or being applied.
        public var duplicatesSuppressed = 0
        /// Data packets (and hellos) sent again for want of an acknowledgement (a welcome).
        public var resends = 0
        /// Acknowledged ids that were not (or no longer) waiting for an ack.
        public var unexpectedAcks = 0
        public var heartbeatsSent = 0
        /// Sessions ended because the peer fell silent for the dead-peer interval.
        public var deadPeers = 0

        public init() {}
    }
}

/// The payload of an ``PacketKind/ack`` packet: which data packets were
/// applied, by message id.
///
/// Layout: a big-endian u16 count, then that many big-endian u64 ids. Nothing
/// follows; a payload of any other length is malformed.
public enum SessionAck {
    public static func encode(_ ids: [UInt64]) -> [UInt8] {
        precondition(ids.count <= Int(UInt16.max), "an ack carries at most 65535 ids")
        var out = SessionByteWriter()
        out.u16(UInt16(ids.count))
        for id in ids { out.u64(id) }
        return out.bytes
    }

    /// Returns nil when the payload is not a well-formed ack.
    public static func decode(_ payload: [UInt8]) -> [UInt64]? {
        var input = SessionByteReader(payload)
        guard let count = input.u16(), payload.count == 2 + Int(count) * 8 else { return nil }
        return (0..<count).compactMap { _ in input.u64() }
    }
}
