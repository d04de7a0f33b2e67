import Foundation
import RoadCargo
import Testing

@testable import LinkCore

/// The handshake and frames against vectors made elsewhere: the published
/// cacophony vector for `Noise_NNpsk0_25519_ChaChaPoly_SHA256`, and the
/// frame vectors of docs/link-protocol.md section 8, printed by the
/// independent Python encoder `scripts/link-vectors.py`.
@Suite("Link test vectors")
struct LinkVectorTests {
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

    /// From haskell-cryptography/cacophony, `vectors/cacophony.txt`
    /// (commit 8ee9d41e34a1a596cfa3ab12aa4069ff87dc1247), the entry
    /// `Noise_NNpsk0_25519_ChaChaPoly_SHA256`.
    @Test("our Noise NNpsk0 reproduces the cacophony test vector")
    func cacophony() throws {
        let prologue = Self.hex("4a6f686e2047616c74")
        let psk = Self.hex("54686973206973206d7920417573747269616e20706572737065637469766521")
        let initiatorEphemeral = Self.hex("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a")
        let responderEphemeral = Self.hex("bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b")
        let messages: [(payload: String, ciphertext: String)] = [
            (
                "4c756477696720766f6e204d69736573",
                "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c794479b962b8aff8485742ac32f905ba45369e2465fb59e138a93d67a0d1266b6a54"
            ),
            (
                "4d757272617920526f746862617264",
                "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843d6062704d5a9c422a8e834423f8c1feada7e8d0d910a1a2cd030fb584221e3"
            ),
            ("462e20412e20486179656b", "e632c3763d7669067383433197a3baddf146e9e70ad4b4e9e59e0f"),
            ("4361726c204d656e676572", "64c6bee32ea91c8474bb4c21d7a700109ad45af77b29764ba5eb1e"),
            (
                "4a65616e2d426170746973746520536179",
                "e2fa0bed0603b62d3ccac2ecabbf3fe33f3e86514909b323361626266cb2471cc8"
            ),
            (
                "457567656e2042f6686d20766f6e2042617765726b",
                "0c01dc9cec1fe4ddd692e8dd32188aa351088dc91183639a53b57aa4692b5ebdef8b8ca111"
            ),
        ]
        let (m1, initiator) = NoiseInitiator.writeMessage1(
            psk: psk, prologue: prologue, ephemeral: initiatorEphemeral,
            payload: Self.hex(messages[0].payload))
        #expect(m1 == Self.hex(messages[0].ciphertext))
        let (p1, responder) = try NoiseResponder.readMessage1(psk: psk, prologue: prologue, message: m1)
        #expect(p1 == Self.hex(messages[0].payload))
        let (m2, responderKeys) = try responder.writeMessage2(
            ephemeral: responderEphemeral, payload: Self.hex(messages[1].payload))
        #expect(m2 == Self.hex(messages[1].ciphertext))
        let (p2, keys) = try initiator.readMessage2(m2)
        #expect(p2 == Self.hex(messages[1].payload))
        #expect(keys == responderKeys)
        #expect(
            keys.handshakeHash == Self.hex("f4d03dc34495c95729ea6de9e1b59004b59733102488b3e24bc441e0be208eaf")
        )
        // Transport messages alternate: initiator, responder, initiator, ...
        for (i, message) in messages.dropFirst(2).enumerated() {
            let key = i % 2 == 0 ? keys.initiatorToResponder : keys.responderToInitiator
            let sealed = Noise.seal(
                key: key, nonce: UInt64(i / 2), ad: [], plaintext: Self.hex(message.payload))
            #expect(sealed == Self.hex(message.ciphertext), "transport message \(i + 3)")
        }
    }

    /// Inputs of docs/link-protocol.md section 8.
    static let lane = try! LaneID("LMC-IN-03")
    static let psk = try! LinkKey(laneID: lane, bytes: (0..<32).map { UInt8($0) })
    static let laneEphemeral: [UInt8] = (0x20..<0x40).map { UInt8($0) }
    static let centralEphemeral: [UInt8] = (0x40..<0x60).map { UInt8($0) }
    static let helloCounter: UInt64 = 1_748_736_000_000_000
    static let arrivedAt = Date(timeIntervalSince1970: 1_748_736_000)

    /// The outputs, as scripts/link-vectors.py prints them (and the document shows).
    static let expected: [String: String] = [
        "hello":
            "000302010b094c4d432d494e2d303301010101010101015953358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254315acab627762b6517d53a6454a731fda6dabb7ef88524d6d4852ffc98eb0df887533c35e1bd1b8b8ce0c952411184521ca12f835aa10400",
        "welcome":
            "000e020201094c4d432d494e2d30330101010101010101344079a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a945f6a22de0d6bd6bda29568e86fe6ab07b012a5cb2305d301cefdda78bb23a8c624058c00",
        "heartbeat":
            "000302060b094c4d432d494e2d30330101010101010101231da9bde0af2ee3b12cccfd9459de118589a9a4479c929115dd662e2f48ff1da4042b00",
        "data":
            "000302040b094c4d432d494e2d30330101010101010201332d813c7af05c225fe38935a94d75fdcc17fdbc41396102b3a861082415d9810dc394796cbd596b58a79c78c6b03cd7b82b6600",
        "ack":
            "000e020501094c4d432d494e2d303301010101010101012d278002850ce06669faa640034e34f91480edaba370bcdabfc97134e6a7f8bbac24e1f8fbaddf88283157d44a00",
    ]

    static func parse(_ wire: [UInt8]) throws -> WireFrame {
        var deframer = FrameDeframer()
        return try #require(deframer.feed(wire).first).get()
    }

    @Test("the documented frames are what the lane and central write, and they open")
    func documentedFrames() throws {
        var lane = LinkCipher(
            role: .initiator(key: Self.psk, helloCounter: Self.helloCounter, ephemeral: Self.laneEphemeral))
        var central = LinkCipher(role: .responder(ephemeral: Self.centralEphemeral))
        let helloPayload = SessionHandshakeCoding.interim.encodeHello(
            SessionHello(versions: [1], laneID: Self.lane, capabilities: []))
        let hello = try lane.seal(LinkPacket(kind: .hello, sequence: 1, payload: helloPayload)).get()
        #expect(hello == Self.hex(Self.expected["hello"]!))

        let opened = central.open(try Self.parse(hello)) { _ in [Self.psk] }
        #expect(
            opened
                == .success(
                    .packet(
                        LinkPacket(kind: .hello, sequence: 1, payload: helloPayload),
                        helloCounter: Self.helloCounter,
                        confirmed: false)))
        let welcomePayload = SessionHandshakeCoding.interim.encodeWelcome(
            SessionWelcome(version: 1, capabilities: []))
        let welcome = try central.seal(LinkPacket(kind: .welcome, sequence: 1, payload: welcomePayload)).get()
        #expect(welcome == Self.hex(Self.expected["welcome"]!))
        let answered = lane.open(try Self.parse(welcome)) { _ in [] }
        #expect(
            answered
                == .success(
                    .packet(
                        LinkPacket(kind: .welcome, sequence: 1, payload: welcomePayload), helloCounter: nil,
                        confirmed: false)))

        let heartbeat = try lane.seal(LinkPacket(kind: .heartbeat, sequence: 2)).get()
        #expect(heartbeat == Self.hex(Self.expected["heartbeat"]!))
        let arrival = try LaneMessage.vehicleArrival(
            VehicleArrival(vrn: try VRN("AB1234"), arrivedAt: Self.arrivedAt)
        )
        .packet(sequence: 3, messageID: 1)
        let data = try lane.seal(arrival).get()
        #expect(data == Self.hex(Self.expected["data"]!))
        let ack = try central.seal(LinkPacket(kind: .ack, sequence: 2, payload: SessionAck.encode([1]))).get()
        #expect(ack == Self.hex(Self.expected["ack"]!))

        // Central: the heartbeat confirms the lane's keys; the data opens.
        let confirming = central.open(try Self.parse(heartbeat)) { _ in [] }
        #expect(
            confirming
                == .success(
                    .packet(LinkPacket(kind: .heartbeat, sequence: 2), helloCounter: nil, confirmed: true)))
        let delivered = central.open(try Self.parse(data)) { _ in [] }
        #expect(delivered == .success(.packet(arrival, helloCounter: nil, confirmed: false)))
        // The same data again: its counter is spent.
        let again = central.open(try Self.parse(data)) { _ in [] }
        #expect(again == .failure(.replay))
    }

    @Test(
        "a repeated hello gets the same welcome again, byte for byte; wrong keys and directions are refused")
    func handshakeRepeats() throws {
        var lane = LinkCipher(role: .initiator(key: Self.psk, helloCounter: Self.helloCounter))
        var central = LinkCipher(role: .responder())
        let packet = LinkPacket(kind: .hello, sequence: 1, payload: [1])
        let hello = try lane.seal(packet).get()
        let resent = try lane.seal(LinkPacket(kind: .hello, sequence: 2, payload: [1])).get()
        #expect(resent == hello)
        _ = central.open(try Self.parse(hello)) { _ in [Self.psk] }
        let whileDeciding = central.open(try Self.parse(hello)) { _ in [Self.psk] }
        #expect(whileDeciding == .success(.ignored))
        let welcome = try central.seal(LinkPacket(kind: .welcome, sequence: 1)).get()
        let afterWelcome = central.open(try Self.parse(hello)) { _ in [Self.psk] }
        #expect(afterWelcome == .success(.resend(welcome)))
        // A welcome reflected back to central travels the wrong way.
        let reflected = central.open(try Self.parse(welcome)) { _ in [] }
        #expect(reflected == .failure(.wrongDirection))
        // Another key of the same lane does not open the hello; no key at all is unknown.
        var other = LinkCipher(role: .responder())
        let wrongKey = other.open(try Self.parse(hello)) { _ in [LinkKey.generate(for: Self.lane)] }
        #expect(wrongKey == .failure(.badTag))
        let noKey = other.open(try Self.parse(hello)) { _ in [] }
        #expect(noKey == .failure(.unknownKey))
    }

    @Test("token buckets: the burst, then the rate, on the injected clock")
    func tokenBuckets() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var bucket = TokenBucket(capacity: 3, rate: 2, now: start)
        let table: [(Double, Bool)] = [
            (0, true), (0, true), (0, true), (0, false), (0.25, false), (0.5, true), (0.5, false), (10, true),
        ]
        for (i, (at, expected)) in table.enumerated() {
            let took = bucket.take(now: start.addingTimeInterval(at))
            #expect(took == expected, "step \(i)")
        }
        var limits = LinkLimits()
        limits.laneHandshakeBurst = 2
        limits.laneHandshakesPerSecond = 1
        var limiter = HandshakeLimiter(limits: limits, now: start)
        let steps = [
            limiter.laneHello(Self.lane, now: start), limiter.laneHello(Self.lane, now: start),
            // A third hello in the same instant; another lane has its own bucket; a second later.
            limiter.laneHello(Self.lane, now: start), limiter.laneHello(try! LaneID("OTHER-1"), now: start),
            limiter.laneHello(Self.lane, now: start.addingTimeInterval(1)),
        ]
        #expect(steps == [true, true, false, true, true])
    }
}
