import TestKit
import Testing

@testable import LinkCore

/// The failover policy as tables: the outcomes of attempts in, the endpoint
/// and the wait out. Without jitter, so every wait is exact: a switch within
/// a round is immediate, a whole round failed waits the backoff (250 ms,
/// 500 ms, 1 s, capped at 2 s here).
@Suite("EndpointRotation")
struct EndpointRotationTests {
    typealias Event = EndpointRotation.Event
    typealias Action = EndpointRotation.Action

    /// Seconds after an arbitrary start, for the events that carry a time.
    static let t0 = ContinuousClock.now
    static func at(_ seconds: Double) -> SessionInstant { t0 + .milliseconds(Int64(seconds * 1000)) }
    static let failed = Event.connectFailed
    static func up(_ s: Double) -> Event { .established(at: at(s)) }
    static func ended(_ s: Double) -> Event { .sessionEnded(at: at(s)) }
    static func connect(_ endpoint: Int, _ after: Duration = .zero) -> Action {
        .connect(endpoint: endpoint, after: after)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var endpoints: Int
        var steps: [(Event, Action)]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "one endpoint: every failure waits the backoff, as before failover",
            endpoints: 1,
            steps: [
                (failed, connect(0, .milliseconds(250))),
                (failed, connect(0, .milliseconds(500))),
                (up(1), .keep),
                // Up 1 s only: not stable, the backoff keeps growing.
                (ended(2), connect(0, .seconds(1))),
                (up(3), .keep),
                // Up 10 s: stable, the backoff starts again from its base.
                (ended(13), connect(0, .milliseconds(250))),
            ]),
        Case(
            name: "two endpoints: the first refuses, the second is tried at once and kept",
            endpoints: 2,
            steps: [
                (failed, connect(1)),
                (up(0.1), .keep),
            ]),
        Case(
            name: "the node a lane is linked to dies: the next at once, no backoff",
            endpoints: 2,
            steps: [
                (up(0), .keep),
                (ended(5), connect(1)),
                (up(5.1), .keep),
                // And when that one dies in turn, back to the first at once.
                (ended(60), connect(0)),
                (up(60.1), .keep),
            ]),
        Case(
            name: "a session that ends before its handshake counts as a failure of that endpoint",
            endpoints: 3,
            steps: [
                (ended(0), connect(1)),
                (failed, connect(2)),
                (up(1), .keep),
            ]),
        Case(
            name: "a whole round failed: back off, then start the next round in order",
            endpoints: 3,
            steps: [
                (failed, connect(1)),
                (failed, connect(2)),
                (failed, connect(0, .milliseconds(250))),
                (failed, connect(1)),
                (failed, connect(2)),
                (failed, connect(0, .milliseconds(500))),
                (failed, connect(1)),
                (up(10), .keep),
            ]),
        Case(
            name: "after the node that worked dies, the round begins with it: the next round tries it first",
            endpoints: 3,
            steps: [
                (failed, connect(1)),
                (up(1), .keep),
                (ended(30), connect(2)),
                (failed, connect(0)),
                (failed, connect(1, .milliseconds(250))),
                (up(40), .keep),
            ]),
        Case(
            name: "nodes that accept the handshake and drop at once are backed off from, not flapped between",
            endpoints: 2,
            steps: [
                (up(0), .keep),
                (ended(0.5), connect(1)),
                (up(0.6), .keep),
                (ended(1), connect(0, .milliseconds(250))),
                (up(1.3), .keep),
                (ended(1.5), connect(1)),
                (up(1.6), .keep),
                (ended(2), connect(0, .milliseconds(500))),
            ]),
        Case(
            name: "backoff is capped",
            endpoints: 2,
            steps: [
                (failed, connect(1)), (failed, connect(0, .milliseconds(250))),
                (failed, connect(1)), (failed, connect(0, .milliseconds(500))),
                (failed, connect(1)), (failed, connect(0, .seconds(1))),
                (failed, connect(1)), (failed, connect(0, .seconds(2))),
                (failed, connect(1)), (failed, connect(0, .seconds(2))),
            ]),
    ]

    static var exact: ReconnectBackoff.Configuration {
        var configuration = ReconnectBackoff.Configuration()
        configuration.jitter = .none
        configuration.cap = .seconds(2)
        return configuration
    }

    @Test(arguments: cases) func table(_ test: Case) {
        var rotation = EndpointRotation(endpoints: test.endpoints, backoff: Self.exact)
        var random = SeededGenerator(seed: 1)
        #expect(rotation.current == 0)
        for (index, (event, expected)) in test.steps.enumerated() {
            let action = rotation.handle(event, using: &random)
            #expect(action == expected, "step \(index + 1), \(event)")
            if case .connect(let endpoint, _) = action { #expect(rotation.current == endpoint) }
            #expect(rotation.isEstablished == (action == .keep))
        }
    }

    @Test func aStableSessionKeepsItsNodeHoweverLongItLasts() {
        // No event but its end moves a lane off a working node: there is no
        // "go back to the first" timer to flap on.
        var rotation = EndpointRotation(endpoints: 2, backoff: Self.exact)
        var random = SeededGenerator(seed: 2)
        _ = rotation.handle(.connectFailed, using: &random)
        #expect(rotation.handle(.established(at: Self.at(0)), using: &random) == .keep)
        #expect(rotation.current == 1)
        #expect(
            rotation.handle(.sessionEnded(at: Self.at(86_400)), using: &random)
                == .connect(endpoint: 0, after: .zero))
    }

    @Test func withJitterTheSwitchPauseStaysUnderTheBaseAndVaries() {
        var configuration = ReconnectBackoff.Configuration()  // full jitter, 250 ms base
        configuration.base = .milliseconds(250)
        var random = SeededGenerator(seed: 42)
        var pauses: [Duration] = []
        for _ in 0..<50 {
            var rotation = EndpointRotation(endpoints: 2, backoff: configuration)
            _ = rotation.handle(.established(at: Self.at(0)), using: &random)
            guard
                case .connect(1, let pause) = rotation.handle(.sessionEnded(at: Self.at(60)), using: &random)
            else {
                Issue.record("expected a switch to endpoint 1")
                return
            }
            pauses.append(pause)
        }
        #expect(pauses.allSatisfy { $0 >= .zero && $0 <= .milliseconds(250) })
        // Spread: lanes of a dead node do not all reach the next one at once.
        #expect(Set(pauses).count > 40)
    }

    @Test func theSameSeedGivesTheSameSequence() {
        func run(_ seed: UInt64) -> [EndpointRotation.Action] {
            var rotation = EndpointRotation(endpoints: 3)
            var random = SeededGenerator(seed: seed)
            return (0..<12).map { _ in rotation.handle(.connectFailed, using: &random) }
        }
        #expect(run(9) == run(9))
        #expect(run(9) != run(10))
    }
}
