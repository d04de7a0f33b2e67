import ClearanceCore
import Foundation
import GRDB
import RoadCargo
import Testing

@testable import CargoStore

@Suite("Bundles through the store")
struct BundleTests {

    func submit(_ store: any CargoRepository, _ n: Int, _ direction: Direction = .inbound) async throws
        -> [CCRN]
    {
        var out: [CCRN] = []
        for _ in 0..<n {
            out.append(
                try await store.submitConsignment(
                    Fixture.submission(direction), by: Fixture.shipper, at: Fixture.t0
                )
                .ccrn)
        }
        return out
    }

    @Test(
        "a bundle gets a UBR, earliest crossing + 30 min, and freezes its consignments",
        arguments: StoreBackend.all)
    func create(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let ccrns = try await submit(store, 2)
        let b = try await store.createBundle(Fixture.bundleRequest(ccrns), by: Fixture.driver, at: Fixture.t0)
        #expect(b.ccrns == ccrns)
        #expect(b.status == .active)
        #expect(b.driverAccount == "driver-ho")
        #expect(HongKongTime.displayString(b.earliestCrossing) == "2009-10-24 23:26:44")
        #expect(try await store.bundle(b.ubr) == b)
        #expect(try await store.activeBundle(vrn: Fixture.vrn, direction: .inbound) == b)
        #expect(try await store.activeBundle(vrn: Fixture.vrn, direction: .outbound) == nil)
        for ccrn in ccrns {
            let c = try await store.consignment(ccrn)
            #expect(c?.status == .bundled)
            #expect(c?.bundledIn == b.ubr)
        }
        await #expect(throws: RuleConflict.self) {
            try await store.amendConsignment(
                ccrns[0], to: Fixture.submission(), by: Fixture.shipper, at: Fixture.t0)
        }
    }

    @Test(
        "one bad CCRN refuses the whole bundle and leaves every consignment as it was",
        arguments: StoreBackend.all)
    func refusedBundleChangesNothing(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let good = try await submit(store, 2)
        let export = try await submit(store, 1, .outbound)
        let unknown = CCRN(payload: 987_654_321)
        let before = try await snapshot(store)
        do {
            _ = try await store.createBundle(
                Fixture.bundleRequest(good + export + [unknown]), by: Fixture.driver, at: Fixture.t0)
            Issue.record("bundle accepted")
        } catch let failure as ValidationFailure {
            #expect(failure.issues.map(\.rule) == ["bundle.ccrn-direction", "bundle.ccrn-unknown"])
        }
        #expect(try await snapshot(store) == before)
        for ccrn in good + export { #expect(try await store.consignment(ccrn)?.status == .active) }
    }

    @Test("only drivers bundle", arguments: StoreBackend.all)
    func roles(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let ccrns = try await submit(store, 1)
        for account in [Fixture.shipper, Fixture.officer, Fixture.agent] {
            await #expect(throws: AccessDenied.self) {
                try await store.createBundle(Fixture.bundleRequest(ccrns), by: account, at: Fixture.t0)
            }
        }
    }

    @Test("rule 3: one active bundle per VRN and direction, until debundled", arguments: StoreBackend.all)
    func oneActivePerDirection(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let a = try await submit(store, 1)
        let b = try await submit(store, 1)
        let out = try await submit(store, 1, .outbound)
        let first = try await store.createBundle(Fixture.bundleRequest(a), by: Fixture.driver, at: Fixture.t0)
        let before = try await snapshot(store)
        await #expect(throws: RuleConflict.self) {
            try await store.createBundle(Fixture.bundleRequest(b), by: Fixture.driver, at: Fixture.t0)
        }
        #expect(try await snapshot(store) == before)
        // The other direction is a separate slot.
        _ = try await store.createBundle(
            Fixture.bundleRequest(out, direction: .outbound), by: Fixture.driver, at: Fixture.t0)
        _ = try await store.debundle(first.ubr, by: Fixture.driver, at: Fixture.t0)
        let second = try await store.createBundle(
            Fixture.bundleRequest(b), by: Fixture.driver, at: Fixture.t0)
        #expect(try await store.activeBundle(vrn: Fixture.vrn, direction: .inbound) == second)
        #expect(try await store.bundles(vrn: Fixture.vrn).count == 3)
    }

    @Test(
        "rule 3 holds in the database itself: a second active row is refused by the index",
        arguments: StoreBackend.all)
    func ruleThreeInSchema(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let a = try await submit(store, 1)
        let b = try await store.createBundle(Fixture.bundleRequest(a), by: Fixture.driver, at: Fixture.t0)
        let copy = CargoBundle(
            ubr: UBR(payload: 111_111_111), driverName: "x", driverAccount: "x", vrn: b.vrn,
            direction: b.direction,
            expectedControlPoint: nil, ccrns: [], completedAt: Fixture.t0, earliestCrossing: Fixture.t0)
        do {
            try await insertRaw(copy, into: store)
            Issue.record("second active bundle stored")
        } catch {
            #expect(isUniqueViolation(error), "\(error)")
        }
    }

    @Test("concurrent bundles for one VRN: exactly one wins", arguments: StoreBackend.all)
    func concurrentBundles(_ backend: StoreBackend) async throws {
        // A store other connections share: a file, or a PostgreSQL database.
        let store = try await backend.makeShared().first
        var ccrns: [CCRN] = []
        for _ in 0..<8 {
            ccrns.append(
                try await store.submitConsignment(Fixture.submission(), by: Fixture.shipper, at: Fixture.t0)
                    .ccrn)
        }
        let wins = await withTaskGroup(of: Bool.self) { group in
            for ccrn in ccrns {
                group.addTask {
                    (try? await store.createBundle(
                        Fixture.bundleRequest([ccrn]), by: Fixture.driver, at: Fixture.t0)) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try await count(store, "bundles") == 1)
    }

    @Test("debundling: the driver or an officer; frees the CCRNs; not twice", arguments: StoreBackend.all)
    func debundle(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let ccrns = try await submit(store, 2)
        let b = try await store.createBundle(Fixture.bundleRequest(ccrns), by: Fixture.driver, at: Fixture.t0)
        let before = try await snapshot(store)
        await #expect(throws: AccessDenied.self) {
            try await store.debundle(b.ubr, by: Fixture.otherDriver, at: Fixture.t0)
        }
        #expect(try await snapshot(store) == before)
        let later = Fixture.t0.addingTimeInterval(60)
        let ended = try await store.debundle(b.ubr, by: Fixture.officer, at: later)
        #expect(ended.status == .debundled)
        #expect(ended.endedAt == later)
        for ccrn in ccrns {
            let c = try await store.consignment(ccrn)
            #expect(c?.status == .active)
            #expect(c?.bundledIn == nil)
        }
        await #expect(throws: RuleConflict.self) {
            try await store.debundle(b.ubr, by: Fixture.driver, at: later)
        }
        await #expect(throws: StoreError.self) {
            try await store.debundle(UBR(payload: 555_555_555), by: Fixture.driver, at: later)
        }
        // Freed CCRNs can be amended and bundled again; the old UBR stays.
        _ = try await store.amendConsignment(
            ccrns[0], to: Fixture.submission(), by: Fixture.shipper, at: later)
        let again = try await store.createBundle(Fixture.bundleRequest(ccrns), by: Fixture.driver, at: later)
        #expect(again.ubr != b.ubr)
        #expect(try await store.bundle(b.ubr)?.status == .debundled)
    }
}
