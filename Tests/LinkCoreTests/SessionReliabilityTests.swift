import RoadCargo
import Testing

@testable import LinkCore

/// Acknowledgement, resend, duplicates, sequences, heartbeats and dead peers,
/// on sessions established at 10 ms (see ``SessionFixture``).
@Suite("Session reliability")
struct SessionReliabilityTests {
    typealias F = SessionFixture

    @Test func acknowledgedDataIsNotResent() {
        var lane = F.establishedLane()
        lane.expect([
            (.enqueue(7, at: 20), [.send(.data(seq: 2, id: 7))]),
            (.received(.ack(seq: 2, [7]), at: 30), [.acknowledged([7])]),
            (.tick(at: 300), []),
            (.tick(at: 1019), []),
            (.tick(at: 1020), [.send(.heartbeat(seq: 3))]),
        ])
        #expect(lane.unacknowledgedMessageIDs == [])
        #expect(lane.counters.resends == 0)
    }

    @Test func lostAckMeansResendWithBackoffUntilAcknowledged() {
        var lane = F.establishedLane()
        lane.expect([
            (.enqueue(7, at: 20), [.send(.data(seq: 2, id: 7))]),
            (.tick(at: 269), []),
            (.tick(at: 270), [.send(.data(seq: 3, id: 7))]),  // 250 ms after the first
            (.tick(at: 769), []),
            (.tick(at: 770), [.send(.data(seq: 4, id: 7))]),  // 500 ms after the second
            (.received(.ack(seq: 2, [7]), at: 800), [.acknowledged([7])]),
            (.tick(at: 1770), [.send(.heartbeat(seq: 5))]),  // no third resend, only a heartbeat
        ])
        #expect(lane.counters.resends == 2)
    }

    @Test func resendIntervalStopsGrowingAtTheCap() {
        var lane = F.establishedLane {
            $0.resendCap = .milliseconds(600); $0.deadPeerInterval = .seconds(60)
        }
        _ = lane.enqueue(messageID: 7, payload: [0xAB], now: F.at(0))
        var sentAt: [Int] = []
        for ms in stride(from: 0, through: 3000, by: 10) {
            for case .send(let packet) in lane.tick(now: F.at(ms)) where packet.kind == .data {
                sentAt.append(ms)
            }
        }
        // Waits of 250, 500, then 600 ms each (the cap).
        #expect(sentAt == [250, 750, 1350, 1950, 2550])
    }

    @Test func duplicateDataIsAcknowledgedAgainButNotDeliveredAgain() {
        var central = F.establishedCentral()
        central.expect([
            (.received(.data(seq: 2, id: 40), at: 20), [.deliver(messageID: 40, payload: [0xAB])]),
            (.received(.data(seq: 3, id: 40), at: 30), []),  // still being applied: its ack follows
            (.applied(40, at: 40), [.send(.ack(seq: 2, [40]))]),
            (.received(.data(seq: 4, id: 40), at: 300), [.send(.ack(seq: 3, [40]))]),  // our ack was lost
        ])
        #expect(central.counters.duplicatesSuppressed == 2)
    }

    @Test func oldAndRepeatedSequencesAreDropped() {
        var central = F.establishedCentral()
        central.expect([
            (.received(.data(seq: 5, id: 1), at: 20), [.deliver(messageID: 1, payload: [0xAB])]),
            (.received(.data(seq: 5, id: 2), at: 21), []),  // same sequence: a duplicated frame
            (.received(.data(seq: 3, id: 3), at: 22), []),  // overtaken: the sender resends it
            (.received(.heartbeat(seq: 6), at: 23), []),
            (.received(.data(seq: 7, id: 3), at: 24), [.deliver(messageID: 3, payload: [0xAB])]),
        ])
        #expect(central.counters.staleDropped == 2)
    }

