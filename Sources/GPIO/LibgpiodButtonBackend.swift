import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The lane's buttons on real GPIO lines, through libgpiod 1.6 (the v1
/// character-device API that Debian 12 ships).
///
/// **Threading.** libgpiod v1 handles are not thread-safe and its reads block,
/// so one dedicated thread owns the chip and every line. It waits in poll(2)
/// on all the button lines' descriptors plus a wake-up pipe, with a timeout
/// set to the next debounce, stuck, presence-check or reopen deadline; the
/// async side only writes to the pipe (lamps, shutdown) and consumes
/// ``events``. No cooperative-pool thread ever blocks on GPIO. (NIO was the other option; a second event
/// loop for a handful of descriptors buys nothing over one thread.)
///
/// **Events.** Each line's kernel edges go through a ``ButtonDebouncer``, in
/// kernel timestamp order across lines, and presses and releases carry the
/// kernel's timestamp of the first edge of their burst. A press held past
/// `stuck_after` is a ``GPIOFault/stuckButton(_:pressedAtNanoseconds:)``
/// fault until released.
///
/// **A vanishing chip** (poll reports `POLLHUP`/`POLLERR`, a read or ioctl
/// fails, `ENODEV` from the kernel, or the periodic ``GPIOChip/probe()`` of the
/// chip's own descriptor fails) is a ``GPIOFault/chipVanished(chip:errno:)``
/// fault. Every line is released and the chip closed; the thread then reopens
/// the chip and requests every line again with backoff (``ReopenBackoff``)
/// until it succeeds, reports ``ButtonInputEvent/recovered(_:)``, reads where
/// each button stands and drives each lamp as last requested.
///
/// Starting fails with a ``ButtonBackendError`` naming the chip or line when
/// the configuration does not match the hardware: a lane must not run with
/// buttons that cannot work.
public final class LibgpiodButtonBackend: ButtonBackend {
    public let events: AsyncStream<ButtonInputEvent>
    /// The chip as opened at start, such as `gpiochip0 [pinctrl-bcm2711]`.
    public let chipDescription: String
    private let control: ReaderControl

    /// Opens the chip, requests every line and starts reading.
    ///
    /// - Parameter time: The clock the kernel stamps edges with; inject
    ///   ``ManualMonotonicTime`` to decide debounce and stuck times in tests.
    /// - Throws: ``ButtonBackendError``, naming the chip or the role and line.
    public init(
        configuration: LibgpiodButtonConfiguration, time: any MonotonicTimeSource = SystemMonotonicTime()
    ) async throws(ButtonBackendError) {
        try configuration.validate()
        let control = try ReaderControl()
        let (events, continuation) = AsyncStream.makeStream(of: ButtonInputEvent.self)
        let started = await withCheckedContinuation {
            (ready: CheckedContinuation<Result<String, ButtonBackendError>, Never>) in
            let thread = Thread {
                ButtonReader.run(
                    configuration: configuration, time: time, control: control, events: continuation,
                    ready: ready)
            }
            thread.name = "gpio-buttons"
            thread.start()
        }
        chipDescription = try started.get()
        self.events = events
        self.control = control
        time.whenAdvanced { [control] in control.wake() }
        continuation.onTermination = { [control] _ in control.requestStop() }
    }

    deinit {
        control.requestStop()
    }

    public func setLamp(_ role: ButtonRole, on: Bool) {
        control.setLamp(role, on: on)
    }

    public func shutdown() async {
        control.requestStop()
        await control.waitUntilFinished()
    }
}

/// What the async side and the reader thread share: requests one way, the
/// wake-up pipe to make the thread look at them, and "finished" the other way.
final class ReaderControl: Sendable {
    private struct State {
        var stopping = false
        var lamps: [ButtonRole: Bool] = [:]
        var lampsChanged = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// The thread polls this end.
    let wakeDescriptor: Int32
    private let wakeWriter: Int32
    private let state = Mutex(State())

    init() throws(ButtonBackendError) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw .wakeUpUnavailable(errno: errno) }
        for end in ends {
            // Non-blocking both ways: a full pipe already means "wake up", and
            // draining must stop when it is empty.
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        wakeDescriptor = ends[0]
        wakeWriter = ends[1]
    }

