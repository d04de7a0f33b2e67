import Foundation
import LinkCore
import Testing

/// The lane's hello counters against central's two rules (above the last
/// accepted; not more than the window ahead of central's clock), through
/// clock steps.
@Suite struct HelloCounterTests {
    /// Central's rules, as `LaneLinkServer.admit` applies them.
    struct Central {
        var lastAccepted: UInt64 = 0
        var window: TimeInterval = 60

        mutating func accept(_ counter: UInt64, at now: Date) -> Bool {
            let ceiling = UInt64(WireTime.microseconds(now)) + UInt64(window * 1_000_000)
            guard counter <= ceiling, counter > lastAccepted else { return false }
            lastAccepted = counter
            return true
        }
    }

    let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// Says hello at lane time `laneNow` until central accepts one; returns
    /// how many hellos it took (nil: none of `tries`).
    func relink(
        _ lane: inout SigningTimestamper, _ central: inout Central, laneNow: Date, centralNow: Date,
        tries: Int = 10
    ) -> Int? {
        for n in 1...tries {
            let counter = lane.next(now: laneNow.addingTimeInterval(Double(n) * 1e-3))
            if central.accept(counter, at: centralNow.addingTimeInterval(Double(n) * 1e-3)) {
                lane.didOpen(counter)
                return n
            }
        }
        return nil
    }

    @Test func aForwardStepUndoneDoesNotKeepTheLaneOut() {
        var lane = SigningTimestamper()
        var central = Central()
        let took1 = relink(&lane, &central, laneNow: start, centralNow: start)
        #expect(took1 == 1)
        // An hour ahead: central refuses every hello.
        let later = start.addingTimeInterval(10)
        let took2 = relink(&lane, &central, laneNow: later.addingTimeInterval(3600), centralNow: later)
        #expect(took2 == nil)
        // Undone: within two hellos, one counts from the last accepted.
        let undone = later.addingTimeInterval(10)
        let took = relink(&lane, &central, laneNow: undone, centralNow: undone)
        #expect(took != nil && took! <= 2, "\(String(describing: took))")
        // And from then on it counts from that one, as normal.
        #expect(lane.last == central.lastAccepted)
        let next = relink(
            &lane, &central, laneNow: undone.addingTimeInterval(5), centralNow: undone.addingTimeInterval(5))
        #expect(next == 1)
    }

    @Test func aBackwardStepCountsOnFromTheLastHello() {
        var lane = SigningTimestamper()
        var central = Central()
        let took3 = relink(&lane, &central, laneNow: start, centralNow: start)
        #expect(took3 == 1)
        let opened = central.lastAccepted
        // An hour behind: the counter goes on by one from the last.
        let took4 = relink(&lane, &central, laneNow: start.addingTimeInterval(-3600), centralNow: start)
        #expect(took4 == 1)
        #expect(central.lastAccepted == opened + 1)
    }

    /// Central accepted hellos whose sessions never reached the lane (the
    /// answers were lost) while the lane's clock is behind: the lane still
    /// counts on from the highest it sent, above central's record.
    @Test func aHelloAcceptedButNeverOpenedDoesNotKeepTheLaneOutEither() {
        var lane = SigningTimestamper()
        var central = Central()
        let took5 = relink(&lane, &central, laneNow: start, centralNow: start)
        #expect(took5 == 1)
        let behind = start.addingTimeInterval(-3600)
        for _ in 0..<3 {
            let lost = lane.next(now: behind)
            let taken = central.accept(lost, at: start)
            #expect(taken, "central took it; the lane never heard")
        }
        let took = relink(&lane, &central, laneNow: behind, centralNow: start)
        #expect(took != nil && took! <= 2, "\(String(describing: took))")
    }
}
