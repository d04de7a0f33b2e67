import Foundation
import RoadCargo
import Testing

@testable import LaneLink

/// The link benchmark's full-round-trip figure: prints, asserts nothing.
///
/// Lives here, behind an environment variable, until the `LinkBench`
/// executable exists to take it: run it with
/// `LANEKIOSK_LINK_BENCH=1 swift test -c release --filter LinkEndToEndBench`.
/// `LANEKIOSK_LINK_BENCH_N` sets the number of exchanges (default 1000).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["LANEKIOSK_LINK_BENCH"] == "1"))
struct LinkEndToEndBench {
    @Test func decisionRoundTripThroughTheWholeLinkBesideBareTCP() async throws {
        let count = Int(ProcessInfo.processInfo.environment["LANEKIOSK_LINK_BENCH_N"] ?? "") ?? 1000
        let wire = try LinkBenchFigures.wireBytes()
        let link = try await LinkBenchFigures.linkRoundTrips(count: count)
        let bare = try await LinkBenchFigures.bareTCPRoundTrips(
            count: count, request: wire.request, response: wire.decision)
        let (linkMedian, linkP99) = LinkBenchFigures.percentiles(link)
        let (bareMedian, bareP99) = LinkBenchFigures.percentiles(bare)
        let total = wire.request + wire.decision + 2 * wire.ack
        let seconds = Double(total * 10) / 115_200
        print(
            """
            link round trip, decision request -> decision, TCP loopback, \(count) exchanges, one at a time
              whole link (outbox, frame+sign, session, applied log, handler, reply outbox, ack):
                median \(LinkBenchFigures.format(linkMedian))  p99 \(LinkBenchFigures.format(linkP99))
              bare TCP, same sizes (\(wire.request) B out, \(wire.decision) B back):
                median \(LinkBenchFigures.format(bareMedian))  p99 \(LinkBenchFigures.format(bareP99))
              ratio link/bare: median \(String(format: "%.1f", linkMedian / bareMedian))x  p99 \(String(format: "%.1f", linkP99 / bareP99))x
            bytes on the wire for one decision exchange, both ways:
              request \(wire.request) + decision \(wire.decision) + 2 acks x \(wire.ack) = \(total) B
              at 115200 baud 8N1 (10 bits/byte): \(String(format: "%.1f", seconds * 1000)) ms
            """)
    }
}

enum LinkBenchFigures {
    /// Framed, signed sizes of one exchange's packets, as the link sends them.
    static func wireBytes() throws -> (request: Int, decision: Int, ack: Int) {
        let key = LinkKey.generate(for: LinkRig.laneA)
        var up = FrameEncoder(key: key, direction: .laneToCentral)
        var down = FrameEncoder(key: key, direction: .centralToLane)
        // Outbox ids start at the wall clock in microseconds: full-width varints.
        let laneID: UInt64 = 1_790_000_000_000_000
        let centralID: UInt64 = 1_790_000_000_000_001
        let request = try EndpointPayload.encode(LinkRig.request(123_456))
        let decision = try EndpointPayload.encode(
            .decision(
                LinkRig.decision(
                    for: DecisionRequestMessage(
                        requestID: 123_456, lane: LinkRig.laneA, vrn: try VRN("AB1234"), arrivedAt: Date(),
                        unladenPressed: false))))
        let now = Date()
        let requestBytes = try up.encode(
            LinkPacket(kind: .data, sequence: 1000, messageID: laneID, payload: request), now: now)
        let decisionBytes = try down.encode(
            LinkPacket(kind: .data, sequence: 1000, messageID: centralID, payload: decision), now: now)
        let ackBytes = try up.encode(
            LinkPacket(kind: .ack, sequence: 1001, payload: SessionAck.encode([centralID])), now: now)
        return (requestBytes.count, decisionBytes.count, ackBytes.count)
    }

    /// Seconds per exchange through LaneLinkClient and LaneLinkServer.
    static func linkRoundTrips(count: Int) async throws -> [Double] {
        let rig = try LinkRig()
        let central = try await rig.listen()
        let (decisions, arrived) = AsyncStream<UInt64>.makeStream()
        var configuration = LaneLinkClient.Configuration(
            key: rig.keys[LinkRig.laneA]!, line: .tcp(TCPLinkConnector(host: "127.0.0.1", port: central.port))
        )
        configuration.backoff.base = .milliseconds(10)
        let outbox = try SQLiteOutbox(path: rig.directory + "/bench-outbox.sqlite")
        let client = LaneLinkClient(configuration: configuration, outbox: outbox) { message in
            if case .decision(let decision) = message { arrived.yield(decision.requestID) }
        }
        let running = Task { try await client.run() }
        defer { running.cancel() }
        var next = decisions.makeAsyncIterator()
        let clock = ContinuousClock()
        var samples: [Double] = []
        let warmup = 50
        for id in 1...(count + warmup) {
            let started = clock.now
            try client.send(LinkRig.request(UInt64(id)))
            _ = await next.next()
            if id > warmup { samples.append(seconds(clock.now - started)) }
        }
        running.cancel()
        _ = await running.result
        await central.listener.close()
        central.task.cancel()
        return samples
    }

    /// Seconds per request/response of the same sizes over bare TCP (NIO
    /// through the same transport type, no framing, signing or storage).
    static func bareTCPRoundTrips(count: Int, request: Int, response: Int) async throws -> [Double] {
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let echo = Task {
            for await connection in listener.connections {
                var received = 0
                do {
                    for try await chunk in connection.inbound {
                        received += chunk.count
                        while received >= request {
                            received -= request
                            try await connection.write([UInt8](repeating: 0x55, count: response))
                        }
                    }
                } catch {}
            }
        }
        let client = try await TCPLinkConnector(host: "127.0.0.1", port: listener.port).connect()
        var inbound = client.inbound.makeAsyncIterator()
        let clock = ContinuousClock()
        var samples: [Double] = []
        let message = [UInt8](repeating: 0xAA, count: request)
        for index in 0..<(count + 50) {
            let started = clock.now
            try await client.write(message)
            var got = 0
            while got < response, let chunk = try await inbound.next() { got += chunk.count }
            if index >= 50 { samples.append(seconds(clock.now - started)) }
        }
        await client.close()
        await listener.close()
        echo.cancel()
        return samples
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func percentiles(_ samples: [Double]) -> (median: Double, p99: Double) {
        let sorted = samples.sorted()
        guard !sorted.isEmpty else { return (0, 0) }
        let p99 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
        return (sorted[sorted.count / 2], p99)
    }

    static func format(_ seconds: Double) -> String {
        seconds < 0.001 ? String(format: "%.0f µs", seconds * 1e6) : String(format: "%.2f ms", seconds * 1000)
    }
}