    deinit {
        close(wakeDescriptor)
        close(wakeWriter)
    }

    func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)
    }

    func drainWake() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while buffer.withUnsafeMutableBytes({ read(wakeDescriptor, $0.baseAddress, $0.count) }) > 0 {}
    }

    func requestStop() {
        state.withLock { $0.stopping = true }
        wake()
    }

    func setLamp(_ role: ButtonRole, on: Bool) {
        state.withLock {
            $0.lamps[role] = on
            $0.lampsChanged = true
        }
        wake()
    }

    /// Whether to stop, and the lamps wanted now if that changed since the last call.
    func take() -> (stopping: Bool, lamps: [ButtonRole: Bool]?) {
        state.withLock { state in
            defer { state.lampsChanged = false }
            return (state.stopping, state.lampsChanged ? state.lamps : nil)
        }
    }

    func markFinished() {
        let waiters = state.withLock { state in
            state.finished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func waitUntilFinished() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let finished = state.withLock { state in
                if !state.finished { state.waiters.append(waiter) }
                return state.finished
            }
            if finished { waiter.resume() }
        }
    }
}

/// The lines of one opening of the chip. Released, with the chip, when this is.
private final class LineSession {
    let chip: GPIOChip
    let buttons: [(role: ButtonRole, line: GPIOEventLine)]
    let lamps: [(role: ButtonRole, line: GPIOOutputLine)]

    var description: String { "\(chip.name) [\(chip.label)]" }

    private init(
        chip: GPIOChip, buttons: [(role: ButtonRole, line: GPIOEventLine)],
        lamps: [(role: ButtonRole, line: GPIOOutputLine)]
    ) {
        self.chip = chip
        self.buttons = buttons
        self.lamps = lamps
    }

    /// Opens the chip and requests every configured line; lamps start as `lamps` says.
    static func open(
        _ configuration: LibgpiodButtonConfiguration, lamps wanted: [ButtonRole: Bool]
    ) throws(ButtonBackendError) -> LineSession {
        let chip = try openChip(configuration)
        let place = "\(chip.name) [\(chip.label)]"
        var taken: [UInt32: String] = [:]

        func offset(_ role: ButtonRole, _ kind: GPIOLineKind, _ selector: GPIOLineSelector)
            throws(ButtonBackendError)
            -> UInt32
        {
            let offset: UInt32
            switch selector {
            case .offset(let number):
                offset = number
            case .name(let name):
                do throws(GPIOError) {
                    offset = try chip.offset(ofLineNamed: name)
                } catch {
                    throw .line(role, kind, selector, chip: place, error)
                }
            }
            // Two names for one line: the kernel would only say EBUSY.
            let use = "the \(role) \(kind) (\(selector))"
            if let other = taken[offset] {
                throw .invalidConfiguration("\(use) and \(other) are the same line \(offset) of \(place)")
            }
            taken[offset] = use
            return offset
        }

        var buttons: [(role: ButtonRole, line: GPIOEventLine)] = []
        var lamps: [(role: ButtonRole, line: GPIOOutputLine)] = []
        for button in configuration.buttons {
            let buttonOffset = try offset(button.role, .button, button.line)
            do throws(GPIOError) {
                let line = try chip.requestEdgeEvents(
                    offset: buttonOffset, consumer: configuration.consumer,
                    options: GPIOLineOptions(bias: button.bias, activeLow: button.activeLow))
                try line.makeNonBlocking()
                buttons.append((button.role, line))
            } catch {
                throw .line(button.role, .button, button.line, chip: place, error)
            }
            guard let lamp = button.lamp else { continue }
            let lampOffset = try offset(button.role, .lamp, lamp.line)
            do throws(GPIOError) {
                let line = try chip.requestOutput(
                    offset: lampOffset, consumer: configuration.consumer, activeLow: lamp.activeLow,
                    initialValue: wanted[button.role] ?? false)
                lamps.append((button.role, line))
            } catch {
                throw .line(button.role, .lamp, lamp.line, chip: place, error)
            }
        }
        return LineSession(chip: chip, buttons: buttons, lamps: lamps)
    }

