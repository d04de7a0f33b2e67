import GPIO
import TestKit
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// The libgpiod backend through the REAL libgpiod 1.6.3, against a chip that
// TestSupport/gpio-chip emulates at libgpiod's C-library boundary (open, stat,
// scandir, ioctl, read, close), because this kernel has no GPIO chip. Each
// test runs in a child process that preloads the shim (GPIOChipShimSupport).
// What this proves and what it does not: docs/gpio-testing.md.

#if os(Linux)

    /// The lane's chip as the tests wire it: buttons on 0 to 2, lamps on 4 and 5.
    func laneChip() throws -> FakeGPIOChip {
        try FakeGPIOChip(
            label: "lane-buttons", lines: 8,
            names: ["UNLADEN", "HELP", "EXIT_LOOP", "", "LAMP_UNLADEN", "LAMP_HELP"])
    }

    /// Unladen by name with a lamp by name; help by offset with an active-low
    /// lamp by offset: both ways of naming lines go through libgpiod.
    func laneConfiguration(
        chip: String? = "lane-buttons", stuckAfter: Duration? = .seconds(2)
    ) -> LibgpiodButtonConfiguration {
        LibgpiodButtonConfiguration(
            chip: chip, consumer: "laned-test",
            buttons: [
                ButtonLineConfiguration(
                    role: .unladen, line: .name("UNLADEN"), stuckAfter: stuckAfter,
                    lamp: LampLineConfiguration(line: .name("LAMP_UNLADEN"))),
                ButtonLineConfiguration(
                    role: .help, line: chip == nil ? .name("HELP") : .offset(1), stuckAfter: stuckAfter,
                    lamp: LampLineConfiguration(
                        line: chip == nil ? .name("LAMP_HELP") : .offset(5), activeLow: true)),
            ],
            reopenBackoff: ReopenBackoff(initial: .milliseconds(100), maximum: .milliseconds(400)))
    }

    @Suite struct LibgpiodShimTests {
        // MARK: - The wrapper on its own

        @Test func chipOpensByPathNameNumberAndLabel() async throws {
            try await GPIOChipShim.runInShimmedChild {
                let fake = try laneChip()
                for descriptor in [fake.path, fake.name, String(fake.number), "lane-buttons"] {
                    let chip = try GPIOChip(lookup: descriptor)
                    #expect(chip.info == GPIOChipInfo(name: fake.name, label: "lane-buttons", lineCount: 8))
                }
                #expect(
                    try GPIOChip.available() == [
                        GPIOChipInfo(name: fake.name, label: "lane-buttons", lineCount: 8)
                    ])
                let chip = try GPIOChip(path: fake.path)
                #expect(try chip.offset(ofLineNamed: "HELP") == 1)
                #expect(throws: GPIOError.lineNotFound(chip: fake.name, name: "NOPE", errno: ENOENT)) {
                    try chip.offset(ofLineNamed: "NOPE")
                }
                let found = try GPIOChip.containing(lineNamed: "LAMP_HELP")
                #expect(found.chip.name == fake.name)
                #expect(found.offset == 5)
            }
        }

        @Test func anEventLineReadsKernelEdgesWithTheirTimestamps() async throws {
            try await GPIOChipShim.runInShimmedChild {
                let fake = try laneChip()
                let chip = try GPIOChip(lookup: "lane-buttons")
                let line = try chip.requestEdgeEvents(
                    offset: 0, consumer: "probe", options: GPIOLineOptions(bias: .pullUp, activeLow: true))
                #expect(
                    fake.request(0)
                        == FakeGPIOChip.Request(
                            kind: 1,
                            handleFlags: KernelFlags.input | KernelFlags.activeLow | KernelFlags.pullUp,
                            eventFlags: KernelFlags.risingEdge | KernelFlags.fallingEdge, consumer: "probe"))
                #expect(try line.value() == false)
                #expect(try line.waitForEdge(timeout: .zero) == false)
                fake.setLevels(0, [(0, 1_000), (1, 2_000), (0, 3_000)])
                #expect(try line.value() == true)
                #expect(try line.waitForEdge(timeout: .seconds(5)))
                // Active low: the line going low is a rising edge of the logical value.
                #expect(
                    try line.readEdges()
                        == [
                            ButtonEvent(line: 0, edge: .rising, timestampNanoseconds: 1_000),
                            ButtonEvent(line: 0, edge: .falling, timestampNanoseconds: 2_000),
                            ButtonEvent(line: 0, edge: .rising, timestampNanoseconds: 3_000),
                        ])
                // A second user of the line is refused, as by the kernel.
                #expect(throws: GPIOError.requestFailed(chip: fake.name, offset: 0, errno: EBUSY)) {
                    try chip.requestEdgeEvents(offset: 0, consumer: "second")
                }
                #expect(throws: GPIOError.lineUnavailable(chip: fake.name, offset: 8, errno: EINVAL)) {
                    try chip.requestEdgeEvents(offset: 8, consumer: "probe")
                }
            }
        }

        @Test func anOutputLineDrivesTheLine() async throws {
            try await GPIOChipShim.runInShimmedChild {
                let fake = try laneChip()
                let chip = try GPIOChip(lookup: "lane-buttons")
                let lamp = try chip.requestOutput(offset: 4, consumer: "lamp", initialValue: true)
                #expect(fake.output(4) == 1)
                try lamp.set(false)
                #expect(fake.output(4) == 0)
                #expect(try lamp.value() == false)
                let inverted = try chip.requestOutput(offset: 5, consumer: "lamp", activeLow: true)
                #expect(fake.output(5) == 1)
                try inverted.set(true)
                #expect(fake.output(5) == 0)
            }
        }

        // MARK: - Starting the backend

        @Test func theBackendRequestsWhatTheConfigurationSays() async throws {
            try await GPIOChipShim.runInShimmedChild {
                let fake = try laneChip()
                var configuration = laneConfiguration()
                configuration.buttons.append(
                    ButtonLineConfiguration(
                        role: .exitLoop, line: .name("EXIT_LOOP"), bias: .pullDown, activeLow: false))
                let buttons = try await LibgpiodButtonBackend(configuration: configuration)
                #expect(buttons.chipDescription == "\(fake.name) [lane-buttons]")
                let bothEdges = KernelFlags.risingEdge | KernelFlags.fallingEdge
                #expect(
                    fake.request(0)
                        == .init(
                            kind: 1,
                            handleFlags: KernelFlags.input | KernelFlags.activeLow | KernelFlags.pullUp,
                            eventFlags: bothEdges, consumer: "laned-test"))
                #expect(fake.request(1).kind == 1)
                #expect(
                    fake.request(2)
                        == .init(
                            kind: 1, handleFlags: KernelFlags.input | KernelFlags.pullDown,
                            eventFlags: bothEdges,
                            consumer: "laned-test"))
                #expect(
                    fake.request(4)
                        == .init(
                            kind: 2, handleFlags: KernelFlags.output, eventFlags: 0, consumer: "laned-test"))
                #expect(
                    fake.request(5)
                        == .init(
                            kind: 2, handleFlags: KernelFlags.output | KernelFlags.activeLow, eventFlags: 0,
                            consumer: "laned-test"))
                #expect(fake.request(3).kind == 0)

                await buttons.shutdown()
                for offset: UInt32 in [0, 1, 2, 4, 5] {
                    #expect(fake.request(offset).kind == 0, "line \(offset)")
                }
            }
        }

        @Test func withoutAChipTheLinesAreFoundByName() async throws {
            try await GPIOChipShim.runInShimmedChild {
                let fake = try laneChip()
                let buttons = try await LibgpiodButtonBackend(configuration: laneConfiguration(chip: nil))
                #expect(buttons.chipDescription == "\(fake.name) [lane-buttons]")
                #expect(fake.request(1).kind == 1)
                #expect(fake.request(5).kind == 2)
                await buttons.shutdown()
            }
        }

        @Test func openErrorsNameTheChipOrTheLine() async throws {
            try await GPIOChipShim.runInShimmedChild {
                let fake = try laneChip()
                let present = "chips present: \(fake.name) [lane-buttons]"
                func failure(_ configuration: LibgpiodButtonConfiguration) async -> String {
                    do {
                        let buttons = try await LibgpiodButtonBackend(configuration: configuration)
                        await buttons.shutdown()
                        return "started"
                    } catch {
                        return error.description
                    }
                }
                var configuration = laneConfiguration(chip: "lane-butons")
                #expect(
                    await failure(configuration)
                        == "no GPIO chip has the path, name, number or label \"lane-butons\" (\(present))")

                configuration = laneConfiguration()
                configuration.buttons[0].line = .name("UNLADEN_BUTTON")
                #expect(
                    await failure(configuration)
                        == "unladen button, line \"UNLADEN_BUTTON\" on \(fake.name) [lane-buttons]:"
                        + " GPIO chip \(fake.name) has no line named \"UNLADEN_BUTTON\"")

                configuration = laneConfiguration()
                configuration.buttons[1].lamp = LampLineConfiguration(line: .offset(12))
                #expect(
                    await failure(configuration)
                        == "help lamp, line 12 on \(fake.name) [lane-buttons]:"
                        + " GPIO chip \(fake.name) has no line 12: Invalid argument (EINVAL)")

                configuration = laneConfiguration(chip: nil)
                configuration.buttons[0].line = .name("NOPE")
                #expect(
                    await failure(configuration)
                        == "unladen button, line \"NOPE\" on any GPIO chip:"
                        + " no GPIO chip has a line named \"NOPE\""
                )

                // The same line under its name and its offset.
                configuration = laneConfiguration()
                configuration.buttons[1].line = .offset(0)
                #expect(
                    await failure(configuration)
                        == "GPIO configuration: the help button (line 0)"
                        + " and the unladen button (line \"UNLADEN\")"
                        + " are the same line 0 of \(fake.name) [lane-buttons]")

                // Another program holds the help line.
                fake.hold(1, consumer: "gpiomon")
                #expect(
                    await failure(laneConfiguration())
                        == "help button, line 1 on \(fake.name) [lane-buttons]:"
                        + " cannot request edge events on \(fake.name) line 1:"
                        + " Device or resource busy (EBUSY)")
                fake.unhold(1)

                // Nothing was left requested by the failed starts.
                for offset: UInt32 in 0..<8 { #expect(fake.request(offset).kind == 0, "line \(offset)") }
                #expect(await failure(laneConfiguration()) == "started")
            }
        }

        // MARK: - Presses

        @Test func onePressIsOneEventOnceTheDebounceTimeHasPassed() async throws {
            try await GPIOChipShim.runInShimmedChild {
                let fake = try laneChip()
                let time = ManualMonotonicTime()
                let buttons = try await LibgpiodButtonBackend(configuration: laneConfiguration(), time: time)
                let events = EventRecorder(buttons)
                let t0 = time.nanoseconds()
                fake.press(0, at: t0)
                time.advance(by: .milliseconds(29))
                // A marker that settled long ago: once it is reported, the
                // unladen press has been looked at 29 ms in, and was not due.
                fake.press(1, at: t0 - ms(100))
                #expect(await events.next() == .pressed(.help, kernelNanoseconds: t0 - ms(100)))
                time.advance(by: .milliseconds(1))
                #expect(await events.next() == .pressed(.unladen, kernelNanoseconds: t0))
                fake.release(0, at: t0 + ms(200))
                time.advance(by: .milliseconds(300))
                // Exactly one press: the next event is its release.
                #expect(await events.next() == .released(.unladen, kernelNanoseconds: t0 + ms(200)))
                await buttons.shutdown()
                #expect(await events.hasFinished())
                #expect(events.pending.isEmpty)
            }
        }

        @Test func aBurstOfBouncesIsOnePressAndOneRelease() async throws {
            try await GPIOChipShim.runInShimmedChild {
                let fake = try laneChip()
                let time = ManualMonotonicTime()
                let buttons = try await LibgpiodButtonBackend(configuration: laneConfiguration(), time: time)
                let events = EventRecorder(buttons)
                let t0 = time.nanoseconds()
                // Closing, bouncing every 5 ms, ending closed (low).
                #expect(
                    fake.setLevels(
                        0, [(0, t0), (1, t0 + ms(5)), (0, t0 + ms(10)), (1, t0 + ms(15)), (0, t0 + ms(20))])
                        == 5)
                time.advance(by: .milliseconds(50))
                #expect(await events.next() == .pressed(.unladen, kernelNanoseconds: t0))
                let t1 = time.nanoseconds()
                fake.setLevels(
                    0, [(1, t1), (0, t1 + ms(5)), (1, t1 + ms(10)), (0, t1 + ms(15)), (1, t1 + ms(20))])
                time.advance(by: .milliseconds(50))
                #expect(await events.next() == .released(.unladen, kernelNanoseconds: t1))

                // A 10 ms spike is no press; the help marker comes next.
                let t2 = time.nanoseconds()
                fake.setLevels(0, [(0, t2), (1, t2 + ms(10))])
                time.advance(by: .milliseconds(100))
                fake.press(1, at: time.nanoseconds())
                time.advance(by: .milliseconds(30))
                #expect(await events.next() == .pressed(.help, kernelNanoseconds: t2 + ms(100)))

                // The v1 kernel can report a bounce as rising, rising: still one press.
                let t3 = time.nanoseconds()
                fake.queueEvent(0, id: 1, at: t3)
                fake.queueEvent(0, id: 1, at: t3 + ms(4))
                time.advance(by: .milliseconds(40))
                #expect(await events.next() == .pressed(.unladen, kernelNanoseconds: t3))
                await buttons.shutdown()
                #expect(events.pending.isEmpty)
            }
        }

        @Test func theReaderWakesForTheDebounceDeadlineByItself() async throws {
            try await GPIOChipShim.runInShimmedChild {
                // The system clock, which nothing advances by hand: only the
                // poll timeout can report this press. Both checks are lower
                // bounds, true however slow the machine.
                let fake = try laneChip()
                let time = SystemMonotonicTime()
                let buttons = try await LibgpiodButtonBackend(
                    configuration: laneConfiguration(stuckAfter: .milliseconds(300)), time: time)
                let events = EventRecorder(buttons)
                let t0 = time.nanoseconds()
                fake.press(0, at: t0)
                #expect(await events.next() == .pressed(.unladen, kernelNanoseconds: t0))
                #expect(time.nanoseconds() >= t0 + ms(30))
                #expect(await events.next() == .fault(.stuckButton(.unladen, pressedAtNanoseconds: t0)))
                #expect(time.nanoseconds() >= t0 + ms(300))
                await buttons.shutdown()
            }
        }

        @Test func aButtonHeldPastStuckAfterIsAFaultUntilReleased() async throws {
            try await GPIOChipShim.runInShimmedChild {
                let fake = try laneChip()
                let time = ManualMonotonicTime()
                let buttons = try await LibgpiodButtonBackend(
                    configuration: laneConfiguration(stuckAfter: .seconds(2)), time: time)
                let events = EventRecorder(buttons)
                let t0 = time.nanoseconds()
                fake.press(0, at: t0)
                time.advance(by: .milliseconds(30))
                #expect(await events.next() == .pressed(.unladen, kernelNanoseconds: t0))
                time.advance(by: .milliseconds(1_969))
                fake.press(1, at: t0)  // the marker: not stuck 1.999 s in
                #expect(await events.next() == .pressed(.help, kernelNanoseconds: t0))
                time.advance(by: .milliseconds(1))
                // Both reach their deadline together; faults come in configuration order.
                #expect(await events.next() == .fault(.stuckButton(.unladen, pressedAtNanoseconds: t0)))
                #expect(await events.next() == .fault(.stuckButton(.help, pressedAtNanoseconds: t0)))
                let t1 = time.nanoseconds()
                fake.release(0, at: t1)
                time.advance(by: .milliseconds(30))
                #expect(await events.next() == .released(.unladen, kernelNanoseconds: t1))
                #expect(await events.next() == .recovered(.stuckButton(.unladen, pressedAtNanoseconds: t0)))
                await buttons.shutdown()
            }
        }

        @Test func aButtonHeldAtStartIsNoPressButCanBeStuck() async throws {
            try await GPIOChipShim.runInShimmedChild {
                let fake = try laneChip()
                let time = ManualMonotonicTime()
                fake.press(0, at: 0)  // held before the lane starts: no request listens yet
                let buttons = try await LibgpiodButtonBackend(
                    configuration: laneConfiguration(stuckAfter: .seconds(2)), time: time)
                let events = EventRecorder(buttons)
                let started = time.nanoseconds()
                time.advance(by: .seconds(2))
                #expect(await events.next() == .fault(.stuckButton(.unladen, pressedAtNanoseconds: started)))
                let t1 = time.nanoseconds()
                fake.release(0, at: t1)
                time.advance(by: .milliseconds(30))
                #expect(await events.next() == .released(.unladen, kernelNanoseconds: t1))
                #expect(
                    await events.next() == .recovered(.stuckButton(.unladen, pressedAtNanoseconds: started)))
                await buttons.shutdown()
            }
        }

        // MARK: - Lamps

        @Test func lampsDriveTheirOutputLines() async throws {
            try await GPIOChipShim.runInShimmedChild {
                let fake = try laneChip()
                let buttons = try await LibgpiodButtonBackend(configuration: laneConfiguration())
                // Off at start: low, and high for the active-low help lamp.
                #expect(fake.output(4) == 0)
                #expect(fake.output(5) == 1)
                buttons.setLamp(.unladen, on: true)
                #expect(await eventually(every: .milliseconds(2)) { fake.output(4) == 1 })
                buttons.setLamp(.help, on: true)
                #expect(await eventually(every: .milliseconds(2)) { fake.output(5) == 0 })
                buttons.setLamp(.exitLoop, on: true)  // no lamp: nothing to do
                buttons.setLamp(.unladen, on: false)
                #expect(await eventually(every: .milliseconds(2)) { fake.output(4) == 0 })
                #expect(fake.output(5) == 0)
                await buttons.shutdown()
                #expect(fake.output(4) == nil)
            }
        }

        // MARK: - A chip that goes away

        @Test func aVanishedChipIsAFaultUntilItComesBack() async throws {
            try await GPIOChipShim.runInShimmedChild {
                let fake = try laneChip()
                let time = ManualMonotonicTime()
                let buttons = try await LibgpiodButtonBackend(configuration: laneConfiguration(), time: time)
                let events = EventRecorder(buttons)
                buttons.setLamp(.unladen, on: true)
                #expect(await eventually(every: .milliseconds(2)) { fake.output(4) == 1 })
                let t0 = time.nanoseconds()
                fake.press(1, at: t0)
                time.advance(by: .milliseconds(30))
                #expect(await events.next() == .pressed(.help, kernelNanoseconds: t0))
                let opens = fake.opens

                fake.vanish()
                let vanished = GPIOFault.chipVanished(chip: "lane-buttons", errno: ENODEV)
                #expect(await events.next() == .fault(vanished))
                // The help button is let go while the chip is away, and
                // another program takes the help line as the chip returns.
                fake.release(1, at: time.nanoseconds())
                fake.hold(1, consumer: "gpiomon")
                fake.restore()
                time.advance(by: .milliseconds(400))
                let busy = GPIOFault.lineRequestFailed(.help, .button, errno: EBUSY)
                #expect(await events.next() == .fault(busy))
                #expect(fake.opens > opens)

                fake.unhold(1)
                time.advance(by: .milliseconds(400))
                #expect(await events.next() == .recovered(vanished))
                #expect(await events.next() == .recovered(busy))
                // It came back released: the press reported before must end.
                #expect(await events.next() == .released(.help, kernelNanoseconds: time.nanoseconds()))
                #expect(fake.output(4) == 1, "the lamp is lit again on the new chip")
                #expect(fake.request(1).consumer == "laned-test")

                let t1 = time.nanoseconds()
                fake.press(0, at: t1)
                time.advance(by: .milliseconds(30))
                #expect(await events.next() == .pressed(.unladen, kernelNanoseconds: t1))
                await buttons.shutdown()
                #expect(events.pending.isEmpty)
            }
        }

        @Test func retriesContinueWhileTheChipStaysAway() async throws {
            try await GPIOChipShim.runInShimmedChild {
                let fake = try laneChip()
                let time = ManualMonotonicTime()
                let buttons = try await LibgpiodButtonBackend(configuration: laneConfiguration(), time: time)
                let events = EventRecorder(buttons)
                fake.vanish()
                #expect(await events.next() == .fault(.chipVanished(chip: "lane-buttons", errno: ENODEV)))
                for _ in 0..<5 { time.advance(by: .milliseconds(400)) }
                fake.restore()
                time.advance(by: .milliseconds(400))
                #expect(await events.next() == .recovered(.chipVanished(chip: "lane-buttons", errno: ENODEV)))
                // Shutting down while reading works, and releases everything.
                await buttons.shutdown()
                #expect(await events.hasFinished())
                for offset: UInt32 in [0, 1, 4, 5] { #expect(fake.request(offset).kind == 0) }
            }
        }

        @Test func aChipThatGoesQuietlyIsFoundByThePresenceCheck() async throws {
            try await GPIOChipShim.runInShimmedChild {
                let fake = try laneChip()
                let time = ManualMonotonicTime()
                var configuration = laneConfiguration()
                configuration.presenceCheckInterval = .seconds(2)
                let buttons = try await LibgpiodButtonBackend(configuration: configuration, time: time)
                let events = EventRecorder(buttons)
                fake.vanishQuietly()
                time.advance(by: .milliseconds(1_999))
                fake.restore()
                // Back before the check came due: nothing happened, as far as the lane knows.
                time.advance(by: .milliseconds(1))
                // The old descriptors are dead all the same; the check finds that.
                let vanished = GPIOFault.chipVanished(chip: "lane-buttons", errno: ENODEV)
                #expect(await events.next() == .fault(vanished))
                time.advance(by: .milliseconds(100))
                #expect(await events.next() == .recovered(vanished))
                let t0 = time.nanoseconds()
                fake.press(0, at: t0)
                // Time goes on as it does at a lane: the reopened lines must
                // report the press (CI once lost it after a single 30 ms step).
                var pressed: ButtonInputEvent?
                for _ in 0..<100 where pressed == nil {
                    time.advance(by: .milliseconds(30))
                    pressed = await events.next(within: .milliseconds(100))
                }
                #expect(pressed == .pressed(.unladen, kernelNanoseconds: t0))
                await buttons.shutdown()
            }
        }

        // MARK: - The virtual backend agrees

        @Test func theVirtualBackendReportsTheSameEvents() async throws {
            try await GPIOChipShim.runInShimmedChild {
                enum Step {
                    case press(ButtonRole), release(ButtonRole), wait(Duration)
                }
                let script: [Step] = [
                    .press(.unladen), .wait(.milliseconds(100)), .release(.unladen),
                    .wait(.milliseconds(100)),
                    .press(.help), .wait(.milliseconds(2_100)), .release(.help), .wait(.milliseconds(100)),
                ]
                let expectedCount = 6
                let offsets: [ButtonRole: UInt32] = [.unladen: 0, .help: 1]

                let fake = try laneChip()
                let realTime = ManualMonotonicTime(nanoseconds: 5_000_000_000)
                let real = try await LibgpiodButtonBackend(
                    configuration: laneConfiguration(stuckAfter: .seconds(2)), time: realTime)
                let realEvents = EventRecorder(real)
                for step in script {
                    switch step {
                    case .press(let role): fake.press(offsets[role]!, at: realTime.nanoseconds())
                    case .release(let role): fake.release(offsets[role]!, at: realTime.nanoseconds())
                    case .wait(let duration): realTime.advance(by: duration)
                    }
                }
                var fromLibgpiod: [ButtonInputEvent] = []
                for _ in 0..<expectedCount {
                    if let event = await realEvents.next() { fromLibgpiod.append(event) }
                }
                await real.shutdown()

                let virtualTime = ManualMonotonicTime(nanoseconds: 5_000_000_000)
                let virtual = VirtualButtonBackend(
                    roles: [.unladen, .help], stuckAfter: .seconds(2), time: virtualTime)
                let virtualEvents = EventRecorder(virtual)
                for step in script {
                    switch step {
                    case .press(let role): virtual.press(role)
                    case .release(let role): virtual.release(role)
                    case .wait(let duration): virtualTime.advance(by: duration)
                    }
                }
                var fromVirtual: [ButtonInputEvent] = []
                for _ in 0..<expectedCount {
                    if let event = await virtualEvents.next() { fromVirtual.append(event) }
                }
                await virtual.shutdown()

                let start: UInt64 = 5_000_000_000
                #expect(
                    fromLibgpiod == [
                        .pressed(.unladen, kernelNanoseconds: start),
                        .released(.unladen, kernelNanoseconds: start + ms(100)),
                        .pressed(.help, kernelNanoseconds: start + ms(200)),
                        .fault(.stuckButton(.help, pressedAtNanoseconds: start + ms(200))),
                        .released(.help, kernelNanoseconds: start + ms(2_300)),
                        .recovered(.stuckButton(.help, pressedAtNanoseconds: start + ms(200))),
                    ])
                #expect(fromVirtual == fromLibgpiod)
            }
        }
    }

#endif
