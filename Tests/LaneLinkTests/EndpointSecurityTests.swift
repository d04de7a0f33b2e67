import Foundation
import LinkCore
import RoadCargo
import TestKit
import Testing

@testable import LaneLink

/// A lane written by hand on a raw TCP connection: seals what the test
/// says, nothing else, and keeps every byte it wrote to replay later.
struct RawLane {
    let transport: ChannelLinkTransport
    var cipher: LinkCipher
    var deframer = FrameDeframer()
    var reader: AsyncThrowingStream<[UInt8], any Error>.Iterator
    var sequence: UInt32 = 0
    var written: [[UInt8]] = []
    /// Every byte central sent, as it crossed the wire.
    var heard: [UInt8] = []

    /// `counter` is the hello counter: by default the clock in µs, as a lane does.
    init(port: Int, key: LinkKey, counter: UInt64? = nil) async throws {
        transport = try await TCPLinkConnector(host: "127.0.0.1", port: port).connect()
        cipher = LinkCipher(
            role: .initiator(
                key: key, helloCounter: counter ?? UInt64(Date().timeIntervalSince1970 * 1_000_000)))
        reader = transport.inbound.makeAsyncIterator()
    }

    mutating func bytes(_ kind: PacketKind, id: UInt64 = 0, payload: [UInt8] = []) throws -> [UInt8] {
        sequence += 1
        return try cipher.seal(LinkPacket(kind: kind, sequence: sequence, messageID: id, payload: payload))
            .get()
    }

    mutating func write(_ bytes: [UInt8]) async throws {
        written.append(bytes)
        try await transport.write(bytes)
    }

    mutating func hello(as lane: LaneID) async throws {
        let hello = SessionHello(versions: LaneMessage.supportedVersions, laneID: lane)
        try await write(bytes(.hello, payload: SessionHandshakeCoding.interim.encodeHello(hello)))
    }

    /// Central's next packet that opens, or nil when the line closes.
    mutating func next() async throws -> LinkPacket? {
        while let chunk = try await reader.next() {
            heard += chunk
            for case .success(let frame) in deframer.feed(chunk) {
                if case .success(.packet(let packet, _, _)) = cipher.open(frame, keys: { _ in [] }) {
                    return packet
                }
            }
        }
        return nil
    }

    /// Hello, welcome, then one sealed frame: what gets a lane admitted.
    mutating func connect(as lane: LaneID) async throws {
        try await hello(as: lane)
        let answer = try await next()
        try #require(answer?.kind == .welcome, "central answered \(String(describing: answer?.kind))")
        try await write(bytes(.heartbeat))
    }

    mutating func request(_ id: UInt64) async throws {
        try await write(bytes(.data, id: id, payload: EndpointPayload.encode(LinkRig.request(id))))
    }
}