    private static func openChip(_ configuration: LibgpiodButtonConfiguration) throws(ButtonBackendError)
        -> GPIOChip
    {
        if let descriptor = configuration.chip {
            do throws(GPIOError) {
                return try GPIOChip(lookup: descriptor)
            } catch {
                let available = try? GPIOChip.available().map { "\($0.name) [\($0.label)]" }
                throw .chip(descriptor, error, available: available)
            }
        }
        // validate() made every line a name when there is no chip.
        let first = configuration.buttons[0]
        guard case .name(let name) = first.line else {
            throw .invalidConfiguration("\(first.role): a line by offset needs a chip")
        }
        do throws(GPIOError) {
            return try GPIOChip.containing(lineNamed: name).chip
        } catch {
            throw .line(first.role, .button, first.line, chip: "any GPIO chip", error)
        }
    }
}

/// The reader thread's state; lives and dies on that thread.
private final class ButtonReader {
    private struct Outage {
        var failedAttempts: Int
        var nextAttempt: UInt64
    }

    private let configuration: LibgpiodButtonConfiguration
    private let time: any MonotonicTimeSource
    private let control: ReaderControl
    private let events: AsyncStream<ButtonInputEvent>.Continuation
    /// How faults name the chip: as configured, else as found.
    private var chipName: String
    private var session: LineSession?
    private var debouncers: [ButtonRole: ButtonDebouncer] = [:]
    /// Reported and not yet recovered, in the order reported.
    private var faults: [GPIOFault] = []
    private var outage: Outage?
    private var lamps: [ButtonRole: Bool] = [:]
    /// When to next ask the chip whether it is still there.
    private var nextPresenceCheck: UInt64?

    private init(
        configuration: LibgpiodButtonConfiguration, time: any MonotonicTimeSource, control: ReaderControl,
        events: AsyncStream<ButtonInputEvent>.Continuation, session: LineSession
    ) {
        self.configuration = configuration
        self.time = time
        self.control = control
        self.events = events
        self.session = session
        chipName = configuration.chip ?? session.chip.name
        for button in configuration.buttons {
            debouncers[button.role] = ButtonDebouncer(
                debounce: button.debounce, stuckAfter: button.stuckAfter)
        }
    }

    /// The thread's body: open, report to `ready`, then read until told to stop.
    static func run(
        configuration: LibgpiodButtonConfiguration, time: any MonotonicTimeSource, control: ReaderControl,
        events: AsyncStream<ButtonInputEvent>.Continuation,
        ready: CheckedContinuation<Result<String, ButtonBackendError>, Never>
    ) {
        let reader: ButtonReader
        do throws(ButtonBackendError) {
            let session = try LineSession.open(configuration, lamps: [:])
            reader = ButtonReader(
                configuration: configuration, time: time, control: control, events: events, session: session)
            try reader.seed(session)
            reader.schedulePresenceCheck()
            ready.resume(returning: .success(session.description))
        } catch {
            ready.resume(returning: .failure(error))
            events.finish()
            control.markFinished()
            return
        }
        reader.loop()
        reader.session = nil
        events.finish()
        control.markFinished()
    }

    private func loop() {
        var descriptors: [pollfd] = []
        while true {
            let (stopping, wantedLamps) = control.take()
            if stopping { return }
            if let wantedLamps {
                lamps = wantedLamps
                applyLamps()
            }
            descriptors.removeAll(keepingCapacity: true)
            descriptors.append(pollfd(fd: control.wakeDescriptor, events: Int16(POLLIN), revents: 0))
            for button in session?.buttons ?? [] {
                descriptors.append(
                    pollfd(fd: button.line.fileDescriptor, events: Int16(POLLIN | POLLPRI), revents: 0))
            }
            // poll fails only on EINTR here (the arguments are always valid): go round again.
            guard poll(&descriptors, nfds_t(descriptors.count), pollTimeout()) >= 0 else { continue }
            if descriptors[0].revents != 0 { control.drainWake() }

            var edges: [(role: ButtonRole, edge: ButtonEvent)] = []
            if let session {
                for (index, button) in session.buttons.enumerated() where descriptors[index + 1].revents != 0
                {
                    guard let read = readEdges(button.line, revents: descriptors[index + 1].revents) else {
                        break
                    }
                    edges += read.map { (button.role, $0) }
                }
            }
            guard session != nil else {
                if outage != nil { reopenIfDue() }
                continue
            }
            settle(edges)
            checkPresenceIfDue()
        }
    }

