import LinkCore
import NIOCore
import Testing

@testable import LaneLink

@Suite(.timeLimit(.minutes(1))) struct TransportTCPTests {
    @Test func listenerOnPortZeroReportsTheChosenPort() async throws {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        #expect(listener.port > 0)
        #expect(listener.address == "127.0.0.1:\(listener.port)")
        #expect(listener.isActive)
        await listener.close()
        #expect(!listener.isActive)
    }

    @Test func bytesRoundTripAndPeersAreNamed() async throws {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let client = try await TCPLinkConnector(host: "127.0.0.1", port: listener.port).connect()
        var connections = listener.connections.makeAsyncIterator()
        let server = try #require(await connections.next())
        #expect(client.peer == "127.0.0.1:\(listener.port)")
        #expect(server.peer.hasPrefix("127.0.0.1:"))
        #expect(server.peer != client.peer)

        var fromClient = InboundReader(server)
        var fromServer = InboundReader(client)
        try await client.write(Array("hello central".utf8))
        #expect(try await fromClient.read(13) == Array("hello central".utf8))
        try await server.write(Array("hello lane".utf8))
        #expect(try await fromServer.read(10) == Array("hello lane".utf8))

        await client.close()
        await listener.close()
    }

    @Test func nagleIsOffOnBothEnds() async throws {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let client = try await TCPLinkConnector(host: "127.0.0.1", port: listener.port).connect()
        var connections = listener.connections.makeAsyncIterator()
        let server = try #require(await connections.next())
        #expect(try await client.channel.getOption(.tcpOption(.tcp_nodelay)).get() != 0)
        #expect(try await server.channel.getOption(.tcpOption(.tcp_nodelay)).get() != 0)
        await client.close()
        await listener.close()
    }

    @Test func manyLanesAtOnceEachGetTheirOwnBytesBack() async throws {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let lanes = 24
        // Central echoes every connection on its own task.
        let echo = Task {
            await withTaskGroup(of: Void.self) { group in
                for await connection in listener.connections {
                    group.addTask {
                        do {
                            for try await chunk in connection.inbound { try await connection.write(chunk) }
                        } catch {}
                    }
                }
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    let client = try await TCPLinkConnector(host: "127.0.0.1", port: listener.port).connect()
                    var reader = InboundReader(client)
                    let bytes = payload(20_000 + lane, seed: UInt64(lane))
                    try await write(bytes, to: client, piece: 1000)
                    #expect(try await reader.read(bytes.count) == bytes)
                    await client.close()
                }
            }
            try await group.waitForAll()
        }
        #expect(listener.openConnectionCount <= lanes)
        await listener.close()
        #expect(listener.openConnectionCount == 0)
        await echo.value
    }

    @Test func closingTheClientEndsTheServerStreamWithPeerClosed() async throws {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let client = try await TCPLinkConnector(host: "127.0.0.1", port: listener.port).connect()
        var connections = listener.connections.makeAsyncIterator()
        let server = try #require(await connections.next())
        var serverReader = InboundReader(server)
        var clientReader = InboundReader(client)
        try await client.write([1, 2, 3])

        await client.close()
        #expect(!client.isActive)
        let serverEnd = await serverReader.readToEnd()
        #expect(serverEnd.bytes == [1, 2, 3])
        #expect(serverEnd.error as? LinkTransportError == .peerClosed(peer: server.peer))
        // The side that closed sees a clean end, and may not write any more.
        let clientEnd = await clientReader.readToEnd()
        #expect(clientEnd.error == nil)
        await #expect(throws: LinkTransportError.closed(peer: client.peer)) { try await client.write([4]) }
        await #expect(throws: LinkTransportError.peerClosed(peer: server.peer)) {
            try await server.write([4])
        }
        await listener.close()
    }

    @Test func closingTheServerSideEndsTheClientStreamWithPeerClosed() async throws {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let client = try await TCPLinkConnector(host: "127.0.0.1", port: listener.port).connect()
        var connections = listener.connections.makeAsyncIterator()
        let server = try #require(await connections.next())
        var clientReader = InboundReader(client)

        await server.close()
        let end = await clientReader.readToEnd()
        #expect(end.error as? LinkTransportError == .peerClosed(peer: client.peer))
        #expect("\(end.error!)" == "link to \(client.peer) closed by the peer")
        #expect(listener.openConnectionCount == 0)
        await client.close()
        await listener.close()
    }

    @Test func closingTheListenerClosesWhatItAccepted() async throws {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let first = try await TCPLinkConnector(host: "127.0.0.1", port: listener.port).connect()
        let second = try await TCPLinkConnector(host: "127.0.0.1", port: listener.port).connect()
        var connections = listener.connections.makeAsyncIterator()
        let accepted = [try #require(await connections.next()), try #require(await connections.next())]
        var firstReader = InboundReader(first)
        var secondReader = InboundReader(second)

        await listener.close()
        #expect(accepted.allSatisfy { !$0.isActive })
        #expect(await connections.next() == nil)
        #expect(await firstReader.readToEnd().error as? LinkTransportError == .peerClosed(peer: first.peer))
        #expect(await secondReader.readToEnd().error as? LinkTransportError == .peerClosed(peer: second.peer))
        await first.close()
        await second.close()
    }

    @Test func cancellingTheInboundConsumerClosesTheConnection() async throws {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let client = try await TCPLinkConnector(host: "127.0.0.1", port: listener.port).connect()
        var connections = listener.connections.makeAsyncIterator()
        let server = try #require(await connections.next())
        var serverReader = InboundReader(server)
        // A session task that is cancelled while it waits for bytes: it has
        // read the server's first byte, so it is in the loop, waiting for more.
        let (reading, readingStarted) = AsyncStream<Void>.makeStream()
        let consumer = Task {
            for try await _ in client.inbound { readingStarted.yield() }
        }
        try await server.write([0x00])
        var started = reading.makeAsyncIterator()
        _ = await started.next()
        consumer.cancel()
        #expect(await serverReader.readToEnd().error as? LinkTransportError == .peerClosed(peer: server.peer))
        _ = await consumer.result
        await listener.close()
    }

    @Test func connectingToAClosedPortNamesTheRefusal() async throws {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let port = listener.port
        await listener.close()
        let error = await #expect(throws: LinkTransportError.self) {
            try await TCPLinkConnector(host: "127.0.0.1", port: port).connect()
        }
        guard case .connectFailed(let peer, let reason) = error else {
            Issue.record("expected connectFailed, got \(String(describing: error))")
            return
        }
        #expect(peer == "127.0.0.1:\(port)")
        #expect(reason.lowercased().contains("refused"))
    }

    @Test func bindingATakenPortNamesTheAddress() async throws {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        defer { Task { await listener.close() } }
        // SO_REUSEADDR does not let two listeners share a port on Linux.
        let error = await #expect(throws: LinkTransportError.self) {
            try await TCPLinkListener(host: "127.0.0.1", port: listener.port)
        }
        guard case .bindFailed(let address, _) = error else {
            Issue.record("expected bindFailed, got \(String(describing: error))")
            return
        }
        #expect(address == "127.0.0.1:\(listener.port)")
    }

    @Test func aMegabyteArrivesIntactBothWays() async throws {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let client = try await TCPLinkConnector(host: "127.0.0.1", port: listener.port).connect()
        var connections = listener.connections.makeAsyncIterator()
        let server = try #require(await connections.next())
        let up = payload(1 << 20, seed: 1)
        let down = payload(1 << 20, seed: 2)
        async let sent: Void = write(up, to: client)
        async let answered: Void = write(down, to: server)
        var serverReader = InboundReader(server)
        var clientReader = InboundReader(client)
        #expect(try await serverReader.read(up.count) == up)
        #expect(try await clientReader.read(down.count) == down)
        try await sent
        try await answered
        await client.close()
        await listener.close()
    }
}
