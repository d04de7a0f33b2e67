import Foundation
import RoadCargo
import TestKit
import Testing

@testable import LinkCore

@Suite("Lane messages")
struct MessageTests {
    @Test("random messages round trip through payload, frame and decoder", arguments: [1, 2, 3] as [UInt64])
    func roundTripThroughFrames(seed: UInt64) throws {
        var gen = MessageGenerator(rng: SeededGenerator(seed: seed))
        var encoder = Fixture.laneEncoder()
        var decoder = Fixture.centralDecoder()
        var stream: [UInt8] = []
        var sent: [LaneMessage] = []
        for i in 0..<1500 {
            let message = gen.message()
            // Handshake messages travel inside the Noise handshake, not as frames.
            if [.hello, .welcome, .refuse].contains(message.packetKind) { continue }
            sent.append(message)
            let packet = try message.packet(sequence: UInt32(i), messageID: UInt64(i))
            stream += try encoder.encode(packet)
        }
        let received = try decoder.feed(stream).packets.map { try LaneMessage(packet: $0) }
        #expect(received == sent)
        #expect(decoder.drops.total == 0)
    }

    @Test("every truncation of every payload throws, never traps")
    func truncations() throws {
        var gen = MessageGenerator(rng: SeededGenerator(seed: 4))
        for _ in 0..<400 {
            let message = gen.message()
            let payload = try message.encode()
            for cut in 0..<payload.count {
                let short = Array(payload[..<cut])
                // A shorter payload may still be a valid message only where a
                // list ends the layout and its count happens to fit; that is
                // never the case here because counts precede their elements.
                #expect(throws: WireError.self) { try LaneMessage(kind: message.packetKind, payload: short) }
            }
        }
    }

