import Foundation
import RoadCargo
import Testing

@testable import LaneLink

/// Hostile frames at central, from a hand-driven lane on a raw TCP
/// connection: each is dropped, counted, and never applied.
@Suite(.timeLimit(.minutes(1))) struct EndpointSecurityTests {
    let laneA = LinkRig.laneA
    let laneB = LinkRig.laneB

    /// A lane written by hand: frames what the test says, nothing else.
    struct RawLane {
        let transport: ChannelLinkTransport
        var encoder: FrameEncoder
        var sequence: UInt32 = 0
        /// Every byte written, to replay later.
        var written: [[UInt8]] = []

        init(port: Int, key: LinkKey) async throws {
            transport = try await TCPLinkConnector(host: "127.0.0.1", port: port).connect()
            encoder = FrameEncoder(key: key, direction: .laneToCentral)
        }

        mutating func bytes(_ kind: PacketKind, id: UInt64 = 0, payload: [UInt8] = []) throws -> [UInt8] {
            sequence += 1
            return try encoder.encode(
                LinkPacket(kind: kind, sequence: sequence, messageID: id, payload: payload), now: Date())
        }

        mutating func write(_ bytes: [UInt8]) async throws {
            written.append(bytes)
            try await transport.write(bytes)
        }

        mutating func hello(as lane: LaneID) async throws {
            let hello = SessionHello(versions: LaneMessage.supportedVersions, laneID: lane)
            try await write(bytes(.hello, payload: SessionHandshakeCoding.interim.encodeHello(hello)))
        }

        mutating func request(_ id: UInt64) async throws {
            try await write(bytes(.data, id: id, payload: EndpointPayload.encode(LinkRig.request(id))))
        }
    }

    @Test func aForgedFrameIsDroppedAndCounted() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        // Lane A's name, a key that is not lane A's.
        let forger = LinkKey.generate(for: laneA)
        var lane = try await RawLane(port: central.port, key: forger)
        try await lane.hello(as: laneA)
        try await lane.request(1)
        await eventually("two bad signatures") { rig.server.counters.frameDrops[.badSignature] == 2 }
        #expect(rig.server.connectedLanes.isEmpty)
        #expect(rig.applications.withLock { $0.isEmpty })
        await lane.transport.close()
        await central.listener.close()
        central.task.cancel()
    }

    @Test func aReplayedFrameIsDroppedAndCountedOnTheSameAndOnANewConnection() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        var lane = try await RawLane(port: central.port, key: rig.keys[laneA]!)
        try await lane.hello(as: laneA)
        await eventually("admitted") { rig.server.connectedLanes == [laneA] }
        try await lane.request(7)
        await eventually("applied") { rig.applications.withLock { $0["\(laneA)/7"] } == 1 }
        let captured = lane.written[1]
        try await lane.transport.write(captured)
        await eventually("replay counted") { rig.server.counters.frameDrops[.replay] == 1 }

        // The same bytes on a second connection meet the same replay table.
        let intruder = try await TCPLinkConnector(host: "127.0.0.1", port: central.port).connect()
        try await intruder.write(lane.written[0] + captured)
        await eventually("both replays counted") { rig.server.counters.frameDrops[.replay] == 3 }
        #expect(rig.applications.withLock { $0["\(laneA)/7"] } == 1)
        await intruder.close()
        await lane.transport.close()
        await central.listener.close()
        central.task.cancel()
    }

    @Test func anotherLanesFrameOnThisLanesLineIsDroppedAndCounted() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        var lane = try await RawLane(port: central.port, key: rig.keys[laneA]!)
        try await lane.hello(as: laneA)
        await eventually("admitted") { rig.server.connectedLanes == [laneA] }
        // Lane B's valid key, injected into lane A's session.
        var other = FrameEncoder(key: rig.keys[laneB]!, direction: .laneToCentral)
        let payload = try EndpointPayload.encode(LinkRig.request(9, lane: laneB))
        let injected = try other.encode(
            LinkPacket(kind: .data, sequence: 50, messageID: 9, payload: payload), now: Date())
        try await lane.transport.write(injected)
        await eventually("wrong lane counted") { rig.server.counters.wrongLaneDropped == 1 }
        #expect(rig.applications.withLock { $0.isEmpty })
        #expect(rig.server.connectedLanes == [laneA])
        await lane.transport.close()
        await central.listener.close()
        central.task.cancel()
    }

    @Test func aHelloNamingAnotherLaneThanItsSignerIsRefused() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        var lane = try await RawLane(port: central.port, key: rig.keys[laneB]!)
        try await lane.hello(as: laneA)
        var reader = lane.transport.inbound.makeAsyncIterator()
        var decoder = FrameDecoder(keys: LinkKeyring([rig.keys[laneB]!]), receiving: .centralToLane)
        var answer: LinkPacket?
        while answer == nil, let chunk = try await reader.next() {
            answer = decoder.feed(chunk, now: Date()).packets.first?.packet
        }
        #expect(answer?.kind == .refuse)
        #expect(rig.server.connectedLanes.isEmpty)
        await lane.transport.close()
        await central.listener.close()
        central.task.cancel()
    }
}
