import ClearanceCore
import Foundation
import RoadCargo
import Testing

@testable import CargoStore

@Suite("Consignments through the store")
struct ConsignmentTests {

    @Test(
        "a submission gets a CCRN valid to the end of day + 14 and reads back unchanged",
        arguments: StoreBackend.all)
    func submitAndRead(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let s = Fixture.submission()
        let c = try await store.submitConsignment(s, by: Fixture.shipper, at: Fixture.t0)
        #expect(c.submission == s)
        #expect(c.status == .active)
        #expect(c.submittedBy == "winning-co")
        #expect(c.validUntil.description == "2009-11-07")
        #expect(try await store.consignment(c.ccrn) == c)
        #expect(try await count(store, "goods_items") == 2)
    }

    @Test(
        "only shippers and agents submit; agents need the acting-on-behalf section",
        arguments: StoreBackend.all)
    func roles(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        await #expect(throws: AccessDenied.self) {
            try await store.submitConsignment(Fixture.submission(), by: Fixture.driver, at: Fixture.t0)
        }
        await #expect(throws: AccessDenied.self) {
            try await store.submitConsignment(Fixture.submission(), by: Fixture.officer, at: Fixture.t0)
        }
        await #expect(throws: ValidationFailure.self) {
            try await store.submitConsignment(Fixture.submission(), by: Fixture.agent, at: Fixture.t0)
        }
        var s = Fixture.submission()
        s.actingOnBehalf = ActingOnBehalf(
            agentRole: .freightForwarder, shipperType: .company, shipperName: "Winning Co")
        _ = try await store.submitConsignment(s, by: Fixture.agent, at: Fixture.t0)
        #expect(try await count(store, "consignments") == 1)
    }

    @Test("a submission outside the 14-day window is refused and stores nothing", arguments: StoreBackend.all)
    func windowRefused(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let before = try await snapshot(store)
        await #expect(throws: ValidationFailure.self) {
            try await store.submitConsignment(
                Fixture.submission(expected: Fixture.today.advanced(by: 15)), by: Fixture.shipper,
                at: Fixture.t0)
        }
        #expect(try await snapshot(store) == before)
    }

    @Test(
        "the submitter and officers amend; another shipper is denied and changes nothing",
        arguments: StoreBackend.all)
    func amendOwnership(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let c = try await store.submitConsignment(Fixture.submission(), by: Fixture.shipper, at: Fixture.t0)
        var changed = Fixture.submission(consignee: "Another Importer Ltd")
        changed.goodsItems.removeLast()

        let before = try await snapshot(store)
        await #expect(throws: AccessDenied.self) {
            try await store.amendConsignment(c.ccrn, to: changed, by: Fixture.otherShipper, at: Fixture.t0)
        }
        #expect(try await snapshot(store) == before)

        let later = Fixture.t0.addingTimeInterval(3600)
        let amended = try await store.amendConsignment(c.ccrn, to: changed, by: Fixture.shipper, at: later)
        #expect(amended.submission == changed)
        #expect(amended.amendedAt == later)
        #expect(amended.validUntil == c.validUntil)
        #expect(try await store.consignment(c.ccrn) == amended)
        #expect(try await count(store, "goods_items") == 1)

        let byOfficer = try await store.amendConsignment(
            c.ccrn, to: Fixture.submission(), by: Fixture.officer, at: later)
        #expect(byOfficer.submission == Fixture.submission())
        #expect(byOfficer.submittedBy == "winning-co")
    }

    @Test("an unknown CCRN is not found", arguments: StoreBackend.all)
    func unknown(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let ccrn = CCRN(payload: 123_456_789)
        #expect(try await store.consignment(ccrn) == nil)
        await #expect(throws: StoreError.notFound("CCRN \(ccrn)")) {
            try await store.withdrawConsignment(ccrn, by: Fixture.shipper, at: Fixture.t0)
        }
    }

    @Test("a withdrawn consignment stays stored, cannot be amended or bundled", arguments: StoreBackend.all)
    func withdraw(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let c = try await store.submitConsignment(Fixture.submission(), by: Fixture.shipper, at: Fixture.t0)
        await #expect(throws: AccessDenied.self) {
            try await store.withdrawConsignment(c.ccrn, by: Fixture.otherShipper, at: Fixture.t0)
        }
        let w = try await store.withdrawConsignment(c.ccrn, by: Fixture.shipper, at: Fixture.t0)
        #expect(w.status == .withdrawn)
        #expect(try await store.consignment(c.ccrn)?.status == .withdrawn)
        await #expect(throws: RuleConflict.self) {
            try await store.amendConsignment(
                c.ccrn, to: Fixture.submission(), by: Fixture.shipper, at: Fixture.t0)
        }
        await #expect(throws: ValidationFailure.self) {
            try await store.createBundle(Fixture.bundleRequest([c.ccrn]), by: Fixture.driver, at: Fixture.t0)
        }
    }

    @Test(
        "a batch accepts and refuses record by record; refused records store nothing",
        arguments: StoreBackend.all)
    func batch(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let bad = Fixture.submission(expected: Fixture.today.advanced(by: -1))
        var noGoods = Fixture.submission()
        noGoods.goodsItems = []
        let results = try await store.submitBatch(
            [Fixture.submission(), bad, Fixture.submission(.outbound), noGoods], by: Fixture.shipper,
            at: Fixture.t0)
        #expect(results.count == 4)
        guard case .accepted(let first) = results[0], case .refused(let why) = results[1],
            case .accepted(let third) = results[2], case .refused(let why4) = results[3]
        else {
            Issue.record("unexpected results \(results)")
            return
        }
        #expect(why.map(\.rule) == ["submission.window"])
        #expect(why4.map(\.rule) == ["goods.empty"])
        #expect(try await store.consignment(first.ccrn) == first)
        #expect(try await store.consignment(third.ccrn) == third)
        #expect(try await count(store, "consignments") == 2)
        #expect(try await count(store, "issued_numbers") == 2)
        #expect(try await count(store, "goods_items") == 4)
    }

    @Test("a batch of 1000 is refused whole", arguments: StoreBackend.all)
    func batchTooLarge(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let before = try await snapshot(store)
        await #expect(throws: ValidationFailure.self) {
            try await store.submitBatch(
                Array(repeating: Fixture.submission(), count: 1000), by: Fixture.shipper, at: Fixture.t0)
        }
        #expect(try await snapshot(store) == before)
        let ok = try await store.submitBatch(
            Array(repeating: Fixture.submission(), count: 999), by: Fixture.shipper, at: Fixture.t0)
        #expect(ok.count == 999)
        #expect(try await count(store, "consignments") == 999)
    }
}
