import Foundation
import RoadCargo
import Testing

@testable import LaneLink

/// The worked example in docs/link-protocol.md, produced independently by a
/// 40-line Python encoder (hmac, struct, a bitwise CRC-32C and COBS), so that
/// the document, this implementation and a third party's agree byte for byte.
@Suite("Frame interoperability")
struct FrameInteropTests {
    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    static let arrivalWire = hex(
        "0003010401010102010101010101010c01094c4d432d494e2d303306063677541601010a1011064142313233340606"
            + "36775416010de0884fd26f095ab0c1b5d06d00")
    static let heartbeatWire = hex(
        "000301060101010202010101010101010b094c4d432d494e2d30330606367754160201010df2d6c25001ffd50e0d17fc5200"
    )

    @Test("the documented example frames are what the encoder writes")
    func encoderMatchesDocument() throws {
        var encoder = Fixture.laneEncoder()
        let arrival = try LaneMessage.vehicleArrival(
            VehicleArrival(vrn: try VRN("AB1234"), arrivedAt: Fixture.now)
        )
        .packet(sequence: 1, messageID: 1)
        #expect(try encoder.encode(arrival, now: Fixture.now) == Self.arrivalWire)
        // Same microsecond: the timestamp is bumped by one.
        #expect(
            try encoder.encode(LinkPacket(kind: .heartbeat, sequence: 2), now: Fixture.now)
                == Self.heartbeatWire)
    }

    @Test("the documented example frames decode to the documented values")
    func decoderReadsDocument() throws {
        var decoder = Fixture.centralDecoder()
        let received = decoder.feed(Self.arrivalWire + Self.heartbeatWire, now: Fixture.now).packets
        #expect(received.map(\.timestamp) == [1_748_736_000_000_000, 1_748_736_000_000_001])
        #expect(
            try LaneMessage(packet: received[0].packet)
                == .vehicleArrival(VehicleArrival(vrn: try VRN("AB1234"), arrivedAt: Fixture.now)))
        #expect(received[1].packet == LinkPacket(kind: .heartbeat, sequence: 2))
    }
}
