import CargoStore
import Foundation
import GRDB
import LaneControl
import LaneJournal
import LaneRuntime
import LinkCore
import RoadCargo
import TestKit
import Testing

/// A whole lane against a real central whose cache feed runs as in
/// clearanced: central's changes reach an offline lane's cache as deltas,
/// and a lane that misses one asks for a full push (issue 14, part 4).
@Suite struct LiveCacheTests {
    static let truck = try! VRN("AB1234")

    @Test func aDebundleAtCentralReachesAnOfflineLaneAndItsTruckIsNotCleared() async throws {
        let rig = try await LaneRig()
        let bundle = try await rig.bundle(Self.truck)
        // One session throughout: a new one would bring a full push, and the
        // test is about deltas.
        let lane = try await rig.startLane(deadAfter: "60s")
        let journal = lane.daemon.journal
        try await eventually("the session's cache push") {
            try await journal.cachedBundle(vrn: Self.truck, direction: .inbound) != nil
        }
        let pushed = try #require(try await journal.cacheVersion())
        try await lane.call(.open())
        try await lane.daemon.controller.received(.officerCommand(.offlineMode(on: true, officer: "chan")))

        // The driver debundles at central while the lane is offline.
        _ = try await rig.store.debundle(
            bundle.ubr, by: Account(name: "driver-\(Self.truck.value)", role: .driver), at: rig.clock.now())
        let debundled = ContinuousClock.now
        try await eventually("the delta on the lane") {
            try await journal.cachedBundle(vrn: Self.truck, direction: .inbound) == nil
        }
        let took = ContinuousClock.now - debundled
        // Within a second on an idle machine (the feed polls every 250 ms);
        // the ceiling is generous for a busy one.
        #expect(took < .seconds(10), "the debundle took \(took) to reach the lane")
        let version = try #require(try await journal.cacheVersion())
        #expect(version.generation == pushed.generation && version.sequence >= 1)

        try await lane.call(.arrive(vrn: Self.truck.value))
        // Without a bundle the answer waits out the unladen grace (20 s) on STOP.
        #expect(try await lane.status().xdb == "STOP")
        await rig.timers.advance(by: 21)
        let shown = try await lane.waitFor("the offline decision") { $0.phase == "decided" }
        #expect(shown.xdb == "INSPECT")
        #expect(shown.reason == "NO_BUNDLE")
        #expect(shown.offline)
        // The decision is journaled with the cache version it was made with.
        let details = try await journal.writer.read { db in
            try String.fetchAll(db, sql: "SELECT detail FROM journal WHERE kind = 'decision_received'")
        }
        #expect(details.count == 1)
        #expect(details.first?.contains("cache=\(version) ") == true, "the version \(version) in \(details)")
        #expect(!(try await lane.journalKinds()).contains("link_down"), "one session throughout")
        await lane.stop()
        await rig.stopCentral()
    }

    @Test func aLaneThatMissesADeltaAsksOnceAndInstallsAFullPush() async throws {
        let rig = try await LaneRig()
        try await rig.bundle(Self.truck)
        // One session throughout: a new one would bring a full push, and the
        // test is about deltas.
        let lane = try await rig.startLane(deadAfter: "60s")
        let journal = lane.daemon.journal
        try await eventually("the session's cache push") { try await journal.cacheGeneration() != nil }
        let first = try #require(try await journal.cacheGeneration()).generation

        // Two deltas past a number the lane never got: neither applies, and
        // the lane asks for one full push, not two.
        let stray = CachedBundle(
            ubr: UBR(payload: 4242), vrn: try VRN("ZZ1"), direction: .inbound,
            ccrns: [
                CachedCCRN(ccrn: CCRN(payload: 4242), validUntil: CalendarDay(containing: rig.clock.now()))
            ],
            earliestCrossing: rig.clock.now(), status: .active)
        for sequence: UInt64 in [5, 6] {
            try await rig.sendFromCentral(
                .bundleCacheDelta(
                    BundleCacheDelta(generation: first, sequence: sequence, changes: [.put(stray)])))
        }
        try await eventually("a newer generation installed") {
            try await journal.cacheGeneration().map { $0.generation > first } ?? false
        }
        #expect(try await journal.cachedBundle(vrn: try VRN("ZZ1"), direction: .inbound) == nil)
        #expect(try await journal.cachedBundle(vrn: Self.truck, direction: .inbound) != nil)
        #expect(try await journal.cacheVersion()?.sequence == 0)
        try await lane.waitFor("the lane's outbox drained") { $0.outboxPending == 0 }
        let pushes = try await rig.store.cachePushes(lane: LaneRig.laneID, limit: 10)
        #expect(pushes.count == 2, "the session's push and one answer: \(pushes.map(\.generation))")
        #expect(!(try await lane.journalKinds()).contains("link_down"), "one session throughout")
        await lane.stop()
        await rig.stopCentral()
    }
}
