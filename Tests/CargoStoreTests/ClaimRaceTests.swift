import ClearanceCore
import Foundation
import GRDB
import RoadCargo
import Testing

@testable import CargoStore

/// Many lanes (and central processes) deciding on one bundle at once: the
/// claim is one conditional update inside the transaction that read the
/// bundle, so exactly one of them decides on it (docs/store.md, "Claims").
@Suite("Claims race on one bundle")
struct ClaimRaceTests {
    static let lanes = (1...8).map { i in
        Lane(id: try! LaneID("LMC-IN-0\(i)"), controlPoint: .lokMaChau, direction: .inbound)
    }

    func bundled(_ store: any CargoRepository) async throws -> CargoBundle {
        let c = try await store.submitConsignment(Fixture.submission(), by: Fixture.shipper, at: Fixture.t0)
        return try await store.createBundle(
            Fixture.bundleRequest([c.ccrn]), by: Fixture.driver, at: Fixture.t0)
    }

    /// Every lane asks about the bundle's VRN at the same moment, each
    /// through one of `stores` in turn; the decisions, by lane.
    func race(_ stores: [any CargoRepository], round: Int) async throws -> [Decision] {
        let arrival = Fixture.t0.addingTimeInterval(3600)
        return try await withThrowingTaskGroup(of: Decision.self) { group in
            for (i, lane) in Self.lanes.enumerated() {
                let store = stores[i % stores.count]
                group.addTask {
                    let id = "link:\(lane.id):\(round)"
                    return try await store.decideCrossing(
                        requestID: id, claimant: id, request: Fixture.request(lane: lane, at: arrival),
                        policy: Fixture.policy, at: arrival
                    ).decision
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    func expectOneClaim(_ decisions: [Decision], _ bundle: CargoBundle, _ store: any CargoRepository)
        async throws
    {
        let onBundle = decisions.filter { $0.ubr == bundle.ubr }
        #expect(onBundle.count == 1)
        #expect(onBundle.first?.instruction == .cleared)
        // The others found no active bundle: rule 3, full implementation.
        #expect(decisions.filter { $0.reason == .noBundle }.count == decisions.count - 1)
        #expect(try await store.bundle(bundle.ubr)?.status == .claimed)
    }

    @Test(
        "8 lanes through two stores on one database (two central nodes), 10 rounds: exactly one decision on each bundle",
        arguments: StoreBackend.all)
    func twoStoresOneDatabase(_ backend: StoreBackend) async throws {
        let (a, openB) = try await backend.makeShared()
        let b = try await openB()
        for round in 0..<10 {
            let bundle = try await bundled(a)
            let decisions = try await race([a, b], round: round)
            try await expectOneClaim(decisions, bundle, b)
            // The vehicle leaves the claiming lane; the VRN is free for the next round.
            let crossing = try await a.crossings(vrn: Fixture.vrn, limit: 20).first { $0.decision.ubr != nil }
            #expect(
                try await b.recordVehicleLeft(lane: crossing!.lane, ubr: bundle.ubr, at: Fixture.t0) == .used)
        }
    }

    @Test(
        "another connection holds the write lock while the lanes ask: still exactly one decision on the bundle"
    )
    func writeLockHeld() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("central.sqlite").path
        let store = try await SQLiteCargoStore.open(path: path)
        let bundle = try await bundled(store)
        // A backup or the sqlite3 shell: a second connection in a write
        // transaction, released after the lanes' requests are waiting.
        let other = try DatabaseQueue(path: path)
        let (locked, lockedSignal) = AsyncStream<Void>.makeStream()
        let holder = Task {
            // A holder that fails before locking ends the wait instead of hanging it.
            defer { lockedSignal.finish() }
            try await other.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                lockedSignal.yield()
                Thread.sleep(forTimeInterval: 0.3)
                try db.execute(sql: "COMMIT")
            }
        }
        for await _ in locked { break }
        let decisions = try await race([store], round: 0)
        try await holder.value
        try await expectOneClaim(decisions, bundle, store)
    }

    @Test(
        "the same request re-sent, concurrently and after the claim, gets the same decision and one crossing",
        arguments: StoreBackend.all)
    func resendSameDecision(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let bundle = try await bundled(store)
        let arrival = Fixture.t0.addingTimeInterval(3600)
        let decisions = try await withThrowingTaskGroup(of: Crossing.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    try await store.decideCrossing(
                        requestID: "link:LMC-IN-01:7", claimant: "link:LMC-IN-01:7",
                        request: Fixture.request(lane: Self.lanes[0], at: arrival), policy: Fixture.policy,
                        at: arrival)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(decisions).count == 1)
        #expect(decisions[0].decision.reason == .bundleOK)
        #expect(decisions[0].decision.ubr == bundle.ubr)
        #expect(try await store.crossings(vrn: Fixture.vrn, limit: 10).count == 1)
    }

    @Test(
        "a claimant re-asking with a new request (a passage's re-request) decides on its own claim again",
        arguments: StoreBackend.all)
    func sameClaimantNewRequest(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let bundle = try await bundled(store)
        let arrival = Fixture.t0.addingTimeInterval(3600)
        let lane = Self.lanes[0]
        let first = try await store.decideCrossing(
            requestID: "r1", claimant: "passage:1", request: Fixture.request(lane: lane, at: arrival),
            policy: Fixture.policy, at: arrival)
        #expect(first.decision.reason == .bundleOK)
        let unladen = try await store.decideCrossing(
            requestID: "r2", claimant: "passage:1",
            request: Fixture.request(lane: lane, at: arrival, unladen: true),
            policy: Fixture.policy, at: arrival)
        #expect(unladen.decision.reason == .unladenConflict)
        #expect(unladen.decision.ubr == bundle.ubr)
        let stranger = try await store.decideCrossing(
            requestID: "r3", claimant: "passage:2",
            request: Fixture.request(lane: lane, at: arrival, unladen: true),
            policy: Fixture.policy, at: arrival)
        #expect(stranger.decision.reason == .unladen)
        let dryRun = try await store.dryRunDecision(
            for: Fixture.request(lane: lane, at: arrival), policy: Fixture.policy, at: arrival)
        #expect(dryRun.reason == .noBundle)
    }
}
