import Foundation
import NIOCore

/// Sits in front of NIO's HTTP decoder and reads each request's head as it
/// arrives: a request line over the limit is answered 414, a header section
/// over the limit 431, a head that has not arrived whole in time 408; each
/// answer is a problem document, and the connection closes after it. A
/// body that has not arrived whole within the body timeout closes the
/// connection.
///
/// NIO's decoder has a header limit of its own but answers nothing (the
/// connection just drops) and cannot tell a long target from long headers.
/// The guard stops scanning once a head ends and starts again when the
/// request has been read (``RequestEndSignal`` says so), so bodies pass
/// untouched. Pipelined bytes that arrive in the same read as a request's
/// end pass unscanned; the decoder's own limit, set a little above these,
/// still bounds them.
final class HTTPHeadGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase: Equatable {
        /// Between requests: the idle timeout runs, not ours.
        case idle
        case requestLine(bytes: Int)
        /// `tail` is how many line ends and carriage returns just passed,
        /// to find the blank line that ends the head across reads.
        case headers(bytes: Int, tail: [UInt8])
        /// The head passed; the body timeout runs until the request's end.
        case body
        /// Switched to WebSocket (a 101 went out): no longer HTTP.
        case upgraded
        /// Answered and closing: the rest is drained and dropped.
        case refused(drained: Int)
    }

    private let limits: HTTPLimits
    private(set) var phase: Phase = .requestLine(bytes: 0)
    private var timer: Scheduled<Void>?
    /// The last byte scanned, for a CR LF split across reads.
    private var lastByte: UInt8 = 0

    init(limits: HTTPLimits) {
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // From the accept: a connection that never sends still ends.
        startTimer(context, limits.headerTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    /// A request has been read to its end: whatever the scan thought (it
    /// may have started inside a pipelined head), the next bytes start a
    /// new head, and no head is pending until they come.
    func requestEnded(context: ChannelHandlerContext) {
        if case .refused = phase { return }
        phase = .idle
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        switch phase {
        case .body, .upgraded:
            context.fireChannelRead(data)
            return
        case .refused(let drained):
            // Read and dropped so the answer is not lost to a reset; bounded.
            let total = drained + buffer.readableBytes
            phase = .refused(drained: total)
            if total > 1 << 20 { context.close(promise: nil) }
            return
        case .idle:
            phase = .requestLine(bytes: 0)
            startTimer(context, limits.headerTimeout)
        case .requestLine, .headers:
            break
        }
        if let refusal = scan(buffer) {
            refuse(context, refusal)
            return
        }
        if phase == .body { startTimer(context, limits.bodyTimeout) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // A 101 ends HTTP on this connection: WebSocket frames are not heads
        // or bodies, and the live console may stay open for a shift.
        if phase == .body, unwrapOutboundIn(data).readableBytesView.starts(with: Self.switching) {
            phase = .upgraded
            timer?.cancel()
            timer = nil
        }
        context.write(data, promise: promise)
    }

    private static let switching = Array("HTTP/1.1 101".utf8)

    enum Refusal {
        case requestLineTooLong, headersTooLarge, timeout
    }

    /// Advances the phase over `buffer`; a refusal when a limit is passed.
    func scan(_ buffer: ByteBuffer) -> Refusal? {
        defer { lastByte = buffer.readableBytesView.last ?? lastByte }
        return buffer.withUnsafeReadableBytes { bytes in
            var index = 0
            while index < bytes.count {
                switch phase {
                case .requestLine(let count):
                    // The limit counts the line without its CR LF.
                    guard let lf = bytes[index...].firstIndex(of: 0x0A) else {
                        let total = count + bytes.count - index
                        phase = .requestLine(bytes: total)
                        return total > limits.requestLine + 1 ? .requestLineTooLong : nil
                    }
                    let before = lf > index ? bytes[lf - 1] : lastByte
                    let total = count + lf - index - (before == 0x0D ? 1 : 0)
                    if total > limits.requestLine { return .requestLineTooLong }
                    // A blank line before a request line is allowed (RFC 9112 2.2).
                    phase = total == 0 ? .requestLine(bytes: 0) : .headers(bytes: 0, tail: [0x0A])
                    index = lf + 1
                case .headers(var count, var tail):
                    while index < bytes.count {
                        let byte = bytes[index]
                        index += 1
                        count += 1
                        if count > limits.headers { return .headersTooLarge }
                        if byte == 0x0A {
                            if tail.contains(0x0A) {
                                phase = .body
                                return nil
                            }
                            tail = [0x0A]
                        } else if byte == 0x0D {
                            tail.append(0x0D)
                        } else {
                            tail = []
                        }
                    }
                    phase = .headers(bytes: count, tail: tail)
                case .body, .upgraded, .idle, .refused:
                    return nil
                }
            }
            return nil
        }
    }

    private func startTimer(_ context: ChannelHandlerContext, _ timeout: Duration) {
        timer?.cancel()
        let nanoseconds =
            timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            switch handler.phase {
            case .requestLine, .headers: handler.refuse(context, .timeout)
            // The app may be answering already; nothing can be said cleanly.
            case .body: context.close(promise: nil)
            case .idle, .upgraded, .refused: break
            }
        }
    }

    private func refuse(_ context: ChannelHandlerContext, _ refusal: Refusal) {
        timer?.cancel()
        timer = nil
        phase = .refused(drained: 0)
        let text: String
        switch refusal {
        case .requestLineTooLong:
            text = Self.refusal(
                status: "414 URI Too Long", type: "uri-too-long", title: "The request target is too long",
                detail: "the request line is longer than \(limits.requestLine) bytes")
        case .headersTooLarge:
            text = Self.refusal(
                status: "431 Request Header Fields Too Large", type: "headers-too-large",
                title: "The request headers are too large",
                detail: "the request's header fields are larger than \(limits.headers) bytes")
        case .timeout:
            text = Self.refusal(
                status: "408 Request Timeout", type: "request-timeout", title: "The request came too slowly",
                detail:
                    "the request's line and headers did not arrive within \(limits.headerTimeout.components.seconds) s"
            )
        }
        var out = context.channel.allocator.buffer(capacity: text.utf8.count)
        out.writeString(text)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        // Half-close, then close for good a moment later: closing with the
        // client's bytes unread would reset the connection and could lose
        // the answer before the client reads it.
        context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in
            let context = loopBound.value
            context.close(mode: .output, promise: nil)
            context.eventLoop.scheduleTask(in: .seconds(2)) {
                loopBound.value.close(promise: nil)
            }
        }
    }

    /// A complete HTTP/1.1 answer with a problem body that closes the connection.
    static func refusal(status: String, type: String, title: String, detail: String, retryAfter: Int? = nil)
        -> String
    {
        let code = Int(status.prefix(3)) ?? 400
        let body = """
            {"detail":"\(detail)","errors":[],"status":\(code),"title":"\(title)","type":"urn:lanekiosk:problem:\(type)"}
            """
        var head = "HTTP/1.1 \(status)\r\nContent-Type: application/problem+json\r\n"
        if let retryAfter { head += "Retry-After: \(retryAfter)\r\n" }
        head += "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        return head + body
    }
}
