import AnyJSON
import Foundation
import LaneControl
import Testing

@testable import lanectl

/// `lanectl reconciliation`: its table from a documented answer, and the
/// command against a real clearanced.
@Suite struct ReconciliationCommandTests {
    static let answer = """
        {"items": [
          {"id": 7, "lane": "LMC-IN-02", "passageId": 41, "requestId": 42, "vrn": "AB12", "unladen": false,
           "arrivedAt": "2026-11-26T09:40:00+08:00", "decidedAt": "2026-11-26T09:40:02+08:00",
           "receivedAt": "2026-11-26T10:05:00+08:00", "instruction": "CLEARED", "reason": "BUNDLE_OK",
           "notes": ["OFFLINE"], "ubr": "1001064326", "cacheVersion": "3.5", "outcome": "conflict",
           "conflict": "UBR 1001064326 was already used by passage passage:LMC-IN-01:9 at lane LMC-IN-01 at 2026-11-26 09:41:07 (HKT)"},
          {"id": 5, "lane": "LMC-IN-01", "passageId": 9, "requestId": 9, "vrn": "CD34", "unladen": true,
           "arrivedAt": "2026-11-26T09:30:00+08:00", "decidedAt": "2026-11-26T09:30:01+08:00",
           "receivedAt": "2026-11-26T10:05:00+08:00", "instruction": "CLEARED", "reason": "UNLADEN",
           "notes": ["OFFLINE"], "outcome": "no_bundle"}
        ],
        "lanes": [
          {"lane": "LMC-IN-01", "received": 4, "applied": 3, "noBundle": 1, "conflicts": 0, "openConflicts": 0},
          {"lane": "LMC-IN-02", "received": 1, "applied": 0, "noBundle": 0, "conflicts": 1, "openConflicts": 1}
        ]}
        """

    @Test func theTablePutsEachConflictsReasonUnderItsRowAndCountsPerLane() throws {
        let list = try #require(JSONValue.parse(Data(Self.answer.utf8)))
        #expect(
            CentralTables.reconciliation(list, all: true) == """
                ID  LANE       PASSAGE  DECIDED              VRN   UBR         DECISION           OUTCOME
                7   LMC-IN-02  41       2026-11-26 09:40:02  AB12  1001064326  CLEARED BUNDLE_OK  CONFLICT (open)
                    UBR 1001064326 was already used by passage passage:LMC-IN-01:9 at lane LMC-IN-01 at 2026-11-26 09:41:07 (HKT)
                5   LMC-IN-01  9        2026-11-26 09:30:01  CD34  -           CLEARED UNLADEN    no_bundle

                LANE       RECEIVED  APPLIED  NO BUNDLE  CONFLICTS  OPEN
                LMC-IN-01  4         3        1          0          0
                LMC-IN-02  1         0        0          1          1
                """)
        let empty = try #require(JSONValue.parse(Data(#"{"items": [], "lanes": []}"#.utf8)))
        #expect(CentralTables.reconciliation(empty, all: false) == "no open reconciliation conflicts")
        #expect(CentralTables.reconciliation(empty, all: true) == "no offline crossings")
    }

    @Test func againstClearanced() async throws {
        let server = try await Clearanced()
        defer { server.stop() }
        let none = try await server.lanectl(["reconciliation"], token: server.officer)
        #expect(none.status == 0, "\(none)")
        #expect(none.stdout == "no open reconciliation conflicts\n")
        let json = try await server.lanectl(
            ["reconciliation", "list", "--all", "--json"], token: server.officer)
        #expect(json.status == 0, "\(json)")
        #expect(json.stdout.contains("\"items\" : ["))

        let driver = try await server.lanectl(["reconciliation"], token: server.driver)
        #expect(driver.status == 77, "\(driver)")
        #expect(driver.stderr.hasPrefix("lanectl: clearanced refused GET /v1/reconciliation: 403 forbidden"))

        let unknownLane = try await server.lanectl(
            ["reconciliation", "--lane", "LMC-IN-09"], token: server.officer)
        #expect(unknownLane.status == 1, "\(unknownLane)")
        #expect(unknownLane.stderr.contains("lane LMC-IN-09 is not known"))

        let ack = try await server.lanectl(
            ["reconciliation", "acknowledge", "7", "--note", "checked"], token: server.officer)
        #expect(ack.status == 1, "\(ack)")
        #expect(ack.stderr.contains("offline crossing 7 is not known"))

        for bad in [["reconciliation", "--limit", "0"], ["reconciliation", "acknowledge", "0"]] {
            let run = try await server.lanectl(bad, token: server.officer)
            #expect(run.status == 64, "\(bad): \(run)")
        }
    }
}