    @Test func heartbeatsWhenIdleKeepTheSessionAlive() {
        var lane = F.establishedLane()
        lane.expect([
            (.tick(at: 1009), []),
            (.tick(at: 1010), [.send(.heartbeat(seq: 2))]),
            (.received(.heartbeat(seq: 2), at: 1500), []),
            (.tick(at: 2010), [.send(.heartbeat(seq: 3))]),
            (.received(.heartbeat(seq: 3), at: 2500), []),
            (.tick(at: 3010), [.send(.heartbeat(seq: 4))]),
            (.tick(at: 5499), [.send(.heartbeat(seq: 5))]),
        ])
        #expect(lane.counters.heartbeatsSent == 4)
        #expect(lane.nextDeadline == F.at(5500))  // 3 s after the last heartbeat heard
    }

    @Test func busyLinkSendsNoHeartbeats() {
        var lane = F.establishedLane()
        lane.expect([
            (.enqueue(1, at: 900), [.send(.data(seq: 2, id: 1))]),
            (.received(.ack(seq: 2, [1]), at: 950), [.acknowledged([1])]),
            (.tick(at: 1010), []),  // data at 900 was enough
            (.tick(at: 1900), [.send(.heartbeat(seq: 3))]),
        ])
    }

    @Test func silentPeerIsDeadAfterThreeSeconds() {
        var lane = F.establishedLane()
        lane.expect([
            (.tick(at: 1010), [.send(.heartbeat(seq: 2))]),
            (.tick(at: 2010), [.send(.heartbeat(seq: 3))]),
            (.tick(at: 3009), []),
            (.tick(at: 3010), [.close(.deadPeer)]),
            (.tick(at: 4010), []),
        ])
        lane.disconnected()
        #expect(lane.state == .closed(.deadPeer))
        #expect(lane.counters.deadPeers == 1)
    }

    @Test func deadPeerIntervalIsConfigurable() {
        var lane = F.establishedLane { $0.deadPeerInterval = .milliseconds(1500) }
        lane.expect([(.tick(at: 1010), [.send(.heartbeat(seq: 2))]), (.tick(at: 1510), [.close(.deadPeer)])])
    }

    @Test func reconnectResendsEverythingUnacknowledgedInOrder() {
        var first = F.establishedLane()
        first.expect([
            (.enqueue(1, at: 20), [.send(.data(seq: 2, id: 1))]),
            (.enqueue(2, at: 20), [.send(.data(seq: 3, id: 2))]),
            (.enqueue(3, at: 20), [.send(.data(seq: 4, id: 3))]),
            (.received(.ack(seq: 2, [2]), at: 30), [.acknowledged([2])]),
        ])
        first.disconnected()

        var second = first.successor()
        second.expect([
            (.connected(at: 100), [.send(.hello(seq: 1, F.hello))]),
            (
                .received(.welcome(seq: 1, F.welcome), at: 110),
                [
                    .established(F.welcome, laneID: F.laneID), .send(.data(seq: 2, id: 1)),
                    .send(.data(seq: 3, id: 3)),
                ]
            ),
        ])

        // The same from the outbox: a fresh session loaded with the pending
        // rows (one offered twice) sends them in order too.
        var fresh = F.laneSession()
        fresh.expect([
            (.enqueue(1, at: 100), []), (.enqueue(3, at: 100), []), (.enqueue(1, at: 100), []),
            (.connected(at: 100), [.send(.hello(seq: 1, F.hello))]),
            (
                .received(.welcome(seq: 1, F.welcome), at: 110),
                [
                    .established(F.welcome, laneID: F.laneID), .send(.data(seq: 2, id: 1)),
                    .send(.data(seq: 3, id: 3)),
                ]
            ),
        ])
    }

