import GPIO
import Testing

/// Milliseconds as nanoseconds, for readable timestamps.
func ms(_ value: UInt64) -> UInt64 { value * 1_000_000 }

@Suite struct ButtonDebouncerTests {
    typealias Change = ButtonDebouncer.Change

    /// Feeds `(active, at)` edges, then lets time pass to `until`; returns every change.
    func run(
        _ edges: [(Bool, UInt64)], until end: UInt64, debounce: Duration = .milliseconds(30),
        stuckAfter: Duration? = .seconds(30)
    ) -> [Change] {
        var debouncer = ButtonDebouncer(debounce: debounce, stuckAfter: stuckAfter)
        var changes: [Change] = []
        for (active, at) in edges { changes += debouncer.edge(active: active, atNanoseconds: at) }
        changes += debouncer.advance(toNanoseconds: end)
        return changes
    }

    @Test func aCleanPressCountsOnceItHasHeldForTheDebounceTime() {
        var debouncer = ButtonDebouncer(debounce: .milliseconds(30), stuckAfter: nil)
        #expect(debouncer.edge(active: true, atNanoseconds: ms(1000)).isEmpty)
        #expect(debouncer.nextDeadline == ms(1030))
        #expect(debouncer.advance(toNanoseconds: ms(1029)).isEmpty)
        #expect(!debouncer.isPressed)
        #expect(debouncer.advance(toNanoseconds: ms(1030)) == [.pressed(atNanoseconds: ms(1000))])
        #expect(debouncer.isPressed)
        #expect(debouncer.nextDeadline == nil)
        #expect(debouncer.advance(toNanoseconds: ms(5000)).isEmpty)
    }

    @Test func aBurstOfFiveMillisecondBouncesIsOnePressStampedAtItsFirstEdge() {
        let bounces: [(Bool, UInt64)] = [
            (true, ms(100)), (false, ms(105)), (true, ms(110)), (false, ms(115)), (true, ms(120)),
        ]
        #expect(run(bounces, until: ms(149)).isEmpty)
        #expect(run(bounces, until: ms(150)) == [.pressed(atNanoseconds: ms(100))])
    }

