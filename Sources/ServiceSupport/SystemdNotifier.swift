import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// systemd's notify protocol without libsystemd: one datagram per message to
/// the socket named by `NOTIFY_SOCKET` (a path, or `@name` in the abstract
/// namespace). Without `NOTIFY_SOCKET` (not started by systemd) every call
/// does nothing.
public struct SystemdNotifier: Sendable {
    public let socketPath: String?
    /// Half of `WATCHDOG_USEC` when systemd set a watchdog for this process.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        // WATCHDOG_PID, when set, names the process the watchdog is for.
        let forUs = environment["WATCHDOG_PID"].map { $0 == String(getpid()) } ?? true
        if forUs, let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 {
            watchdogInterval = .microseconds(usec / 2)
        } else {
            watchdogInterval = nil
        }
    }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    public func status(_ text: String) { send("STATUS=\(text)") }
    public func watchdog() { send("WATCHDOG=1") }
    public func stopping() { send("STOPPING=1") }
    public func reloading() { send("RELOADING=1") }

    /// Sends one notify datagram; failures are ignored, as sd_notify does,
    /// because the service must run the same with or without a listener.
    /// Never waits: a supervisor that stopped reading (its queue of
    /// `net.unix.max_dgram_qlen` datagrams full) loses this message rather
    /// than hanging the service, which once held a laned in its shutdown,
    /// sending STOPPING=1 to a test that no longer read.
    public func send(_ message: String) {
        guard let socketPath else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(socketPath.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let payload = Array(message.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                payload.withUnsafeBytes {
                    sendto(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT), socketAddress, length)
                }
            }
        }
    }
}
