import NIOCore
import NIOPosix
import Synchronization

/// Opens the lane's side of a TCP link to central.
///
/// Each ``connect()`` makes a new connection; reconnecting after a failure is
/// the session layer's business (with its backoff), not the connector's.
/// Nagle's algorithm is off: frames are small and latency matters more than
/// packet count.
public struct TCPLinkConnector: Sendable {
    public var host: String
    public var port: Int
    /// How long to wait for the connection to be established.
    public var connectTimeout: Duration
    private let group: any EventLoopGroup

    /// - Parameter group: The event loops to run on; NIO's shared singleton by default.
    public init(
        host: String, port: Int, connectTimeout: Duration = .seconds(5),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.host = host
        self.port = port
        self.connectTimeout = connectTimeout
        self.group = group
    }

    /// Connects and returns the open transport.
    /// - Throws: ``LinkTransportError/connectTimedOut(peer:after:)`` or
    ///   ``LinkTransportError/connectFailed(peer:reason:)``.
    public func connect() async throws -> ChannelLinkTransport {
        let peer = TCPAddress.format(host: host, port: port)
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(TimeAmount(connectTimeout))
        do {
            return try await bootstrap.connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try ChannelLinkTransport.install(on: channel, peer: peer)
                }
            }
        } catch ChannelError.connectTimeout {
            throw LinkTransportError.connectTimedOut(peer: peer, after: connectTimeout)
        } catch {
            throw LinkTransportError.connectFailed(peer: peer, reason: TCPAddress.reason(error))
        }
    }
}

/// Central's side of TCP links: accepts any number of lanes on one address.
///
/// The listener owns what it accepts until ``close()``, which closes the
/// listening socket and every accepted connection still open, so a shutdown
/// leaves nothing behind even if ``connections`` was never drained.
public final class TCPLinkListener: Sendable {
    /// The bound port; the one the kernel chose when asked for port 0.
    public let port: Int
    /// The bound address, as `host:port`.
    public let address: String
    /// Accepted connections, each naming its peer's address. Finishes on ``close()``.
    public let connections: AsyncStream<ChannelLinkTransport>

    private let serverChannel: any Channel
    private let registry: Registry

    /// Binds `host:port` and starts accepting. Port 0 lets the kernel choose; read ``port``.
    /// - Throws: ``LinkTransportError/bindFailed(address:reason:)``.
    public init(
        host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws {
        let (connections, continuation) = AsyncStream<ChannelLinkTransport>.makeStream()
        let registry = Registry(continuation: continuation)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let peer = TCPAddress.describe(channel.remoteAddress)
                    registry.accept(try ChannelLinkTransport.install(on: channel, peer: peer))
                }
            }
        let serverChannel: any Channel
        do {
            serverChannel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            continuation.finish()
            throw LinkTransportError.bindFailed(
                address: TCPAddress.format(host: host, port: port), reason: TCPAddress.reason(error))
        }
        self.serverChannel = serverChannel
        self.registry = registry
        self.connections = connections
        self.port = serverChannel.localAddress?.port ?? port
        self.address = TCPAddress.format(host: host, port: self.port)
    }

    /// Stops accepting and closes every accepted connection that is still open.
    public func close() async {
        let open = registry.shutDown()
        serverChannel.close(promise: nil)
        try? await serverChannel.closeFuture.get()
        for transport in open { await transport.close() }
    }

    /// Whether the listening socket is still open.
    public var isActive: Bool { serverChannel.isActive }

    /// The accepted connections that are still open.
    public var openConnectionCount: Int { registry.openCount }

    /// Hands accepted transports out and remembers them until they close.
    private final class Registry: Sendable {
        private struct State {
            var open: [ObjectIdentifier: ChannelLinkTransport] = [:]
            var shutDown = false
        }
        private let state = Mutex(State())
        private let continuation: AsyncStream<ChannelLinkTransport>.Continuation

        init(continuation: AsyncStream<ChannelLinkTransport>.Continuation) {
            self.continuation = continuation
        }

        func accept(_ transport: ChannelLinkTransport) {
            let id = ObjectIdentifier(transport)
            let accepted = state.withLock { state in
                guard !state.shutDown else { return false }
                state.open[id] = transport
                return true
            }
            guard accepted else {
                transport.channel.close(promise: nil)
                return
            }
            transport.channel.closeFuture.whenComplete { [self] _ in
                _ = state.withLock { $0.open.removeValue(forKey: id) }
            }
            continuation.yield(transport)
        }

        func shutDown() -> [ChannelLinkTransport] {
            let open = state.withLock { state in
                state.shutDown = true
                return Array(state.open.values)
            }
            continuation.finish()
            return open
        }

        var openCount: Int { state.withLock { $0.open.count } }
    }
}

/// How TCP endpoints and failures are named in errors and logs.
enum TCPAddress {
    static func format(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func describe(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else {
            return address.map { "\($0)" } ?? "unknown peer"
        }
        return format(host: ip, port: port)
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? IOError { return error.description }
        if let error = error as? NIOConnectionError {
            // Every address tried failed; the first error is the informative one.
            return error.connectionErrors.first.map { reason($0.error) } ?? "\(error)"
        }
        return String(describing: error)
    }
}
