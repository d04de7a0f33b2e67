import ClearanceCore
import Foundation
import GRDB
import RoadCargo
import Testing

@testable import CargoStore

@Suite("Accounts, lanes and the watch list")
struct AdminTests {

    @Test("an account's token finds it; only the token's hash is stored", arguments: StoreBackend.all)
    func tokens(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let token = try await store.addAccount(Fixture.officer)
        #expect(token.hasPrefix("lk_"))
        #expect(token.count == 46)
        #expect(try await store.account(forToken: token) == Fixture.officer)
        #expect(try await store.account(forToken: token + "x") == nil)
        #expect(try await store.account(forToken: "") == nil)
        let stored = try await strings(store, "SELECT token_hash FROM accounts")
        #expect(stored.count == 1)
        #expect(!stored[0].contains(token.dropFirst(3)))
        #expect(stored[0].count == 64)
        let other = try await store.addAccount(Fixture.driver)
        #expect(other != token)
        #expect(try await store.account(forToken: other) == Fixture.driver)
        #expect(try await store.account(named: "DRIVER-HO") == Fixture.driver)
    }

    @Test("a duplicate name, ignoring case, is refused", arguments: StoreBackend.all)
    func duplicate(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        _ = try await store.addAccount(Fixture.driver)
        await #expect(throws: StoreError.duplicate("account Driver-Ho")) {
            try await store.addAccount(Account(name: "Driver-Ho", role: .officer))
        }
        await #expect(throws: ValidationFailure.self) {
            try await store.addAccount(Account(name: "two words", role: .officer))
        }
        #expect(try await count(store, "accounts") == 1)
    }

    @Test("lanes are added, replaced, listed and removed", arguments: StoreBackend.all)
    func lanes(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        try await store.putLane(Fixture.inboundLane)
        try await store.putLane(Fixture.outboundLane)
        var moved = Fixture.outboundLane
        moved.controlPoint = .shenzhenBay
        try await store.putLane(moved)
        #expect(try await store.lanes() == [Fixture.inboundLane, moved])
        #expect(try await store.lane(moved.id) == moved)
        #expect(try await store.removeLane(moved.id))
        #expect(try await store.removeLane(moved.id) == false)
        #expect(try await store.lanes() == [Fixture.inboundLane])
    }

    @Test("officers manage the watch list", arguments: StoreBackend.all)
    func watchList(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        await #expect(throws: AccessDenied.self) {
            try await store.addWatch(.vrn(Fixture.vrn), note: "", by: Fixture.driver, at: Fixture.t0)
        }
        let e = try await store.addWatch(
            .consignee("wilson   development ltd"), note: "tip-off", by: Fixture.officer, at: Fixture.t0)
        #expect(e.target == .consignee("WILSON DEVELOPMENT LTD"))
        #expect(e.addedBy == "officer-chan")
        #expect(e.addedAt == Fixture.t0)
        #expect(try await store.watchEntries() == [e])
        #expect(try await store.removeWatch(id: e.id))
        #expect(try await store.removeWatch(id: e.id) == false)
        #expect(try await store.watchEntries().isEmpty)
    }
}
