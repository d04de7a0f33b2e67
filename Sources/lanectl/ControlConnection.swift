import AnyJSON
import Foundation
import LaneControl

#if canImport(Glibc)
    import Glibc
#endif

/// One connection to laned's control socket (docs/control-socket.md): one
/// JSON object per line each way, every response carrying its request's id.
///
/// The calls block. lanectl does one thing at a time and has nothing else to
/// run meanwhile, so a blocking read bounded by `poll` is simpler than an
/// event loop and cannot starve anything.
final class ControlConnection {
    /// The socket's path, for messages.
    let path: String
    /// The lane id when known (from --lane), for hints that name the unit.
    let lane: String?
    private let timeout: Double
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var nextID: Int64 = 1

    /// Answers larger than this are not laned's (a screenshot is well under 16 MiB).
    static let maximumLine = 64 << 20

    init(path: String, lane: String?, timeout: Double) throws(Failure) {
        self.path = path
        self.lane = lane
        self.timeout = timeout
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else {
            throw Failure(.unavailable, "the socket path \(path) is longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw Failure(.unavailable, "cannot make a socket: \(String(cString: strerror(errno)))")
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result != 0 {
            let code = errno
            close(fd)
            throw Self.connectFailure(code, path: path, lane: lane)
        }
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    private static func connectFailure(_ code: Int32, path: String, lane: String?) -> Failure {
        let unit = lane.map { "laned@\($0)" } ?? "laned"
        switch code {
        case ENOENT:
            return Failure(.unavailable, "is laned running? no socket at \(path) (systemctl status \(unit))")
        case EACCES, EPERM:
            return Failure(
                .noPermission,
                "permission denied on \(path): lanectl must run as a member of the socket's group"
                    + " (usermod -aG lanekiosk $USER, then log in again) or as root")
        case ECONNREFUSED:
            return Failure(
                .unavailable,
                "nothing is listening on \(path): laned has stopped and left its socket file"
                    + " (systemctl status \(unit))")
        case ENOTDIR:
            return Failure(
                .unavailable, "is laned running? no socket at \(path) (a part of the path is a file)")
        default:
            return Failure(.unavailable, "cannot connect to \(path): \(String(cString: strerror(code)))")
        }
    }

    /// Sends one request and returns its result object, or throws the
    /// lane's refusal as a `Failure` carrying laned's message. The result
    /// stays a `JSONValue`: `--json` hands on every member, newer ones too.
    func call(_ request: ControlRequest) throws(Failure) -> JSONValue {
        let id = nextID
        nextID += 1
        let command = request.command.rawValue
        try write(request.line(id: .integer(id)), command: command)
        let line = try readLine(command: command)
        return try Self.interpret(line, id: id, command: command, lane: lane)
    }

    /// Checks one response line against the protocol and returns its result.
    static func interpret(_ line: [UInt8], id: Int64, command: String, lane: String?) throws(Failure)
        -> JSONValue
    {
        let shown = String(decoding: line.prefix(120), as: UTF8.self)
        let reading = ControlResponse.read(line)
        if case .notAnObject = reading {
            throw Failure(.dataError, "laned's answer to `\(command)` is not a JSON object: \(shown)")
        }
        guard reading.id?.integer == id else {
            throw Failure(
                .dataError,
                "laned answered `\(command)` (id \(id)) with id \(reading.id?.text ?? "missing"): \(shown)")
        }
        switch reading {
        case .result(_, let result):
            return result
        case .refused(_, let failure):
            throw refusal(code: failure.code, message: failure.message, command: command, lane: lane)
        case .noOK, .notAnObject:
            throw Failure(.dataError, "laned's answer to `\(command)` has no boolean `ok`: \(shown)")
        }
    }

    /// The documented error codes, each to the exit code that tells a
    /// script what to do about it.
    static func refusal(code: String, message: String, command: String, lane: String?) -> Failure {
        switch ControlErrorCode(rawValue: code) {
        case .badRequest, .unknownCommand:
            return Failure(
                .protocolMismatch,
                "laned did not understand `\(command)`: \(message) [\(code)];"
                    + " lanectl and laned may be different versions")
        case .internal:
            let unit = lane.map { "laned@\($0)" } ?? "laned"
            return Failure(
                .software, "laned failed on `\(command)`: \(message) [\(code)]; see journalctl -u \(unit)")
        default:
            return Failure(.refused, "laned refused `\(command)`: \(message) [\(code)]")
        }
    }

    private func write(_ text: String, command: String) throws(Failure) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            // MSG_NOSIGNAL: a lane that hung up must be an error here, not SIGPIPE.
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                throw Failure(
                    .unavailable,
                    "laned closed the connection on \(path) before `\(command)` was sent:"
                        + " \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(sent)
        }
    }

    private func readLine(command: String) throws(Failure) -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            guard buffer.count <= Self.maximumLine else {
                throw Failure(
                    .dataError, "laned's answer to `\(command)` is longer than \(Self.maximumLine) bytes")
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                throw Failure(
                    .timedOut, "laned did not answer `\(command)` within \(Self.seconds(timeout)) on \(path)")
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining * 1000, 60_000).rounded(.up)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw Failure(.unavailable, "cannot wait for laned: \(String(cString: strerror(errno)))")
            }
            if ready == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw Failure(
                    .unavailable, "reading from \(path) failed: \(String(cString: strerror(errno)))")
            }
            if count == 0 {
                throw Failure(
                    .unavailable, "laned closed the connection on \(path) without answering `\(command)`")
            }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
