import CargoStore
import Central
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RoadCargo
import Testing

/// The officers' console raises reconciliation conflicts (clearance rule 4)
/// until an officer of the lane's control point acknowledges one.
@Suite struct ReconciliationConsoleTests {
    static func snapshot(_ client: some TestClientProtocol, _ login: ConsoleTests.Login) async throws
        -> [String: Any]
    {
        try await client.execute(
            uri: "/console/api/snapshot", method: .get, headers: login.headers(csrf: false)
        ) { response in
            #expect(response.status == .ok)
            return try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any]
        }
    }

    @Test func aConflictIsShownUntilAnOfficerOfItsControlPointAcknowledgesIt() async throws {
        let rig = try await ConsoleTests.rig()
        defer { Task { await rig.stop() } }
        let lane = try #require(await rig.h.store.lane(LaneLinkRig.lmc))
        let at = rig.h.clock.now()
        let conflict = try await rig.h.store.applyOfflineCrossing(
            OfflineCrossing(
                passageID: 3, requestID: 4, vrn: try VRN("AB12"), arrivedAt: at, unladenPressed: false,
                decidedAt: at,
                decision: Decision(
                    instruction: .cleared, reason: .bundleOK, notes: [.offline], ubr: UBR(payload: 5)),
                cacheVersion: nil),
            lane: lane, claimant: LaneHub.passageClaimant(lane: lane.id, passageID: 3), receivedAt: at)
        #expect(conflict.outcome == .conflict)
        let path = "/console/api/reconciliation/\(conflict.id)/acknowledge"
        try await rig.app().test(.live) { client in
            let chan = try await ConsoleTests.logIn(client, "chan")
            let before = try await Self.snapshot(client, chan)
            let shown = before["conflicts"] as? [[String: Any]] ?? []
            #expect(shown.map { $0["id"] as? Int } == [Int(conflict.id)])
            #expect(shown.first?["conflict"] as? String == "UBR \(UBR(payload: 5)) is not known at central")
            let card = (before["lanes"] as? [[String: Any]])?.first { $0["id"] as? String == "LMC-IN-01" }
            #expect(card?["offlineReceived"] as? Int == 1)
            #expect(card?["conflictsOpen"] as? Int == 1)

            // Man Kam To's officer neither sees nor acknowledges it.
            let wong = try await ConsoleTests.logIn(client, "wong")
            #expect((try await Self.snapshot(client, wong)["conflicts"] as? [Any])?.isEmpty == true)
            #expect(try await ConsoleTests.post(client, path, wong).0 == .forbidden)
            // Without the CSRF token nothing happens.
            #expect(try await ConsoleTests.post(client, path, chan, csrf: false).0 != .ok)
            #expect(try await rig.h.store.offlineCrossing(id: conflict.id)?.acknowledgedAt == nil)

            let (status, body) = try await ConsoleTests.post(client, path, chan, ["note": "truck checked"])
            #expect(status == .ok, "\(body)")
            #expect(try await ConsoleTests.post(client, path, chan).0 == .conflict)
            let after = try await Self.snapshot(client, chan)
            #expect((after["conflicts"] as? [Any])?.isEmpty == true)
            let cardAfter = (after["lanes"] as? [[String: Any]])?.first { $0["id"] as? String == "LMC-IN-01" }
            #expect(cardAfter?["offlineReceived"] as? Int == 1)
            #expect(cardAfter?["conflictsOpen"] as? Int == 0)
        }
        let record = try await rig.h.store.offlineCrossing(id: conflict.id)
        #expect(record?.acknowledgedBy == "chan")
        #expect(record?.acknowledgedNote == "truck checked")
        let journal = try await rig.h.store.consoleJournal(
            officer: nil, action: "reconciliation_acknowledge", since: nil, limit: 10)
        #expect(journal.map(\.outcome) == [.refused, .done, .refused])
        #expect(journal.map(\.officer) == ["chan", "chan", "wong"])
    }
}
