import LaneLink
import LinkCore
import LinkTestSupport
import TestKit
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The pty side of the test support, with the devices opened by plain open(2):
/// these need no shim. TransportSerialTests covers the same through libserialport.
@Suite(.timeLimit(.minutes(1))) struct NoisyLinePtyTests {
    @Test func aPseudoTerminalIsARawLine() async throws {
        let pty = try PseudoTerminal()
        #expect(pty.devicePath.hasPrefix("/dev/pts/"))
        let controller = try await pty.controllerTransport()
        let device = try await openDeviceWithoutLibserialport(pty.devicePath)
        var atController = InboundReader(controller)
        var atDevice = InboundReader(device)
        // CR, LF, ^C, ^D and XON/XOFF pass untouched, and nothing echoes back.
        let awkward: [UInt8] = [0x0D, 0x0A, 0x03, 0x04, 0x11, 0x13, 0x00, 0xFF, 0x7F]
        try await device.write(awkward)
        #expect(try await atController.read(awkward.count) == awkward)
        try await controller.write(awkward)
        #expect(try await atDevice.read(awkward.count) == awkward)
        try await device.write([0x42])
        #expect(try await atController.read(1) == [0x42])
        await device.close()
        await pty.hangUp()
    }

    @Test func thePtyProxyIsTransparentWithAPerfectLine() async throws {
        let proxy = try await NoisyPtyProxy(seed: 1)
        let lane = try await openDeviceWithoutLibserialport(proxy.lanePath)
        let central = try await openDeviceWithoutLibserialport(proxy.centralPath)
        let up = payload(300_000, seed: 21)
        let down = payload(300_000, seed: 22)
        async let sent: Void = write(up, to: lane, piece: 1000)
        async let answered: Void = write(down, to: central, piece: 1000)
        var atCentral = InboundReader(central)
        var atLane = InboundReader(lane)
        #expect(try await atCentral.read(up.count) == up)
        #expect(try await atLane.read(down.count) == down)
        try await sent
        try await answered
        #expect(proxy.counters(.laneToCentral).bytesOut == up.count)
        await lane.close()
        await central.close()
        await proxy.close()
    }

    @Test func thePtyProxyDamagesAtTheConfiguredRates() async throws {
        let proxy = try await NoisyPtyProxy(
            seed: 2, laneToCentral: LineImpairment(bitFlipPerByte: 0.01),
            centralToLane: LineImpairment(dropChunk: 0.1, chunkSize: 8...8))
        let lane = try await openDeviceWithoutLibserialport(proxy.lanePath)
        let central = try await openDeviceWithoutLibserialport(proxy.centralPath)
        var atCentral = InboundReader(central)
        var atLane = InboundReader(lane)

        let up = payload(50_000, seed: 23)
        async let sent: Void = write(up, to: lane, piece: 512)
        let received = try await atCentral.read(up.count)
        try await sent
        let changed = zip(up, received).filter { $0 != $1 }.count
        #expect(changed == proxy.counters(.laneToCentral).bitsFlipped)
        #expect((380...620).contains(changed))

        let down = payload(40_000, seed: 24)
        try await write(down, to: central, piece: 512)
        #expect(
            await eventually(every: .milliseconds(5)) { proxy.counters(.centralToLane).bytesIn >= down.count }
        )
        let counters = proxy.counters(.centralToLane)
        // 8-byte chunks, plus a short one wherever a read did not end on a multiple of 8.
        #expect((5000...5200).contains(counters.chunks))
        #expect((400...600).contains(counters.chunksDropped))
        #expect(try await atLane.read(counters.bytesOut).count == down.count - counters.bytesDropped)
        await lane.close()
        await central.close()
        await proxy.close()
    }

    @Test func aCutCableLosesBytesUntilRestored() async throws {
        let proxy = try await NoisyPtyProxy(seed: 3)
        let lane = try await openDeviceWithoutLibserialport(proxy.lanePath)
        let central = try await openDeviceWithoutLibserialport(proxy.centralPath)
        var atCentral = InboundReader(central)
        proxy.cut()
        try await lane.write([1, 2, 3, 4])
        #expect(
            await eventually(every: .milliseconds(5)) { proxy.counters(.laneToCentral).bytesLostToCut >= 4 })
        proxy.restore()
        try await lane.write([5, 6])
        // Only what was sent after the cable came back arrives.
        #expect(try await atCentral.read(2) == [5, 6])
        await lane.close()
        await central.close()
        await proxy.close()
    }

    @Test func closingThePtyProxyMakesTheDevicesVanish() async throws {
        let proxy = try await NoisyPtyProxy(seed: 4)
        let lane = try await openDeviceWithoutLibserialport(proxy.lanePath)
        var atLane = InboundReader(lane)
        await proxy.close()
        // NIO reads the hung-up device as an error (EIO) or an end of file, depending on timing.
        #expect(await atLane.readToEnd().error is LinkTransportError)
        await lane.close()
        #expect(access(proxy.lanePath, F_OK) != 0)
    }

    @Test func socatMakesAPlainPtyPair() async throws {
        guard access("/usr/bin/socat", X_OK) == 0 else {
            try Test.cancel("socat is not installed (scripts/install-deps.sh test)")
        }
        let pair = try await SocatPtyPair()
        defer { pair.close() }
        let first = try await openDeviceWithoutLibserialport(pair.firstPath)
        let second = try await openDeviceWithoutLibserialport(pair.secondPath)
        var atSecond = InboundReader(second)
        try await first.write(Array("over socat".utf8))
        #expect(try await atSecond.read(10) == Array("over socat".utf8))
        await first.close()
        await second.close()
    }
}
