import Testing

@testable import LinkCore

@Suite("Heartbeat timer")
struct HeartbeatTests {
    let t0 = ContinuousClock.now

    @Test func heartbeatFallsDueAfterAQuietInterval() {
        var timer = HeartbeatTimer(interval: .seconds(1), deadPeerInterval: .seconds(3), now: t0)
        #expect(!timer.heartbeatDue(at: t0 + .milliseconds(999)))
        #expect(timer.heartbeatDue(at: t0 + .seconds(1)))
        timer.sent(at: t0 + .milliseconds(800))
        #expect(!timer.heartbeatDue(at: t0 + .seconds(1)))
        #expect(timer.nextDeadline == t0 + .milliseconds(1800))
    }

    @Test func peerIsDeadAfterTheDeadPeerIntervalOfSilence() {
        var timer = HeartbeatTimer(interval: .seconds(1), deadPeerInterval: .seconds(3), now: t0)
        timer.heard(at: t0 + .seconds(2))
        #expect(!timer.peerDead(at: t0 + .milliseconds(4999)))
        #expect(timer.peerDead(at: t0 + .seconds(5)))
        // Time read out of order (two threads) never moves the clocks back.
        timer.heard(at: t0 + .seconds(1))
        #expect(timer.lastHeard == t0 + .seconds(2))
    }
}
