import Foundation
import LinkCore
import RoadCargo
import TestKit
import Testing

@testable import LaneLink

/// `LaneLinkServer.onSessionEstablished`: central learns of each new session
/// of a lane, and what it queues from there reaches that session.
@Suite(.timeLimit(.minutes(2))) struct LinkServerHookTests {
    let laneA = LinkRig.laneA

    @Test func theHookRunsOncePerSessionAndWhatItSendsArrives() async throws {
        let rig = try LinkRig()
        let sessions = Tally()
        rig.server.onSessionEstablished { [server = rig.server] lane, welcome in
            let n = sessions.withLock { counts -> Int in
                counts["\(lane)", default: 0] += 1
                return counts["\(lane)"]!
            }
            #expect(welcome.version == LaneMessage.supportedVersions.max())
            // The rig's lane counts officer commands "open-OFFICER".
            Task { _ = try? await server.send(.officerCommand(.openLane(officer: "hook\(n)")), to: lane) }
        }
        let central = try await rig.listen()
        let line = LaneLinkClient.Line.tcp(TCPLinkConnector(host: "127.0.0.1", port: central.port))

        let first = try rig.client(line: line)
        let firstRun = Task { try await first.run() }
        try await eventually("first session's message") {
            (rig.decisions.withLock { $0["\(laneA)/open-hook1"] } ?? 0) >= 1
        }
        firstRun.cancel()
        _ = await firstRun.result
        try await eventually("central sees the goodbye") { rig.server.connectedLanes.isEmpty }

        let second = try rig.client(line: line)
        let secondRun = Task { try await second.run() }
        try await eventually("second session's message") {
            (rig.decisions.withLock { $0["\(laneA)/open-hook2"] } ?? 0) >= 1
        }
        #expect(sessions.withLock { $0 } == ["\(laneA)": 2])
        try await eventually("acknowledged") { try await rig.server.pendingCount(for: laneA) == 0 }
        secondRun.cancel()
        _ = await secondRun.result
        await central.listener.close()
        central.task.cancel()
    }
}
