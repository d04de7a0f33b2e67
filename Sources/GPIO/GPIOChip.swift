import CGpiod

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// What a GPIO chip says about itself.
public struct GPIOChipInfo: Sendable, Hashable {
    /// The kernel's name for the chip, such as `gpiochip0`.
    public var name: String
    /// The driver's label, such as `pinctrl-bcm2711`.
    public var label: String
    /// How many lines the chip exposes; valid offsets are `0..<lineCount`.
    public var lineCount: UInt32

    public init(name: String, label: String, lineCount: UInt32) {
        self.name = name
        self.label = label
        self.lineCount = lineCount
    }
}

/// An open GPIO chip character device (`/dev/gpiochipN`), closed when released.
///
/// Not `Sendable`: libgpiod v1 handles are not thread-safe. Create the chip and
/// its lines on the thread that will wait for events and keep them there.
public final class GPIOChip {
    /// Owned; every `gpiod_line` handed out by this chip dies with it, which is
    /// why each ``GPIOEventLine`` keeps its chip alive.
    let handle: OpaquePointer

    /// What the chip says about itself, read once at open.
    public let info: GPIOChipInfo

    /// Opens the chip at a device path, such as `/dev/gpiochip0`.
    ///
    /// A path that exists but is not a GPIO chip fails with `ENOTTY`
    /// (libgpiod checks the device through sysfs before trusting it).
    /// - Throws: ``GPIOError/openFailed(path:errno:)``.
    public convenience init(path: String) throws(GPIOError) {
        try self.init(described: path) { gpiod_chip_open($0) }
    }

    /// Opens the chip the way `gpiodetect`/`gpioget` accept it: a path, a name
    /// (`gpiochip0`), a number (`0`) or a label (`pinctrl-bcm2711`).
    ///
    /// Configuration should prefer labels: chip numbers can change between
    /// kernels and boots, labels belong to the hardware.
    /// - Throws: ``GPIOError/openFailed(path:errno:)``; `ENOENT` when nothing matches.
    public convenience init(lookup descriptor: String) throws(GPIOError) {
        try self.init(described: descriptor) { gpiod_chip_open_lookup($0) }
    }

    private convenience init(described: String, open: (UnsafePointer<CChar>) -> OpaquePointer?)
        throws(GPIOError)
    {
        errno = 0
        guard let chip = open(described) else {
            // libgpiod leaves errno at 0 for a few lookups that find nothing.
            let code = errno
            throw .openFailed(path: described, errno: code == 0 ? ENOENT : code)
        }
        self.init(adopting: chip)
    }

    /// Takes ownership of an open libgpiod chip.
    private init(adopting chip: OpaquePointer) {
        handle = chip
        info = GPIOChipInfo(
            name: gpiod_chip_name(chip).map { String(cString: $0) } ?? "",
            label: gpiod_chip_label(chip).map { String(cString: $0) } ?? "",
            lineCount: UInt32(gpiod_chip_num_lines(chip)))
    }

    /// Opens the chip that has a line called `name`, searching every chip in
    /// `/dev` (libgpiod's `gpiod_line_find`), and returns it with the line's offset.
    ///
    /// Line names come from the device tree or the driver (`gpioinfo` lists
    /// them); they survive chips being renumbered, as offsets within a labelled
    /// chip do.
    /// - Throws: ``GPIOError/lineNotFound(chip:name:errno:)``, with `chip` `nil`.
    public static func containing(lineNamed name: String) throws(GPIOError) -> (
        chip: GPIOChip, offset: UInt32
    ) {
        errno = 0
        guard let line = gpiod_line_find(name) else {
            throw .lineNotFound(chip: nil, name: name, errno: errno == 0 ? ENOENT : errno)
        }
        // gpiod_line_find opened the chip for this line alone: the caller owns it now.
        let chip = GPIOChip(adopting: gpiod_line_get_chip(line))
        return (chip, gpiod_line_offset(line))
    }

    /// Every chip in `/dev`, in name order, for error messages and diagnostics.
    /// - Throws: ``GPIOError/openFailed(path:errno:)`` for `/dev` when one of
    ///   the chips cannot be opened: libgpiod 1.6 gives up on the whole list then.
    public static func available() throws(GPIOError) -> [GPIOChipInfo] {
        errno = 0
        guard let iterator = gpiod_chip_iter_new() else { throw .openFailed(path: "/dev", errno: errno) }
        defer { gpiod_chip_iter_free(iterator) }
        var chips: [GPIOChipInfo] = []
        // gpiod_chip_iter_next closes the chip it returned before.
        while let chip = gpiod_chip_iter_next(iterator) {
            chips.append(
                GPIOChipInfo(
                    name: gpiod_chip_name(chip).map { String(cString: $0) } ?? "",
                    label: gpiod_chip_label(chip).map { String(cString: $0) } ?? "",
                    lineCount: UInt32(gpiod_chip_num_lines(chip))))
        }
        return chips
    }

