import Foundation
import LaneControl
import LaneCore
import LaneRuntime
import RoadCargo
import Synchronization
import TestKit
import Testing

/// A scheduler that keeps every fire, even of timers cancelled since: the
/// race a real clock has when a timer expires just as it is cancelled.
final class RacyTimerScheduler: LaneTimerScheduler {
    private let fires = Mutex<[(LaneTimer, @Sendable () async -> Void)]>([])

    func schedule(_ timer: LaneTimer, after delay: Duration, fire: @escaping @Sendable () async -> Void) {
        fires.withLock { $0.append((timer, fire)) }
    }

    func cancel(_ timer: LaneTimer) {}

    /// Fires the `index`th start of `timer` (from 0), cancelled or not.
    func fire(_ timer: LaneTimer, start index: Int) async {
        let starts = fires.withLock { $0.filter { $0.0 == timer } }
        guard starts.indices.contains(index) else {
            Issue.record("\(timer) was started \(starts.count) times; there is no start \(index) to fire")
            return
        }
        await starts[index].1()
    }
}

@Suite struct StaleTimerTests {
    @Test func aCancelledTimeoutThatFiresLateDoesNotCutTheNextTrucksWaitShort() async throws {
        let rig = try await LaneRig()
        try await rig.bundle(try VRN("ST1234"))
        let timers = RacyTimerScheduler()
        // The session is kept (the rig's 1 s default restarts it every
        // second): once central's store is held below, a new session could
        // not be admitted until the store is let go.
        let lane = try await rig.startLane(timers: timers, deadAfter: "60s")
        try await lane.waitFor("the link up") { $0.link == "up" }
        try await lane.call(.open())
        try await lane.call(.arrive(vrn: "ST1234"))
        try await lane.waitFor("CLEARED") { $0.xdb == "CLEARED" }

        try await lane.call(.leave)

        // The next truck waits for an answer (central is slow: its store's
        // writer is held, the link stays up) when the first truck's timeout,
        // cancelled when its answer came, fires after all. (With the link
        // known down the lane would not wait at all.)
        let release = DispatchSemaphore(value: 0)
        let holding = Mutex(false)
        let held = Task.detached {
            try await rig.store.writer.write { _ in
                holding.withLock { $0 = true }
                release.wait()
            }
        }
        // Whatever fails below, the store is let go (a second signal is harmless).
        defer { release.signal() }
        try await eventually("central's store held") { holding.withLock { $0 } }
        try await lane.waitFor("the link up") { $0.link == "up" }
        try await lane.call(.arrive(vrn: "ST5678"))
        await timers.fire(.decisionTimeout, start: 0)
        let status = try await lane.status()
        #expect(status.phase == "stop", "the second truck still waits its own full timeout")
        #expect(try await !lane.journalKinds().contains("decision_timeout"))
        // Its own timeout does fire.
        await timers.fire(.decisionTimeout, start: 1)
        try await lane.waitFor("rule 4 for the second truck") {
            $0.phase == "system_unavailable"
        }
        release.signal()
        try await held.value
        await lane.stop()
    }
}
