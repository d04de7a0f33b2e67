import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Bounds on what a stranger's connection may cost clearanced before it
/// has sent a whole request (docs/api.md, "Connection limits").
public struct HTTPLimits: Sendable, Hashable {
    /// Bytes of a request line (method, target, version); longer gets 414.
    public var requestLine: Int
    /// Bytes of the header section after the request line; more gets 431.
    public var headers: Int
    /// A request's head (request line and headers) must arrive within
    /// this long of its first byte, or of the connection's opening; else
    /// 408 and the connection closes. Slow senders cannot hold sockets.
    public var headerTimeout: Duration
    /// A request's body must arrive whole within this long of its head's
    /// end, else the connection closes: a slow body cannot hold a socket.
    public var bodyTimeout: Duration
    /// A keep-alive connection with no request for this long is closed.
    public var idleTimeout: Duration
    /// Open connections from one IP address; more are answered 503 and closed.
    public var connectionsPerPeer: Int
    /// Open connections in all; more are answered 503 and closed.
    public var connections: Int

    public init(
        requestLine: Int = 8 * 1024, headers: Int = 32 * 1024, headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(120), idleTimeout: Duration = .seconds(60),
        connectionsPerPeer: Int = 64,
        connections: Int = 1024
    ) {
        self.requestLine = requestLine
        self.headers = headers
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.connectionsPerPeer = connectionsPerPeer
        self.connections = connections
    }
}

/// Open HTTP connections, in all and per peer address.
public final class ConnectionCounter: Sendable {
    private struct Counts {
        var total = 0
        var perPeer: [String: Int] = [:]
    }

    private let counts = Mutex(Counts())
    public let limits: HTTPLimits

    public init(limits: HTTPLimits) {
        self.limits = limits
    }

    /// Connections open now.
    public var open: Int { counts.withLock { $0.total } }

    /// Counts a new connection from `peer`, or says it is one too many.
    func open(_ peer: String) -> Bool {
        counts.withLock { c in
            let mine = c.perPeer[peer, default: 0]
            guard c.total < limits.connections, mine < limits.connectionsPerPeer else { return false }
            c.total += 1
            c.perPeer[peer] = mine + 1
            return true
        }
    }

    func close(_ peer: String) {
        counts.withLock { c in
            c.total -= 1
            let mine = c.perPeer[peer, default: 1] - 1
            c.perPeer[peer] = mine > 0 ? mine : nil
        }
    }
}

/// Hummingbird's HTTP/1 channel with WebSocket upgrade, behind the
/// connection caps and ``HTTPHeadGuard``.
struct GuardedChildChannel: ServerChildChannel {
    enum Value: ServerChildChannelValue {
        case served(HTTP1WebSocketUpgradeChannel.Value)
        /// Over a cap: answered 503 and closed by ``RefuseConnection``.
        case refused(any Channel)

        var channel: any Channel {
            switch self {
            case .served(let value): value.channel
            case .refused(let channel): channel
            }
        }
    }

    let inner: HTTP1WebSocketUpgradeChannel
    let counter: ConnectionCounter

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let peer = channel.remoteAddress?.ipAddress ?? "unknown"
        guard counter.open(peer) else {
            // Cheap: no HTTP handlers, one small write, then closed. (A failed
            // setup would leave the socket to NIO's accept path, which closes
            // it without a word and reports an error on the server channel.)
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(RefuseConnection())
                return .refused(channel)
            }
        }
        channel.closeFuture.whenComplete { _ in counter.close(peer) }
        do {
            try channel.pipeline.syncOperations.addHandler(
                HTTPHeadGuard(limits: counter.limits), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return inner.setup(channel: channel, logger: logger).map { .served($0) }
    }

    func handle(value: Value, logger: Logger) async {
        guard case .served(let served) = value else { return }
        // A connection the guard or a timeout closed before its first
        // request ends the upgrade negotiation with an error, which the
        // WebSocket channel logs at error level: one line per idle socket
        // an attacker opens. Those ends are expected, so only critical
        // lines pass from here; requests log through the app's own logger.
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .critical)
        await inner.handle(value: served, logger: quiet)
    }
}

/// Answers 503 to a connection over a cap as soon as it is active, and closes it.
final class RefuseConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    static let answer = HTTPHeadGuard.refusal(
        status: "503 Service Unavailable", type: "service-unavailable", title: "Busy; try again shortly",
        detail: "too many open connections; try again in a few seconds", retryAfter: 5)

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func refuse(_ context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: Self.answer.utf8.count)
        buffer.writeString(Self.answer)
        let channel = context.channel
        context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Tells the ``HTTPHeadGuard`` in front of the decoder that a request has
/// been read whole, so the next bytes start a new head.
final class RequestEndSignal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            if let head = try? context.pipeline.syncOperations.handler(type: HTTPHeadGuard.self) {
                head.requestEnded(context: context)
            }
        }
        context.fireChannelRead(data)
    }
}

extension CentralApp {
    /// The application with the HTTP limits in force; run it as a Service.
    /// - Parameter counter: the connection caps and the limits they carry.
    public func buildApplication(
        configuration: ApplicationConfiguration, counter: ConnectionCounter,
        onServerRunning: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
    ) -> some ApplicationProtocol {
        let console = self.console
        let limits = counter.limits
        let seconds = limits.idleTimeout.components.seconds
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestEndSignal()], idleTimeout: .seconds(max(1, seconds)),
            httpDecoderConfiguration: .init(
                // The guard enforces the real limits with the right status;
                // NIO's decoder only backs it up, a little above them.
                maxHeaderFieldSize: limits.requestLine + limits.headers + 1024,
                maxHeaderListSize: limits.requestLine + limits.headers + 1024))
        let shouldUpgrade:
            @Sendable (HTTPRequest, any Channel, Logger) async throws -> ShouldUpgradeResult<
                WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>
            > = { head, _, _ in
                guard let console else { return .dontUpgrade }
                return await self.consoleLiveUpgrade(console, head)
            }
        let server = HTTPServerBuilder { responder in
            GuardedChildChannel(
                inner: HTTP1WebSocketUpgradeChannel(
                    responder: responder, configuration: .init(http1: http1), shouldUpgrade: shouldUpgrade),
                counter: counter)
        }
        return Application(
            router: buildRouter(), server: server, configuration: configuration,
            onServerRunning: { channel in
                let address = channel.localAddress
                await onServerRunning(address?.ipAddress ?? "?", address?.port ?? 0)
            },
            logger: logger)
    }
}
