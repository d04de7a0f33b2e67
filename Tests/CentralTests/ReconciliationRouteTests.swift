import CargoStore
import Central
import ClearanceCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RoadCargo
import Testing

/// GET /v1/reconciliation and POST /v1/reconciliation/{id}/acknowledge:
/// officers only, filters and limits checked, conflicts acknowledged once.
@Suite struct ReconciliationRouteTests {
    static let lane = Lane(id: try! LaneID("LMC-IN-01"), controlPoint: .lokMaChau, direction: .inbound)
    static let other = Lane(id: try! LaneID("LMC-IN-02"), controlPoint: .lokMaChau, direction: .inbound)

    /// Two conflicts (unknown UBRs) and one no_bundle at LMC-IN-01, one
    /// conflict at LMC-IN-02; an officer of Man Kam To besides.
    func seeded() async throws -> (Harness, [OfflineCrossingRecord]) {
        var h = try await Harness()
        try await h.store.putLane(Self.other)
        h.tokens["officer-mkt"] = try await h.store.addAccount(
            Account(name: "officer-mkt", role: .officer, controlPoint: .manKamTo))
        var records: [OfflineCrossingRecord] = []
        let at = h.clock.now().addingTimeInterval(0.7)
        for (lane, request, ubr) in [
            (Self.lane, UInt64(1), UInt64?(11)), (Self.lane, 2, nil), (Self.lane, 3, 13), (Self.other, 1, 21),
        ] {
            let decision =
                ubr.map {
                    Decision(
                        instruction: .cleared, reason: .bundleOK, notes: [.offline], ubr: UBR(payload: $0))
                } ?? Decision(instruction: .cleared, reason: .unladen, notes: [.offline])
            records.append(
                try await h.store.applyOfflineCrossing(
                    OfflineCrossing(
                        passageID: request, requestID: request, vrn: try VRN("AB\(request)"), arrivedAt: at,
                        unladenPressed: ubr == nil, decidedAt: at, decision: decision,
                        cacheVersion: CacheVersion(generation: 4, sequence: 2)),
                    lane: lane, claimant: LaneHub.passageClaimant(lane: lane.id, passageID: request),
                    receivedAt: at))
        }
        return (h, records)
    }

    func items(_ r: TestResponse) throws -> [[String: Any]] {
        try object(r)["items"] as? [[String: Any]] ?? []
    }

