import CGpiod

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A line requested as an output (a button's lamp); released when this object is.
///
/// Not `Sendable`, like every libgpiod v1 handle: keep it on the thread that
/// owns its chip.
public final class GPIOOutputLine {
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

    /// Drives the line: `true` is active (high, or low for an active-low line).
    /// - Throws: ``GPIOError/valueFailed(chip:offset:errno:)``; `ENODEV` when the chip has gone.
    public func set(_ active: Bool) throws(GPIOError) {
        if gpiod_line_set_value(line, active ? 1 : 0) != 0 {
            throw .valueFailed(chip: chip.name, offset: offset, errno: errno)
        }
    }

    /// The value the line is driven to, as the kernel reports it.
    /// - Throws: ``GPIOError/valueFailed(chip:offset:errno:)``.
    public func value() throws(GPIOError) -> Bool {
        let value = gpiod_line_get_value(line)
        if value < 0 { throw .valueFailed(chip: chip.name, offset: offset, errno: errno) }
        return value == 1
    }
}