    deinit {
        gpiod_chip_close(handle)
    }

    /// The kernel's name for the chip, such as `gpiochip0`.
    public var name: String { info.name }
    /// The driver's label.
    public var label: String { info.label }
    /// How many lines the chip exposes.
    public var lineCount: UInt32 { info.lineCount }

    /// Asks the kernel about line 0 through the chip's own descriptor: a cheap
    /// way to learn that the chip has gone, since the kernel has answered
    /// ioctls on a removed chip with `ENODEV` far longer than it has reported
    /// the removal on line descriptors.
    /// - Throws: ``GPIOError/lineUnavailable(chip:offset:errno:)``; `ENODEV` when the chip has gone.
    public func probe() throws(GPIOError) {
        errno = 0
        if gpiod_chip_get_line(handle, 0) == nil {
            throw .lineUnavailable(chip: name, offset: 0, errno: errno == 0 ? ENODEV : errno)
        }
    }

    /// The offset of the line called `name` on this chip.
    /// - Throws: ``GPIOError/lineNotFound(chip:name:errno:)``.
    public func offset(ofLineNamed name: String) throws(GPIOError) -> UInt32 {
        errno = 0
        guard let line = gpiod_chip_find_line(handle, name) else {
            throw .lineNotFound(chip: self.name, name: name, errno: errno == 0 ? ENOENT : errno)
        }
        return gpiod_line_offset(line)
    }

    /// Requests one line as an output, driven to `initialValue` at once.
    ///
    /// The line stays requested until the returned ``GPIOOutputLine`` is released.
    /// - Parameters:
    ///   - activeLow: Inverts the line, for a lamp driver or relay that switches on when the line is low.
    /// - Throws: ``GPIOError/lineUnavailable(chip:offset:errno:)`` for a bad offset,
    ///   ``GPIOError/outputRequestFailed(chip:offset:errno:)`` when the kernel refuses (`EBUSY`: in use).
    public func requestOutput(
        offset: UInt32, consumer: String, activeLow: Bool = false, initialValue: Bool = false
    ) throws(GPIOError) -> GPIOOutputLine {
        errno = 0
        guard let line = gpiod_chip_get_line(handle, offset) else {
            throw .lineUnavailable(chip: name, offset: offset, errno: errno == 0 ? EINVAL : errno)
        }
        let flags = activeLow ? Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) : 0
        if gpiod_line_request_output_flags(line, consumer, flags, initialValue ? 1 : 0) != 0 {
            throw .outputRequestFailed(chip: name, offset: offset, errno: errno)
        }
        return GPIOOutputLine(chip: self, line: line, offset: offset)
    }

    /// Requests rising and falling edge events on one line, as an input.
    ///
    /// The line stays requested (visible to `gpioinfo` as used by `consumer`)
    /// until the returned ``GPIOEventLine`` is released.
    /// - Parameters:
    ///   - offset: The line's offset on this chip.
    ///   - consumer: The name the kernel shows as the line's user.
    ///   - options: Bias and polarity; buttons to ground want `.pullUp` and `activeLow`.
    /// - Throws: ``GPIOError/lineUnavailable(chip:offset:errno:)`` for a bad offset,
    ///   ``GPIOError/requestFailed(chip:offset:errno:)`` when the kernel refuses
    ///   (`EBUSY`: already in use).
    public func requestEdgeEvents(
        offset: UInt32, consumer: String, options: GPIOLineOptions = GPIOLineOptions()
    ) throws(GPIOError) -> GPIOEventLine {
        errno = 0
        guard let line = gpiod_chip_get_line(handle, offset) else {
            throw .lineUnavailable(chip: name, offset: offset, errno: errno == 0 ? EINVAL : errno)
        }
        if gpiod_line_request_both_edges_events_flags(line, consumer, options.flags) != 0 {
            throw .requestFailed(chip: name, offset: offset, errno: errno)
        }
        return GPIOEventLine(chip: self, line: line, offset: offset)
    }
}

/// How a requested input line is configured.
public struct GPIOLineOptions: Sendable, Hashable {
    /// The line's internal bias resistor.
    public enum Bias: Sendable, Hashable {
        /// Leave it as the device tree or a previous user set it.
        case asIs
        case disabled
        case pullUp
        case pullDown
    }

    public var bias: Bias
    /// Inverts the line, so that a button pulling the line low reports a rising edge when pressed.
    public var activeLow: Bool

    public init(bias: Bias = .asIs, activeLow: Bool = false) {
        self.bias = bias
        self.activeLow = activeLow
    }

    /// libgpiod's request flags.
    var flags: Int32 {
        var flags = 0
        switch bias {
        case .asIs: break
        case .disabled: flags |= Int(GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
        case .pullUp: flags |= Int(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        case .pullDown: flags |= Int(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        }
        if activeLow { flags |= Int(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) }
        return Int32(flags)
    }
}
