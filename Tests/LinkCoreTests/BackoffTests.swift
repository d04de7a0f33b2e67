import TestKit
import Testing

@testable import LinkCore

@Suite("Backoff")
struct BackoffTests {
    @Test func resendDelaysDoubleUpToTheCap() {
        let delays = (1...7).map {
            ResendBackoff.delay(attempt: $0, initial: .milliseconds(250), cap: .seconds(5))
        }
        #expect(
            delays == [
                .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(5),
                .seconds(5),
            ])
        #expect(
            ResendBackoff.delay(attempt: 10_000, initial: .milliseconds(250), cap: .seconds(5)) == .seconds(5)
        )
    }

    @Test func withoutJitterReconnectDelaysAreExponentialAndCapped() {
        var configuration = ReconnectBackoff.Configuration()
        configuration.jitter = .none
        configuration.cap = .seconds(2)
        var backoff = ReconnectBackoff(configuration: configuration)
        var random = SeededGenerator(seed: 1)
        let delays = (0..<6).map { _ in backoff.nextDelay(using: &random) }
        #expect(
            delays == [
                .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(2), .seconds(2),
            ])
        #expect(backoff.attempts == 6)
    }

    @Test func fullJitterStaysUnderTheExponentialAndTheCap() {
        var backoff = ReconnectBackoff()  // full jitter, 250 ms base, 10 s cap
        var random = SeededGenerator(seed: 42)
        for attempt in 1...40 {
            let ceiling = ResendBackoff.delay(
                attempt: attempt, initial: .milliseconds(250), cap: .seconds(10))
            let delay = backoff.nextDelay(using: &random)
            #expect(delay >= .zero && delay <= ceiling, "attempt \(attempt): \(delay)")
        }
    }

    @Test func decorrelatedJitterStaysBetweenBaseAndCap() {
        var configuration = ReconnectBackoff.Configuration()
        configuration.jitter = .decorrelated
        var backoff = ReconnectBackoff(configuration: configuration)
        var random = SeededGenerator(seed: 7)
        let delays = (0..<200).map { _ in backoff.nextDelay(using: &random) }
        #expect(delays.allSatisfy { $0 >= .milliseconds(250) && $0 <= .seconds(10) })
        // It does grow towards the cap rather than hover at the base.
        #expect(delays.suffix(50).contains { $0 > .seconds(5) })
    }

    @Test func theSameSeedGivesTheSameDelays() {
        func run(_ seed: UInt64) -> [Duration] {
            var backoff = ReconnectBackoff()
            var random = SeededGenerator(seed: seed)
            return (0..<10).map { _ in backoff.nextDelay(using: &random) }
        }
        #expect(run(3) == run(3))
        #expect(run(3) != run(4))
    }

    @Test func aStableSessionResetsTheBackoffAShortOneDoesNot() {
        var configuration = ReconnectBackoff.Configuration()
        configuration.jitter = .none
        var backoff = ReconnectBackoff(configuration: configuration)
        var random = SeededGenerator(seed: 1)
        let t0 = ContinuousClock.now
        for _ in 0..<4 { _ = backoff.nextDelay(using: &random) }

        // Up for 2 s, then down: central dropping us right after the handshake.
        backoff.sessionEstablished(at: t0)
        backoff.sessionEnded(at: t0 + .seconds(2))
        #expect(backoff.nextDelay(using: &random) == .seconds(4))

        // Up for the stability period: the link was good, start over.
        backoff.sessionEstablished(at: t0 + .seconds(10))
        backoff.sessionEnded(at: t0 + .seconds(20))
        #expect(backoff.attempts == 0)
        #expect(backoff.nextDelay(using: &random) == .milliseconds(250))

        // Ending without having been established changes nothing.
        backoff.sessionEnded(at: t0 + .seconds(100))
        #expect(backoff.nextDelay(using: &random) == .milliseconds(500))
    }
}
