import Foundation
import GRDB
import LaneControl
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
        await #expect(try lane.status().phase == "closed")
        try await lane.waitFor("the link up") { $0.link == "up" }

        try await lane.call(.open(officer: "chan"))
        let arrived = try await lane.call(.arrive(vrn: "ab 1234"), ControlArriveResult.self)
        #expect(arrived.vrn == "AB1234", "the plate is normalised by the VRN rules")

        let shown = try await lane.waitFor("the decision on the boards") {
            $0.phase == "decided" && $0.drawn
        }
        #expect(shown.xdb == "CLEARED")
        #expect(shown.aiop == "CLEARED")
        #expect(shown.reason == "BUNDLE_OK")
        #expect(shown.drawn)

        // What the driver sees is a real picture, and the headless backend wrote it too.
        let shot = try await lane.call(.screenshot(board: .xdb), ControlScreenshotResult.self)
        let bytes = try #require(shot.png)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(FileManager.default.fileExists(atPath: "\(rig.directory)/boards/xdb.png"))

        try await lane.call(.leave)
        try await lane.waitFor("WELCOME again") { $0.phase == "welcome" }
        let kinds = try await lane.journalKinds()
        for kind in [
            "lane_opened", "arrival", "decision_requested", "decision_received", "instruction_shown",
        ] {
            #expect(kinds.contains(kind), "journal lacks \(kind): \(kinds)")
        }
        // The rig's session restarts every second or so (`dead_after: 1s`):
        // link entries may come after the departure.
        #expect(kinds.last { $0 != "link_up" && $0 != "link_down" } == "vehicle_left", "\(kinds)")
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
        try await lane.call(.open())
        try await lane.call(.arrive(vrn: "CD5678"))
        let waiting = try await lane.status()
        #expect(waiting.phase == "stop")
        #expect(waiting.link == "down")

        // Rule 4: no answer within decision.timeout (2 s on the lane's clock).
        await rig.timers.advance(by: 2.1)
        let rule4 = try await lane.waitFor("rule 4") { $0.phase == "system_unavailable" }
        #expect(rule4.xdb == "STOP")
        #expect(rule4.aiop == "DROP_MANIFEST")
        #expect(try await lane.journalKinds().contains("decision_timeout"))
        let queued = rule4.outboxPending
        #expect(queued >= 2, "the request and the officer alert wait in the outbox")

        // Central comes back: the outbox drains, and central has the crossing once.
        try await rig.startCentral()
        try await lane.waitFor("the outbox drained") { $0.outboxPending == 0 }
        let crossings = try await rig.crossings(try VRN("CD5678"))
        #expect(crossings.count == 1)
        // The late decision does not replace what the driver was told.
        let after = try await lane.status()
        #expect(after.phase == "system_unavailable")
        await lane.stop()
        await rig.stopCentral()
    }

    @Test func aRestartWithAVehicleWaitingShowsStopAndAsksAgain() async throws {
        let rig = try await LaneRig(centralUp: false)
        let first = try await rig.startLane()
        try await first.call(.open())
        try await first.call(.arrive(vrn: "EF9012"))
        let before = try #require(try await first.status().pendingRequestID)
        await first.stop()

        let second = try await rig.startLane()
        let status = try await second.status()
        #expect(status.phase == "stop")
        #expect(status.vrn == "EF9012")
        let again = try #require(status.pendingRequestID)
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
        try await lane.call(.open())
        try await lane.daemon.controller.received(.officerCommand(.offlineMode(on: true, officer: "chan")))
        try await lane.call(.arrive(vrn: "AB1234"))
        let shown = try await lane.waitFor("the offline decision") { $0.phase == "decided" }
        #expect(shown.xdb == "CLEARED")
        #expect(shown.offline)
        let notes = try await lane.daemon.journal.writer.read { db in
            try String.fetchAll(db, sql: "SELECT decision FROM journal WHERE kind = 'decision_received'")
        }
        #expect(notes.count == 1)
        #expect(notes.first?.contains("OFFLINE") == true, "the decision is tagged OFFLINE: \(notes)")

        // The bundle crossed: the same UBR cannot clear again from the cache.
        try await lane.call(.leave)
        try await lane.call(.arrive(vrn: "AB1234"))
        // Without a bundle the answer waits out the unladen grace (20 s) on STOP.
        #expect(try await lane.status().xdb == "STOP")
        await rig.timers.advance(by: 21)
        let second = try await lane.waitFor("the second decision") { $0.phase == "decided" }
        #expect(second.xdb == "INSPECT")
        #expect(second.reason == "NO_BUNDLE")
        await lane.stop()
    }

    @Test func buttonsReachTheBoardsAndTheLamps() async throws {
        let rig = try await LaneRig(centralUp: false)
        let lane = try await rig.startLane()
        try await lane.call(.open())
        #expect(try await lane.refusal(.arrive(vrn: "!!"))?.known == .invalidVRN)
        #expect(try await lane.status().phase == "welcome", "a refused plate changes nothing")
        try await lane.call(.arrive(vrn: "GH3456"))
        try await lane.call(.press(button: .unladen))
        try await lane.waitFor("the unladen press acknowledged") {
            $0.unladenAcknowledged
        }
        try await lane.call(.press(button: .help))
        try await lane.waitFor("the help call ringing") { $0.help == "ringing" }
        #expect(lane.buttons.isLampOn(.help), "the Help lamp lights while the call rings")
        let kinds = try await lane.journalKinds()
        #expect(kinds.contains("button_pressed"))
        #expect(kinds.contains("help_ring"))
        await lane.stop()
    }

    @Test func theControlSocketRefusesWhatItMustNotDoAndSaysWhy() async throws {
        let rig = try await LaneRig(centralUp: false)
        let lane = try await rig.startLane(allowVirtualInputs: false)
        let error = try #require(try await lane.refusal(.press(button: .help), id: .integer(7)))
        #expect(error.known == .notAllowed)
        #expect(error.message.contains("allow_virtual_inputs"))
        #expect(error.message.contains("lane.yaml"))

        let garbage = try await ControlClient.exchange(lane.socket, Array("not json\n".utf8))
        guard case .refused(_, let refusal) = ControlResponse.read(garbage) else {
            Issue.record("garbage was not refused: \(String(decoding: garbage, as: UTF8.self))")
            return
        }
        #expect(refusal.known == .badRequest)

        // A command this laned does not know (a newer lanectl's), sent as a raw line.
        let explode = try await ControlClient.exchange(
            lane.socket, Array(#"{"id": 8, "command": "explode"}"#.utf8 + [0x0A]))
        guard case .refused(let id, let unknown) = ControlResponse.read(explode) else {
            Issue.record("an unknown command was not refused: \(String(decoding: explode, as: UTF8.self))")
            return
        }
        #expect(id == .integer(8))
        #expect(unknown.known == .unknownCommand)
        // Nothing of that reached the lane.
        #expect(try await lane.status().phase == "closed")
        await lane.stop()
    }

    @Test func aPlateReaderOnTCPBringsVehiclesAndItsGarbageIsRefused() async throws {
        let rig = try await LaneRig(centralUp: false)
        let port = try await LaneRig.freePort()
        let lane = try await rig.startLane(extra: "reader: {tcp: {listen: {host: 127.0.0.1, port: \(port)}}}")
        try await lane.call(.open())
        var reader: (any LinkTransport)?
        _ = await eventually(within: .seconds(4)) {
            reader = try? await TCPLinkConnector(host: "127.0.0.1", port: port).connect()
            return reader != nil
        }
        let connection = try #require(reader, "the lane's reader port never opened")
        // Garbage, a keep-alive, an over-long line, then a plate as readers send it.
        try await connection.write(
            Array("#!*\r\n\r\n\(String(repeating: "X", count: 300))\nkt 9876\r\n".utf8))
        let arrived = try await lane.waitFor("the reader's vehicle") { $0.vrn == "KT9876" }
        #expect(arrived.phase == "stop")
        let arrivals = try await lane.journal().filter { $0.kind == "arrival" }
        #expect(arrivals.count == 1, "only the plate arrived: \(arrivals)")
        #expect(arrivals.first?.detail.contains("source=reader") == true)
        await connection.close()
        await lane.stop()
    }
}
