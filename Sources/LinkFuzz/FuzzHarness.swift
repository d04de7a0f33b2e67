import Foundation
import LinkCore
import RoadCargo

/// What the fuzzer exercises, kept apart from the libFuzzer entry point so
/// that the plain build (which writes the seed corpus) compiles it too.
///
/// The first input byte picks a mode:
/// - 0: the bytes after byte 1 are a stream for a ``FrameDecoder``, fed in
///   pieces whose sizes come from byte 1 (so splitting is fuzzed as well);
/// - 1: byte 1 is a packet kind and the rest a payload for ``LaneMessage``;
/// - 2: the rest is a COBS block sequence.
enum FuzzHarness {
    static let lane = try! LaneID("FUZZ-01")
    /// Fixed transport keys, so that seed frames decrypt and the fuzzer can
    /// reach delivery, not just the CRC check.
    static let upKey: [UInt8] = (0..<32).map { UInt8($0) }
    static let downKey: [UInt8] = (0..<32).map { UInt8(255 - $0) }
    /// The receiver's clock for every run: seeds are stamped at this time.
    static let now = Date(timeIntervalSince1970: 1_748_736_000)

    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        guard input.count >= 2 else { return }
        let rest = input[2...]
        switch input[0] % 3 {
        case 0: decodeStream(rest, split: Int(input[1]))
        case 1: decodeMessage(kind: input[1], payload: Array(rest))
        default: cobs(Array(rest))
        }
    }

    static func decodeStream(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, split: Int) {
        var decoder = FrameDecoder(
            cipher: .established(lane: lane, sending: .centralToLane, sendKey: downKey, receiveKey: upKey))
        var seen = 0
        var i = bytes.startIndex
        var piece = max(1, split)
        while i < bytes.endIndex {
            let end = min(i + piece, bytes.endIndex)
            for event in decoder.feed(bytes[i..<end]) {
                seen += 1
                if case .packet(let p) = event {
                    check(p.payload.count <= FrameFormat.maxPayload, "delivered an oversize payload")
                    // A delivered payload must decode or throw, never trap.
                    _ = try? LaneMessage(packet: p)
                }
            }
            check(decoder.bufferedCount <= FrameFormat.maxEncodedFrame, "decoder buffer exceeds its bound")
            i = end
            piece = piece % 97 + 1
        }
        check(seen == decoder.delivered + decoder.drops.total, "an event went uncounted")
    }

    static func decodeMessage(kind raw: UInt8, payload: [UInt8]) {
        guard let kind = PacketKind(rawValue: raw) else { return }
        guard let message = try? LaneMessage(kind: kind, payload: payload) else { return }
        // Whatever decodes must encode again, in the same packet kind, and
        // decode to the same message.
        guard let again = try? message.encode() else {
            return check(false, "decoded message does not encode")
        }
        check(message.packetKind == kind, "message decoded from the wrong packet kind")
        check(
            (try? LaneMessage(kind: kind, payload: again)) == message,
            "re-encoded message decodes differently")
    }

    static func cobs(_ bytes: [UInt8]) {
        guard let decoded = COBS.decode(bytes) else { return }
        let encoded = COBS.encode(decoded)
        check(!encoded.contains(0), "COBS output contains a zero")
        check(COBS.decode(encoded) == decoded, "COBS does not round trip")
    }

    static func check(_ condition: Bool, _ what: String) {
        if !condition { fatalError("fuzz invariant broken: \(what)") }
    }

    /// Seed inputs: authentic frame streams and message payloads of every kind.
    static func seeds() throws -> [[UInt8]] {
        let vrn = try VRN("AB1234")
        let decision = Decision(
            instruction: .stop, reason: .earlyCrossing, notes: [.offline], ubr: UBR(payload: 1),
            earliestCrossing: now, ccrns: [CCRN(payload: 2)])
        let messages: [LaneMessage] = [
            .hello(LinkHello(versions: [2], laneID: lane, capabilities: [.offlineCache, .helpCall])),
            .welcome(LinkWelcome(version: 2, capabilities: [.helpCall], centralTime: now)),
            .refuse(LinkRefuse(code: 2, text: "no common version")), .heartbeat, .goodbye, .ack([1, 2, 3]),
            .timeSync(.reply(requestSentAt: now, receivedAt: now, repliedAt: now)),
            .vehicleArrival(VehicleArrival(vrn: vrn, arrivedAt: now)),
            .decisionRequest(
                DecisionRequestMessage(
                    requestID: 7, passageID: 6, lane: lane, vrn: vrn, arrivedAt: now, unladenPressed: true)),
            .decision(DecisionMessage(requestID: 7, decisionID: 8, decision: decision)),
            .laneEvent(LaneEvent(occurredAt: now, .buttonPressed(.unladen, kernelNanoseconds: 123))),
            .laneEvent(
                LaneEvent(occurredAt: now, .vehicleLeft(vrn: vrn, ubr: UBR(payload: 1), passageID: 6))),
            .offlineCrossing(
                OfflineCrossing(
                    passageID: 6, requestID: 7, vrn: vrn, arrivedAt: now, unladenPressed: false,
                    decidedAt: now,
                    decision: decision, cacheVersion: CacheVersion(generation: 1, sequence: 2))),
            .bundleCacheDelta(
                BundleCacheDelta(
                    generation: 1, sequence: 1,
                    changes: [.drop(UBR(payload: 1)), .watchList([.vrn(vrn)])])),
            .cacheResync(have: CacheVersion(generation: 1, sequence: 0)),
            .laneEvent(LaneEvent(occurredAt: now, .fault(code: 3, text: "display"))),
            .helpCall(.officerMessage(callID: 1, phraseID: 4, text: "wait")),
            .officerCommand(
                .override(
                    requestID: 7, instruction: .cleared, reason: .officerRelease, officer: "o1", text: "")),
            .officerCommand(.offlineMode(on: true, officer: "o1")),
            .bundleCache(
                BundleCacheChunk(
                    generation: 1, index: 0, count: 1,
                    bundles: [
                        CachedBundle(
                            ubr: UBR(payload: 1), vrn: vrn, direction: .inbound,
                            ccrns: [
                                CachedCCRN(ccrn: CCRN(payload: 2), validUntil: CalendarDay(containing: now))
                            ],
                            earliestCrossing: now, status: .active)
                    ], watchList: [.vrn(vrn), .consignee("WILSON DEVELOPMENT LTD")])),
        ]
        var seeds: [[UInt8]] = []
        var encoder = FrameEncoder(
            cipher: .established(lane: lane, sending: .laneToCentral, sendKey: upKey, receiveKey: downKey))
        var stream: [UInt8] = []
        for (i, m) in messages.enumerated() {
            let packet = try m.packet(sequence: UInt32(i + 1), messageID: UInt64(i + 1))
            seeds.append([1, m.packetKind.rawValue] + packet.payload)
            // Hello, welcome and refuse are Noise handshake messages: a cipher
            // past its handshake has no frame for them (it answers notReady,
            // which stopped the whole corpus), and the fuzzed decoder would drop one.
            guard [.data, .ack, .heartbeat, .goodbye].contains(m.packetKind) else { continue }
            let frame = try encoder.encode(packet)
            seeds.append([0, UInt8(i * 13 % 256)] + frame)
            stream += frame
        }
        seeds.append([0, 7] + stream)
        seeds.append([2, 0] + COBS.encode([0, 1, 0, 2, 3, 0]))
        return seeds
    }
}
