import CSerialPort

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open serial port, closed when released.
///
/// Not `Sendable`: use a port from one thread at a time. ``read(upTo:timeout:)``,
/// ``read(exactly:timeout:)``, ``write(_:timeout:)`` and ``drain()`` **block the
/// calling thread**; run them on a dedicated thread, never on the Swift
/// concurrency cooperative pool.
///
/// - Important: libserialport 0.1.1 refuses Linux pseudo-terminals
///   (`/dev/pts/N`, as made by `socat` or `openpty`): it looks every port up in
///   sysfs first, and ptys have no entry there, so `init(path:configuration:)`
///   fails with ``SerialPortError/Code/invalidArgument``; past that, `sp_open`
///   needs modem-control ioctls that ptys refuse. Tests and the simulator run
///   under the LD_PRELOAD shim in `TestSupport/serial-pty`, which answers just
///   those two (docs/serial-testing.md).
public final class SerialPort {
    /// Line settings. The default is the lane link's: 115200 baud, 8N1, no flow control.
    public struct Configuration: Sendable, Hashable {
        public enum Parity: Sendable, Hashable {
            case none, odd, even, mark, space
        }

        public enum StopBits: Int, Sendable, Hashable {
            case one = 1
            case two = 2
        }

        public enum FlowControl: Sendable, Hashable {
            case none
            /// Software flow control; unusable for binary frames that may contain XON/XOFF bytes.
            case xonXoff
            case rtsCts
            case dtrDsr
        }

        public var baudRate: Int
        /// 5 to 8.
        public var dataBits: Int
        public var parity: Parity
        public var stopBits: StopBits
        public var flowControl: FlowControl

        public init(
            baudRate: Int = 115_200, dataBits: Int = 8, parity: Parity = .none, stopBits: StopBits = .one,
            flowControl: FlowControl = .none
        ) {
            self.baudRate = baudRate
            self.dataBits = dataBits
            self.parity = parity
            self.stopBits = stopBits
            self.flowControl = flowControl
        }
    }

    /// Every serial port the operating system reports; may be empty.
    /// - Throws: ``SerialPortError`` with operation ``SerialPortError/Operation/list``.
    public static func list() throws(SerialPortError) -> [SerialPortInfo] {
        var ports: UnsafeMutablePointer<OpaquePointer?>?
        let result = sp_list_ports(&ports)
        guard result == SP_OK, let ports else {
            throw SerialPortError(.list, path: nil, code: result.rawValue)
        }
        defer { sp_free_port_list(ports) }
        var infos: [SerialPortInfo] = []
        var index = 0
        while let port = ports[index] {
            infos.append(SerialPortInfo(port: port))
            index += 1
        }
        return infos
    }

    /// Owned `sp_port *`, open for reading and writing.
    private let port: OpaquePointer
    /// The path this port was opened with.
    public let path: String
    /// The settings last applied.
    public private(set) var configuration: Configuration

    /// Opens the port at `path` for reading and writing and applies `configuration`.
    ///
    /// See the type's note on pseudo-terminals.
    /// - Throws: ``SerialPortError`` naming the path; an unknown path gives
    ///   ``SerialPortError/Code/invalidArgument``, a permission problem
    ///   ``SerialPortError/Code/systemFailure`` with `EACCES`.
    public init(path: String, configuration: Configuration = Configuration()) throws(SerialPortError) {
        var found: OpaquePointer?
        let lookup = sp_get_port_by_name(path, &found)
        guard lookup == SP_OK, let found else {
            throw SerialPortError(.open, path: path, code: lookup.rawValue)
        }
        let opened = sp_open(found, SP_MODE_READ_WRITE)
        guard opened == SP_OK else {
            let error = SerialPortError(.open, path: path, code: opened.rawValue)
            sp_free_port(found)
            throw error
        }
        self.port = found
        self.path = path
        self.configuration = configuration
        // deinit closes the port if this throws.
        try apply(configuration)
    }

    deinit {
        sp_close(port)
        sp_free_port(port)
    }

    /// Applies line settings to the open port.
    /// - Throws: ``SerialPortError`` with operation ``SerialPortError/Operation/configure``;
    ///   ``SerialPortError/Code/invalidArgument`` for a value libserialport rejects.
    public func apply(_ configuration: Configuration) throws(SerialPortError) {
        guard let baudRate = Int32(exactly: configuration.baudRate),
            let dataBits = Int32(exactly: configuration.dataBits)
        else {
            throw SerialPortError(
                operation: .configure, path: path, code: .invalidArgument, osErrorCode: 0,
                osErrorMessage: "setting out of range")
        }
        let parity: sp_parity
        switch configuration.parity {
        case .none: parity = SP_PARITY_NONE
        case .odd: parity = SP_PARITY_ODD
        case .even: parity = SP_PARITY_EVEN
        case .mark: parity = SP_PARITY_MARK
        case .space: parity = SP_PARITY_SPACE
        }
        let flow: sp_flowcontrol
        switch configuration.flowControl {
        case .none: flow = SP_FLOWCONTROL_NONE
        case .xonXoff: flow = SP_FLOWCONTROL_XONXOFF
        case .rtsCts: flow = SP_FLOWCONTROL_RTSCTS
        case .dtrDsr: flow = SP_FLOWCONTROL_DTRDSR
        }
        try check(.configure, sp_set_baudrate(port, baudRate))
        try check(.configure, sp_set_bits(port, dataBits))
        try check(.configure, sp_set_parity(port, parity))
        try check(.configure, sp_set_stopbits(port, Int32(configuration.stopBits.rawValue)))
        try check(.configure, sp_set_flowcontrol(port, flow))
        self.configuration = configuration
    }

