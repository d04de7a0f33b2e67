import LaneLink
import LinkCore
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A pseudo-terminal: a serial device at ``devicePath`` for the code under
/// test, and the controller side for the test, as a ``LinkTransport``.
///
/// The line is raw (`cfmakeraw`: no echo, no line editing, no CR/LF
/// translation, 8 bits), as a UART is. The pty keeps its own descriptor on the
/// device side open, so the controller neither hangs up before the code under
/// test opens the device nor when it closes it; ``hangUp()`` makes the
/// device vanish, as a pulled USB adapter does.
///
/// libserialport 0.1.1 refuses ptys unless the test process runs with the
/// serial-pty shim preloaded (docs/serial-testing.md); plain `open(2)` works always.
public final class PseudoTerminal: Sendable {
    /// The device path the code under test opens, `/dev/pts/N`.
    public let devicePath: String

    private struct Descriptors {
        /// Owned until ``controllerTransport(group:)`` hands it to NIO.
        var controller: CInt?
        var heldDevice: CInt?
        var transport: ChannelLinkTransport?
    }
    private let descriptors: Mutex<Descriptors>

    /// Opens a new pty pair in raw mode.
    /// - Throws: ``PseudoTerminalError`` naming the step and the OS's reason.
    public init() throws {
        // posix_openpt, grantpt, unlockpt and ptsname need _XOPEN_SOURCE, which
        // Swift's Glibc module does not define. This is what glibc does for
        // them on Linux: open /dev/ptmx, unlock, ask for the number (grantpt is
        // a no-op with devpts). The ioctl numbers are TIOCSPTLCK and TIOCGPTN
        // from asm-generic, the same on x86_64 and arm64.
        let controller = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard controller >= 0 else { throw PseudoTerminalError(step: "open /dev/ptmx") }
        var unlock: CInt = 0
        var number: CUnsignedInt = 0
        guard ioctl(controller, 0x4004_5431, &unlock) == 0, ioctl(controller, 0x8004_5430, &number) == 0
        else {
            let error = PseudoTerminalError(step: "unlock the pty")
            Glibc.close(controller)
            throw error
        }
        let path = "/dev/pts/\(number)"
        let device = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard device >= 0 else {
            let error = PseudoTerminalError(step: "open \(path)")
            Glibc.close(controller)
            throw error
        }
        var settings = termios()
        guard tcgetattr(device, &settings) == 0 else {
            let error = PseudoTerminalError(step: "read the line settings of \(path)")
            Glibc.close(device)
            Glibc.close(controller)
            throw error
        }
        cfmakeraw(&settings)
        guard tcsetattr(device, TCSANOW, &settings) == 0 else {
            let error = PseudoTerminalError(step: "make \(path) raw")
            Glibc.close(device)
            Glibc.close(controller)
            throw error
        }
        devicePath = path
        descriptors = Mutex(Descriptors(controller: controller, heldDevice: device))
    }

    deinit {
        descriptors.withLock { descriptors in
            if let fd = descriptors.controller { Glibc.close(fd) }
            if let fd = descriptors.heldDevice { Glibc.close(fd) }
        }
    }

    /// The controller side as a transport, made on first call: what the code
    /// under test writes to the device arrives on its ``LinkTransport/inbound``.
    public func controllerTransport(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> ChannelLinkTransport {
        let taken = descriptors.withLock { descriptors -> (fd: CInt?, existing: ChannelLinkTransport?) in
            defer { descriptors.controller = nil }
            return (descriptors.controller, descriptors.transport)
        }
        if let existing = taken.existing { return existing }
        guard let fd = taken.fd else {
            throw PseudoTerminalError(step: "use \(devicePath) after hang-up", code: EBADF)
        }
        let path = devicePath
        // NIO owns the descriptor from here and closes it with the channel.
        let transport = try await NIOPipeBootstrap(group: group)
            .takingOwnershipOfDescriptor(inputOutput: fd) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try ChannelLinkTransport.install(on: channel, peer: "pty controller of \(path)")
                }
            }
        descriptors.withLock { $0.transport = transport }
        return transport
    }

    /// Closes the controller and the held device side: the device vanishes, and
    /// whoever has it open reads an error (EIO) from then on.
    public func hangUp() async {
        let (controller, device, transport) = descriptors.withLock { descriptors in
            defer { descriptors = Descriptors() }
            return (descriptors.controller, descriptors.heldDevice, descriptors.transport)
        }
        await transport?.close()
        if let controller { Glibc.close(controller) }
        if let device { Glibc.close(device) }
    }
}

/// A pty could not be set up.
public struct PseudoTerminalError: Error, Sendable, CustomStringConvertible {
    public var step: String
    public var code: CInt

    init(step: String, code: CInt = errno) {
        self.step = step
        self.code = code
    }

    public var description: String {
        "cannot \(step): \(String(cString: strerror(code)))"
    }
}
