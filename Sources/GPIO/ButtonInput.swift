#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// What an input line is for at the lane.
///
/// The raw values are the names used in configuration files.
public enum ButtonRole: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// The driver's "Unladen Vehicle" button.
    case unladen
    /// The driver's "Help" button (intercom to an officer).
    case help
    /// An optional exit loop or beam: active while a vehicle stands on it.
    case exitLoop = "exit_loop"

    public var description: String { rawValue }
}

/// Which of a role's lines a message is about.
public enum GPIOLineKind: String, Sendable, Hashable, CustomStringConvertible {
    /// The input the button or loop is wired to.
    case button
    /// The output that lights the button's lamp.
    case lamp

    public var description: String { rawValue }
}

/// Something wrong with the GPIO side that the lane should show and log.
///
/// Each fault is reported once as ``ButtonInputEvent/fault(_:)`` and, when it
/// clears, once as ``ButtonInputEvent/recovered(_:)`` carrying the same value,
/// so consumers can keep a set of what is wrong now.
public enum GPIOFault: Sendable, Hashable, CustomStringConvertible {
    /// A button has been active longer than its `stuck_after` time: a jammed
    /// button, a short in the cable, or someone leaning on it. Its presses are
    /// meaningless until it is released, which clears the fault.
    case stuckButton(ButtonRole, pressedAtNanoseconds: UInt64)
    /// The chip stopped answering (a USB or I2C expander unplugged or reset):
    /// poll reported `POLLHUP`/`POLLERR` or a read failed, with this `errno`
    /// (`ENODEV` from the kernel). The backend reopens it with backoff; the
    /// fault clears when every line is requested again.
    case chipVanished(chip: String, errno: Int32)
    /// The chip is back but a line could not be requested again (`EBUSY`:
    /// another program holds it). Retried with the chip.
    case lineRequestFailed(ButtonRole, GPIOLineKind, errno: Int32)
    /// A lamp could not be switched. Clears when it next switches.
    case lampFailed(ButtonRole, errno: Int32)

    public var description: String {
        switch self {
        case .stuckButton(let role, let since):
            return "\(role) button stuck: active since \(since) ns"
        case .chipVanished(let chip, let code):
            return "GPIO chip \(chip) vanished: \(GPIOError.explain(code))"
        case .lineRequestFailed(let role, let kind, let code):
            return "cannot request the \(role) \(kind) line again: \(GPIOError.explain(code))"
        case .lampFailed(let role, let code):
            return "cannot switch the \(role) lamp: \(GPIOError.explain(code))"
        }
    }
}

/// What a button backend reports: debounced presses and releases, and faults.
public enum ButtonInputEvent: Sendable, Hashable, CustomStringConvertible {
    /// The button became active. The timestamp is the kernel's, of the first
    /// edge of the burst that settled into "pressed" (for the virtual backend,
    /// its time source's); see ``MonotonicTimeSource``.
    case pressed(ButtonRole, kernelNanoseconds: UInt64)
    /// The button became inactive; the timestamp as for ``pressed(_:kernelNanoseconds:)``.
    case released(ButtonRole, kernelNanoseconds: UInt64)
    case fault(GPIOFault)
    /// The fault reported earlier with this same value has cleared.
    case recovered(GPIOFault)

    public var description: String {
        switch self {
        case .pressed(let role, let at): "\(role) pressed at \(at) ns"
        case .released(let role, let at): "\(role) released at \(at) ns"
        case .fault(let fault): "fault: \(fault)"
        case .recovered(let fault): "recovered: \(fault)"
        }
    }
}
