import ClearanceCore
import Foundation
import GRDB
import RoadCargo
import Testing

@testable import CargoStore

@Suite("What central records about its lanes")
struct LaneLinkStoreTests {
    let lane = Fixture.inboundLane.id

    @Test("a lane event stored twice is one row, and listing is newest first", arguments: StoreBackend.all)
    func laneEvents(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        func event(_ seconds: Double, _ kind: String, _ fields: [String: String] = [:]) -> LaneEventRecord {
            LaneEventRecord(
                lane: lane, occurredAt: Fixture.t0.addingTimeInterval(seconds), kind: kind, fields: fields,
                receivedAt: Fixture.t0.addingTimeInterval(60))
        }
        let opened = try await store.recordLaneEvent(event(0, "lane_opened"))
        let pressed = try await store.recordLaneEvent(event(1, "button_pressed", ["button": "help"]))
        let again = try await store.recordLaneEvent(event(1, "button_pressed", ["button": "help"]))
        // Same instant, other fields: another event.
        let other = try await store.recordLaneEvent(event(1, "button_pressed", ["button": "unladen"]))
        #expect(again == pressed)
        #expect(Set([opened.id, pressed.id, other.id]).count == 3)
        let listed = try await store.laneEvents(lane: lane, limit: 10)
        #expect(listed == [other, pressed, opened])
        #expect(try await store.laneEvents(lane: lane, limit: 1) == [other])
        #expect(try await store.laneEvents(lane: Fixture.outboundLane.id, limit: 10) == [])
    }

    @Test("an officer's command is recorded, then notes its message", arguments: StoreBackend.all)
    func officerActions(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let recorded = try await store.recordOfficerAction(
            OfficerActionRecord(
                lane: lane, officer: "officer-chan", command: .offline, details: ["on": "true"],
                requestedAt: Fixture.t0))
        #expect(recorded.id > 0 && recorded.messageID == nil)
        try await store.setOfficerActionMessage(id: recorded.id, messageID: UInt64.max)
        var expected = recorded
        expected.messageID = UInt64.max
        #expect(try await store.officerActions(lane: lane, limit: 5) == [expected])
        #expect(try await store.officerActions(lane: nil, limit: 5) == [expected])
        await #expect(throws: StoreError.notFound("officer action 99")) {
            try await store.setOfficerActionMessage(id: 99, messageID: 1)
        }
    }

    @Test(
        "cache generations rise above the last one whatever floor the clock gives",
        arguments: StoreBackend.all)
    func generations(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        func push(floor: UInt64) async throws -> UInt64 {
            try await store.recordCachePush(
                lane: lane, floor: floor, cause: .officer, requestedBy: "officer-chan", bundles: 1,
                watchTargets: 2, omitted: 0, chunks: 1, at: Fixture.t0
            ).generation
        }
        #expect(try await push(floor: 1_000) == 1_000)
        #expect(try await push(floor: 5) == 1_001)
        #expect(try await push(floor: 2_000) == 2_000)
        #expect(try await store.cachePushes(lane: lane, limit: 5).map(\.generation) == [2_000, 1_001, 1_000])
    }

    /// 200 lanes linking at once each record a push: every one gets a
    /// generation, all different, with 20 writers at a time on PostgreSQL
    /// (they queue on a table lock; as SERIALIZABLE transactions they were
    /// rolled back and retried round after round, 2.3 times as long here).
    @Test("pushes recorded at once all get generations, each its own", arguments: StoreBackend.all)
    func concurrentGenerations(_ backend: StoreBackend) async throws {
        // clearanced's pool size: 20 writers at a time.
        let store = try await backend.makeStore(connections: 20)
        let lane = lane
        let generations = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    try await store.recordCachePush(
                        lane: lane, floor: 1, cause: .session, requestedBy: nil, bundles: 1, watchTargets: 0,
                        omitted: 0, chunks: 1, at: Fixture.t0
                    ).generation
                }
            }
            return try await group.reduce(into: [UInt64]()) { $0.append($1) }
        }
        #expect(generations.count == 200)
        #expect(Set(generations).count == 200)
        #expect(Set(generations) == Set(1...200))
    }

    @Test(
        "the cache source holds the direction's active bundles, their CCRNs' facts and the watch list",
        arguments: StoreBackend.all)
    func cacheSource(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        func consignment(_ direction: Direction = .inbound) async throws -> Consignment {
            try await store.submitConsignment(
                Fixture.submission(direction, consignee: "Wilson  development ltd"), by: Fixture.shipper,
                at: Fixture.t0)
        }
        let a = try await consignment()
        let b = try await consignment()
        let active = try await store.createBundle(
            Fixture.bundleRequest([a.ccrn, b.ccrn]), by: Fixture.driver, at: Fixture.t0)
        let freed = try await consignment()
        let ended = try await store.createBundle(
            Fixture.bundleRequest([freed.ccrn], vrn: try VRN("AB1")), by: Fixture.driver, at: Fixture.t0)
        _ = try await store.debundle(ended.ubr, by: Fixture.driver, at: Fixture.t0)
        let export = try await consignment(.outbound)
        _ = try await store.createBundle(
            Fixture.bundleRequest([export.ccrn], direction: .outbound), by: Fixture.driver, at: Fixture.t0)
        _ = try await store.addWatch(.vrn(try VRN("ZZ9")), note: "", by: Fixture.officer, at: Fixture.t0)

        let source = try await store.offlineCacheSource(direction: .inbound)
        #expect(source.bundles == [active])
        let facts = OfflineCacheSource.CCRNFacts(
            validUntil: a.validUntil, consignee: "WILSON DEVELOPMENT LTD")
        #expect(source.ccrns == [a.ccrn: facts, b.ccrn: facts])
        #expect(source.watchList == [.vrn(try VRN("ZZ9"))])
        #expect(
            try await store.offlineCacheSource(direction: .outbound).bundles.map(\.ccrns) == [[export.ccrn]])
    }
}
