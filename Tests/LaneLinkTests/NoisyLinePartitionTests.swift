import LaneLink
import LinkCore
import LinkTestSupport
import TestKit
import Testing

/// The TCP proxy's reordering and its blackhole: a partition that discards
/// bytes and keeps connections open, unlike a cut.
@Suite(.timeLimit(.minutes(1))) struct NoisyLinePartitionTests {
    typealias Line = NoisyLineProxyTests.Line

    @Test func reorderedChunksArriveSwappedAndEveryByteArrives() async throws {
        let model = LineImpairment(reorderChunk: 0.2, chunkSize: 8...8)
        let line = try await Line(seed: 6, laneToCentral: model)
        let up = payload(100_000, seed: 15)
        try await write(up, to: line.lane, piece: 1000)
        // The lane hangs up; the proxy sends what it held before central's end.
        await line.lane.close()
        var atCentral = InboundReader(line.atCentral)
        let received = await atCentral.readToEnd().bytes
        let counters = line.proxy.counters(.laneToCentral)
        #expect(received.count == up.count)
        #expect(received != up)
        #expect(received.sorted() == up.sorted())
        #expect(counters.bytesIn == up.count && counters.bytesOut == up.count)
        #expect(counters.chunksReordered > 0)
        await line.close()
    }

    @Test func aHeldChunkIsSentOnItsOwnWhenNothingFollows() async throws {
        let line = try await Line(seed: 7, laneToCentral: LineImpairment(reorderChunk: 1))
        var atCentral = InboundReader(line.atCentral)
        try await line.lane.write([1, 2, 3])
        #expect(try await atCentral.read(3) == [1, 2, 3])
        #expect(line.proxy.counters(.laneToCentral).chunksReordered == 1)
        await line.close()
    }

    @Test func aBlackholeDiscardsBothWaysAndKeepsConnectionsUntilHealed() async throws {
        let line = try await Line(seed: 8)
        var atLane = InboundReader(line.lane)
        var atCentral = InboundReader(line.atCentral)
        try await line.lane.write([1])
        #expect(try await atCentral.read(1) == [1])

        line.proxy.blackhole()
        #expect(line.proxy.isBlackholed && !line.proxy.isCut)
        try await line.lane.write(Array(repeating: 0xAA, count: 100))
        try await line.atCentral.write(Array(repeating: 0xBB, count: 50))
        try await eventually("the proxy discarded both ways") {
            line.proxy.counters(.laneToCentral).bytesLostToBlackhole == 100
                && line.proxy.counters(.centralToLane).bytesLostToBlackhole == 50
        }
        // A lane connecting meanwhile gets in, and is connected to central, but nothing passes.
        let late = try await TCPLinkConnector(host: "127.0.0.1", port: line.proxy.port).connect()
        var connections = line.central.connections.makeAsyncIterator()
        let lateAtCentral = try #require(await connections.next())
        try await late.write([9, 9])
        try await eventually("the late lane's bytes discarded") {
            line.proxy.counters(.laneToCentral).bytesLostToBlackhole == 102
        }
        #expect(line.proxy.openConnections == 2 && line.proxy.connectionsRefused == 0)

        line.proxy.heal()
        #expect(!line.proxy.isBlackholed)
        // What was written during the partition is gone, not late: the next
        // bytes each side reads are the ones written after the heal.
        try await line.lane.write([2, 3])
        #expect(try await atCentral.read(2) == [2, 3])
        try await line.atCentral.write([4])
        #expect(try await atLane.read(1) == [4])
        var lateReader = InboundReader(lateAtCentral)
        try await late.write([5])
        #expect(try await lateReader.read(1) == [5])
        await late.close()
        await line.close()
    }

    @Test func aSideClosingInAPartitionIsToldToTheOtherOnlyWhenItHeals() async throws {
        let line = try await Line(seed: 9)
        var atLane = InboundReader(line.lane)
        line.proxy.blackhole()
        await line.atCentral.close()
        // The lane still writes into the partition, and its bytes are counted
        // after central's end: the proxy kept its side open.
        try await line.lane.write([1, 2, 3, 4])
        try await eventually("the lane's bytes discarded") {
            line.proxy.counters(.laneToCentral).bytesLostToBlackhole == 4
        }
        #expect(line.lane.isActive && line.proxy.openConnections == 1)

        line.proxy.heal()
        #expect(await atLane.readToEnd().error as? LinkTransportError == .peerClosed(peer: line.lane.peer))
        try await eventually("the connection gone") { line.proxy.openConnections == 0 }
        await line.close()
    }

    @Test func aLaneIsHeldOpenThroughAPartitionEvenWhenCentralIsDown() async throws {
        // A port nobody listens on: bound, then closed.
        let gone = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        await gone.close()
        let proxy = try await NoisyLineProxy(targetPort: gone.port, seed: 10)
        proxy.blackhole()
        let lane = try await TCPLinkConnector(host: "127.0.0.1", port: proxy.port).connect()
        var atLane = InboundReader(lane)
        try await eventually("the lane held open") { proxy.openConnections == 1 }
        try await lane.write([1, 2])
        try await eventually("its bytes discarded") {
            proxy.counters(.laneToCentral).bytesLostToBlackhole == 2
        }
        #expect(proxy.connectionsRefused == 0)
        // One that hangs up in the partition is gone at once: there is nobody to tell.
        let quitter = try await TCPLinkConnector(host: "127.0.0.1", port: proxy.port).connect()
        try await eventually("the second lane held open") { proxy.openConnections == 2 }
        await quitter.close()
        try await eventually("the second lane gone") { proxy.openConnections == 1 }

        proxy.heal()
        #expect(await atLane.readToEnd().error as? LinkTransportError == .peerClosed(peer: lane.peer))
        // Without the partition, the same lane is refused at once.
        let again = try await TCPLinkConnector(host: "127.0.0.1", port: proxy.port).connect()
        var atAgain = InboundReader(again)
        #expect(await atAgain.readToEnd().error as? LinkTransportError == .peerClosed(peer: again.peer))
        #expect(proxy.connectionsRefused == 1)
        await lane.close()
        await again.close()
        await proxy.close()
    }

    @Test func cuttingABlackholedLineStillClosesEverything() async throws {
        let line = try await Line(seed: 11)
        var atLane = InboundReader(line.lane)
        line.proxy.blackhole()
        await line.proxy.cut()
        #expect(await atLane.readToEnd().error as? LinkTransportError == .peerClosed(peer: line.lane.peer))
        #expect(line.proxy.openConnections == 0)
        line.proxy.restore()
        line.proxy.heal()
        await line.close()
    }
}
