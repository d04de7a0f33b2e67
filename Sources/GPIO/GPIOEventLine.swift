import CGpiod

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A line requested for both-edge events; released when this object is.
///
/// Not `Sendable` (libgpiod v1 is not thread-safe). The wait and read calls
/// **block the calling thread**: run them on a dedicated thread, never on the
/// Swift concurrency cooperative pool. ``fileDescriptor`` allows integrating
/// with `poll(2)` or an event loop instead.
public final class GPIOEventLine {
    /// Kept so that the chip, which owns `line`'s memory, outlives it.
    public let chip: GPIOChip
    private let line: OpaquePointer
    /// The line's offset on its chip.
    public let offset: UInt32

    init(chip: GPIOChip, line: OpaquePointer, offset: UInt32) {
        self.chip = chip
        self.line = line
        self.offset = offset
    }

    deinit {
        gpiod_line_release(line)
    }

    /// The descriptor that becomes readable when an edge is queued, for `poll(2)`.
    /// Valid while this object lives; do not close it.
    public var fileDescriptor: Int32 {
        gpiod_line_event_get_fd(line)
    }

    /// The line's level now, after any active-low inversion (`true`: active).
    ///
    /// Edges only say what changed; this says where a line stands when
    /// watching starts, such as a button already held when the lane boots.
    /// - Throws: ``GPIOError/valueFailed(chip:offset:errno:)``.
    public func value() throws(GPIOError) -> Bool {
        let value = gpiod_line_get_value(line)
        if value < 0 { throw .valueFailed(chip: chip.name, offset: offset, errno: errno) }
        return value == 1
    }

    /// Makes ``readEdges(limit:)`` return at once with `EAGAIN` when nothing is
    /// queued, instead of blocking: a poll(2) that reports `POLLERR` or
    /// `POLLHUP` on a live line must never leave the reader stuck in `read`.
    /// - Throws: ``GPIOError/readFailed(chip:offset:errno:)``.
    public func makeNonBlocking() throws(GPIOError) {
        let descriptor = fileDescriptor
        let flags = fcntl(descriptor, F_GETFL)
        if flags < 0 || fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) < 0 {
            throw .readFailed(chip: chip.name, offset: offset, errno: errno)
        }
    }

    /// **Blocks** until an edge is queued or `timeout` passes.
    ///
    /// - Returns: `true` if an edge is waiting to be read, `false` on timeout.
    /// - Throws: ``GPIOError/waitFailed(chip:offset:errno:)``.
    public func waitForEdge(timeout: Duration) throws(GPIOError) -> Bool {
        let (seconds, attoseconds) = max(timeout, .zero).components
        var limit = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        switch gpiod_line_event_wait(line, &limit) {
        case 0: return false
        case 1: return true
        default: throw .waitFailed(chip: chip.name, offset: offset, errno: errno)
        }
    }

    /// Reads the next queued edge, **blocking** until there is one.
    ///
    /// Call after ``waitForEdge(timeout:)`` returned `true` to avoid blocking indefinitely.
    /// - Throws: ``GPIOError/readFailed(chip:offset:errno:)``,
    ///   ``GPIOError/unknownEventType(chip:offset:type:)``.
    public func readEdge() throws(GPIOError) -> ButtonEvent {
        var event = gpiod_line_event()
        if gpiod_line_event_read(line, &event) != 0 {
            throw .readFailed(chip: chip.name, offset: offset, errno: errno)
        }
        return try buttonEvent(from: event)
    }

    /// Reads every queued edge, up to `limit`, **blocking** until there is at least one.
    ///
    /// A bouncing contact queues bursts; draining them in one call keeps the
    /// kernel's queue (16 events per line in the v1 ABI) from overflowing.
    public func readEdges(limit: Int = 16) throws(GPIOError) -> [ButtonEvent] {
        let capacity = max(1, min(limit, 64))
        var buffer = [gpiod_line_event](repeating: gpiod_line_event(), count: capacity)
        let count = buffer.withUnsafeMutableBufferPointer {
            gpiod_line_event_read_multiple(line, $0.baseAddress, UInt32($0.count))
        }
        if count < 0 {
            throw .readFailed(chip: chip.name, offset: offset, errno: errno)
        }
        var events: [ButtonEvent] = []
        events.reserveCapacity(Int(count))
        for event in buffer.prefix(Int(count)) {
            events.append(try buttonEvent(from: event))
        }
        return events
    }

    private func buttonEvent(from event: gpiod_line_event) throws(GPIOError) -> ButtonEvent {
        let edge: ButtonEvent.Edge
        switch Int(event.event_type) {
        case Int(GPIOD_LINE_EVENT_RISING_EDGE): edge = .rising
        case Int(GPIOD_LINE_EVENT_FALLING_EDGE): edge = .falling
        default: throw .unknownEventType(chip: chip.name, offset: offset, type: event.event_type)
        }
        let nanoseconds = UInt64(event.ts.tv_sec) &* 1_000_000_000 &+ UInt64(event.ts.tv_nsec)
        return ButtonEvent(line: offset, edge: edge, timestampNanoseconds: nanoseconds)
    }
}
