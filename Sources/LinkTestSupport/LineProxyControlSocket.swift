import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// `lineproxy`'s control socket: newline-delimited JSON over a Unix stream
/// socket (docs/lineproxy.md), served for one ``NoisyLineProxy``.
public final class LineProxyControlSocket: Sendable {
    /// The socket file.
    public let path: String
    /// Control connections open at once beyond this are answered with an error and closed.
    public static let maximumConnections = 16

    private let proxy: NoisyLineProxy
    private let channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    private let open = Mutex(0)

    /// Binds the socket, replacing a stale file from an earlier run, mode 0660.
    public init(path: String, proxy: NoisyLineProxy) async throws {
        self.path = path
        self.proxy = proxy
        if FileManager.default.fileExists(atPath: path) {
            try FileManager.default.removeItem(atPath: path)
        }
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            // `socat -` and scripts shut their side down after the request:
            // the reply must still go out.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(unixDomainSocketPath: path) { child in
                child.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        chmod(path, 0o660)
    }

    /// Serves connections until cancelled, then removes the socket file.
    public func run() async throws {
        try await withTaskCancellationHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onCancel: {
            channel.channel.close(promise: nil)
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let admitted = open.withLock { count in
            guard count < Self.maximumConnections else { return false }
            count += 1
            return true
        }
        defer { if admitted { open.withLock { $0 -= 1 } } }
        try? await connection.executeThenClose { inbound, outbound in
            func reply(_ bytes: [UInt8]) async throws {
                try await outbound.write(ByteBuffer(bytes: bytes + [UInt8(ascii: "\n")]))
            }
            guard admitted else {
                try await reply(
                    LineProxyResponse.failure(
                        id: nil,
                        LineProxyFailure(
                            code: "busy",
                            message:
                                "\(Self.maximumConnections) control connections are open already; closing")
                    ).bytes)
                return
            }
            var pending = ByteBuffer()
            for try await var chunk in inbound {
                pending.writeBuffer(&chunk)
                while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending.readBytes(length: newline - pending.readerIndex) ?? []
                    pending.moveReaderIndex(forwardBy: 1)
                    try await reply(await proxy.respond(to: line))
                }
                if pending.readableBytes > LineProxyCommand.maximumLine {
                    try await reply(
                        LineProxyResponse.failure(
                            id: nil,
                            LineProxyFailure.badRequest(
                                "a request line is longer than \(LineProxyCommand.maximumLine / 1024) KiB; closing"
                            )
                        ).bytes)
                    return
                }
                pending.discardReadBytes()
            }
        }
    }
}
