/// One edge on an input line, as the kernel reported it, before debounce.
///
/// What ``GPIOEventLine`` reads; ``LibgpiodButtonBackend`` feeds these to a
/// ``ButtonDebouncer`` per line and reports ``ButtonInputEvent``s, which is
/// what the lane consumes. A bouncing contact produces several of these.
public struct ButtonEvent: Sendable, Hashable, CustomStringConvertible {
    /// Which way the line moved, after any active-low inversion requested for the line.
    public enum Edge: Sendable, Hashable {
        case rising
        case falling
    }

    /// The line offset on its chip.
    public var line: UInt32
    public var edge: Edge
    /// When the kernel saw the edge, in nanoseconds.
    ///
    /// From the kernel's event timestamp, not from when userspace read it, so
    /// that a slow reader does not distort debounce intervals. With the GPIO
    /// character device v1 ABI that libgpiod 1.6 uses, Linux 5.7 and later stamp
    /// events with `CLOCK_MONOTONIC`; older kernels used `CLOCK_REALTIME`. Compare
    /// timestamps with each other, not with wall-clock time.
    public var timestampNanoseconds: UInt64

    public init(line: UInt32, edge: Edge, timestampNanoseconds: UInt64) {
        self.line = line
        self.edge = edge
        self.timestampNanoseconds = timestampNanoseconds
    }

    public var description: String {
        "line \(line) \(edge == .rising ? "rising" : "falling") at \(timestampNanoseconds) ns"
    }
}
