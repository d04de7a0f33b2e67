/// A bidirectional byte stream between a lane and central: a TCP connection or
/// a serial line. Transports move bytes only; framing, signing and sessions sit
/// on top and never learn which transport carries them.
///
/// Bytes arrive on ``inbound`` in whatever pieces the line delivers them; a
/// frame may be split across elements or several frames may share one.
public protocol LinkTransport: Sendable {
    /// Who is at the other end, for logs and errors: `"127.0.0.1:4711"`, `"/dev/ttyS0"`.
    var peer: String { get }

    /// The bytes received, in order. Single consumer.
    ///
    /// Finishes without an error after a local ``close()``; ends with a
    /// ``LinkTransportError`` when the line goes away on its own: the peer closed
    /// (``LinkTransportError/peerClosed(peer:)``), the connection was reset or the
    /// device vanished. Either way the transport is closed afterwards.
    var inbound: AsyncThrowingStream<[UInt8], any Error> { get }

    /// Sends `bytes`, returning once the transport has accepted them (handed to
    /// the kernel, not necessarily received). Writes from one task arrive in order.
    /// - Throws: ``LinkTransportError``: ``LinkTransportError/closed(peer:)`` after
    ///   ``close()``, otherwise the failure that ended the line.
    func write(_ bytes: [UInt8]) async throws

    /// Closes the line and releases everything the transport holds (channel,
    /// thread, file descriptor). Returns once that has happened. Idempotent.
    func close() async
}

/// Why a transport could not be opened, or why it ended.
public enum LinkTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No connection within the connect timeout.
    case connectTimedOut(peer: String, after: Duration)
    /// The connection was refused or the name did not resolve.
    case connectFailed(peer: String, reason: String)
    /// A listener could not bind its address.
    case bindFailed(address: String, reason: String)
    /// A serial device could not be opened or configured.
    case openFailed(path: String, reason: String)
    /// The peer closed the connection (end of file).
    case peerClosed(peer: String)
    /// The line failed under us: a reset connection, a read or write error.
    case ioFailed(peer: String, reason: String)
    /// The serial device went away or hung up: a pulled USB adapter, a closed pty.
    case deviceVanished(path: String, reason: String)
    /// The transport was closed locally; nothing more can be written.
    case closed(peer: String)

    public var description: String {
        switch self {
        case .connectTimedOut(let peer, let after):
            return "cannot connect to \(peer): no answer within \(after)"
        case .connectFailed(let peer, let reason):
            return "cannot connect to \(peer): \(reason)"
        case .bindFailed(let address, let reason):
            return "cannot listen on \(address): \(reason)"
        case .openFailed(let path, let reason):
            return "cannot open serial line \(path): \(reason)"
        case .peerClosed(let peer):
            return "link to \(peer) closed by the peer"
        case .ioFailed(let peer, let reason):
            return "link to \(peer) failed: \(reason)"
        case .deviceVanished(let path, let reason):
            return "serial line \(path) went away: \(reason)"
        case .closed(let peer):
            return "link to \(peer) is closed"
        }
    }
}
