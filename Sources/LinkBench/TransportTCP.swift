import LaneLink
import LinkCore

/// The same request and response through ``ChannelLinkTransport`` on both ends
/// (what the link's session layer runs on): the cost of the async stream and
/// write bridging over the bare baseline.
struct TransportTCPCase: RoundTripCase {
    let name = "LinkTransport over TCP"

    func prepare(payloadSize: Int) async throws -> any RoundTripper {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let client = try await TCPLinkConnector(host: "127.0.0.1", port: listener.port).connect()
        let echo = Task {
            var connections = listener.connections.makeAsyncIterator()
            guard let server = await connections.next() else { return }
            do {
                for try await chunk in server.inbound { try await server.write(chunk) }
            } catch {}
        }
        return Tripper(
            listener: listener, client: client, echo: echo, responses: client.inbound.makeAsyncIterator(),
            request: (0..<payloadSize).map { UInt8(truncatingIfNeeded: $0) })
    }

    private struct Tripper: RoundTripper {
        let listener: TCPLinkListener
        let client: ChannelLinkTransport
        let echo: Task<Void, Never>
        var responses: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
        let request: [UInt8]

        mutating func roundTrip() async throws {
            try await client.write(request)
            var remaining = request.count
            while remaining > 0 {
                guard let chunk = try await responses.next() else {
                    throw LinkTransportError.peerClosed(peer: client.peer)
                }
                remaining -= chunk.count
            }
        }

        func close() async {
            await client.close()
            await listener.close()
            await echo.value
        }
    }
}
