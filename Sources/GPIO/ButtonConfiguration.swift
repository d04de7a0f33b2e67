#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Which line of a chip: by offset, or by the name the device tree or driver
/// gave it (what `gpioinfo` prints in quotes).
public enum GPIOLineSelector: Sendable, Hashable, CustomStringConvertible {
    case offset(UInt32)
    case name(String)

    public var description: String {
        switch self {
        case .offset(let offset): "line \(offset)"
        case .name(let name): "line \"\(name)\""
        }
    }
}

/// One button's input line, and optionally its lamp.
public struct ButtonLineConfiguration: Sendable, Hashable {
    public var role: ButtonRole
    public var line: GPIOLineSelector
    /// The internal resistor. A button switching to ground wants `.pullUp`.
    public var bias: GPIOLineOptions.Bias
    /// Whether low is "pressed". A button switching to ground wants `true`.
    public var activeLow: Bool
    /// How long the contact must hold still before a level counts; see ``ButtonDebouncer``.
    public var debounce: Duration
    /// How long a press may last before it is reported as stuck; `nil` for
    /// never (an exit loop under a parked vehicle, say).
    public var stuckAfter: Duration?
    /// The output that lights this button, if it has one.
    public var lamp: LampLineConfiguration?

    /// Defaults follow the recommended wiring (docs/gpio.md): a button from
    /// the line to ground, the chip's pull-up, active low, 30 ms debounce, stuck after 30 s.
    public init(
        role: ButtonRole, line: GPIOLineSelector, bias: GPIOLineOptions.Bias = .pullUp,
        activeLow: Bool = true,
        debounce: Duration = .milliseconds(30), stuckAfter: Duration? = .seconds(30),
        lamp: LampLineConfiguration? = nil
    ) {
        self.role = role
        self.line = line
        self.bias = bias
        self.activeLow = activeLow
        self.debounce = debounce
        self.stuckAfter = stuckAfter
        self.lamp = lamp
    }
}

/// A button lamp's output line.
public struct LampLineConfiguration: Sendable, Hashable {
    public var line: GPIOLineSelector
    /// For a driver or relay board that switches on when the line is low.
    public var activeLow: Bool

    public init(line: GPIOLineSelector, activeLow: Bool = false) {
        self.line = line
        self.activeLow = activeLow
    }
}

/// How long the libgpiod backend waits between attempts to reopen a chip
/// that vanished: `initial`, doubling up to `maximum`.
public struct ReopenBackoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(250), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The wait before attempt `attempt` (0 for the first after the chip
    /// vanished), in nanoseconds: `initial`, doubled per failed attempt, at most `maximum`.
    public func delayNanoseconds(beforeAttempt attempt: Int) -> UInt64 {
        let ceiling = max(maximum, initial).clampedNanoseconds
        var delay = initial.clampedNanoseconds
        for _ in 0..<max(0, attempt) {
            guard delay < ceiling else { break }
            delay = delay.saturatingAdd(delay)
        }
        return min(delay, ceiling)
    }
}

/// Everything ``LibgpiodButtonBackend`` needs: one chip and its lines.
public struct LibgpiodButtonConfiguration: Sendable, Hashable {
    /// The chip as a path (`/dev/gpiochip0`), name (`gpiochip0`), number (`0`)
    /// or label (`pinctrl-bcm2711`); labels survive renumbering. `nil`: the
    /// chip that has the first button's line name (every line must then be
    /// given by name).
    public var chip: String?
    /// The name the kernel shows as the lines' user (`gpioinfo`).
    public var consumer: String
    public var buttons: [ButtonLineConfiguration]
    public var reopenBackoff: ReopenBackoff
    /// How often to ask the chip whether it is still there, for kernels that
    /// report a removed chip on line descriptors late or not at all; `nil`: never.
    public var presenceCheckInterval: Duration?