    private func schedulePresenceCheck() {
        nextPresenceCheck = configuration.presenceCheckInterval.map {
            time.nanoseconds().saturatingAdd($0.clampedNanoseconds)
        }
    }

    /// Asks the chip whether it is still there, when that is due: some
    /// kernels never hang up a removed chip's line descriptors.
    private func checkPresenceIfDue() {
        guard let session, let due = nextPresenceCheck, time.nanoseconds() >= due else { return }
        do throws(GPIOError) {
            try session.chip.probe()
            schedulePresenceCheck()
        } catch {
            vanish(errno: error.errorNumber ?? ENODEV)
        }
    }

    /// Feeds the edges just read to their debouncers in the order of their
    /// kernel timestamps across all lines, then lets time pass for the lines
    /// that had none, and reports in timestamp order: a reader that fell
    /// behind (a stalled process) still reports an earlier release on one
    /// line before a later press on another.
    private func settle(_ edges: [(role: ButtonRole, edge: ButtonEvent)]) {
        var changes: [TimedChange] = []
        let ordered = edges.enumerated().sorted {
            ($0.element.edge.timestampNanoseconds, $0.offset) < (
                $1.element.edge.timestampNanoseconds, $1.offset
            )
        }
        for (role, edge) in ordered.map(\.element) {
            let at = edge.timestampNanoseconds
            for other in configuration.buttons where other.role != role {
                collect(other.role, debouncers[other.role]!.advance(toNanoseconds: at), into: &changes)
            }
            collect(
                role, debouncers[role]!.edge(active: edge.edge == .rising, atNanoseconds: at), into: &changes)
        }
        // A line read just now may have more edges queued: settle it only
        // once a poll finds it quiet, so that a burst is never cut in two.
        let now = time.nanoseconds()
        let read = Set(edges.map(\.role))
        for button in configuration.buttons where !read.contains(button.role) {
            collect(button.role, debouncers[button.role]!.advance(toNanoseconds: now), into: &changes)
        }
        report(changes)
    }

    /// Milliseconds to the next debounce, stuck or reopen deadline; -1 for none.
    private func pollTimeout() -> Int32 {
        var deadline: UInt64?
        if session != nil {
            for debouncer in debouncers.values {
                if let next = debouncer.nextDeadline { deadline = min(deadline ?? .max, next) }
            }
            if let nextPresenceCheck { deadline = min(deadline ?? .max, nextPresenceCheck) }
        }
        if let outage { deadline = min(deadline ?? .max, outage.nextAttempt) }
        guard let deadline else { return -1 }
        let now = time.nanoseconds()
        guard deadline > now else { return 0 }
        // Rounded up: waking a little late is harmless, early would spin.
        return Int32(min((deadline - now + 999_999) / 1_000_000, 60_000))
    }

    /// Reads what the line has queued; `nil` when the chip has gone.
    private func readEdges(_ line: GPIOEventLine, revents: Int16) -> [ButtonEvent]? {
        do throws(GPIOError) {
            return try line.readEdges(limit: 16)
        } catch {
            let code = error.errorNumber ?? EIO
            if code == EAGAIN || code == EINTR {
                // Nothing queued. The kernel answers a removed chip's read with
                // ENODEV; a hangup without that still means the line is dead.
                guard revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 else { return [] }
                vanish(errno: ENODEV)
                return nil
            }
            vanish(errno: code)
            return nil
        }
    }

    /// A debouncer's change with the moment it describes, for ordering
    /// changes from several lines.
    private struct TimedChange {
        var at: UInt64
        var role: ButtonRole
        var change: ButtonDebouncer.Change
    }

    private func collect(
        _ role: ButtonRole, _ changes: [ButtonDebouncer.Change], into list: inout [TimedChange]
    ) {
        var previous: UInt64 = 0
        for change in changes {
            let at: UInt64
            switch change {
            case .pressed(let time), .released(let time): at = time
            case .stuck(let since): at = since.saturatingAdd(debouncers[role]!.stuckAfterNanoseconds ?? 0)
            // Always right after the release that ended it.
            case .unstuck: at = previous
            }
            previous = at
            list.append(TimedChange(at: at, role: role, change: change))
        }
    }

