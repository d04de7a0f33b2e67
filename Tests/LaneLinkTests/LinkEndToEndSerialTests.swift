import Foundation
import LinkCore
import LinkTestSupport
import RoadCargo
import TestKit
import Testing

@testable import LaneLink

/// The whole link over a serial cable: both ends open pty devices through
/// the real libserialport (in a child with the serial-pty shim, see
/// docs/serial-testing.md), with a NoisyPtyProxy as the cable between them.
@Suite(.timeLimit(.minutes(3))) struct LinkEndToEndSerialTests {
    @Test func decisionRoundTripOverASerialLine() async throws {
        try await ShimmedChild.run {
            try await exchange(count: 5, impairment: .none, seed: 1)
        }
    }

    @Test func noisySerialLineEveryMessageAppliedOnceAndAnswered() async throws {
        try await ShimmedChild.run {
            try await exchange(count: 60, impairment: .noisy, seed: 11)
        }
    }

    private func exchange(count: UInt64, impairment: LineImpairment, seed: UInt64) async throws {
        let rig = try LinkRig()
        let cable = try await NoisyPtyProxy(seed: seed, laneToCentral: impairment, centralToLane: impairment)
        let serving = Task { [server = rig.server] in
            await server.serveSerial(path: cable.centralPath, retry: .milliseconds(100))
        }
        let client = try rig.client(line: .serial(path: cable.lanePath))
        let running = Task { try await client.run() }
        let ids = UInt64(1)...count
        for id in ids { try await client.send(LinkRig.request(id)) }
        try await eventually("\(count) decisions", within: .seconds(90)) { rig.decisionCount() == Int(count) }
        try await eventually("acks") {
            let lane = try await client.pendingCount()
            let central = try await rig.server.pendingCount(for: LinkRig.laneA)
            return lane == 0 && central == 0
        }
        rig.expectExactlyOnce(ids)
        #expect(rig.decisionCount() == Int(count), "every request over the serial line got its decision")
        #expect(try await client.pendingCount() == 0, "and the lane's outbox is empty")
        running.cancel()
        _ = await running.result
        serving.cancel()
        await serving.value
        await cable.close()
    }
}
