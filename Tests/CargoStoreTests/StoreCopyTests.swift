import ClearanceCore
import Foundation
import Logging
import PostgresSupport
import PostgresTestSupport
import RoadCargo
import Testing

@testable import CargoStore

/// `clearanced store copy`: a populated SQLite central copied into an empty
/// PostgreSQL store reads back the same through every repository call, and
/// goes on from there without reusing an id or a number.
@Suite("Copying a SQLite store into PostgreSQL", .enabled(if: PostgresTestServer.isConfigured))
struct StoreCopyTests {
    static let lane = Fixture.inboundLane
    static let arrival = Fixture.t0.addingTimeInterval(3600)

    /// A central after a day's work: every table holds something.
    func populate(_ store: any CargoRepository) async throws {
        _ = try await store.addAccount(Fixture.officer)
        _ = try await store.addAccount(Fixture.driver)
        _ = try await store.addAccount(Fixture.shipper)
        try await store.setPasswordHash("scrypt$x", for: "OFFICER-CHAN", at: Fixture.t0)
        try await store.putLane(Self.lane)
        try await store.putLane(Fixture.outboundLane)
        _ = try await store.addWatch(
            .vrn(try VRN("WATCH1")), note: "tip", by: Fixture.officer, at: Fixture.t0)
        // Text that COPY's text format must escape comes through as it was.
        _ = try await store.addWatch(
            .vrn(try VRN("WATCH2")), note: "line 1\n\tline 2\r \\N back\\slash 貨車 🚚", by: Fixture.officer,
            at: Fixture.t0)
        var bundles: [CargoBundle] = []
        for vrn in ["AA1", "BB2", "CC3", "DD4"] {
            let c = try await store.submitConsignment(
                Fixture.submission(), by: Fixture.shipper, at: Fixture.t0)
            bundles.append(
                try await store.createBundle(
                    Fixture.bundleRequest([c.ccrn], vrn: try VRN(vrn)), by: Fixture.driver, at: Fixture.t0))
        }
        _ = try await store.submitConsignment(Fixture.submission(), by: Fixture.shipper, at: Fixture.t0)
        // Claimed, then used; claimed and left claimed; debundled; one stays active.
        for (i, id) in ["link:a:1", "link:a:2"].enumerated() {
            _ = try await store.decideCrossing(
                requestID: id, claimant: id, request: Fixture.request(vrn: bundles[i].vrn, at: Self.arrival),
                policy: Fixture.policy, at: Self.arrival)
        }
        _ = try await store.recordVehicleLeft(lane: Self.lane.id, ubr: bundles[0].ubr, at: Self.arrival)
        _ = try await store.debundle(bundles[2].ubr, by: Fixture.driver, at: Self.arrival)
        _ = try await store.applyOfflineCrossing(
            OfflineCrossing(
                passageID: 9, requestID: 9, vrn: bundles[2].vrn, arrivedAt: Self.arrival,
                unladenPressed: false,
                decidedAt: Self.arrival,
                decision: Decision(
                    instruction: .cleared, reason: .bundleOK, notes: [.offline], ubr: bundles[2].ubr),
                cacheVersion: CacheVersion(generation: 3, sequence: 4)),
            lane: Self.lane, claimant: "passage:9", receivedAt: Self.arrival)
        _ = try await store.recordLaneEvent(
            LaneEventRecord(
                lane: Self.lane.id, occurredAt: Self.arrival, kind: "vehicle_left", fields: ["passage": "1"],
                receivedAt: Self.arrival))
        let action = try await store.recordOfficerAction(
            OfficerActionRecord(
                lane: Self.lane.id, officer: "officer-chan", command: .close, details: ["why": "lunch"],
                requestedAt: Self.arrival))
        try await store.setOfficerActionMessage(id: action.id, messageID: 77)
        _ = try await store.recordCachePush(
            lane: Self.lane.id, floor: 5, cause: .session, requestedBy: nil, bundles: 2, watchTargets: 1,
            omitted: 0, chunks: 1, at: Self.arrival)
        try await store.createSession(
            ConsoleSession(
                tokenHash: "h1", officer: "officer-chan", csrf: "c", createdAt: Self.arrival,
                expiresAt: Self.arrival.addingTimeInterval(3600),
                idleUntil: Self.arrival.addingTimeInterval(600)))
        try await store.journal(
            ConsoleJournalEntry(
                officer: "officer-chan", action: "login", target: "console", outcome: .done, at: Self.arrival)
        )
        let (call, _) = try await store.insertHelpCall(
            HelpCallRecord(
                lane: Self.lane.id, controlPoint: .lokMaChau, laneCallID: 1, vrn: bundles[3].vrn,
                rangAt: Self.arrival),
            step: HelpCallStep(step: "ring", actor: "lane", at: Self.arrival))
        var answered = call
        answered.state = .answered
        answered.officer = "officer-chan"
        answered.answeredAt = Self.arrival.addingTimeInterval(5)
        try await store.updateHelpCall(
            answered, from: call, step: HelpCallStep(step: "answer", actor: "officer-chan", at: Self.arrival))
    }

