import Foundation
import LinkCore
import LinkTestSupport
import RoadCargo
import TestKit
import Testing

@testable import LaneLink

/// The lane client's handling of central's own messages.
@Suite(.timeLimit(.minutes(1))) struct LinkClientTests {
    let laneA = LinkRig.laneA

    @Test func centralsCommandResentAfterALostAckIsHandledOnceWithAnAppliedLog() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        let proxy = try await NoisyLineProxy(targetPort: central.port, seed: 21)
        let applied = try SQLiteAppliedLog(path: rig.directory + "/lane-applied.sqlite")
        let client = try rig.client(
            line: .tcp(TCPLinkConnector(host: "127.0.0.1", port: proxy.port)), appliedLog: applied)
        let running = Task { try await client.run() }
        try await eventually("connected") { client.isConnected && rig.server.connectedLanes == [laneA] }
        // The lane hears central but central never hears the lane's ack.
        proxy.setImpairment(LineImpairment(dropChunk: 1), for: .laneToCentral)
        try await rig.server.send(.officerCommand(.openLane(officer: "K9")), to: laneA)
        try await eventually("handled") { rig.decisions.withLock { $0["\(laneA)/open-K9"] } == 1 }
        // A new session: central sends the command again, the lane acks it unhandled.
        await proxy.cut()
        proxy.setImpairment(.none, for: .laneToCentral)
        proxy.restore()
        try await eventually("acknowledged") { try await rig.server.pendingCount(for: laneA) == 0 }
        #expect(client.sessionsEstablished >= 2)
        #expect(rig.decisions.withLock { $0["\(laneA)/open-K9"] } == 1)
        running.cancel()
        _ = await running.result
        await proxy.close()
        await central.listener.close()
        central.task.cancel()
    }

    @Test func controlMessagesCannotBeSent() async throws {
        let rig = try LinkRig()
        let client = try rig.client(line: .custom({ throw CancellationError() }))
        await #expect(throws: EndpointError.notApplicationMessage("heartbeat")) {
            try await client.send(.heartbeat)
        }
        #expect(try await client.pendingCount() == 0)
    }
}
