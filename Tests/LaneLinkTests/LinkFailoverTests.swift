import Foundation
import LinkCore
import RoadCargo
import TestKit
import Testing

@testable import LaneLink

/// A lane with two central nodes (`.tcpEndpoints`), each a real
/// `LaneLinkServer` on loopback with its own database: the lane moves to
/// whichever node is up and drains its outbox there.
@Suite(.timeLimit(.minutes(3))) struct LinkFailoverTests {
    let laneA = LinkRig.laneA

    /// Session timers for a busy machine: a handshake or a heartbeat the
    /// stalled cooperative pool delays must not end a session and move the
    /// lane before the test kills a node (a node's death closes its
    /// connections, so the move does not wait for the dead-peer time).
    static func patient(_ session: inout LinkSession.Configuration) {
        session.handshakeTimeout = .seconds(60)
        session.deadPeerInterval = .seconds(15)
    }

    @Test func whenItsNodeDiesTheLaneMovesToTheNextAndItsOutboxDrainsThereOnce() async throws {
        let rig = try LinkRig(session: Self.patient)
        let appliedAtA = rig.applications
        let appliedAtB = Tally()
        let serverB = try rig.anotherServer("b", applications: appliedAtB)
        var nodeA = try await rig.listen()
        let nodeB = try await rig.listen(serverB)
        let nameA = "127.0.0.1:\(nodeA.port)"
        let nameB = "127.0.0.1:\(nodeB.port)"
        let client = try rig.client(
            line: .tcpEndpoints([
                TCPLinkConnector(host: "127.0.0.1", port: nodeA.port),
                TCPLinkConnector(host: "127.0.0.1", port: nodeB.port),
            ]), session: Self.patient)
        let running = Task { try await client.run() }

        // Linked to the first node, which answers everything.
        for id in UInt64(1)...10 { try await client.send(LinkRig.request(id)) }
        try await eventually("10 decisions from A") { rig.decisionCount() == 10 }
        #expect(client.linkedCentral == nameA)
        #expect(rig.server.connectedLanes == [laneA])
        try await eventually("A acknowledged all") { try await client.pendingCount() == 0 }

        // Node A dies; the lane's messages meanwhile wait in its outbox.
        await nodeA.listener.close()
        nodeA.task.cancel()
        _ = await nodeA.task.result
        for id in UInt64(11)...20 { try await client.send(LinkRig.request(id)) }
        try await eventually("linked to B") { client.linkedCentral == nameB }
        try await eventually("10 more decisions, from B") { rig.decisionCount() == 20 }
        try await eventually("B acknowledged all") { try await client.pendingCount() == 0 }
        for id in UInt64(11)...20 {
            #expect(appliedAtB.withLock { $0["\(laneA)/\(id)"] } == 1, "request \(id) at B")
            #expect(appliedAtA.withLock { $0["\(laneA)/\(id)"] } == nil, "request \(id) at A")
        }
        // What A had acknowledged is not sent to B again.
        for id in UInt64(1)...10 {
            #expect(appliedAtA.withLock { $0["\(laneA)/\(id)"] } == 1, "request \(id) at A")
            #expect(appliedAtB.withLock { $0["\(laneA)/\(id)"] } == nil, "request \(id) at B")
        }
        // How fast the move is (no backoff between nodes) is measured by
        // scripts/failover-test.py with real processes, not timed here.

        // A comes back: the lane stays on B, which works.
        nodeA = try await rig.listen(port: nodeA.port)
        for id in UInt64(21)...30 { try await client.send(LinkRig.request(id)) }
        try await eventually("10 more decisions, from B") { rig.decisionCount() == 30 }
        #expect(client.linkedCentral == nameB)
        #expect(rig.server.connectedLanes.isEmpty)
        #expect((21...30).allSatisfy { id in appliedAtA.withLock { $0["\(laneA)/\(id)"] } == nil })

        // B dies in turn: back to A, everything once.
        await nodeB.listener.close()
        nodeB.task.cancel()
        _ = await nodeB.task.result
        for id in UInt64(31)...40 { try await client.send(LinkRig.request(id)) }
        try await eventually("linked to A again") { client.linkedCentral == nameA }
        try await eventually("all 40 decisions") { rig.decisionCount() == 40 }
        try await eventually("A acknowledged all") { try await client.pendingCount() == 0 }
        for id in UInt64(31)...40 {
            #expect(appliedAtA.withLock { $0["\(laneA)/\(id)"] } == 1, "request \(id) at A")
            #expect(appliedAtB.withLock { $0["\(laneA)/\(id)"] } == nil, "request \(id) at B")
        }
        #expect(client.sessionsEstablished == 3)

        running.cancel()
        _ = await running.result
        #expect(client.linkedCentral == nil)
        await nodeA.listener.close()
        nodeA.task.cancel()
    }

    @Test func withEveryNodeDownTheLaneKeepsTryingInOrderAndLinksToTheFirstThatComesUp() async throws {
        let rig = try LinkRig(session: Self.patient)
        let appliedAtB = Tally()
        let serverB = try rig.anotherServer("b", applications: appliedAtB)
        // Two ports that refuse: bound, then closed, so nothing listens there.
        let probeA = try await rig.listen()
        let probeB = try await rig.listen(serverB)
        for node in [probeA, probeB] {
            await node.listener.close()
            node.task.cancel()
        }
        let client = try rig.client(
            line: .tcpEndpoints([
                TCPLinkConnector(host: "127.0.0.1", port: probeA.port),
                TCPLinkConnector(host: "127.0.0.1", port: probeB.port),
            ]), session: Self.patient)
        let running = Task { try await client.run() }
        for id in UInt64(1)...5 { try await client.send(LinkRig.request(id)) }
        // Two whole rounds: both endpoints tried, twice.
        try await eventually("two failed rounds") { client.connectsFailed >= 4 }
        #expect(client.linkedCentral == nil)
        // The second node comes up: the lane finds it and drains there.
        let nodeB = try await rig.listen(serverB, port: probeB.port)
        try await eventually("linked to B") { client.linkedCentral == "127.0.0.1:\(probeB.port)" }
        try await eventually("5 decisions") { rig.decisionCount() == 5 }
        for id in UInt64(1)...5 { #expect(appliedAtB.withLock { $0["\(laneA)/\(id)"] } == 1) }
        running.cancel()
        _ = await running.result
        await nodeB.listener.close()
        nodeB.task.cancel()
    }
}
