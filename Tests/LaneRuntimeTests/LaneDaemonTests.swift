import Foundation
import GRDB
import LaneJournal
import LaneLink
import LaneRuntime
import LinkCore
import RoadCargo
import TestKit
import Testing

/// A whole lane (journal, headless boards, virtual buttons, control socket,
/// link) against a real central, driven as technicians and drivers drive it.
@Suite struct LaneDaemonTests {
    static let truck = try! VRN("AB1234")

    @Test func aBundledTruckIsClearedOnBothBoardsAndCentralRecordsOneCrossing() async throws {
        let rig = try await LaneRig()
        let bundle = try await rig.bundle(Self.truck)
        let lane = try await rig.startLane()
        await #expect(try lane.status()["phase"] as? String == "closed")
        try await lane.waitFor("the link up") { $0["link"] as? String == "up" }

        _ = try await lane.request(["id": 1, "command": "open", "officer": "chan"])
        let arrived = try await lane.request(["id": 2, "command": "arrive", "vrn": "ab 1234"])
        let result = try #require(arrived["result"] as? [String: Any], "\(arrived)")
        #expect(result["vrn"] as? String == "AB1234", "the plate is normalised by the VRN rules")

        let shown = try await lane.waitFor("the decision on the boards") {
            $0["phase"] as? String == "decided" && $0["drawn"] as? Bool == true
        }
        #expect(shown["xdb"] as? String == "CLEARED")
        #expect(shown["aiop"] as? String == "CLEARED")
        #expect(shown["reason"] as? String == "BUNDLE_OK")
        #expect(shown["drawn"] as? Bool == true)

        // What the driver sees is a real picture, and the headless backend wrote it too.
        let png = try await lane.request(["id": 3, "command": "screenshot", "board": "xdb"])
        let encoded = try #require((png["result"] as? [String: Any])?["png_base64"] as? String)
        let bytes = try #require(Data(base64Encoded: encoded))
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(FileManager.default.fileExists(atPath: "\(rig.directory)/boards/xdb.png"))

        _ = try await lane.request(["id": 4, "command": "leave"])
        try await lane.waitFor("WELCOME again") { $0["phase"] as? String == "welcome" }
        let kinds = try await lane.journalKinds()
        for kind in [
            "lane_opened", "arrival", "decision_requested", "decision_received", "instruction_shown",
        ] {
            #expect(kinds.contains(kind), "journal lacks \(kind): \(kinds)")
        }
        #expect(kinds.last == "vehicle_left")
        let crossings = try await rig.crossings(Self.truck)
        #expect(crossings.count == 1)
        #expect(crossings.first?.decision.ubr == bundle.ubr)
        await lane.stop()
        await rig.stopCentral()
    }

    @Test func withCentralDownTheLaneShowsStopAndDropManifestThenDeliversEverythingWhenItReturns()
        async throws
    {
        let rig = try await LaneRig(centralUp: false)
        let lane = try await rig.startLane()
        _ = try await lane.request(["id": 1, "command": "open"])
        _ = try await lane.request(["id": 2, "command": "arrive", "vrn": "CD5678"])
        let waiting = try await lane.status()
        #expect(waiting["phase"] as? String == "stop")
        #expect(waiting["link"] as? String == "down")

        // Rule 4: no answer within decision.timeout (2 s on the lane's clock).
        await rig.timers.advance(by: 2.1)
        let rule4 = try await lane.waitFor("rule 4") { $0["phase"] as? String == "system_unavailable" }
        #expect(rule4["xdb"] as? String == "STOP")
        #expect(rule4["aiop"] as? String == "DROP_MANIFEST")
        #expect(try await lane.journalKinds().contains("decision_timeout"))
        let queued = try #require(rule4["outbox_pending"] as? Int)
        #expect(queued >= 2, "the request and the officer alert wait in the outbox")

        // Central comes back: the outbox drains, and central has the crossing once.
        try await rig.startCentral()
        try await lane.waitFor("the outbox drained") { $0["outbox_pending"] as? Int == 0 }
        let crossings = try await rig.crossings(try VRN("CD5678"))
        #expect(crossings.count == 1)
        // The late decision does not replace what the driver was told.
        let after = try await lane.status()
        #expect(after["phase"] as? String == "system_unavailable")
        await lane.stop()
        await rig.stopCentral()
    }

    @Test func aRestartWithAVehicleWaitingShowsStopAndAsksAgain() async throws {
        let rig = try await LaneRig(centralUp: false)
        let first = try await rig.startLane()
        _ = try await first.request(["id": 1, "command": "open"])
        _ = try await first.request(["id": 2, "command": "arrive", "vrn": "EF9012"])
        let before = try #require(try await first.status()["pending_request_id"] as? Int)
        await first.stop()

        let second = try await rig.startLane()
        let status = try await second.status()
        #expect(status["phase"] as? String == "stop")
        #expect(status["vrn"] as? String == "EF9012")
        let again = try #require(status["pending_request_id"] as? Int)
        #expect(again > before, "a new request id, never a reused one")
        #expect(try await second.journalKinds().contains("recovered"))
        await second.stop()
    }

