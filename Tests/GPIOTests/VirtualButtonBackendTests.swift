import GPIO
import Testing

@Suite struct VirtualButtonBackendTests {
    @Test func pressAndReleaseAreStampedWithTheTimeSource() async {
        let time = ManualMonotonicTime()
        let buttons = VirtualButtonBackend(time: time)
        let events = EventRecorder(buttons)
        let t0 = time.nanoseconds()
        #expect(buttons.press(.unladen))
        time.advance(by: .milliseconds(250))
        #expect(buttons.release(.unladen))
        #expect(await events.next() == .pressed(.unladen, kernelNanoseconds: t0))
        #expect(await events.next() == .released(.unladen, kernelNanoseconds: t0 + ms(250)))
    }

    @Test func aClickIsAPressAndAReleaseAtOneInstant() async {
        let time = ManualMonotonicTime()
        let buttons = VirtualButtonBackend(time: time)
        let events = EventRecorder(buttons)
        #expect(buttons.click(.help))
        #expect(await events.next() == .pressed(.help, kernelNanoseconds: time.nanoseconds()))
        #expect(await events.next() == .released(.help, kernelNanoseconds: time.nanoseconds()))
    }

    @Test func pressingAHeldButtonAgainIsNoNewPress() async {
        let time = ManualMonotonicTime()
        let buttons = VirtualButtonBackend(time: time)
        let events = EventRecorder(buttons)
        let t0 = time.nanoseconds()
        buttons.press(.unladen)
        time.advance(by: .milliseconds(10))
        buttons.press(.unladen)
        buttons.release(.help)  // never pressed: nothing to release
        time.advance(by: .milliseconds(10))
        buttons.release(.unladen)
        #expect(await events.next() == .pressed(.unladen, kernelNanoseconds: t0))
        #expect(await events.next() == .released(.unladen, kernelNanoseconds: t0 + ms(20)))
        #expect(events.pending.isEmpty)
    }

    @Test func buttonsTheLaneDoesNotHaveAreRefused() async {
        let buttons = VirtualButtonBackend(roles: [.unladen, .help], time: ManualMonotonicTime())
        #expect(!buttons.press(.exitLoop))
        #expect(!buttons.click(.exitLoop))
        await buttons.shutdown()
        #expect(!buttons.press(.unladen))
    }

    @Test func aHeldButtonBecomesStuckAndRecoversOnRelease() async {
        let time = ManualMonotonicTime()
        let buttons = VirtualButtonBackend(stuckAfter: .seconds(30), time: time)
        let events = EventRecorder(buttons)
        let t0 = time.nanoseconds()
        buttons.press(.help)
        #expect(await events.next() == .pressed(.help, kernelNanoseconds: t0))
        time.advance(by: .seconds(29))
        buttons.click(.unladen)  // a marker: the help button is not stuck yet
        #expect(await events.next() == .pressed(.unladen, kernelNanoseconds: t0 + ms(29_000)))
        #expect(await events.next() == .released(.unladen, kernelNanoseconds: t0 + ms(29_000)))
        time.advance(by: .seconds(1))
        #expect(await events.next() == .fault(.stuckButton(.help, pressedAtNanoseconds: t0)))
        time.advance(by: .seconds(5))
        buttons.release(.help)
        #expect(await events.next() == .released(.help, kernelNanoseconds: t0 + ms(35_000)))
        #expect(await events.next() == .recovered(.stuckButton(.help, pressedAtNanoseconds: t0)))
    }

    @Test func aStuckButtonIsFoundWithoutAnyCallOnTheSystemClock() async {
        // Nothing moves a system clock by hand: the backend's own timer must fire.
        let buttons = VirtualButtonBackend(stuckAfter: .milliseconds(50))
        let events = EventRecorder(buttons)
        buttons.press(.unladen)
        guard case .pressed(.unladen, let at) = await events.next() else {
            Issue.record("no press")
            return
        }
        #expect(await events.next() == .fault(.stuckButton(.unladen, pressedAtNanoseconds: at)))
        #expect(SystemMonotonicTime().nanoseconds() >= at + ms(50))
    }

    @Test func lampsAreRememberedForTheSimulator() {
        let buttons = VirtualButtonBackend(time: ManualMonotonicTime())
        #expect(!buttons.isLampOn(.help))
        buttons.setLamp(.help, on: true)
        #expect(buttons.isLampOn(.help))
        #expect(!buttons.isLampOn(.unladen))
        buttons.setLamp(.help, on: false)
        #expect(!buttons.isLampOn(.help))
    }

    @Test func simulatedFaultsAreReportedOnceAndCleared() async {
        let buttons = VirtualButtonBackend(time: ManualMonotonicTime())
        let events = EventRecorder(buttons)
        let fault = GPIOFault.chipVanished(chip: "lane-buttons", errno: 19)
        buttons.simulateFault(fault)
        buttons.simulateFault(fault)
        buttons.clearSimulatedFault(fault)
        buttons.clearSimulatedFault(fault)
        #expect(await events.next() == .fault(fault))
        #expect(await events.next() == .recovered(fault))
        await buttons.shutdown()
        #expect(await events.hasFinished())
        #expect(events.pending.isEmpty)
    }
}
