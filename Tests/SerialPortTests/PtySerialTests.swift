import Foundation
import ShimmedChildSupport
import Testing

@testable import SerialPort

#if canImport(Glibc)
    import Glibc
#endif

// Serial tests over Linux pseudo-terminals, through the REAL libserialport.
//
// libserialport 0.1.1 refuses ptys (SerialPortTests pins that), so each test
// here runs its body in a child copy of this test binary started with the
// TestSupport/serial-pty shim in LD_PRELOAD: a preload has to be there when a
// process starts, and this process started without it. The parent builds the
// shim, starts the child with a filter that selects only the calling test,
// and fails unless the child both exits 0 and confirms that the body ran.
// docs/serial-testing.md has the why and the hand-run recipe.

#if os(Linux)

    @Suite struct PtySerialTests {
        @Test func bytesCrossBothWaysAt115200EightNOne() throws {
            try SerialPtyShim.runInShimmedChild {
                let line = try PtyLine()
                let port = try SerialPort(path: line.serialPath)
                #expect(port.configuration == SerialPort.Configuration())

                // libserialport really configured the kernel's termios: the
                // slave now says 115200 8N1, raw, no flow control.
                var settings = try line.serialSideTermios()
                let speed = cfgetospeed(&settings)
                #expect(speed == speed_t(B115200))
                #expect(settings.c_cflag & tcflag_t(CSIZE) == tcflag_t(CS8))
                #expect(settings.c_cflag & tcflag_t(PARENB | CSTOPB) == 0)
                #expect(settings.c_cflag & CRTSCTS == 0)
                #expect(settings.c_lflag & tcflag_t(ICANON | ECHO) == 0)
                #expect(settings.c_iflag & tcflag_t(IXON | IXOFF | ICRNL) == 0)

                // Bytes a terminal would mangle (CR, ^C, XOFF, 0x00) must cross untouched.
                let outbound: [UInt8] =
                    [0x00, 0x0D, 0x0A, 0x03, 0x13, 0x11, 0x7F, 0xFF] + Array("lane 7".utf8)
                #expect(try port.write(outbound, timeout: .seconds(2)) == outbound.count)
                try port.drain()
                #expect(try line.readFarEnd(count: outbound.count, timeout: .seconds(2)) == outbound)

                let inbound: [UInt8] = Array("decision 42\r\n".utf8) + [0x00, 0x11, 0x13, 0x1A]
                try line.writeFarEnd(inbound)
                #expect(try port.read(exactly: inbound.count, timeout: .seconds(2)) == inbound)
            }
        }

        @Test func quarterMebibyteArrivesIntactEachWay() throws {
            try SerialPtyShim.runInShimmedChild {
                let line = try PtyLine()
                let port = try SerialPort(path: line.serialPath)
                let size = 256 * 1024
                var generator = SystemRandomNumberGenerator()
                let outbound = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let inbound = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }

                // A pty buffers a few KiB only: the far end must read while the
                // port writes, so it reads on its own thread.
                let received = line.readFarEndInBackground(count: size, timeout: .seconds(30))
                #expect(try port.write(outbound, timeout: .seconds(30)) == size)
                try port.drain()
                #expect(try received.value() == outbound)

                let sent = line.writeFarEndInBackground(inbound)
                var got: [UInt8] = []
                let deadline = ContinuousClock.now + .seconds(30)
                while got.count < size, ContinuousClock.now < deadline {
                    // read(upTo:) as the frame decoder will use it: pieces of any size.
                    got += try port.read(upTo: 4096, timeout: .milliseconds(500))
                }
                try sent.value()
                #expect(got.count == size)
                #expect(got == inbound)
            }
        }

        @Test func readsTimeOutOnAQuietLine() throws {
            try SerialPtyShim.runInShimmedChild {
                let line = try PtyLine()
                let port = try SerialPort(path: line.serialPath)
                let clock = ContinuousClock()

                var bytes: [UInt8] = [1]
                var elapsed = try clock.measure {
                    bytes = try port.read(upTo: 64, timeout: .milliseconds(300))
                }
                #expect(bytes.isEmpty)
                #expect(elapsed >= .milliseconds(280) && elapsed < .seconds(2), "waited \(elapsed)")

                // read(exactly:) hands back what came when the timeout ends.
                try line.writeFarEnd([1, 2, 3])
                elapsed = try clock.measure {
                    bytes = try port.read(exactly: 10, timeout: .milliseconds(300))
                }
                #expect(bytes == [1, 2, 3])
                #expect(elapsed >= .milliseconds(280) && elapsed < .seconds(2), "waited \(elapsed)")

                // .zero takes only what is buffered, without waiting (the bound
                // is loose: a loaded machine may be slow, never 300 ms slow).
                elapsed = try clock.measure { bytes = try port.read(upTo: 64, timeout: .zero) }
                #expect(bytes.isEmpty)
                #expect(elapsed < .milliseconds(250))
            }
        }

        @Test func pullingTheCableIsAnErrorNotAHang() throws {
            try SerialPtyShim.runInShimmedChild {
                let line = try PtyLine()
                let port = try SerialPort(path: line.serialPath)
                try line.writeFarEnd([0xAA])
                #expect(try port.read(exactly: 1, timeout: .seconds(2)) == [0xAA])

                // Pulled while a read waits: libserialport cannot see the
                // hangup mid-wait, so it surfaces when the read's timeout ends.
                let pull = Thread {
                    Thread.sleep(forTimeInterval: 0.2)
                    line.pullCable()
                }
                pull.start()
                let clock = ContinuousClock()
                let start = clock.now
                let duringRead = #expect(throws: SerialPortError.self) {
                    _ = try port.read(upTo: 16, timeout: .seconds(1))
                }
                #expect(clock.now - start < .seconds(3))
                #expect(duringRead?.code == .systemFailure)
                #expect(duringRead?.osErrorCode == EIO)
                // Our poll may see the hangup first ("line hung up"), or the
                // kernel's read may fail with EIO first ("Input/output error"):
                // either way the read names the line and fails, it does not hang.
                let said = duringRead?.description ?? ""
                #expect(said.contains(line.serialPath), "\(said)")
                #expect(said.contains("hung up") || said.contains("Input/output error"), "\(said)")

                // Once hung up, every call fails at once with EIO.
                for _ in 0..<3 {
                    let elapsed = clock.measure {
                        let error = #expect(throws: SerialPortError.self) {
                            _ = try port.read(exactly: 4, timeout: .seconds(5))
                        }
                        #expect(error?.operation == .read)
                        #expect(error?.osErrorCode == EIO)
                    }
                    // Well before the 5 s timeout: the pulled cable ended the read, not the clock.
                    #expect(elapsed < .seconds(4))
                }
                let writeError = #expect(throws: SerialPortError.self) {
                    try port.write([1, 2, 3], timeout: .seconds(1))
                }
                #expect(writeError?.operation == .write)
                #expect(writeError?.code == .systemFailure)
                #expect(writeError?.osErrorCode == EIO)
            }
        }

        @Test func twoSerialPortsOverANullModemCable() throws {
            try SerialPtyShim.runInShimmedChild {
                let cable = try NullModemCable()
                let lane = try SerialPort(path: cable.endA)
                let central = try SerialPort(path: cable.endB)
                try lane.write(Array("ARRIVAL".utf8), timeout: .seconds(2))
                #expect(try central.read(exactly: 7, timeout: .seconds(2)) == Array("ARRIVAL".utf8))
                try central.write(Array("DECISION".utf8), timeout: .seconds(2))
                #expect(try lane.read(exactly: 8, timeout: .seconds(2)) == Array("DECISION".utf8))

                cable.pull()
                let error = #expect(throws: SerialPortError.self) {
                    _ = try lane.read(upTo: 8, timeout: .milliseconds(200))
                }
                #expect(error?.osErrorCode == EIO)
            }
        }

        /// The fake stays narrow: what is not a pty slave keeps its real answers.
        @Test func shimLeavesEverythingButPtysAlone() throws {
            try SerialPtyShim.runInShimmedChild {
                let null = open("/dev/null", O_RDWR)
                try #require(null >= 0)
                defer { close(null) }
                var bits: Int32 = 0
                errno = 0
                #expect(ioctl(null, UInt(TIOCMGET), &bits) == -1)
                #expect(errno == ENOTTY)
                var status = stat()
                #expect(lstat("/sys/class/tty/ttyLANEKIOSK-NOPE", &status) == -1)
                #expect(throws: SerialPortError.self) { try SerialPort(path: "/dev/null") }
            }
        }
    }

    // MARK: - Test support: the shim and the child process

    /// The serial-pty shim, and test bodies run in a child process that
    /// preloads it (ShimmedChildSupport's PreloadShim: build, filter, marker,
    /// timeout).
    enum SerialPtyShim {
        static let shim = PreloadShim(name: "serial-pty") {
            FileManager.default.isReadableFile(atPath: "/dev/ptmx")
                ? nil : "no /dev/ptmx: this machine cannot make pseudo-terminals"
        }

        /// True when the shim is mapped into this process (asked of the dynamic
        /// linker, not guessed from LD_PRELOAD).
        static var isLoaded: Bool { shim.isLoaded }

        /// In the parent: runs the calling test again in a child with the shim
        /// preloaded and records the child's failure as this test's. In the
        /// child: runs `body`.
        static func runInShimmedChild(
            sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
        ) throws {
            try shim.run(sourceLocation: sourceLocation, body)
        }
    }

    // MARK: - Test support: pseudo-terminal lines

    /// A serial line made of one Unix98 pseudo-terminal: ``serialPath`` (the
    /// slave, `/dev/pts/N`) is for `SerialPort(path:)`; the far end is the
    /// master, a plain file descriptor this object reads and writes.
    final class PtyLine: @unchecked Sendable {
        // @unchecked: the descriptors are plain Int32s; the only shared mutable
        // state is `farEnd`, which pullCable() closes under `lock`.
        let serialPath: String
        private var farEnd: Int32
        /// The slave held open, so that the line outlives a SerialPort that
        /// closes and reopens (a pty master sees EIO while no slave is open),
        /// and so that the line is raw before anyone writes (a fresh pty echoes).
        private let holder: Int32
        private let lock = NSLock()

        init() throws {
            let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
            guard master >= 0 else { throw PtyError.system("open /dev/ptmx", errno) }
            // posix_openpt/ptsname need _XOPEN_SOURCE, which Swift's Glibc does
            // not define; these are TIOCSPTLCK and TIOCGPTN (asm-generic numbers,
            // x86_64 and arm64 alike).
            var unlock: Int32 = 0
            var number: UInt32 = 0
            guard ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
                let code = errno
                close(master)
                throw PtyError.system("unlock pty", code)
            }
            serialPath = "/dev/pts/\(number)"
            let slave = open(serialPath, O_RDWR | O_NOCTTY | O_CLOEXEC)
            guard slave >= 0 else {
                let code = errno
                close(master)
                throw PtyError.system("open \(serialPath)", code)
            }
            var raw = termios()
            tcgetattr(slave, &raw)
            cfmakeraw(&raw)
            tcsetattr(slave, TCSANOW, &raw)
            farEnd = master
            holder = slave
        }

        deinit {
            pullCable()
            close(holder)
        }

        /// The slave's termios as the kernel holds it now.
        func serialSideTermios() throws -> termios {
            var settings = termios()
            guard tcgetattr(holder, &settings) == 0 else { throw PtyError.system("tcgetattr", errno) }
            return settings
        }

        /// Closes the far end: the kernel hangs the serial side up, as when a
        /// USB adapter is unplugged. Bytes not yet read are lost.
        func pullCable() {
            lock.lock()
            defer { lock.unlock() }
            if farEnd >= 0 {
                close(farEnd)
                farEnd = -1
            }
        }

        private var descriptor: Int32 {
            lock.lock()
            defer { lock.unlock() }
            return farEnd
        }

        func writeFarEnd(_ bytes: [UInt8]) throws {
            try PtyLine.writeAll(descriptor, bytes)
        }

        func readFarEnd(count: Int, timeout: Duration) throws -> [UInt8] {
            try PtyLine.read(descriptor, count: count, timeout: timeout)
        }

        func readFarEndInBackground(count: Int, timeout: Duration) -> Background<[UInt8]> {
            let fd = descriptor
            return Background { try PtyLine.read(fd, count: count, timeout: timeout) }
        }

        func writeFarEndInBackground(_ bytes: [UInt8]) -> Background<Void> {
            let fd = descriptor
            return Background { try PtyLine.writeAll(fd, bytes) }
        }

        static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    throw PtyError.system("write far end", errno)
                }
                offset += written
            }
        }

        /// Reads until `count` bytes came or `timeout` passed; returns what came.
        static func read(_ fd: Int32, count: Int, timeout: Duration) throws -> [UInt8] {
            var result: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let deadline = ContinuousClock.now + timeout
            while result.count < count {
                let left = deadline - ContinuousClock.now
                guard left > .zero else { break }
                var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&entry, 1, Int32(max(1, left.components.seconds * 1000 + 1)))
                if ready < 0 {
                    if errno == EINTR { continue }
                    throw PtyError.system("poll far end", errno)
                }
                if ready == 0 { continue }
                let wanted = min(chunk.count, count - result.count)
                let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, wanted) }
                if got < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    throw PtyError.system("read far end", errno)
                }
                if got == 0 { break }
                result += chunk[0..<got]
            }
            return result
        }
    }

    /// Two ptys joined master to master by a relay thread: a null-modem cable
    /// between two `SerialPort`s, both opened by the real libserialport.
    final class NullModemCable: @unchecked Sendable {
        // @unchecked: the relay thread only reads the two lines' descriptors,
        // and pull() stops it before closing them.
        private let a: PtyLine
        private let b: PtyLine
        private let stop = SharedFlag(false)
        private let relay: Background<Void>
        var endA: String { a.serialPath }
        var endB: String { b.serialPath }

        init() throws {
            a = try PtyLine()
            b = try PtyLine()
            let (fdA, fdB) = (a.farEndDescriptor, b.farEndDescriptor)
            let stop = self.stop
            relay = Background {
                var chunk = [UInt8](repeating: 0, count: 4096)
                var entries = [
                    pollfd(fd: fdA, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: fdB, events: Int16(POLLIN), revents: 0),
                ]
                while !stop.value {
                    guard poll(&entries, 2, 50) > 0 else { continue }
                    for (from, to) in [(0, fdB), (1, fdA)] where entries[from].revents & Int16(POLLIN) != 0 {
                        let got = chunk.withUnsafeMutableBytes {
                            Glibc.read(entries[from].fd, $0.baseAddress, $0.count)
                        }
                        if got > 0 { try PtyLine.writeAll(to, Array(chunk[0..<got])) }
                    }
                }
            }
        }

        /// Stops the relay and closes both far ends: both ports hang up.
        func pull() {
            stop.value = true
            try? relay.value()
            a.pullCable()
            b.pullCable()
        }

        deinit { pull() }
    }

    extension PtyLine {
        fileprivate var farEndDescriptor: Int32 { descriptor }
    }

    enum PtyError: Error, CustomStringConvertible {
        case system(String, Int32)
        var description: String {
            switch self {
            case .system(let what, let code): "\(what): \(String(cString: strerror(code)))"
            }
        }
    }

    /// A flag shared between threads.
    final class SharedFlag: @unchecked Sendable {
        // @unchecked: every access goes through `lock`.
        private let lock = NSLock()
        private var stored: Bool
        init(_ value: Bool) { stored = value }
        var value: Bool {
            get { lock.withLock { stored } }
            set { lock.withLock { stored = newValue } }
        }
    }

    /// Work on a dedicated thread (blocking I/O must stay off the cooperative
    /// pool); ``value()`` waits for it and rethrows.
    final class Background<Result: Sendable>: @unchecked Sendable {
        // @unchecked: `outcome` is written once by the thread before `done`
        // is signalled and read only after waiting on `done`.
        private var outcome: Swift.Result<Result, any Error>?
        private let done = DispatchSemaphore(value: 0)

        init(_ work: @escaping @Sendable () throws -> Result) {
            let thread = Thread { [self] in
                outcome = Swift.Result { try work() }
                done.signal()
            }
            thread.start()
        }

        func value() throws -> Result {
            done.wait()
            done.signal()  // let value() be asked again
            return try outcome!.get()
        }
    }

#endif
