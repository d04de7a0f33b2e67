import Foundation
import LinkCore
import RoadCargo
import TestKit
import Testing

@testable import LaneLink

/// Central installs a re-read key directory while it runs (clearanced's
/// SIGHUP): a rotation needs no restart, and a withdrawn lane is cut off.
@Suite(.timeLimit(.minutes(2))) struct KeyReloadTests {
    @Test func aReloadedRotationLinksTheNewKeyKeepsTheOldLaneAndCutsAWithdrawnOne() async throws {
        let directory = try LinkHardeningTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lane = LinkRig.laneA
        let other = LinkRig.laneB
        let oldKey = LinkKey.generate(for: lane)
        let otherKey = LinkKey.generate(for: other)
        let clock = SimulatedWallClock(Date())
        let server = try LinkHardeningTests.server(
            keys: [oldKey, otherKey], path: directory + "/central.sqlite", clock: clock, applied: Tally())
        let listener = try await TCPLinkListener(host: "127.0.0.1", port: 0)
        let serving = Task { await server.serve(listener) }
        func counter() -> UInt64 { UInt64(clock.now().timeIntervalSince1970 * 1_000_000) }

        var onOld = try await RawLane(port: listener.port, key: oldKey, counter: counter())
        try await onOld.connect(as: lane)
        var withdrawn = try await RawLane(port: listener.port, key: otherKey, counter: counter())
        try await withdrawn.connect(as: other)
        try await eventually("both lanes linked") { server.connectedLanes == [lane, other] }

        // The key directory after `rotate-key` for one lane and the other
        // lane's file deleted, read again.
        let newKey = LinkKey.generate(for: lane)
        var ring = LinkKeyring([oldKey])
        ring.rotate(to: newKey, previous: oldKey, until: clock.now().addingTimeInterval(3600))
        let report = server.reloadKeys(ring)
        #expect(report.changed == [lane])
        #expect(report.removed == [other])
        #expect(report.added.isEmpty)
        try await eventually("the withdrawn lane cut off") { !server.connectedLanes.contains(other) }
        #expect(server.connectedLanes.contains(lane), "the rotated lane keeps its session")

        clock.advance(by: 60)
        var onNew = try await RawLane(port: listener.port, key: newKey, counter: counter())
        try await onNew.connect(as: lane)
        try await eventually("the lane on its new key linked") {
            server.counters(for: lane).packetsReceived >= 4
        }
        var refused = try await RawLane(port: listener.port, key: otherKey, counter: counter())
        try await refused.hello(as: other)
        try await eventually("the withdrawn key's hello dropped") {
            server.counters.frameDrops[.unknownKey] >= 1 || server.counters.frameDrops[.badTag] >= 1
        }
        #expect(!server.connectedLanes.contains(other))
        for line in [onOld, withdrawn, onNew, refused] { await line.transport.close() }
        await listener.close()
        serving.cancel()
    }
}