    @Test func windowLimitsDataInFlight() {
        var lane = F.establishedLane { $0.maxInFlight = 2 }
        lane.expect([
            (.enqueue(1, at: 20), [.send(.data(seq: 2, id: 1))]),
            (.enqueue(2, at: 20), [.send(.data(seq: 3, id: 2))]),
            (.enqueue(3, at: 20), []),
            (.received(.ack(seq: 2, [1]), at: 30), [.acknowledged([1]), .send(.data(seq: 4, id: 3))]),
            (.tick(at: 270), [.send(.data(seq: 5, id: 2))]),  // 2 was sent at 20, 3 at 30
            (.tick(at: 280), [.send(.data(seq: 6, id: 3))]),
        ])
    }

    @Test func manyAppliedIdsAreSplitOverAckPackets() {
        var central = F.establishedCentral()
        let ids = (UInt64(1)...70).map { $0 }
        for (index, id) in ids.enumerated() {
            _ = central.packetReceived(.data(seq: UInt32(index + 2), id: id), now: F.at(20))
        }
        let actions = central.applied(messageIDs: ids, now: F.at(30))
        #expect(actions == [.send(.ack(seq: 2, Array(ids[0..<64]))), .send(.ack(seq: 3, Array(ids[64...])))])
    }

    @Test func unexpectedAcksAreCountedAndIgnored() {
        var lane = F.establishedLane()
        lane.expect([
            (.enqueue(1, at: 20), [.send(.data(seq: 2, id: 1))]),
            (.received(.ack(seq: 2, [1, 99]), at: 30), [.acknowledged([1])]),
            (.received(.ack(seq: 3, [1]), at: 40), []),
        ])
        #expect(lane.counters.unexpectedAcks == 2)
    }

    @Test(arguments: [
        (LinkPacket(kind: .ack, sequence: 2, payload: [0, 1, 0]), "ack payload does not decode"),
        (LinkPacket.data(seq: 2, id: 0), "data packet without a message id"),
        (LinkPacket.hello(seq: 2, F.hello), "hello packet while established"),
    ])
    func protocolViolationsWhileEstablished(_ packet: LinkPacket, _ why: String) {
        var lane = F.establishedLane()
        #expect(lane.packetReceived(packet, now: F.at(20)) == [.close(.protocolViolation(why))])
    }

    @Test func applyFinishingAfterTheLineDroppedSendsNothing() {
        var central = F.establishedCentral()
        _ = central.packetReceived(.data(seq: 2, id: 5), now: F.at(20))
        central.disconnected()
        #expect(central.applied(messageID: 5, now: F.at(30)) == [])
    }

    @Test func runningOutOfSequenceNumbersClosesTheSession() {
        var lane = F.establishedLane()
        lane.sendSequence = LinkSession.sequenceLimit
        #expect(
            lane.enqueue(messageID: 1, payload: [0xAB], now: F.at(20)) == [
                .send(.data(seq: LinkSession.sequenceLimit + 1, id: 1)), .close(.sequenceExhausted),
            ])
    }

    @Test func nextDeadlineIsTheEarliestTimer() {
        var lane = F.laneSession()
        #expect(lane.nextDeadline == nil)
        _ = lane.connected(now: F.at(0))
        #expect(lane.nextDeadline == F.at(250))  // the hello again
        _ = lane.packetReceived(.welcome(seq: 1, F.welcome), now: F.at(10))
        #expect(lane.nextDeadline == F.at(1010))
        _ = lane.enqueue(messageID: 1, payload: [], now: F.at(20))
        #expect(lane.nextDeadline == F.at(270))
    }

    @Test func ackPayloadLayout() {
        #expect(
            SessionAck.encode([1, 0x0102_0304_0506_0708]) == [
                0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8,
            ])
        #expect(SessionAck.decode(SessionAck.encode([])) == [])
        #expect(SessionAck.decode([0, 1, 0, 0, 0, 0, 0, 0, 0]) == nil)  // one id announced, 7 bytes follow
        #expect(SessionAck.decode([0, 0, 9]) == nil)  // trailing byte
        #expect(SessionAck.decode([]) == nil)
    }
}
