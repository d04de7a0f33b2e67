import LaneLink
import LinkCore
import LinkTestSupport
import TestKit
import Testing

/// The TCP noisy-line proxy between a lane (a connector) and central (a listener).
@Suite(.timeLimit(.minutes(1))) struct NoisyLineProxyTests {
    /// Central listening, a proxy in front of it, and one lane connected through it.
    struct Line {
        let central: TCPLinkListener
        let proxy: NoisyLineProxy
        let lane: ChannelLinkTransport
        let atCentral: ChannelLinkTransport

        init(seed: UInt64, laneToCentral: LineImpairment = .none, centralToLane: LineImpairment = .none)
            async throws
        {
            central = try await TCPLinkListener(host: "127.0.0.1", port: 0)
            proxy = try await NoisyLineProxy(
                targetPort: central.port, seed: seed, laneToCentral: laneToCentral,
                centralToLane: centralToLane)
            lane = try await TCPLinkConnector(host: "127.0.0.1", port: proxy.port).connect()
            var accepted = central.connections.makeAsyncIterator()
            guard let connection = await accepted.next() else { throw CancellationError() }
            atCentral = connection
        }

        func close() async {
            await lane.close()
            await proxy.close()
            await central.close()
        }
    }

    @Test func aPerfectLineIsTransparentForMegabytesBothWays() async throws {
        let line = try await Line(seed: 1)
        let up = payload(2 << 20, seed: 11)
        let down = payload(2 << 20, seed: 12)
        async let sent: Void = write(up, to: line.lane, piece: 3000)
        async let answered: Void = write(down, to: line.atCentral, piece: 5000)
        var atCentral = InboundReader(line.atCentral)
        var atLane = InboundReader(line.lane)
        #expect(try await atCentral.read(up.count) == up)
        #expect(try await atLane.read(down.count) == down)
        try await sent
        try await answered
        for direction in LineDirection.allCases {
            let counters = line.proxy.counters(direction)
            #expect(counters.bytesIn == 2 << 20 && counters.bytesOut == 2 << 20)
            #expect(counters.bitsFlipped == 0 && counters.chunksDropped == 0 && counters.garbageBytes == 0)
        }
        #expect(line.proxy.connectionsForwarded == 1)
        await line.close()
        #expect(line.proxy.openConnections == 0)
    }

    @Test func bitFlipsHitAboutTheConfiguredShareOfBytes() async throws {
        let line = try await Line(seed: 2, centralToLane: LineImpairment(bitFlipPerByte: 0.005))
        let down = payload(200_000, seed: 13)
        try await write(down, to: line.atCentral, piece: 1500)
        var atLane = InboundReader(line.lane)
        let received = try await atLane.read(down.count)
        let changed = zip(down, received).filter { $0 != $1 }.count
        #expect(changed == line.proxy.counters(.centralToLane).bitsFlipped)
        #expect((850...1150).contains(changed))
        // The other direction is untouched.
        try await line.lane.write([1, 2, 3])
        var atCentral = InboundReader(line.atCentral)
        #expect(try await atCentral.read(3) == [1, 2, 3])
        await line.close()
    }

    @Test func dropsDuplicatesAndGarbageAddUpToWhatArrives() async throws {
        let model = LineImpairment(
            dropChunk: 0.05, duplicateChunk: 0.05, garbageBeforeChunk: 0.05, delayChunk: 0.01,
            delay: .microseconds(100) ... .microseconds(500), chunkSize: 16...48)
        let line = try await Line(seed: 3, laneToCentral: model)
        let up = payload(300_000, seed: 14)
        try await write(up, to: line.lane, piece: 2000)
        // The lane hangs up: the proxy forwards everything it read, then closes
        // central's side, so central's stream ends once the counters are final.
        // Waiting on that end waits on the bytes, not on a clock.
        await line.lane.close()
        var atCentral = InboundReader(line.atCentral)
        let received = await atCentral.readToEnd().bytes
        let counters = line.proxy.counters(.laneToCentral)
        #expect(counters.bytesIn == up.count)
        #expect(received.count == counters.bytesOut)
        #expect(counters.bytesOut != up.count)
        let chunks = Double(counters.chunks)
        for (count, rate) in [
            (counters.chunksDropped, 0.05), (counters.chunksDuplicated, 0.05),
            (counters.garbageInjections, 0.05),
        ] {
            #expect(abs(Double(count) / chunks - rate) < rate * 0.3, "\(count) of \(counters.chunks)")
        }
        #expect(counters.chunksDelayed > 0)
        await line.close()
    }

    @Test func cuttingTheCableClosesBothSidesUntilItIsRestored() async throws {
        let line = try await Line(seed: 4)
        var atLane = InboundReader(line.lane)
        var atCentral = InboundReader(line.atCentral)
        try await line.lane.write([1])
        #expect(try await atCentral.read(1) == [1])

        await line.proxy.cut()
        #expect(line.proxy.isCut)
        #expect(await atLane.readToEnd().error as? LinkTransportError == .peerClosed(peer: line.lane.peer))
        #expect(await atCentral.readToEnd().error is LinkTransportError)
        #expect(line.proxy.openConnections == 0)

        // While cut, a lane that reconnects gets in and is thrown out at once.
        let refused = try await TCPLinkConnector(host: "127.0.0.1", port: line.proxy.port).connect()
        var refusedReader = InboundReader(refused)
        #expect(
            await refusedReader.readToEnd().error as? LinkTransportError == .peerClosed(peer: refused.peer))
        #expect(line.proxy.connectionsRefused == 1)
        await refused.close()

        line.proxy.restore()
        let again = try await TCPLinkConnector(host: "127.0.0.1", port: line.proxy.port).connect()
        var connections = line.central.connections.makeAsyncIterator()
        let atCentralAgain = try #require(await connections.next())
        var readerAgain = InboundReader(atCentralAgain)
        try await again.write([2, 3])
        #expect(try await readerAgain.read(2) == [2, 3])
        #expect(line.proxy.connectionsForwarded == 2)
        await again.close()
        await line.close()
    }

    @Test func closingTheProxyEndsTheLanesConnection() async throws {
        let line = try await Line(seed: 5)
        var atLane = InboundReader(line.lane)
        await line.proxy.close()
        #expect(await atLane.readToEnd().error as? LinkTransportError == .peerClosed(peer: line.lane.peer))
        #expect(line.proxy.openConnections == 0)
        await #expect(throws: LinkTransportError.self) {
            try await TCPLinkConnector(host: "127.0.0.1", port: line.proxy.port).connect()
        }
        await line.close()
    }
}