    @Test func aBouncingReleaseIsOneRelease() {
        let edges: [(Bool, UInt64)] = [
            (true, ms(100)), (false, ms(500)), (true, ms(504)), (false, ms(509)), (true, ms(512)),
            (false, ms(515)),
        ]
        #expect(
            run(edges, until: ms(600)) == [
                .pressed(atNanoseconds: ms(100)), .released(atNanoseconds: ms(500)),
            ])
    }

    @Test func aPressShorterThanTheDebounceTimeIsDropped() {
        #expect(run([(true, ms(100)), (false, ms(129))], until: ms(1000)).isEmpty)
        // Held exactly the debounce time, it counts.
        #expect(
            run([(true, ms(100)), (false, ms(130))], until: ms(1000))
                == [.pressed(atNanoseconds: ms(100)), .released(atNanoseconds: ms(130))])
    }

    @Test func anEdgeAfterASettledLevelReportsThatLevelFirst() {
        // No advance between the edges: the second edge's timestamp shows the
        // first level had settled, so the press is reported when it arrives.
        var debouncer = ButtonDebouncer(debounce: .milliseconds(30), stuckAfter: nil)
        #expect(debouncer.edge(active: true, atNanoseconds: ms(100)).isEmpty)
        #expect(debouncer.edge(active: false, atNanoseconds: ms(200)) == [.pressed(atNanoseconds: ms(100))])
        #expect(debouncer.advance(toNanoseconds: ms(230)) == [.released(atNanoseconds: ms(200))])
    }

    @Test func repeatedEdgeIDsStillRestartTheWait() {
        // The v1 kernel reads the level after the interrupt: a bounce can
        // arrive as rising, rising. The second one still means "moving".
        var debouncer = ButtonDebouncer(debounce: .milliseconds(30), stuckAfter: nil)
        _ = debouncer.edge(active: true, atNanoseconds: ms(100))
        _ = debouncer.edge(active: true, atNanoseconds: ms(120))
        #expect(debouncer.advance(toNanoseconds: ms(140)).isEmpty)
        #expect(debouncer.advance(toNanoseconds: ms(150)) == [.pressed(atNanoseconds: ms(100))])
    }

    @Test func timestampsThatGoBackwardsAreTakenAsTheLatest() {
        var debouncer = ButtonDebouncer(debounce: .milliseconds(30), stuckAfter: nil)
        _ = debouncer.edge(active: true, atNanoseconds: ms(100))
        _ = debouncer.edge(active: false, atNanoseconds: ms(90))
        #expect(debouncer.nextDeadline == ms(130))
        #expect(debouncer.advance(toNanoseconds: ms(130)).isEmpty)
    }

    @Test func zeroDebounceReportsEveryEdge() {
        var debouncer = ButtonDebouncer(debounce: .zero, stuckAfter: nil)
        var changes = debouncer.edge(active: true, atNanoseconds: ms(5))
        changes += debouncer.advance(toNanoseconds: ms(5))
        changes += debouncer.edge(active: false, atNanoseconds: ms(5))
        changes += debouncer.advance(toNanoseconds: ms(5))
        #expect(changes == [.pressed(atNanoseconds: ms(5)), .released(atNanoseconds: ms(5))])
    }

    @Test func aPressHeldPastStuckAfterIsStuckOnceThenUnstuckOnRelease() {
        var debouncer = ButtonDebouncer(debounce: .milliseconds(30), stuckAfter: .seconds(30))
        _ = debouncer.edge(active: true, atNanoseconds: ms(1000))
        #expect(debouncer.advance(toNanoseconds: ms(1030)) == [.pressed(atNanoseconds: ms(1000))])
        #expect(debouncer.nextDeadline == ms(31_000))
        #expect(debouncer.advance(toNanoseconds: ms(30_999)).isEmpty)
        #expect(debouncer.advance(toNanoseconds: ms(31_000)) == [.stuck(pressedAtNanoseconds: ms(1000))])
        #expect(debouncer.isStuck)
        #expect(debouncer.advance(toNanoseconds: ms(90_000)).isEmpty)
        _ = debouncer.edge(active: false, atNanoseconds: ms(95_000))
        #expect(
            debouncer.advance(toNanoseconds: ms(95_030))
                == [.released(atNanoseconds: ms(95_000)), .unstuck(pressedAtNanoseconds: ms(1000))])
        #expect(!debouncer.isStuck)
    }

    @Test func aReleaseStillSettlingIsNotStuck() {
        // Let go 29.99 s into a press: the release settles after the stuck
        // deadline, and the button was never stuck.
        var debouncer = ButtonDebouncer(debounce: .milliseconds(30), stuckAfter: .seconds(30))
        _ = debouncer.edge(active: true, atNanoseconds: 0)
        _ = debouncer.advance(toNanoseconds: ms(30))
        _ = debouncer.edge(active: false, atNanoseconds: ms(29_990))
        #expect(debouncer.nextDeadline == ms(30_020))
        #expect(debouncer.advance(toNanoseconds: ms(30_020)) == [.released(atNanoseconds: ms(29_990))])
    }

    @Test func noStuckAfterMeansNeverStuck() {
        #expect(run([(true, 0)], until: ms(86_400_000), stuckAfter: nil) == [.pressed(atNanoseconds: 0)])
    }

    @Test func reseedingActiveIsNoPressButStartsTheStuckTimer() {
        var debouncer = ButtonDebouncer(debounce: .milliseconds(30), stuckAfter: .seconds(30))
        #expect(debouncer.reseed(active: true, atNanoseconds: ms(500)).isEmpty)
        #expect(debouncer.isPressed)
        #expect(debouncer.advance(toNanoseconds: ms(30_500)) == [.stuck(pressedAtNanoseconds: ms(500))])
    }

    @Test func reseedingInactiveReleasesAReportedPressAndDropsABurst() {
        var debouncer = ButtonDebouncer(debounce: .milliseconds(30), stuckAfter: .seconds(1))
        _ = debouncer.edge(active: true, atNanoseconds: 0)
        _ = debouncer.advance(toNanoseconds: ms(1000))  // pressed, then stuck
        _ = debouncer.edge(active: false, atNanoseconds: ms(1100))  // a release in flight when the chip went
        #expect(
            debouncer.reseed(active: false, atNanoseconds: ms(5000))
                == [.released(atNanoseconds: ms(5000)), .unstuck(pressedAtNanoseconds: 0)])
        #expect(debouncer.nextDeadline == nil)
        #expect(debouncer.advance(toNanoseconds: ms(9000)).isEmpty)
    }

    @Test func hugeTimesSaturateInsteadOfTrapping() {
        var debouncer = ButtonDebouncer(debounce: .milliseconds(30), stuckAfter: .seconds(30))
        _ = debouncer.edge(active: true, atNanoseconds: .max - ms(100))
        #expect(debouncer.advance(toNanoseconds: .max - ms(50)) == [.pressed(atNanoseconds: .max - ms(100))])
        // The stuck deadline lies past the end of UInt64 time: never.
        #expect(debouncer.nextDeadline == .max)
    }
}

@Suite struct ReopenBackoffTests {
    @Test func doublesFromInitialUpToMaximum() {
        let backoff = ReopenBackoff(initial: .milliseconds(250), maximum: .seconds(5))
        let delays = (0..<8).map { backoff.delayNanoseconds(beforeAttempt: $0) }
        #expect(delays == [250, 500, 1000, 2000, 4000, 5000, 5000, 5000].map { ms($0) })
        #expect(backoff.delayNanoseconds(beforeAttempt: 10_000) == ms(5000))
    }

    @Test func aMaximumBelowInitialKeepsInitial() {
        let backoff = ReopenBackoff(initial: .seconds(2), maximum: .seconds(1))
        #expect(backoff.delayNanoseconds(beforeAttempt: 3) == ms(2000))
    }
}