    @Test func offlineTheLaneDecidesFromTheCacheAndSpendsTheBundle() async throws {
        let rig = try await LaneRig(centralUp: false)
        let lane = try await rig.startLane()
        let ubr = try UBR("1001064326")
        try await lane.daemon.journal.replaceCache(
            generation: 1,
            bundles: [
                OfflineBundle(
                    ubr: ubr, vrn: Self.truck, direction: .inbound,
                    earliestCrossing: rig.clock.now().addingTimeInterval(-60), status: .active,
                    ccrns: [
                        .init(
                            ccrn: try CCRN("2001067889"),
                            validUntil: CalendarDay(containing: rig.clock.now()).advanced(by: 2))
                    ])
            ], watchList: [])
        _ = try await lane.request(["id": 1, "command": "open"])
        try await lane.daemon.controller.received(.officerCommand(.offlineMode(on: true, officer: "chan")))
        _ = try await lane.request(["id": 2, "command": "arrive", "vrn": "AB1234"])
        let shown = try await lane.waitFor("the offline decision") { $0["phase"] as? String == "decided" }
        #expect(shown["xdb"] as? String == "CLEARED")
        #expect(shown["offline"] as? Bool == true)
        let notes = try await lane.daemon.journal.writer.read { db in
            try String.fetchAll(db, sql: "SELECT decision FROM journal WHERE kind = 'decision_received'")
        }
        #expect(notes.count == 1)
        #expect(notes.first?.contains("OFFLINE") == true, "the decision is tagged OFFLINE: \(notes)")

        // The bundle crossed: the same UBR cannot clear again from the cache.
        _ = try await lane.request(["id": 3, "command": "leave"])
        _ = try await lane.request(["id": 4, "command": "arrive", "vrn": "AB1234"])
        // Without a bundle the answer waits out the unladen grace (20 s) on STOP.
        #expect(try await lane.status()["xdb"] as? String == "STOP")
        await rig.timers.advance(by: 21)
        let second = try await lane.waitFor("the second decision") { $0["phase"] as? String == "decided" }
        #expect(second["xdb"] as? String == "INSPECT")
        #expect(second["reason"] as? String == "NO_BUNDLE")
        await lane.stop()
    }

    @Test func buttonsReachTheBoardsAndTheLamps() async throws {
        let rig = try await LaneRig(centralUp: false)
        let lane = try await rig.startLane()
        _ = try await lane.request(["id": 1, "command": "open"])
        let garbage = try await lane.request(["id": 2, "command": "arrive", "vrn": "!!"])
        #expect((garbage["error"] as? [String: Any])?["code"] as? String == "invalid_vrn")
        #expect(try await lane.status()["phase"] as? String == "welcome", "a refused plate changes nothing")
        _ = try await lane.request(["id": 2, "command": "arrive", "vrn": "GH3456"])
        _ = try await lane.request(["id": 3, "command": "press", "button": "unladen", "action": "click"])
        try await lane.waitFor("the unladen press acknowledged") {
            $0["unladen_acknowledged"] as? Bool == true
        }
        _ = try await lane.request(["id": 4, "command": "press", "button": "help", "action": "click"])
        try await lane.waitFor("the help call ringing") { $0["help"] as? String == "ringing" }
        #expect(lane.buttons.isLampOn(.help), "the Help lamp lights while the call rings")
        let kinds = try await lane.journalKinds()
        #expect(kinds.contains("button_pressed"))
        #expect(kinds.contains("help_ring"))
        await lane.stop()
    }

    @Test func theControlSocketRefusesWhatItMustNotDoAndSaysWhy() async throws {
        let rig = try await LaneRig(centralUp: false)
        let lane = try await rig.startLane(allowVirtualInputs: false)
        let press = try await lane.request(["id": 7, "command": "press", "button": "help"])
        #expect(press["ok"] as? Bool == false)
        #expect(press["id"] as? Int == 7)
        let error = try #require(press["error"] as? [String: Any])
        #expect(error["code"] as? String == "not_allowed")
        #expect((error["message"] as? String)?.contains("allow_virtual_inputs") == true)
        #expect((error["message"] as? String)?.contains("lane.yaml") == true)

        let garbage = try await ControlClient.exchange(lane.socket, Array("not json\n".utf8))
        let refusal = try #require(try JSONSerialization.jsonObject(with: Data(garbage)) as? [String: Any])
        #expect((refusal["error"] as? [String: Any])?["code"] as? String == "bad_request")

        let unknown = try await lane.request(["id": 8, "command": "explode"])
        #expect((unknown["error"] as? [String: Any])?["code"] as? String == "unknown_command")
        // Nothing of that reached the lane.
        #expect(try await lane.status()["phase"] as? String == "closed")
        await lane.stop()
    }

    @Test func aPlateReaderOnTCPBringsVehiclesAndItsGarbageIsRefused() async throws {
        let rig = try await LaneRig(centralUp: false)
        let port = try await LaneRig.freePort()
        let lane = try await rig.startLane(extra: "reader: {tcp: {listen: {host: 127.0.0.1, port: \(port)}}}")
        _ = try await lane.request(["id": 1, "command": "open"])
        var reader: (any LinkTransport)?
        _ = await eventually(within: .seconds(4)) {
            reader = try? await TCPLinkConnector(host: "127.0.0.1", port: port).connect()
            return reader != nil
        }
        let connection = try #require(reader, "the lane's reader port never opened")
        // Garbage, a keep-alive, an over-long line, then a plate as readers send it.
        try await connection.write(
            Array("#!*\r\n\r\n\(String(repeating: "X", count: 300))\nkt 9876\r\n".utf8))
        let arrived = try await lane.waitFor("the reader's vehicle") { $0["vrn"] as? String == "KT9876" }
        #expect(arrived["phase"] as? String == "stop")
        let arrivals = try await lane.journal().filter { $0["kind"] as? String == "arrival" }
        #expect(arrivals.count == 1, "only the plate arrived: \(arrivals)")
        #expect((arrivals.first?["detail"] as? String)?.contains("source=reader") == true)
        await connection.close()
        await lane.stop()
    }
}