    /// Everything the repository answers, as one comparable text.
    func reads(_ store: any CargoRepository) async throws -> [String] {
        var out: [String] = []
        let crossings = try await store.crossings(vrn: nil, limit: 100)
        out.append("\(crossings)")
        for vrn in ["AA1", "BB2", "CC3", "DD4"].map({ try! VRN($0) }) {
            let bundles = try await store.bundles(vrn: vrn)
            out.append("\(bundles)")
            for bundle in bundles {
                for ccrn in bundle.ccrns {
                    out.append("\(String(describing: try await store.consignment(ccrn)))")
                }
            }
            out.append("\(String(describing: try await store.activeBundle(vrn: vrn, direction: .inbound)))")
        }
        out.append("\(try await store.watchEntries())")
        out.append("\(try await store.lanes())")
        out.append("\(try await store.laneEvents(lane: Self.lane.id, limit: 10))")
        out.append("\(try await store.officerActions(lane: nil, limit: 10))")
        out.append("\(try await store.cachePushes(lane: Self.lane.id, limit: 10))")
        let source = try await store.offlineCacheSource(direction: .inbound)
        out.append(
            "\(source.bundles) \(source.ccrns.sorted { $0.key.value < $1.key.value }) \(source.watchList)")
        out.append(
            "\(try await store.offlineCrossings(OfflineCrossingFilter(openConflictsOnly: false), limit: 10))")
        out.append("\(try await store.offlineCrossingCounts().sorted { $0.key.value < $1.key.value })")
        out.append("\(String(describing: try await store.account(named: "officer-chan")))")
        out.append("\(String(describing: try await store.passwordHash(for: "officer-chan")))")
        out.append("\(String(describing: try await store.session(tokenHash: "h1")))")
        out.append("\(try await store.consoleJournal(officer: nil, action: nil, since: nil, limit: 10))")
        out.append("\(try await store.openHelpCalls())")
        for call in try await store.openHelpCalls() {
            out.append("\(try await store.helpCallSteps(callID: call.id))")
        }
        out.append("\(try await store.searchCrossings(.latest, limit: 10))")
        out.append("\(try await store.cacheChanges(after: 0, limit: 100))")
        return out
    }

    @Test(
        "every read is equal on the copy; new ids and numbers continue after the copied ones; a second copy is refused"
    )
    func copyIsEqual() async throws {
        let path = try temporaryDirectory().appendingPathComponent("central.sqlite").path
        let sqlite = try await SQLiteCargoStore.open(path: path)
        try await populate(sqlite)
        let target = try await PostgresCargoStore(database: try await PostgresTestServer.openFresh())

        let counts = try await StoreCopy.copy(from: sqlite, to: target)
        #expect(counts.first { $0.table == "bundles" }?.rows == 4)
        #expect(counts.first { $0.table == "consignments" }?.rows == 5)
        #expect(counts.first { $0.table == "help_call_steps" }?.rows == 2)
        for count in counts { #expect(try await CargoStoreTests.count(target, count.table) == count.rows) }
        #expect(try await reads(target) == reads(sqlite))

        // New rows continue after the copied ones.
        let issued = Set(try await strings(sqlite, "SELECT CAST(number AS TEXT) FROM issued_numbers"))
        let fresh = try await target.submitConsignment(
            Fixture.submission(), by: Fixture.shipper, at: Fixture.t0)
        #expect(!issued.contains(fresh.ccrn.value))
        let lastCrossing = try await sqlite.crossings(vrn: nil, limit: 1)[0].id
        let next = try await target.decideCrossing(
            requestID: "after-copy", claimant: "after-copy",
            request: Fixture.request(vrn: try VRN("DD4"), at: Self.arrival), policy: Fixture.policy,
            at: Self.arrival)
        #expect(next.id == lastCrossing + 1)
        let feed = try await sqlite.cacheChanges(after: 0, limit: 1000).through
        #expect(try await target.cacheChanges(after: feed, limit: 10).first == feed + 1)

        await #expect(throws: StoreCopy.TargetNotEmpty.self) {
            try await StoreCopy.copy(from: sqlite, to: target)
        }
        do {
            _ = try await StoreCopy.copy(from: sqlite, to: target)
        } catch let refusal as StoreCopy.TargetNotEmpty {
            #expect(refusal.description.contains("rows in bundles"))
        }
        await target.close()
    }
}
