import Foundation
import Testing

@testable import ServiceSupport

@Suite("Watchdog: WATCHDOG=1 only while every probe makes progress")
struct WatchdogTests {
    struct Stuck: Error, CustomStringConvertible {
        var description: String { "database is locked" }
    }

    @Test(arguments: [
        ([("loops", ProbeOutcome.passed), ("store", .passed), ("link", .passed)], "WATCHDOG=1"),
        ([("loops", .passed), ("store", .timedOut)], "STATUS=not alive: store did not answer in time"),
        (
            [("loops", .failed("closed")), ("store", .stillWaiting)],
            "STATUS=not alive: loops failed: closed; store still stuck"
        ),
        ([], "WATCHDOG=1"),
    ])
    func theMessageForARound(outcomes: [(String, ProbeOutcome)], expected: String) {
        #expect(Liveness.message(for: outcomes.map { (name: $0.0, outcome: $0.1) }) == expected)
    }

    @Test func aHangingCheckTimesOutThenCountsAsStillStuckWithoutStartingAnother() async throws {
        let started = Locked(0)
        let hang = LivenessProbe("store") {
            started.withLock { $0 += 1 }
            // Never returns on its own, as a frozen SQLite call would not.
            await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
        }
        let fine = LivenessProbe("loops") {}
        let watchdog = Watchdog(
            probes: [fine, hang], interval: .seconds(60), deadline: .milliseconds(200), send: { _ in })
        let first = await watchdog.round()
        #expect(first.map(\.outcome) == [.passed, .timedOut])
        let second = await watchdog.round()
        #expect(second.map(\.outcome) == [.passed, .stillWaiting])
        #expect(started.withLock { $0 } == 1, "a stuck check is not started again")
    }

    @Test func runPingsWhileProbesPassAndStopsWhenOneFails() async throws {
        let rounds = Locked(0)
        let sent = Locked<[String]>([])
        let store = LivenessProbe("store") {
            if rounds.withLock({ $0 }) >= 2 { throw Stuck() }
        }
        let watchdog = Watchdog(
            probes: [store], interval: .seconds(5),
            send: { message in sent.withLock { $0.append(message) } },
            sleep: { _ in
                let n = rounds.withLock { r -> Int in
                    r += 1
                    return r
                }
                if n == 4 { throw CancellationError() }
            })
        await watchdog.run()
        #expect(
            sent.withLock { $0 } == [
                "WATCHDOG=1", "WATCHDOG=1",
                "STATUS=not alive: store failed: database is locked",
                "STATUS=not alive: store failed: database is locked",
            ])
    }

    @Test func theIntervalIsHalfOfWatchdogUSec() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "20000000"])
        #expect(notifier.watchdogInterval == .seconds(10))
        let other = SystemdNotifier(environment: ["WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"])
        #expect(other.watchdogInterval == nil, "a watchdog meant for another process is not ours")
    }
}

@Suite("Blocking: the check that a blocking call is not made from a Swift task")
struct BlockingCheckTests {
    @Test func aBlockingCallFromATaskFailsTheCheckAndOffThePoolItDoesNot() async throws {
        let failures = Locked<[String]>([])
        try await Blocking.reportingFailures(to: { message in failures.withLock { $0.append(message) } }) {
            // A test function runs in a task: this is the mistake the check catches.
            Blocking.assertNotOnCooperativePool("LaneJournal.append")
            #expect(failures.withLock { $0.count } == 1)
            #expect(failures.withLock { $0.first?.contains("LaneJournal.append") } == true)

            // The same call on the blocking queue, or where start-up allows it, passes.
            try await Blocking.run { Blocking.assertNotOnCooperativePool("LaneJournal.append") }
            Blocking.allowed { Blocking.assertNotOnCooperativePool("LaneJournal.init") }
            #expect(failures.withLock { $0.count } == 1)
            #expect(try await Blocking.run { Blocking.onCooperativePool } == false)
            #expect(Blocking.onCooperativePool)
        }
    }
}