    /// Reads whatever arrives first, up to `maxCount` bytes. **Blocks** until at
    /// least one byte arrives or `timeout` passes; `.zero` only takes what is buffered.
    ///
    /// Suits a framed protocol: the frame decoder takes bytes in whatever pieces
    /// the line delivers them.
    /// - Returns: The bytes read; empty on timeout.
    /// - Throws: ``SerialPortError/Code/systemFailure`` with `EIO` once the line
    ///   has hung up (see ``read(exactly:timeout:)``).
    public func read(upTo maxCount: Int, timeout: Duration) throws(SerialPortError) -> [UInt8] {
        try read(maxCount, timeout: timeout) { port, buffer, count, milliseconds in
            milliseconds == 0
                ? sp_nonblocking_read(port, buffer, count)
                : sp_blocking_read_next(port, buffer, count, milliseconds)
        }
    }

    /// Reads `count` bytes, **blocking** until all have arrived or `timeout` passes.
    ///
    /// A line that hangs up (a USB adapter unplugged, the far end of a pty
    /// closed) throws ``SerialPortError/Code/systemFailure`` with `EIO`, as
    /// writes do: at once when it had already hung up, else when `timeout` ends,
    /// because libserialport's blocking read cannot see a hangup while it waits.
    /// - Returns: The bytes read; fewer than `count` on timeout.
    public func read(exactly count: Int, timeout: Duration) throws(SerialPortError) -> [UInt8] {
        try read(count, timeout: timeout) { port, buffer, count, milliseconds in
            milliseconds == 0
                ? sp_nonblocking_read(port, buffer, count)
                : sp_blocking_read(port, buffer, count, milliseconds)
        }
    }

    /// Writes `bytes`, **blocking** until all are queued to the driver or `timeout` passes.
    ///
    /// Queued is not transmitted; call ``drain()`` when it matters.
    /// - Returns: How many bytes were queued; fewer than `bytes.count` on timeout.
    @discardableResult
    public func write(_ bytes: some Collection<UInt8>, timeout: Duration) throws(SerialPortError) -> Int {
        let contiguous = Array(bytes)
        guard !contiguous.isEmpty else { return 0 }
        let milliseconds = Self.milliseconds(timeout)
        let result = contiguous.withUnsafeBytes { buffer in
            milliseconds == 0
                ? sp_nonblocking_write(port, buffer.baseAddress, buffer.count)
                : sp_blocking_write(port, buffer.baseAddress, buffer.count, milliseconds)
        }
        return Int(try check(.write, result))
    }

    /// **Blocks** until every queued byte has left the port.
    public func drain() throws(SerialPortError) {
        try check(.drain, sp_drain(port))
    }

    private func read(
        _ count: Int, timeout: Duration,
        _ call: (OpaquePointer, UnsafeMutableRawPointer?, Int, UInt32) -> sp_return
    ) throws(SerialPortError) -> [UInt8] {
        guard count > 0 else { return [] }
        // Checked first as well as after: on a hung-up line libserialport's
        // blocking reads spin on read() == 0 until the timeout.
        try checkNotHungUp()
        let milliseconds = Self.milliseconds(timeout)
        var buffer = [UInt8](repeating: 0, count: count)
        let result = buffer.withUnsafeMutableBytes { call(port, $0.baseAddress, $0.count, milliseconds) }
        buffer.removeLast(count - Int(try check(.read, result)))
        if buffer.isEmpty { try checkNotHungUp() }
        return buffer
    }

    /// Throws when the kernel has hung the line up: a USB adapter unplugged,
    /// or the far end of a pseudo-terminal closed.
    ///
    /// A hung-up tty reads as end-of-file (0 bytes) forever and only writes
    /// fail (`EIO`). libserialport treats 0 bytes as "nothing yet", so without
    /// this a reader would see a quiet line, timeout after timeout, instead of
    /// a gone one. `poll` reports `POLLHUP` only for a hangup (a UART with
    /// `CLOCAL`, as libserialport sets it, never hangs up on carrier loss).
    private func checkNotHungUp() throws(SerialPortError) {
        var descriptor: Int32 = -1
        guard sp_get_port_handle(port, &descriptor) == SP_OK, descriptor >= 0 else { return }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 0) == 1, entry.revents & Int16(POLLHUP) != 0 else { return }
        throw SerialPortError(
            operation: .read, path: path, code: .systemFailure, osErrorCode: EIO,
            osErrorMessage: "line hung up (device removed, or the far end closed)")
    }

    /// libserialport returns byte counts through `sp_return`; negative values are errors.
    @discardableResult
    private func check(_ operation: SerialPortError.Operation, _ result: sp_return) throws(SerialPortError)
        -> Int32
    {
        guard result.rawValue >= 0 else {
            throw SerialPortError(operation, path: path, code: result.rawValue)
        }
        return result.rawValue
    }

    /// libserialport reads a timeout of 0 as "wait forever"; callers mean the
    /// opposite, so a non-positive timeout maps to the non-blocking calls and a
    /// positive one rounds up to at least 1 ms.
    static func milliseconds(_ timeout: Duration) -> UInt32 {
        guard timeout > .zero else { return 0 }
        let (seconds, attoseconds) = timeout.components
        let total = seconds.multipliedReportingOverflow(by: 1000)
        guard !total.overflow else { return UInt32.max }
        let milliseconds = total.partialValue + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return UInt32(clamping: max(1, milliseconds))
    }
}
