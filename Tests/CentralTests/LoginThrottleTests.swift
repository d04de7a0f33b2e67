import Central
import Foundation
import Testing

/// The console log-in throttle as a value: attempts and outcomes in, the
/// decisions out, on a clock the table drives.
@Suite struct LoginThrottleTests {
    enum Step {
        /// An attempt at `name` from `address` at `t` seconds; `known` when
        /// the browser is a known console of the name. `expect` is nil for
        /// "checked", else the refusal.
        case attempt(String, String, t: Double, known: Bool = false, expect: LoginThrottle.Refusal?)
        /// The last admitted attempt's check came out so.
        case outcome(succeeded: Bool)
    }

    static let limits = LoginThrottle.Limits(
        perAddress: 8, freePerName: 3, lockPerName: 6, backoffBase: 1, backoffCap: 4, window: 600)

    static func run(_ steps: [Step], line: Int = #line) {
        var throttle = LoginThrottle(limits: limits)
        var last: LoginThrottle.Ticket?
        for (index, step) in steps.enumerated() {
            switch step {
            case .attempt(let name, let address, let t, let known, let expect):
                let now = Date(timeIntervalSinceReferenceDate: 1_000_000 + t)
                let decision = throttle.admit(name: name, address: address, knownConsole: known, now: now)
                switch (decision, expect) {
                case (.check(let ticket), nil):
                    last = ticket
                case (.refuse(let why, _), let expected?) where why == expected:
                    break
                default:
                    Issue.record(
                        "step \(index) (table at line \(line)): expected \(String(describing: expect)), got \(decision)"
                    )
                }
            case .outcome(let succeeded):
                guard let ticket = last else {
                    Issue.record("step \(index): no attempt to finish")
                    continue
                }
                throttle.finish(ticket, succeeded: succeeded, now: Date())
            }
        }
    }

    @Test func attemptsAreCountedWhenAdmittedSoParallelGuessesStopAtTheFreeAllowance() {
        // No outcome arrives between them: all in flight at once.
        Self.run(
            (0..<3).map { _ in .attempt("lee", "10.0.0.9", t: 0, expect: nil) }
                + (0..<9).map { _ in .attempt("lee", "10.0.0.9", t: 0, expect: .backoff) })
    }

    @Test func failuresPastTheAllowanceWaitADoublingBackoffUpToItsCap() {
        Self.run([
            .attempt("lee", "a", t: 0, expect: nil), .outcome(succeeded: false),
            .attempt("lee", "b", t: 0, expect: nil), .outcome(succeeded: false),
            .attempt("lee", "c", t: 0, expect: nil), .outcome(succeeded: false),
            // 3 failures: wait 1 s after the last admitted attempt.
            .attempt("lee", "d", t: 0.5, expect: .backoff),
            .attempt("lee", "d", t: 1, expect: nil), .outcome(succeeded: false),
            // 4: 2 s.
            .attempt("lee", "e", t: 2.9, expect: .backoff),
            .attempt("lee", "e", t: 3, expect: nil), .outcome(succeeded: false),
            // 5: 4 s, the cap.
            .attempt("lee", "f", t: 6.9, expect: .backoff),
            .attempt("lee", "f", t: 7, expect: nil), .outcome(succeeded: false),
        ])
    }

    @Test func aLockedNameStillLetsItsKnownConsoleInAfterTheBackoff() {
        var steps: [Step] = []
        var t = 0.0
        for n in 0..<6 {
            steps += [.attempt("chan", "attacker-\(n)", t: t, expect: nil), .outcome(succeeded: false)]
            t += 10
        }
        steps += [
            // Locked for strangers, whatever their address.
            .attempt("chan", "elsewhere", t: t, expect: .nameLocked),
            .attempt("chan", "elsewhere", t: t + 500, expect: .nameLocked),
            // The officer's own console waits the back-off only...
            .attempt("chan", "console", t: t - 9, known: true, expect: .backoff),
            .attempt("chan", "console", t: t, known: true, expect: nil), .outcome(succeeded: true),
            // ...and a success clears the name.
            .attempt("chan", "elsewhere", t: t + 1, expect: nil),
        ]
        Self.run(steps)
    }

    @Test func anAddressThatFailsTooOftenIsLockedForEveryNameButKnownConsoles() {
        var steps: [Step] = (0..<8).map { .attempt("random-\($0)", "6.6.6.6", t: Double($0), expect: nil) }
        steps += [
            .attempt("random-99", "6.6.6.6", t: 9, expect: .addressLocked),
            .attempt("lee", "6.6.6.6", t: 9, expect: .addressLocked),
            .attempt("lee", "6.6.6.6", t: 9, known: true, expect: nil),
            // Other addresses are untouched, and the lock ends a window after the last try.
            .attempt("random-100", "7.7.7.7", t: 9, expect: nil),
            .attempt("random-101", "6.6.6.6", t: 9 + 601, expect: nil),
        ]
        Self.run(steps)
    }

    @Test func unknownNamesAreCountedLikeKnownOnes() {
        Self.run([
            .attempt("nobody-at-all", "a", t: 0, expect: nil), .outcome(succeeded: false),
            .attempt("NOBODY-at-all", "b", t: 0, expect: nil), .outcome(succeeded: false),
            .attempt("nobody-at-all", "c", t: 0, expect: nil), .outcome(succeeded: false),
            .attempt("Nobody-At-All", "d", t: 0, expect: .backoff),
        ])
    }

    @Test func aSuccessGivesItsOwnCountBackToTheAddress() {
        var steps: [Step] = []
        for n in 0..<7 {
            steps += [.attempt("u\(n)", "office", t: 0, expect: nil), .outcome(succeeded: false)]
        }
        steps += [
            .attempt("lee", "office", t: 0, expect: nil), .outcome(succeeded: true),
            .attempt("wong", "office", t: 0, expect: nil), .outcome(succeeded: false),
            .attempt("ho", "office", t: 0, expect: .addressLocked),
        ]
        Self.run(steps)
    }

    @Test func sprayingRandomNamesKeepsMemoryBounded() {
        var throttle = LoginThrottle(limits: .init(perAddress: 1_000_000, maxEntries: 100))
        for n in 0..<1000 {
            _ = throttle.admit(
                name: "spray-\(n)", address: "10.0.\(n % 250).1", knownConsole: false,
                now: Date(timeIntervalSinceReferenceDate: Double(n)))
        }
        #expect(throttle.remembered.names <= 100 && throttle.remembered.addresses <= 100)
    }
}
