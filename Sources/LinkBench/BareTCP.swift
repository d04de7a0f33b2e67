import NIOCore
import NIOPosix

/// The baseline: a request and a response of the same size over loopback TCP
/// with plain NIO handlers and no framing, no stream bridging, nothing else.
/// The server echoes bytes as they arrive; the client's handler counts the
/// response and completes the round trip's promise on its last byte.
struct BareTCPCase: RoundTripCase {
    let name = "bare TCP (NIO handlers)"

    func prepare(payloadSize: Int) async throws -> any RoundTripper {
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Echo())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = server.localAddress?.port ?? 0
        let client = try await ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RequestResponse())
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let request = client.allocator.buffer(bytes: (0..<payloadSize).map { UInt8(truncatingIfNeeded: $0) })
        return Tripper(server: server, client: client, request: request)
    }

    private struct Tripper: RoundTripper {
        let server: any Channel
        let client: any Channel
        let request: ByteBuffer

        mutating func roundTrip() async throws {
            let promise = client.eventLoop.makePromise(of: Void.self)
            client.writeAndFlush(Request(bytes: request, done: promise), promise: nil)
            try await promise.futureResult.get()
        }

        func close() async {
            try? await client.close()
            try? await server.close()
        }
    }
}

/// One request on its way out, with the promise its response completes.
private struct Request: Sendable {
    var bytes: ByteBuffer
    var done: EventLoopPromise<Void>
}

private final class Echo: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

private final class RequestResponse: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    private var waiting: (remaining: Int, done: EventLoopPromise<Void>)?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting = (request.bytes.readableBytes, request.done)
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard var current = waiting else { return }
        current.remaining -= unwrapInboundIn(data).readableBytes
        if current.remaining <= 0 {
            waiting = nil
            current.done.succeed()
        } else {
            waiting = current
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        waiting?.done.fail(error)
        waiting = nil
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension Echo: Sendable {}

@available(*, unavailable)
extension RequestResponse: Sendable {}
