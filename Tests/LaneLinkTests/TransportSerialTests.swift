import LinkCore
import LinkTestSupport
import Testing

@testable import LaneLink

/// The serial transport through the real libserialport, on ptys. Every test
/// that opens a pty with libserialport runs in a child process with the
/// serial-pty shim preloaded (see ``ShimmedChild``).
@Suite(.timeLimit(.minutes(3))) struct TransportSerialTests {
    @Test func openingAMissingDeviceNamesThePath() async {
        let error = await #expect(throws: LinkTransportError.self) {
            try await SerialLinkTransport(path: "/dev/ttyLANEKIOSK-NOPE")
        }
        guard case .openFailed(let path, let reason) = error else {
            Issue.record("expected openFailed, got \(String(describing: error))")
            return
        }
        #expect(path == "/dev/ttyLANEKIOSK-NOPE")
        #expect(reason.contains("no such port"))
    }

    @Test func bytesCrossBothWaysAtOnce() async throws {
        try await ShimmedChild.run {
            let pty = try PseudoTerminal()
            let far = try await pty.controllerTransport()
            let serial = try await SerialLinkTransport(path: pty.devicePath)
            #expect(serial.peer == pty.devicePath)
            let up = payload(256 * 1024, seed: 3)
            let down = payload(256 * 1024, seed: 4)
            // A pty buffers a few KiB: both directions must flow at once.
            async let sent: Void = write(up, to: serial, piece: 700)
            async let answered: Void = write(down, to: far, piece: 900)
            var farReader = InboundReader(far)
            var serialReader = InboundReader(serial)
            #expect(try await farReader.read(up.count) == up)
            #expect(try await serialReader.read(down.count) == down)
            try await sent
            try await answered
            await serial.close()
            await pty.hangUp()
        }
    }

    @Test func closeStopsBothThreadsAndEndsInboundCleanly() async throws {
        try await ShimmedChild.run {
            let pty = try PseudoTerminal()
            let serial = try await SerialLinkTransport(path: pty.devicePath, pollInterval: .milliseconds(20))
            var reader = InboundReader(serial)
            #expect(!serial.isFinished)
            let started = ContinuousClock.now
            await serial.close()
            #expect(serial.isFinished)
            #expect(ContinuousClock.now - started < .seconds(1))
            let end = await reader.readToEnd()
            #expect(end.error == nil)
            await #expect(throws: LinkTransportError.closed(peer: pty.devicePath)) {
                try await serial.write([1])
            }
            await serial.close()  // idempotent
            await pty.hangUp()
        }
    }

    @Test func pullingTheCableEndsInboundWithDeviceVanished() async throws {
        try await ShimmedChild.run {
            let pty = try PseudoTerminal()
            let far = try await pty.controllerTransport()
            let serial = try await SerialLinkTransport(path: pty.devicePath, pollInterval: .milliseconds(20))
            var reader = InboundReader(serial)
            try await far.write([7, 8, 9])
            #expect(try await reader.read(3) == [7, 8, 9])

            await pty.hangUp()
            let end = await reader.readToEnd()
            guard case .deviceVanished(let path, let reason) = end.error as? LinkTransportError else {
                Issue.record("expected deviceVanished, got \(String(describing: end.error))")
                return
            }
            #expect(path == pty.devicePath)
            #expect(reason.contains(pty.devicePath))
            // The line is gone for writers too, with the same cause.
            await #expect(throws: LinkTransportError.self) { try await serial.write([1]) }
            await serial.close()
            #expect(serial.isFinished)
        }
    }

    @Test func laneAndCentralTalkThroughTheNoisyPtyProxy() async throws {
        try await ShimmedChild.run {
            let proxy = try await NoisyPtyProxy(seed: 7)
            let lane = try await SerialLinkTransport(path: proxy.lanePath)
            let central = try await SerialLinkTransport(path: proxy.centralPath)
            var atCentral = InboundReader(central)
            var atLane = InboundReader(lane)
            let request = payload(40_000, seed: 5)
            let answer = payload(40_000, seed: 6)
            async let sent: Void = write(request, to: lane, piece: 60)
            async let answered: Void = write(answer, to: central, piece: 60)
            #expect(try await atCentral.read(request.count) == request)
            #expect(try await atLane.read(answer.count) == answer)
            try await sent
            try await answered

            // Now with bit flips only: same length, about the configured share of bytes changed.
            proxy.setImpairment(LineImpairment(bitFlipPerByte: 0.01), for: .laneToCentral)
            let noisy = payload(50_000, seed: 8)
            try await write(noisy, to: lane, piece: 500)
            let received = try await atCentral.read(noisy.count)
            let changed = zip(noisy, received).filter { $0 != $1 }.count
            #expect(changed == proxy.counters(.laneToCentral).bitsFlipped)
            #expect((350...650).contains(changed))

            await lane.close()
            await central.close()
            await proxy.close()
        }
    }
}
