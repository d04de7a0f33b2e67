import CSerialPort

/// A failure reported by libserialport, with the operating system's explanation.
public struct SerialPortError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being attempted, worded to follow "cannot".
    public enum Operation: String, Sendable {
        case list = "list"
        case open = "open"
        case configure = "configure"
        case read = "read from"
        case write = "write to"
        case drain = "drain"
    }

    /// libserialport's `sp_return` classes.
    public enum Code: Equatable, Sendable {
        /// `SP_ERR_ARG`. On Linux also what an unknown port name gives, and a pseudo-terminal.
        case invalidArgument
        /// `SP_ERR_FAIL`: the operating system refused; ``osErrorCode`` says why.
        case systemFailure
        /// `SP_ERR_MEM`.
        case outOfMemory
        /// `SP_ERR_SUPP`: the port or platform cannot do this (an unsupported setting).
        case notSupported
        /// A code this wrapper does not know.
        case unknown(Int32)

        init(_ code: Int32) {
            switch code {
            case SP_ERR_ARG.rawValue: self = .invalidArgument
            case SP_ERR_FAIL.rawValue: self = .systemFailure
            case SP_ERR_MEM.rawValue: self = .outOfMemory
            case SP_ERR_SUPP.rawValue: self = .notSupported
            default: self = .unknown(code)
            }
        }
    }

    public var operation: Operation
    /// The port's path; `nil` for enumeration.
    public var path: String?
    public var code: Code
    /// `sp_last_error_code()` when the failure happened: the `errno` on Linux.
    /// Meaningful for ``Code/systemFailure``; otherwise whatever the last OS error was.
    public var osErrorCode: Int32
    /// `sp_last_error_message()` when the failure happened.
    public var osErrorMessage: String

    public init(operation: Operation, path: String?, code: Code, osErrorCode: Int32, osErrorMessage: String) {
        self.operation = operation
        self.path = path
        self.code = code
        self.osErrorCode = osErrorCode
        self.osErrorMessage = osErrorMessage
    }

    /// Captures libserialport's last OS error right after a call returned `code`.
    init(_ operation: Operation, path: String?, code: Int32) {
        let message: String
        if let text = sp_last_error_message() {
            message = String(cString: text)
            sp_free_error_message(text)
        } else {
            message = "unknown error"
        }
        self.init(
            operation: operation, path: path, code: Code(code), osErrorCode: sp_last_error_code(),
            osErrorMessage: message)
    }

    public var description: String {
        let subject =
            path.map { "\(operation.rawValue) serial port \($0)" } ?? "\(operation.rawValue) serial ports"
        switch code {
        case .systemFailure:
            return "cannot \(subject): \(osErrorMessage)"
        case .invalidArgument where operation == .open:
            // The OS message is only a hint here: libserialport reports an unknown
            // port as an argument error and leaves errno from its sysfs probe.
            return
                "cannot \(subject): no such port, or not a device libserialport accepts (\(osErrorMessage))"
        case .invalidArgument:
            return "cannot \(subject): invalid argument"
        case .outOfMemory:
            return "cannot \(subject): out of memory"
        case .notSupported:
            return "cannot \(subject): not supported by the port or platform"
        case .unknown(let value):
            return "cannot \(subject): libserialport error \(value)"
        }
    }
}