    @Test("a trailing byte after any message is an error")
    func trailing() throws {
        var gen = MessageGenerator(rng: SeededGenerator(seed: 5))
        for _ in 0..<300 {
            let message = gen.message()
            let payload = try message.encode() + [0]
            #expect(throws: WireError.trailingBytes(count: 1, after: message.name)) {
                try LaneMessage(kind: message.packetKind, payload: payload)
            }
        }
    }

    @Test("random payloads of every kind decode or throw, never trap")
    func randomPayloads() {
        var rng = SeededGenerator(seed: 6)
        var decoded = 0
        for _ in 0..<20000 {
            let kind = PacketKind.allCases.randomElement(using: &rng)!
            var payload = (0..<Int.random(in: 0...60, using: &rng)).map { _ in
                UInt8.random(in: 0...255, using: &rng)
            }
            // Give the data decoder a known type byte often enough to go deep.
            if kind == .data, !payload.isEmpty, Bool.random(using: &rng) {
                payload[0] = LaneMessage.MessageType.allCases.randomElement(using: &rng)!.rawValue
            }
            if (try? LaneMessage(kind: kind, payload: payload)) != nil { decoded += 1 }
        }
        #expect(decoded > 0)
    }

    @Test("unknown message types, codes and versions are named errors")
    func unknowns() {
        #expect(throws: WireError.unknownTag(field: "message type", value: 0x99)) {
            try LaneMessage(kind: .data, payload: [0x99])
        }
        #expect(throws: WireError.truncated(field: "message type", offset: 0, needed: 1)) {
            try LaneMessage(kind: .data, payload: [])
        }
        // A decision whose instruction code is 0.
        #expect(throws: WireError.unknownTag(field: "instruction", value: 0)) {
            try LaneMessage(kind: .data, payload: [0x13] + [UInt8](repeating: 0, count: 16) + [0, 1])
        }
        #expect(throws: WireError.unknownTag(field: "protocol version", value: 1)) {
            try LaneMessage.heartbeat.encode(version: 1)
        }
    }

    @Test("a time Date cannot hold to the microsecond is refused (found by the fuzzer)")
    func fuzzFoundTime() {
        // welcome: version 1, no capabilities, central time 0x8006367754160000.
        let payload: [UInt8] = [0, 1, 0, 0, 0, 0, 0x80, 0x06, 0x36, 0x77, 0x54, 0x16, 0, 0]
        #expect(throws: WireError.self) { try LaneMessage(kind: .welcome, payload: payload) }
    }

    @Test("references are checked on the way in: a UBR failing its check digit is refused")
    func badReference() throws {
        let arrival = LaneMessage.laneEvent(
            LaneEvent(
                occurredAt: Fixture.now,
                .vehicleLeft(vrn: try VRN("AB1234"), ubr: UBR(payload: 123_456_789), passageID: 9))
        )
        var payload = try arrival.encode()
        // The UBR's last byte, before the 8-byte passage id.
        payload[payload.count - 9] ^= 1
        #expect(throws: WireError.self) { try LaneMessage(kind: .data, payload: payload) }
    }

    @Test("a VRN must arrive in its normalised spelling")
    func vrnSpelling() {
        let payload: [UInt8] = [0x11, 3] + Array("ab1".utf8) + [UInt8](repeating: 0, count: 8)
        #expect(throws: WireError.invalidValue(field: "vrn", detail: "\"ab1\" is not a normalised VRN")) {
            try LaneMessage(kind: .data, payload: payload)
        }
    }

    @Test("a decision's layout, byte by byte, as docs/link-protocol.md shows it")
    func decisionLayout() throws {
        let message = LaneMessage.decision(
            DecisionMessage(
                requestID: 1, decisionID: 2,
                decision: Decision(
                    instruction: .stop, reason: .earlyCrossing, notes: [.offline], ubr: UBR(payload: 1),
                    earliestCrossing: Date(timeIntervalSince1970: 1), ccrns: [])))
        let hex = try message.encode().map { String(format: "%02x", $0) }.joined()
        #expect(
            hex == "13" + "0000000000000001" + "0000000000000002" + "02" + "05" + "01" + "02" + "01"
                + "0000000000000012" + "01" + "00000000000f4240" + "0000")
    }

    @Test("hello, welcome and refuse layouts are fixed")
    func handshakeLayouts() throws {
        let hello = LaneMessage.hello(
            LinkHello(versions: [1, 2], laneID: Fixture.laneA, capabilities: [.offlineCache, .helpCall]))
        #expect(try hello.encode() == [2, 0, 1, 0, 2, 9] + Array("LMC-IN-03".utf8) + [0, 0, 0, 3])
        let welcome = LaneMessage.welcome(
            LinkWelcome(version: 1, capabilities: [.helpCall], centralTime: Date(timeIntervalSince1970: 0)))
        #expect(try welcome.encode() == [0, 1, 0, 0, 0, 2] + [UInt8](repeating: 0, count: 8))
        #expect(
            try LaneMessage.refuse(LinkRefuse(code: 2, text: "v")).encode() == [2, 0, 1, UInt8(ascii: "v")])
        #expect(try LaneMessage.ack([5]).encode() == [0, 1, 0, 0, 0, 0, 0, 0, 0, 5])
        #expect(try LaneMessage.heartbeat.encode() == [])
    }

    @Test("version negotiation picks the highest common version")
    func negotiation() {
        #expect(LaneMessage.negotiate(offered: [1, 2, 3], supported: [1, 2]) == 2)
        #expect(LaneMessage.negotiate(offered: [3], supported: [1, 2]) == nil)
        // Version 1 (no passage ids) is retired: a lane offering only it is refused.
        #expect(LaneMessage.negotiate(offered: [1]) == nil)
        #expect(LaneMessage.negotiate(offered: [1, 2]) == 2)
    }

    @Test("time sync computes the offset that cancels a symmetric delay")
    func timeSyncOffset() {
        let t = Fixture.now
        // Central is 5 s ahead; 100 ms each way.
        let reply = TimeSync.reply(
            requestSentAt: t, receivedAt: t.addingTimeInterval(5.1), repliedAt: t.addingTimeInterval(5.2))
        #expect(abs(reply.offset(replyReceivedAt: t.addingTimeInterval(0.3))! - 5) < 1e-6)
        #expect(TimeSync.request(sentAt: t).offset(replyReceivedAt: t) == nil)
    }
}