    private func report(_ changes: [TimedChange]) {
        let ordered = changes.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
        for timed in ordered.map(\.element) {
            let role = timed.role
            switch timed.change {
            case .pressed(let at): events.yield(.pressed(role, kernelNanoseconds: at))
            case .released(let at): events.yield(.released(role, kernelNanoseconds: at))
            case .stuck(let since): raise(.stuckButton(role, pressedAtNanoseconds: since))
            case .unstuck(let since): clear(.stuckButton(role, pressedAtNanoseconds: since))
            }
        }
    }

    private func raise(_ fault: GPIOFault) {
        guard !faults.contains(fault) else { return }
        faults.append(fault)
        events.yield(.fault(fault))
    }

    private func clear(_ fault: GPIOFault) {
        guard let index = faults.firstIndex(of: fault) else { return }
        faults.remove(at: index)
        events.yield(.recovered(fault))
    }

    /// Reads where each button stands, for a session just opened.
    private func seed(_ session: LineSession) throws(ButtonBackendError) {
        let now = time.nanoseconds()
        for (role, line) in session.buttons {
            do throws(GPIOError) {
                var changes: [TimedChange] = []
                collect(
                    role, debouncers[role]!.reseed(active: try line.value(), atNanoseconds: now),
                    into: &changes)
                report(changes)
            } catch {
                let selector = configuration.buttons.first { $0.role == role }!.line
                throw .line(role, .button, selector, chip: session.description, error)
            }
        }
    }

    private func applyLamps() {
        guard let session else { return }
        for (role, line) in session.lamps {
            do throws(GPIOError) {
                try line.set(lamps[role] ?? false)
                for fault in faults { if case .lampFailed(role, _) = fault { clear(fault) } }
            } catch {
                let code = error.errorNumber ?? EIO
                if code == ENODEV {
                    vanish(errno: code)
                    return
                }
                raise(.lampFailed(role, errno: code))
            }
        }
    }

    private func vanish(errno code: Int32) {
        // Releases every line and closes the chip; the kernel has already
        // thrown away whatever was queued.
        session = nil
        // The retry is scheduled from when the chip went, before anyone hears of it.
        let delay = configuration.reopenBackoff.delayNanoseconds(beforeAttempt: 0)
        outage = Outage(failedAttempts: 0, nextAttempt: time.nanoseconds().saturatingAdd(delay))
        raise(.chipVanished(chip: chipName, errno: code))
    }

    private func reopenIfDue() {
        guard var outage else { return }
        let now = time.nanoseconds()
        guard now >= outage.nextAttempt else { return }
        do throws(ButtonBackendError) {
            let reopened = try LineSession.open(configuration, lamps: lamps)
            session = reopened
            self.outage = nil
            for fault in faults {
                switch fault {
                case .chipVanished, .lineRequestFailed, .lampFailed: clear(fault)
                case .stuckButton: break
                }
            }
            try seed(reopened)
            schedulePresenceCheck()
        } catch {
            if session != nil {
                // Opened, but a button could not be read: gone again already.
                vanish(errno: error.gpioErrorNumber ?? ENODEV)
                return
            }
            outage.failedAttempts += 1
            let delay = configuration.reopenBackoff.delayNanoseconds(beforeAttempt: outage.failedAttempts)
            outage.nextAttempt = now.saturatingAdd(delay)
            self.outage = outage
            if case .line(let role, let kind, _, _, let cause) = error {
                // The chip is back but a line is not: say which, keep trying.
                raise(.lineRequestFailed(role, kind, errno: cause.errorNumber ?? EIO))
            }
        }
    }
}

extension ButtonBackendError {
    /// The `errno` underneath, when a libgpiod call failed.
    var gpioErrorNumber: Int32? {
        switch self {
        case .chip(_, let error, _), .line(_, _, _, _, let error): error.errorNumber
        case .invalidConfiguration, .wakeUpUnavailable: nil
        }
    }
}
