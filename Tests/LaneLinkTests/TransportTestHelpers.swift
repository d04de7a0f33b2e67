import LaneLink
import LinkCore
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a transport's inbound stream in exact amounts. One per transport:
/// an AsyncThrowingStream has a single consumer.
struct InboundReader {
    private var iterator: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
    private var buffer: [UInt8] = []

    init(_ transport: any LinkTransport) {
        iterator = transport.inbound.makeAsyncIterator()
    }

    /// Exactly `count` bytes; throws if the stream ends first.
    mutating func read(_ count: Int) async throws -> [UInt8] {
        while buffer.count < count {
            guard let chunk = try await iterator.next() else {
                throw EndedEarly(wanted: count, got: buffer.count)
            }
            buffer += chunk
        }
        defer { buffer.removeFirst(count) }
        return Array(buffer.prefix(count))
    }

    /// Everything until the stream ends: returns the bytes, and the error it ended with, if any.
    mutating func readToEnd() async -> (bytes: [UInt8], error: (any Error)?) {
        do {
            while let chunk = try await iterator.next() { buffer += chunk }
            defer { buffer = [] }
            return (buffer, nil)
        } catch {
            defer { buffer = [] }
            return (buffer, error)
        }
    }

    struct EndedEarly: Error { var wanted: Int, got: Int }
}

/// Deterministic test payloads.
func payload(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}

/// Writes `bytes` in pieces of `piece`, as a session writes frames.
func write(_ bytes: [UInt8], to transport: any LinkTransport, piece: Int = 4096) async throws {
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + piece)
        try await transport.write(Array(bytes[start..<end]))
        start = end
    }
}

/// Opens a tty device with plain open(2) and wraps it in NIO: the "other end"
/// for tests that must not depend on libserialport accepting ptys.
func openDeviceWithoutLibserialport(_ path: String) async throws -> ChannelLinkTransport {
    let fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
    guard fd >= 0 else {
        throw LinkTransportError.openFailed(path: path, reason: String(cString: strerror(errno)))
    }
    do {
        return try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .takingOwnershipOfDescriptor(inputOutput: fd) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try ChannelLinkTransport.install(on: channel, peer: path)
                }
            }
    } catch {
        close(fd)
        throw error
    }
}