    @Test func listsOpenConflictsByDefaultAndFilters() async throws {
        let (h, records) = try await seeded()
        try await h.app().test(.router) { client in
            func get(_ query: String, as who: String = "officer") async throws -> TestResponse {
                try await client.execute(
                    uri: "/v1/reconciliation\(query)", method: .get, headers: h.auth(who))
            }
            let open = try await get("")
            #expect(open.status == .ok)
            let openItems = try items(open)
            #expect(
                openItems.map { $0["id"] as? Int } == [
                    Int(records[3].id), Int(records[2].id), Int(records[0].id),
                ])
            #expect(openItems.allSatisfy { $0["outcome"] as? String == "conflict" })
            let first = try #require(openItems.first)
            #expect(first["lane"] as? String == "LMC-IN-02")
            #expect(first["conflict"] as? String == "UBR \(UBR(payload: 21)) is not known at central")
            #expect(first["receivedAt"] as? String == "2026-11-26T09:00:00+08:00")
            #expect(first["cacheVersion"] as? String == "4.2")
            #expect(first["notes"] as? [String] == ["OFFLINE"])
            let lanes = try object(open)["lanes"] as? [[String: Any]] ?? []
            #expect(lanes.map { $0["lane"] as? String } == ["LMC-IN-01", "LMC-IN-02"])
            #expect(lanes.first?["received"] as? Int == 3)
            #expect(lanes.first?["openConflicts"] as? Int == 2)
            #expect(lanes.first?["noBundle"] as? Int == 1)

            #expect(try items(try await get("?all=true")).count == 4)
            #expect(try items(try await get("?all=false")).count == 3)
            let one = try items(try await get("?all=true&lane=LMC-IN-01&limit=2"))
            #expect(one.map { $0["id"] as? Int } == [Int(records[2].id), Int(records[1].id)])
            let oneLane = try object(try await get("?lane=LMC-IN-02"))["lanes"] as? [[String: Any]]
            #expect(oneLane?.map { $0["lane"] as? String } == ["LMC-IN-02"])

            // An officer of another control point sees none of Lok Ma Chau's.
            let mkt = try await get("?all=true", as: "officer-mkt")
            #expect(mkt.status == .ok)
            #expect(try items(mkt).isEmpty)
            #expect((try object(mkt)["lanes"] as? [[String: Any]])?.isEmpty == true)
            #expect(try await get("?lane=LMC-IN-01", as: "officer-mkt").status == .forbidden)
        }
    }

    @Test func refusesOthersAndBadParameters() async throws {
        let (h, _) = try await seeded()
        try await h.app().test(.router) { client in
            let none = try await client.execute(uri: "/v1/reconciliation", method: .get)
            #expect(none.status == .unauthorized)
            for who in ["driver", "shipper", "agent"] {
                let r = try await client.execute(
                    uri: "/v1/reconciliation", method: .get, headers: h.auth(who))
                #expect(r.status == .forbidden)
            }
            for (query, field) in [
                ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=x", "limit"), ("all=yes", "all"),
                ("all=1", "all"), ("lane=bad%20lane", "lane"),
            ] {
                let r = try await client.execute(
                    uri: "/v1/reconciliation?\(query)", method: .get, headers: h.auth("officer"))
                #expect(r.status == .unprocessableContent, "\(query)")
                #expect(try issues(r).map(\.field) == [field], "\(query)")
            }
            let unknown = try await client.execute(
                uri: "/v1/reconciliation?lane=LMC-IN-99", method: .get, headers: h.auth("officer"))
            #expect(unknown.status == .notFound)
        }
    }

    @Test func acknowledgesAConflictOnceWithANote() async throws {
        let (h, records) = try await seeded()
        _ = h.clock.advance(by: 65.4)
        try await h.app().test(.router) { client in
            func ack(_ id: String, as who: String = "officer", body: ByteBuffer? = nil) async throws
                -> TestResponse
            {
                try await client.execute(
                    uri: "/v1/reconciliation/\(id)/acknowledge", method: .post, headers: h.auth(who),
                    body: body)
            }
            let conflict = records[0].id
            #expect(try await ack("\(conflict)", as: "driver").status == .forbidden)
            #expect(try await ack("\(conflict)", as: "officer-mkt").status == .forbidden)
            let tooLong = try await ack(
                "\(conflict)", body: buffer(["note": String(repeating: "x", count: 501)]))
            #expect(tooLong.status == .unprocessableContent)
            #expect(try issues(tooLong).map(\.field) == ["note"])
            #expect(try await ack("\(conflict)", body: buffer(["other": 1])).status == .unprocessableContent)
            #expect(try await ack("\(conflict)", body: buffer("{")).status == .badRequest)
            #expect(try await ack("x").status == .unprocessableContent)
            #expect(try await ack("999").status == .notFound)
            // Not a conflict: nothing to acknowledge.
            #expect(try await ack("\(records[1].id)").status == .conflict)

            let done = try await ack(
                "\(conflict)", body: buffer(["note": "bundle was re-used; driver warned"]))
            #expect(done.status == .ok)
            let body = try object(done)
            #expect(body["acknowledgedBy"] as? String == "officer")
            #expect(body["acknowledgedAt"] as? String == "2026-11-26T09:01:05+08:00")
            #expect(body["acknowledgedNote"] as? String == "bundle was re-used; driver warned")
            let again = try await ack("\(conflict)")
            #expect(again.status == .conflict)
            #expect(
                (try object(again)["detail"] as? String)?.contains("already acknowledged by officer") == true)

            // Without a body, no note.
            let plain = try await ack("\(records[2].id)")
            #expect(plain.status == .ok)
            #expect(try object(plain)["acknowledgedNote"] == nil)

            let open = try await client.execute(
                uri: "/v1/reconciliation", method: .get, headers: h.auth("officer"))
            #expect(try items(open).map { $0["id"] as? Int } == [Int(records[3].id)])
            let all = try await client.execute(
                uri: "/v1/reconciliation?all=true", method: .get, headers: h.auth("officer"))
            #expect(try items(all).count == 4)
        }
    }
}
