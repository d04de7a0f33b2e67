import Foundation
import LinkCore
import LinkTestSupport
import RoadCargo
import TestKit
import Testing

@testable import LaneLink

/// The whole link, lane client to central server, over real loopback sockets,
/// directly and through the noisy-line proxy.
@Suite(.timeLimit(.minutes(3))) struct LinkEndToEndTests {
    let laneA = LinkRig.laneA

    @Test func decisionRoundTripOverTCP() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        let client = try rig.client(line: .tcp(TCPLinkConnector(host: "127.0.0.1", port: central.port)))
        let running = Task { try await client.run() }
        try await client.send(LinkRig.request(1))
        try await eventually("decision 1") { rig.decisionCount() == 1 }
        rig.expectExactlyOnce([1])
        // Both ends saw the other's acknowledgement.
        try await eventually("acks") {
            let lane = try await client.pendingCount()
            let central = try await rig.server.pendingCount(for: laneA)
            return lane == 0 && central == 0
        }
        #expect(rig.server.connectedLanes == [laneA])
        guard case .connected = rig.server.connection(of: laneA) else {
            Issue.record("lane not connected: \(rig.server.connection(of: laneA))")
            return
        }
        #expect(rig.server.counters.totalDropped == 0)
        running.cancel()
        _ = await running.result
        try await eventually("central sees the goodbye") { rig.server.connectedLanes.isEmpty }
        await central.listener.close()
        central.task.cancel()
    }

    @Test func twoHundredMessagesOverANoisyLineEachAppliedOnceAndAnswered() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        let noise = LineImpairment(
            bitFlipPerByte: 0.000_5, dropChunk: 0.02, duplicateChunk: 0.02, garbageBeforeChunk: 0.03,
            delayChunk: 0.02, delay: .milliseconds(1) ... .milliseconds(3), chunkSize: 1...64)
        let proxy = try await NoisyLineProxy(
            targetPort: central.port, seed: 42, laneToCentral: noise, centralToLane: noise)
        let client = try rig.client(line: .tcp(TCPLinkConnector(host: "127.0.0.1", port: proxy.port)))
        let running = Task { try await client.run() }
        let ids = Array(UInt64(1)...200)
        for id in ids { try await client.send(LinkRig.request(id)) }
        try await eventually("200 decisions", within: .seconds(90)) { rig.decisionCount() == 200 }
        try await eventually("acks") {
            let lane = try await client.pendingCount()
            let central = try await rig.server.pendingCount(for: laneA)
            return lane == 0 && central == 0
        }
        rig.expectExactlyOnce(ids)
        let line = proxy.counters(.laneToCentral)
        // The noise did happen, and was caught below the application.
        #expect(line.bitsFlipped + line.chunksDropped + line.chunksDuplicated + line.garbageInjections > 0)
        #expect(rig.server.counters.frameDrops.total + client.counters.frameDrops.total > 0)
        running.cancel()
        _ = await running.result
        await proxy.close()
        await central.listener.close()
        central.task.cancel()
    }

    @Test func cutAndRestoreMidTrafficEverythingArrivesOnce() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        let proxy = try await NoisyLineProxy(targetPort: central.port, seed: 3)
        let client = try rig.client(line: .tcp(TCPLinkConnector(host: "127.0.0.1", port: proxy.port)))
        let running = Task { try await client.run() }
        for id in UInt64(1)...100 { try await client.send(LinkRig.request(id)) }
        try await eventually("some decisions") { rig.decisionCount() >= 10 }
        await proxy.cut()
        // Sent while the cable is out: only the outbox has them.
        for id in UInt64(101)...150 { try await client.send(LinkRig.request(id)) }
        try await eventually("the lane noticed the cut") { !client.isConnected }
        proxy.restore()
        try await eventually("150 decisions") { rig.decisionCount() == 150 }
        try await eventually("acks") {
            let lane = try await client.pendingCount()
            let central = try await rig.server.pendingCount(for: laneA)
            return lane == 0 && central == 0
        }
        rig.expectExactlyOnce(UInt64(1)...150)
        #expect(client.sessionsEstablished >= 2)
        running.cancel()
        _ = await running.result
        await proxy.close()
        await central.listener.close()
        central.task.cancel()
    }

    /// The 3 s itself is the heartbeat's, tested on an injected clock in
    /// HeartbeatTests; here the whole link must notice a silent peer by it
    /// (a stopwatch bound of 3.3 s flaked on a loaded CI machine).
    @Test func aSilentlyBlackholedPeerIsDeclaredDeadByTheHeartbeat() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        let proxy = try await NoisyLineProxy(targetPort: central.port, seed: 5)
        let client = try rig.client(line: .tcp(TCPLinkConnector(host: "127.0.0.1", port: proxy.port)))
        let running = Task { try await client.run() }
        try await eventually("connected") { client.isConnected && rig.server.connectedLanes == [laneA] }
        let sessions = client.sessionsEstablished
        // The cable stays "plugged in": no FIN, no RST, just nothing.
        let blackhole = LineImpairment(dropChunk: 1)
        proxy.setImpairment(blackhole, for: .laneToCentral)
        proxy.setImpairment(blackhole, for: .centralToLane)
        let started = ContinuousClock.now
        try await eventually("both ends notice") {
            client.sessionsEstablished == sessions && !client.isConnected && rig.server.connectedLanes.isEmpty
        }
        let took = ContinuousClock.now - started
        // Not before the dead-peer time (3 s since the last frame heard, which
        // came up to one 1 s heartbeat before the blackhole): only the silence ended it.
        #expect(took >= .milliseconds(1_900), "dead peer declared after only \(took)")
        // Whichever end times out first closes its socket, and the proxy
        // passes that close on, so the other end may see a disconnect; and by
        // now the lane may have dialled again through the silent cable, so
        // the last close reasons may be a later handshake's. The counters
        // keep every session's end.
        let deadPeers = client.counters.session.deadPeers + rig.server.counters(for: laneA).session.deadPeers
        #expect(deadPeers >= 1, "no end declared the peer dead")
        running.cancel()
        _ = await running.result
        await proxy.close()
        await central.listener.close()
        central.task.cancel()
    }

    @Test func theOutboxSurvivesTheClientAndANewClientDeliversEverythingOnce() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        let proxy = try await NoisyLineProxy(targetPort: central.port, seed: 9)
        let outbox = rig.directory + "/lane-outbox.sqlite"
        let first = try rig.client(
            line: .tcp(TCPLinkConnector(host: "127.0.0.1", port: proxy.port)), outbox: outbox)
        let firstRun = Task { try await first.run() }
        for id in UInt64(1)...20 { try await first.send(LinkRig.request(id)) }
        try await eventually("the first 20") { rig.decisionCount() == 20 }
        // Central stops hearing the lane: what follows is never acknowledged.
        proxy.setImpairment(LineImpairment(dropChunk: 1), for: .laneToCentral)
        for id in UInt64(21)...50 { try await first.send(LinkRig.request(id)) }
        try await eventually("the line dropped what the lane sent") {
            proxy.counters(.laneToCentral).chunksDropped > 0
        }
        firstRun.cancel()
        _ = await firstRun.result
        #expect(try await first.pendingCount() >= 30)
        #expect(rig.decisionCount() == 20)

        proxy.setImpairment(.none, for: .laneToCentral)
        let second = try rig.client(
            line: .tcp(TCPLinkConnector(host: "127.0.0.1", port: proxy.port)), outbox: outbox)
        let secondRun = Task { try await second.run() }
        try await eventually("all 50") { rig.decisionCount() == 50 }
        try await eventually("acks") { try await second.pendingCount() == 0 }
        rig.expectExactlyOnce(UInt64(1)...50)
        secondRun.cancel()
        _ = await secondRun.result
        await proxy.close()
        await central.listener.close()
        central.task.cancel()
    }

    @Test func aReconnectingLaneReplacesItsOldConnection() async throws {
        // Central would take two minutes to call the stale connection dead:
        // only the replacement can close it sooner.
        let rig = try LinkRig { $0.deadPeerInterval = .seconds(120) }
        let central = try await rig.listen()
        // A connection that central still believes in: it never says goodbye.
        var stale = try await RawLane(port: central.port, key: rig.keys[laneA]!)
        try await stale.connect(as: laneA)
        try await eventually("stale connection admitted") { rig.server.connectedLanes == [laneA] }
        let client = try rig.client(line: .tcp(TCPLinkConnector(host: "127.0.0.1", port: central.port)))
        let running = Task { try await client.run() }
        let started = ContinuousClock.now
        try await client.send(LinkRig.request(1))
        try await eventually("decision on the new connection") { rig.decisionCount() == 1 }
        // The old one is closed by the new one, long before it could die of silence.
        do { while try await stale.next() != nil {} } catch {}
        #expect(ContinuousClock.now - started < .seconds(100))
        #expect(rig.server.connectedLanes == [laneA])
        #expect(client.isConnected)
        running.cancel()
        _ = await running.result
        await central.listener.close()
        central.task.cancel()
    }
}
