import Foundation
import LaneLink
import LinkCore
import RoadCargo
import Synchronization

/// The decision round trip through the whole link: a lane's `LaneLinkClient`
/// (SQLite outbox, framing, signing, session) sends a decision request to a
/// `LaneLinkServer` (verification, durable applied log, handler, reply outbox)
/// and waits for the decision; the acknowledgements both ways travel too.
/// Measured one exchange at a time beside a bare TCP request and response of
/// the same byte counts, in the same run.
enum DecisionRoundTrip {
    static let lane = try! LaneID("LMC-IN-01")

    struct Result {
        var link: Figures
        var bare: Figures
        var wire: WireBytes
    }

    /// Framed, signed sizes of one exchange's packets as the link sends them.
    struct WireBytes {
        var request: Int
        var decision: Int
        var ack: Int
        var total: Int { request + decision + 2 * ack }
    }

    static func run(iterations: Int, warmUp: Int) async throws -> Result {
        let wire = try wireBytes()
        let link = try await linkRoundTrips(iterations: iterations, warmUp: warmUp)
        let bare = try await bareRoundTrips(
            iterations: iterations, warmUp: warmUp, request: wire.request, response: wire.decision)
        return Result(link: link, bare: bare, wire: wire)
    }

    static func request(_ id: UInt64) -> LaneMessage {
        .decisionRequest(
            DecisionRequestMessage(
                requestID: id, passageID: id, lane: lane, vrn: try! VRN("AB\(id % 10000)"),
                arrivedAt: Date(timeIntervalSince1970: 1_790_000_000), unladenPressed: false))
    }

    static func decision(for message: DecisionRequestMessage) -> DecisionMessage {
        DecisionMessage(
            requestID: message.request.requestID, decisionID: message.request.requestID + 1_000_000,
            decision: Decision(
                instruction: .inspect, reason: .earlyCrossing, notes: [], ubr: nil,
                earliestCrossing: Date(timeIntervalSince1970: 1_790_001_800), ccrns: []))
    }

    static func wireBytes() throws -> WireBytes {
        let upKey = Noise.generateEphemeral()
        let downKey = Noise.generateEphemeral()
        var up = FrameEncoder(
            cipher: .established(lane: lane, sending: .laneToCentral, sendKey: upKey, receiveKey: downKey))
        var down = FrameEncoder(
            cipher: .established(lane: lane, sending: .centralToLane, sendKey: downKey, receiveKey: upKey))
        // Outbox ids start at the wall clock in microseconds: full-width varints.
        let laneID: UInt64 = 1_790_000_000_000_000
        let centralID: UInt64 = 1_790_000_000_000_001
        let asked = request(123_456)
        guard case .decisionRequest(let body) = asked else {
            fatalError("request() makes a decision request")
        }
        let requestBytes = try up.encode(asked.packet(sequence: 1000, messageID: laneID))
        let decisionBytes = try down.encode(
            LaneMessage.decision(decision(for: body)).packet(sequence: 1000, messageID: centralID))
        let ackBytes = try up.encode(
            LinkPacket(kind: .ack, sequence: 1001, payload: SessionAck.encode([centralID])))
        return WireBytes(request: requestBytes.count, decision: decisionBytes.count, ack: ackBytes.count)
    }

    static func linkRoundTrips(iterations: Int, warmUp: Int) async throws -> Figures {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("linkbench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = LinkKey.generate(for: lane)
        let server = try LaneLinkServer(keys: LinkKeyring([key]), path: directory + "/central.sqlite") {
            _, message in
            guard case .decisionRequest(let request) = message else { return [] }
            return [.decision(decision(for: request))]
        }
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let serving = Task { await server.serve(listener) }
        let (decisions, arrived) = AsyncStream<UInt64>.makeStream()
        var configuration = LaneLinkClient.Configuration(
            key: key, line: .tcp(TCPLinkConnector(host: "127.0.0.1", port: listener.port)))
        configuration.backoff.base = .milliseconds(10)
        let outbox = try SQLiteOutbox(path: directory + "/lane-outbox.sqlite")
        let client = LaneLinkClient(configuration: configuration, outbox: outbox) { message in
            if case .decision(let decision) = message { arrived.yield(decision.requestID) }
        }
        let running = Task { try await client.run() }
        var next = decisions.makeAsyncIterator()
        let clock = ContinuousClock()
        var samples: [Duration] = []
        samples.reserveCapacity(iterations)
        for id in 1...(iterations + warmUp) {
            let started = clock.now
            _ = try await client.send(request(UInt64(id)))
            while let answered = await next.next(), answered != UInt64(id) {}
            if id > warmUp { samples.append(clock.now - started) }
        }
        running.cancel()
        _ = await running.result
        await listener.close()
        serving.cancel()
        return Figures(samples)
    }

    /// The same byte counts over bare TCP through the same transport type:
    /// no framing, signing, session or storage.
    static func bareRoundTrips(iterations: Int, warmUp: Int, request: Int, response: Int) async throws
        -> Figures
    {
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
        var samples: [Duration] = []
        samples.reserveCapacity(iterations)
        let message = [UInt8](repeating: 0xAA, count: request)
        for index in 0..<(iterations + warmUp) {
            let started = clock.now
            try await client.write(message)
            var got = 0
            while got < response, let chunk = try await inbound.next() { got += chunk.count }
            if index >= warmUp { samples.append(clock.now - started) }
        }
        await client.close()
        await listener.close()
        echo.cancel()
        return Figures(samples)
    }
}
