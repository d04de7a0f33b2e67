import Testing

@testable import SerialPort

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct SerialPortTests {
    @Test func enumerationReturnsAnArray() throws {
        let ports = try SerialPort.list()
        // The container may have no serial ports; what matters is that the call
        // goes through libserialport and every entry is usable.
        for port in ports {
            #expect(port.name.hasPrefix("/dev/"))
            if port.transport != .usb { #expect(port.usb == nil) }
        }
    }

    @Test func missingPortNamesThePath() {
        do {
            _ = try SerialPort(path: "/dev/ttyLANEKIOSK-NOPE")
            Issue.record("opened a port that does not exist")
        } catch {
            #expect(error.operation == .open)
            #expect(error.path == "/dev/ttyLANEKIOSK-NOPE")
            #expect(error.code == .invalidArgument)
            #expect(
                error.description.hasPrefix("cannot open serial port /dev/ttyLANEKIOSK-NOPE: no such port"))
        }
    }

    /// Pins the limitation documented on ``SerialPort``: when libserialport is
    /// upgraded and this starts failing, the pty note and the serial-pty shim
    /// (TestSupport/serial-pty, used by PtySerialTests) may be dropped.
    @Test func pseudoTerminalIsRefusedByLibserialport011() throws {
        #if os(Linux)
            // Under TestSupport/serial-pty/launch.sh the whole process has the
            // shim, and stock behaviour cannot be seen from here.
            if SerialPtyShim.isLoaded {
                try Test.cancel("the serial-pty shim is preloaded into this process")
            }
        #endif
        let controller = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        try #require(controller >= 0)
        defer { close(controller) }
        // posix_openpt and ptsname need _XOPEN_SOURCE, which Swift's Glibc module
        // does not define; these are the asm-generic numbers of TIOCSPTLCK and
        // TIOCGPTN (x86_64 and arm64 alike).
        var unlock: Int32 = 0
        var number: UInt32 = 0
        try #require(ioctl(controller, 0x4004_5431, &unlock) == 0)
        try #require(ioctl(controller, 0x8004_5430, &number) == 0)
        let path = "/dev/pts/\(number)"
        let error = #expect(throws: SerialPortError.self) { try SerialPort(path: path) }
        #expect(error?.code == .invalidArgument)
    }

    @Test func defaultConfigurationIs115200EightNOne() {
        let configuration = SerialPort.Configuration()
        #expect(configuration.baudRate == 115_200)
        #expect(configuration.dataBits == 8)
        #expect(configuration.parity == .none)
        #expect(configuration.stopBits == .one)
        #expect(configuration.flowControl == .none)
    }

    @Test(arguments: [
        (Duration.zero, UInt32(0)), (.milliseconds(-5), 0), (.nanoseconds(1), 1), (.milliseconds(250), 250),
        (.microseconds(1500), 2), (.seconds(3), 3000), (.seconds(Int64.max), UInt32.max),
    ])
    func timeoutsNeverBecomeForever(timeout: Duration, milliseconds: UInt32) {
        #expect(SerialPort.milliseconds(timeout) == milliseconds)
    }

    @Test func systemFailureUsesTheOSMessage() {
        let error = SerialPortError(
            operation: .read, path: "/dev/ttyUSB0", code: .systemFailure, osErrorCode: EIO,
            osErrorMessage: "Input/output error")
        #expect(error.description == "cannot read from serial port /dev/ttyUSB0: Input/output error")
    }
}
