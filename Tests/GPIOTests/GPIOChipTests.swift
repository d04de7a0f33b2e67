import GPIO
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// Without the gpio-chip shim: what the lane reports when there is no chip at
// all or the path is not a chip. The request, read and error paths on a chip
// are in LibgpiodShimTests, through the real libgpiod on an emulated chip.
@Suite struct GPIOChipTests {
    @Test func missingChipSurfacesENOENT() {
        #expect(throws: GPIOError.openFailed(path: "/dev/gpiochip9", errno: ENOENT)) {
            try GPIOChip(path: "/dev/gpiochip9")
        }
    }

    @Test func missingChipErrorReadsWell() {
        do {
            _ = try GPIOChip(path: "/dev/gpiochip9")
            Issue.record("opened a chip that does not exist")
        } catch {
            #expect(error.errorNumber == ENOENT)
            #expect(
                error.description
                    == "cannot open GPIO chip /dev/gpiochip9: No such file or directory (ENOENT)")
        }
    }

    @Test func nonGPIODeviceIsRefusedClearly() {
        do {
            _ = try GPIOChip(path: "/dev/null")
            Issue.record("opened /dev/null as a GPIO chip")
        } catch {
            #expect(error == .openFailed(path: "/dev/null", errno: ENOTTY))
            #expect(error.description.hasPrefix("cannot open GPIO chip /dev/null: "))
            #expect(error.description.hasSuffix("(ENOTTY)"))
        }
    }

    @Test(arguments: ["gpiochip9", "9", "no-such-label", "/dev/gpiochip9"])
    func lookupOfMissingChipSurfacesENOENT(descriptor: String) {
        #expect(throws: GPIOError.openFailed(path: descriptor, errno: ENOENT)) {
            try GPIOChip(lookup: descriptor)
        }
    }

    @Test func buttonEventDescribesItself() {
        let event = ButtonEvent(line: 17, edge: .falling, timestampNanoseconds: 1_500)
        #expect(event.description == "line 17 falling at 1500 ns")
        #expect(event != ButtonEvent(line: 17, edge: .rising, timestampNanoseconds: 1_500))
    }

    @Test func errnoWithoutSymbolStillExplains() {
        let error = GPIOError.requestFailed(chip: "gpiochip0", offset: 4, errno: 9999)
        #expect(error.description.hasPrefix("cannot request edge events on gpiochip0 line 4: "))
        #expect(error.errorNumber == 9999)
    }
}