    public init(
        chip: String?, consumer: String = "laned", buttons: [ButtonLineConfiguration],
        reopenBackoff: ReopenBackoff = ReopenBackoff(), presenceCheckInterval: Duration? = .seconds(2)
    ) {
        self.chip = chip
        self.consumer = consumer
        self.buttons = buttons
        self.reopenBackoff = reopenBackoff
        self.presenceCheckInterval = presenceCheckInterval
    }

    /// Checks what can be checked without the hardware.
    /// - Throws: ``ButtonBackendError/invalidConfiguration(_:)`` naming the key at fault.
    public func validate() throws(ButtonBackendError) {
        guard !buttons.isEmpty else { throw .invalidConfiguration("buttons: at least one button is needed") }
        if let presenceCheckInterval, presenceCheckInterval < .milliseconds(10) {
            throw .invalidConfiguration(
                "presence_check_interval: \(presenceCheckInterval.readable) is shorter than 10 ms")
        }
        if let chip, chip.isEmpty {
            throw .invalidConfiguration("chip: empty; give a path, name, number or label")
        }
        var roles: Set<ButtonRole> = []
        var lines: [GPIOLineSelector: String] = [:]
        for button in buttons {
            guard roles.insert(button.role).inserted else {
                throw .invalidConfiguration("buttons: \(button.role) appears more than once")
            }
            if button.debounce < .zero || button.debounce > .seconds(1) {
                throw .invalidConfiguration(
                    "\(button.role).debounce: \(button.debounce.readable) is outside 0 to 1 s"
                        + " (30 ms suits a push button)")
            }
            if let stuckAfter = button.stuckAfter, stuckAfter <= button.debounce {
                throw .invalidConfiguration(
                    "\(button.role).stuck_after: \(stuckAfter.readable) must be longer than the debounce time"
                        + " \(button.debounce.readable)")
            }
            var uses: [(GPIOLineSelector, String)] = [(button.line, "\(button.role) button")]
            if let lamp = button.lamp { uses.append((lamp.line, "\(button.role) lamp")) }
            for (selector, use) in uses {
                if chip == nil, case .offset = selector {
                    throw .invalidConfiguration(
                        "\(use): \(selector) needs a chip; without `chip`, lines must be given by name")
                }
                if case .name(let name) = selector, name.isEmpty {
                    throw .invalidConfiguration("\(use): the line name is empty")
                }
                if let other = lines[selector] {
                    throw .invalidConfiguration("\(use) and \(other) are both \(selector)")
                }
                lines[selector] = use
            }
        }
    }
}

/// Why a button backend could not start.
public enum ButtonBackendError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The configuration contradicts itself; the text names the key.
    case invalidConfiguration(String)
    /// The chip could not be opened. `available` lists the chips that are
    /// there, as "gpiochip0 [label]", so that the message says what to write;
    /// `nil` when they could not be listed.
    case chip(String, GPIOError, available: [String]?)
    /// One of a role's lines could not be found or requested on `chip`.
    case line(ButtonRole, GPIOLineKind, GPIOLineSelector, chip: String, GPIOError)
    /// The reader thread's wake-up pipe could not be made (out of descriptors).
    case wakeUpUnavailable(errno: Int32)

    public var description: String {
        switch self {
        case .invalidConfiguration(let text):
            return "GPIO configuration: \(text)"
        case .chip(let chip, let error, let available):
            let present =
                switch available {
                case nil: "the chips in /dev could not be listed"
                case let names? where names.isEmpty: "no GPIO chips are present"
                case let names?: "chips present: \(names.joined(separator: ", "))"
                }
            if error.errorNumber == ENOENT {
                return "no GPIO chip has the path, name, number or label \"\(chip)\" (\(present))"
            }
            return "GPIO chip \"\(chip)\": \(error) (\(present))"
        case .line(let role, let kind, let selector, let chip, let error):
            return "\(role) \(kind), \(selector) on \(chip): \(error)"
        case .wakeUpUnavailable(let code):
            return "cannot make the GPIO reader's wake-up pipe: \(GPIOError.explain(code))"
        }
    }
}
