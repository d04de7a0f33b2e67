import Synchronization

/// Buttons pressed by method calls: the control socket's `press`, the
/// simulator's keys and scenario steps, and tests.
///
/// It reports the same ``ButtonInputEvent``s as ``LibgpiodButtonBackend``, through
/// the same ``ButtonDebouncer`` rules (a second press while held is no press,
/// a press held past `stuckAfter` is a stuck-button fault), stamped with its
/// ``MonotonicTimeSource``. What differs, on purpose: a virtual contact does not
/// bounce, so there is no debounce delay and a press is reported at once,
/// however short. Lamps are only remembered, for the simulator to draw.
public final class VirtualButtonBackend: ButtonBackend {
    private struct State {
        var debouncers: [ButtonRole: ButtonDebouncer] = [:]
        var lamps: [ButtonRole: Bool] = [:]
        var faults: [GPIOFault] = []
        var timer: Task<Void, Never>?
        var timerDeadline: UInt64?
        var closed = false
    }

    public let events: AsyncStream<ButtonInputEvent>
    private let continuation: AsyncStream<ButtonInputEvent>.Continuation
    private let time: any MonotonicTimeSource
    private let state: Mutex<State>

    /// - Parameters:
    ///   - roles: The buttons this lane has; presses of others are refused.
    ///   - stuckAfter: As the libgpiod backend's `stuck_after`; `nil` for never.
    ///   - time: Stamps presses and decides when a held button is stuck.
    public init(
        roles: Set<ButtonRole> = Set(ButtonRole.allCases), stuckAfter: Duration? = .seconds(30),
        time: any MonotonicTimeSource = SystemMonotonicTime()
    ) {
        var initial = State()
        for role in roles {
            initial.debouncers[role] = ButtonDebouncer(debounce: .zero, stuckAfter: stuckAfter)
        }
        state = Mutex(initial)
        self.time = time
        (events, continuation) = AsyncStream.makeStream(of: ButtonInputEvent.self)
        time.whenAdvanced { [weak self] in self?.evaluateTimers() }
        continuation.onTermination = { [weak self] _ in self?.close() }
    }

    deinit {
        close()
    }

    /// Presses `role`'s button and keeps it pressed. Returns `false` if this
    /// lane has no such button or the backend is shut down.
    @discardableResult
    public func press(_ role: ButtonRole) -> Bool {
        move(role, to: [true])
    }

    /// Lets go of `role`'s button. Returns `false` as ``press(_:)`` does.
    @discardableResult
    public func release(_ role: ButtonRole) -> Bool {
        move(role, to: [false])
    }

    /// Presses and releases `role`'s button at the same instant.
    @discardableResult
    public func click(_ role: ButtonRole) -> Bool {
        move(role, to: [true, false])
    }

    /// Whether `role`'s lamp was last switched on.
    public func isLampOn(_ role: ButtonRole) -> Bool {
        state.withLock { $0.lamps[role] ?? false }
    }

    public func setLamp(_ role: ButtonRole, on: Bool) {
        state.withLock { $0.lamps[role] = on }
    }

    /// Reports `fault` as the libgpiod backend would (once while it stands),
    /// for showing faults on the boards without unplugging anything.
    public func simulateFault(_ fault: GPIOFault) {
        state.withLock { state in
            guard !state.closed, !state.faults.contains(fault) else { return }
            state.faults.append(fault)
            continuation.yield(.fault(fault))
        }
    }

    /// Reports that a fault from ``simulateFault(_:)`` has cleared.
    public func clearSimulatedFault(_ fault: GPIOFault) {
        state.withLock { state in
            guard !state.closed, let index = state.faults.firstIndex(of: fault) else { return }
            state.faults.remove(at: index)
            continuation.yield(.recovered(fault))
        }
    }

    public func shutdown() async {
        close()
    }

    private func close() {
        let closing = state.withLock { state in
            defer { state.closed = true }
            state.timer?.cancel()
            state.timer = nil
            return !state.closed
        }
        // Outside the lock: finishing runs onTermination, which closes again.
        if closing { continuation.finish() }
    }

    private func move(_ role: ButtonRole, to levels: [Bool]) -> Bool {
        let now = time.nanoseconds()
        return state.withLock { state in
            guard !state.closed, state.debouncers[role] != nil else { return false }
            for active in levels {
                // Debounce zero: the edge counts at once, as a clean contact would.
                var changes = state.debouncers[role]!.edge(active: active, atNanoseconds: now)
                changes += state.debouncers[role]!.advance(toNanoseconds: now)
                report(role, changes, into: &state)
            }
            armTimer(&state)
            return true
        }
    }

    private func evaluateTimers() {
        let now = time.nanoseconds()
        state.withLock { state in
            guard !state.closed else { return }
            for role in state.debouncers.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
                report(role, state.debouncers[role]!.advance(toNanoseconds: now), into: &state)
            }
            state.timerDeadline = nil
            armTimer(&state)
        }
    }

    private func report(_ role: ButtonRole, _ changes: [ButtonDebouncer.Change], into state: inout State) {
        for change in changes {
            switch change {
            case .pressed(let at):
                continuation.yield(.pressed(role, kernelNanoseconds: at))
            case .released(let at):
                continuation.yield(.released(role, kernelNanoseconds: at))
            case .stuck(let since):
                let fault = GPIOFault.stuckButton(role, pressedAtNanoseconds: since)
                state.faults.append(fault)
                continuation.yield(.fault(fault))
            case .unstuck(let since):
                let fault = GPIOFault.stuckButton(role, pressedAtNanoseconds: since)
                state.faults.removeAll { $0 == fault }
                continuation.yield(.recovered(fault))
            }
        }
    }

    /// Sleeps until the next stuck deadline. With a manual time source the
    /// sleep may end early (its time has not moved); `whenAdvanced` covers that.
    private func armTimer(_ state: inout State) {
        let deadline = state.debouncers.values.compactMap(\.nextDeadline).min()
        guard deadline != state.timerDeadline else { return }
        state.timer?.cancel()
        state.timer = nil
        state.timerDeadline = deadline
        guard let deadline else { return }
        let now = time.nanoseconds()
        // At least a millisecond, so that a manual source parked just short
        // of a deadline does not make this spin.
        let wait = max(deadline > now ? deadline - now : 0, 1_000_000)
        state.timer = Task { [weak self] in
            try? await Task.sleep(for: .nanoseconds(wait))
            guard !Task.isCancelled else { return }
            self?.evaluateTimers()
        }
    }
}
