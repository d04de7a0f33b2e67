import NIOCore
import Synchronization

/// A ``LinkTransport`` over a NIO channel that carries `ByteBuffer`s: a TCP
/// connection, a pipe, a pty controller.
///
/// Made by ``TCPLinkConnector``, ``TCPLinkListener``, or ``install(on:peer:)``
/// for any other channel. ``inbound`` is the connection's lifetime: when the
/// task consuming it is cancelled the channel is closed, so that a link nobody
/// reads any more cannot linger.
public final class ChannelLinkTransport: LinkTransport {
    public let peer: String
    public let inbound: AsyncThrowingStream<[UInt8], any Error>
    private let continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation
    let channel: any Channel
    /// Why the line ended, once it has: `.closed` for a local close, or what the
    /// handler saw. Writes after the end report this rather than NIO's error.
    private let ending = Mutex<LinkTransportError?>(nil)

    private init(
        channel: any Channel, peer: String, inbound: AsyncThrowingStream<[UInt8], any Error>,
        continuation: AsyncThrowingStream<[UInt8], any Error>.Continuation
    ) {
        self.channel = channel
        self.peer = peer
        self.inbound = inbound
        self.continuation = continuation
    }

    /// Adds the handler that feeds ``inbound`` to `channel`'s pipeline and returns
    /// the transport. Call it on the channel's event loop before the channel
    /// becomes active (from a channel initializer), or bytes that arrive first
    /// are lost.
    /// - Parameter peer: How errors and logs name the other end.
    public static func install(on channel: any Channel, peer: String) throws -> ChannelLinkTransport {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let transport = ChannelLinkTransport(
            channel: channel, peer: peer, inbound: stream, continuation: continuation)
        try channel.pipeline.syncOperations.addHandler(InboundBridge(transport: transport))
        continuation.onTermination = { termination in
            // Only a cancelled consumer; a finished stream means the channel is closing already.
            if case .cancelled = termination { channel.close(promise: nil) }
        }
        return transport
    }

    public func write(_ bytes: [UInt8]) async throws {
        if let reason = ending.withLock({ $0 }) { throw reason }
        let buffer = channel.allocator.buffer(bytes: bytes)
        do {
            try await channel.writeAndFlush(buffer).get()
        } catch {
            throw ending.withLock { $0 } ?? LinkTransportError.ioFailed(peer: peer, reason: "\(error)")
        }
    }

    public func close() async {
        ending.withLock { reason in
            if reason == nil { reason = .closed(peer: peer) }
        }
        // Finishing first makes a local close end inbound without an error.
        continuation.finish()
        channel.close(promise: nil)
        try? await channel.closeFuture.get()
    }

    /// Whether the underlying channel is still open; tests use it to check that
    /// nothing is left behind after a close.
    public var isActive: Bool { channel.isActive }

    // MARK: Called by the handler on the event loop.

    fileprivate func received(_ bytes: [UInt8]) {
        continuation.yield(bytes)
    }

    fileprivate func ended(_ reason: LinkTransportError) {
        let first = ending.withLock { current in
            guard current == nil else { return false }
            current = reason
            return true
        }
        // After a local close the stream is already finished and this is a no-op.
        if first { continuation.finish(throwing: reason) } else { continuation.finish() }
    }
}

/// Feeds a channel's bytes to its transport's stream and reports how it ended.
private final class InboundBridge: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    // Strong on purpose: the pipeline drops its handlers when the channel
    // closes, which breaks the cycle transport -> channel -> handler.
    private let transport: ChannelLinkTransport

    init(transport: ChannelLinkTransport) {
        self.transport = transport
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes), !bytes.isEmpty {
            transport.received(bytes)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        transport.ended(.peerClosed(peer: transport.peer))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        transport.ended(.ioFailed(peer: transport.peer, reason: Self.reason(error)))
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Half-closure is off by default, but a pipe or pty channel may report
        // end of input this way: the peer is gone either way.
        if let event = event as? ChannelEvent, event == .inputClosed {
            transport.ended(.peerClosed(peer: transport.peer))
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// NIO's errors print as type dumps; an `IOError` carries the errno text people recognise.
    private static func reason(_ error: any Error) -> String {
        if let error = error as? IOError { return error.description }
        return String(describing: error)
    }
}

@available(*, unavailable)
extension InboundBridge: Sendable {}