/// Hostile frames at central: each is dropped, counted, and never applied.
@Suite(.timeLimit(.minutes(1))) struct EndpointSecurityTests {
    let laneA = LinkRig.laneA
    let laneB = LinkRig.laneB

    @Test func aHelloUnderAnotherKeyIsDroppedAndCounted() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        // Lane A's name, a key that is not lane A's.
        var lane = try await RawLane(port: central.port, key: LinkKey.generate(for: laneA))
        try await lane.hello(as: laneA)
        try await eventually("bad tag counted") { rig.server.counters.frameDrops[.badTag] == 1 }
        #expect(rig.server.connectedLanes.isEmpty)
        await lane.transport.close()
        await central.listener.close()
        central.task.cancel()
    }

    @Test func aFlippedCiphertextBitIsDroppedAndCountedNeverApplied() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        var lane = try await RawLane(port: central.port, key: rig.keys[laneA]!)
        try await lane.connect(as: laneA)
        try await eventually("admitted") { rig.server.connectedLanes == [laneA] }
        var frame = COBS.decode(
            Array(
                try lane.bytes(.data, id: 5, payload: EndpointPayload.encode(LinkRig.request(5))).dropFirst()
                    .dropLast()))!
        // A bit of the ciphertext, CRC recomputed: only the AEAD tag can tell.
        frame[frame.count - 10] ^= 0x04
        frame.removeLast(4)
        let crc = CRC32C.checksum(frame)
        frame += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
        try await lane.transport.write([0] + COBS.encode(frame) + [0])
        try await eventually("bad tag counted") { rig.server.counters.frameDrops[.badTag] == 1 }
        try await lane.request(6)
        try await eventually("the next frame is applied") {
            rig.applications.withLock { $0["\(laneA)/6"] } == 1
        }
        #expect(rig.applications.withLock { $0["\(laneA)/5"] } == nil)
        #expect(rig.server.connectedLanes == [laneA])
        await lane.transport.close()
        await central.listener.close()
        central.task.cancel()
    }

    @Test func tooManyBadTagsCloseTheConnection() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        var lane = try await RawLane(port: central.port, key: LinkKey.generate(for: laneA))
        for _ in 0...LinkEndpoint.defaultMaxBadTags { try await lane.hello(as: laneA) }
        try await eventually("closed for bad tags") { rig.server.counters.closedForBadTags == 1 }
        let after = try? await lane.next()
        #expect(after == nil, "central closed the line")
        await lane.transport.close()
        await central.listener.close()
        central.task.cancel()
    }

    @Test func aReplayedFrameIsDroppedAndAReplayedHelloIsRefusedWhileTheLaneStaysConnected() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        var lane = try await RawLane(port: central.port, key: rig.keys[laneA]!)
        try await lane.connect(as: laneA)
        try await eventually("admitted") { rig.server.connectedLanes == [laneA] }
        try await lane.request(7)
        try await eventually("applied") { rig.applications.withLock { $0["\(laneA)/7"] } == 1 }
        let captured = lane.written[2]
        try await lane.transport.write(captured)
        try await eventually("replay counted") { rig.server.counters.frameDrops[.replay] == 1 }

        // The hello and the request on a second connection: the hello is
        // refused (its counter is spent), the request never opens.
        let intruder = try await TCPLinkConnector(host: "127.0.0.1", port: central.port).connect()
        try await intruder.write(lane.written[0] + captured)
        try await eventually("replayed hello refused") { rig.server.counters.helloReplays == 1 }
        try await eventually("early frame counted") { rig.server.counters.frameDrops[.early] == 1 }
        #expect(rig.applications.withLock { $0["\(laneA)/7"] } == 1)
        #expect(rig.server.connectedLanes == [laneA])
        try await lane.request(8)
        try await eventually("the real lane still talks") {
            rig.applications.withLock { $0["\(laneA)/8"] } == 1
        }
        await intruder.close()
        await lane.transport.close()
        await central.listener.close()
        central.task.cancel()
    }

    @Test func anotherLanesFrameOnThisLanesLineIsDroppedAndCounted() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        var lane = try await RawLane(port: central.port, key: rig.keys[laneA]!)
        try await lane.connect(as: laneA)
        try await eventually("admitted") { rig.server.connectedLanes == [laneA] }
        // A frame under lane B's key id, injected into lane A's session; its
        // keys do not matter, the lane check drops it before any decryption.
        var other = FrameEncoder(
            cipher: .established(
                lane: laneB, sending: .laneToCentral, sendKey: (0..<32).map { UInt8($0) },
                receiveKey: (0..<32).map { UInt8(200 &+ $0) }))
        let payload = try EndpointPayload.encode(LinkRig.request(9, lane: laneB))
        try await lane.transport.write(
            try other.encode(LinkPacket(kind: .data, sequence: 50, messageID: 9, payload: payload)))
        try await eventually("wrong lane counted") { rig.server.counters.wrongLaneDropped == 1 }
        #expect(rig.applications.withLock { $0.isEmpty })
        #expect(rig.server.connectedLanes == [laneA])
        await lane.transport.close()
        await central.listener.close()
        central.task.cancel()
    }

    @Test func aHelloNamingAnotherLaneThanItsKeyIsRefused() async throws {
        let rig = try LinkRig()
        let central = try await rig.listen()
        var lane = try await RawLane(port: central.port, key: rig.keys[laneB]!)
        try await lane.hello(as: laneA)
        let answer = try await lane.next()
        #expect(answer?.kind == .refuse)
        #expect(rig.server.connectedLanes.isEmpty)
        await lane.transport.close()
        await central.listener.close()
        central.task.cancel()
    }

    @Test func aLaneThatNeverConfirmsItsKeysIsNotAdmittedAndIsClosedAtTheDeadline() async throws {
        let rig = try LinkRig { $0.handshakeTimeout = .milliseconds(500) }
        let central = try await rig.listen()
        var lane = try await RawLane(port: central.port, key: rig.keys[laneA]!)
        // A hello central accepts (a replayer's, as far as central can
        // tell), answered, but never followed by a sealed frame.
        try await lane.hello(as: laneA)
        let answer = try await lane.next()
        #expect(answer?.kind == .welcome)
        try await eventually("closed unconfirmed") { rig.server.counters.unconfirmedTimeouts == 1 }
        #expect(rig.server.connectedLanes.isEmpty)
        #expect(rig.server.connection(of: laneA) == .neverConnected)
        await lane.transport.close()
        await central.listener.close()
        central.task.cancel()
    }

    @Test func connectionsOverTheUnconfirmedCapAreClosedAtOnce() async throws {
        let rig = try LinkRig(limits: { $0.maxUnconfirmedConnections = 2 })
        let central = try await rig.listen()
        var silent: [ChannelLinkTransport] = []
        for _ in 0..<2 {
            silent.append(try await TCPLinkConnector(host: "127.0.0.1", port: central.port).connect())
        }
        try await eventually("two connections held") {
            rig.server.counters.connectionsRefused == 0 && rig.server.liveConnectionCount == 2
        }
        let third = try await TCPLinkConnector(host: "127.0.0.1", port: central.port).connect()
        try await eventually("the third refused") { rig.server.counters.connectionsRefused == 1 }
        var reader = third.inbound.makeAsyncIterator()
        let heard = try? await reader.next()
        #expect(heard == nil, "central closed the third connection")
        for line in silent + [third] { await line.close() }
        await central.listener.close()
        central.task.cancel()
    }
}
