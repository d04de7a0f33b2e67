import GPIO
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ButtonConfigurationTests {
    func configuration(chip: String? = "lane-buttons", _ buttons: [ButtonLineConfiguration])
        -> LibgpiodButtonConfiguration
    {
        LibgpiodButtonConfiguration(chip: chip, buttons: buttons)
    }

    func refusal(_ configuration: LibgpiodButtonConfiguration) -> String? {
        do {
            try configuration.validate()
            return nil
        } catch {
            return error.description
        }
    }

    @Test func defaultsFollowTheRecommendedWiring() {
        let button = ButtonLineConfiguration(role: .unladen, line: .offset(17))
        #expect(button.bias == .pullUp)
        #expect(button.activeLow)
        #expect(button.debounce == .milliseconds(30))
        #expect(button.stuckAfter == .seconds(30))
        #expect(button.lamp == nil)
        #expect(refusal(configuration([button])) == nil)
    }

    @Test func refusalsNameTheKeyAndWhatWasExpected() {
        let unladen = ButtonLineConfiguration(role: .unladen, line: .offset(0))
        #expect(refusal(configuration([])) == "GPIO configuration: buttons: at least one button is needed")
        #expect(
            refusal(configuration(chip: "", [unladen]))
                == "GPIO configuration: chip: empty; give a path, name, number or label")
        #expect(
            refusal(configuration([unladen, ButtonLineConfiguration(role: .unladen, line: .offset(1))]))
                == "GPIO configuration: buttons: unladen appears more than once")
        #expect(
            refusal(
                configuration([ButtonLineConfiguration(role: .help, line: .offset(1), debounce: .seconds(2))])
            )
                == "GPIO configuration: help.debounce: 2 s is outside 0 to 1 s (30 ms suits a push button)")
        #expect(
            refusal(
                configuration([
                    ButtonLineConfiguration(
                        role: .help, line: .offset(1), debounce: .milliseconds(50),
                        stuckAfter: .milliseconds(40))
                ]))
                == "GPIO configuration: help.stuck_after: 40 ms must be longer than the debounce time 50 ms")
        #expect(
            refusal(
                configuration([
                    unladen,
                    ButtonLineConfiguration(
                        role: .help, line: .offset(3), lamp: LampLineConfiguration(line: .offset(0))),
                ])) == "GPIO configuration: help lamp and unladen button are both line 0")
        #expect(
            refusal(configuration(chip: nil, [unladen]))
                == "GPIO configuration: unladen button: line 0 needs a chip;"
                + " without `chip`, lines must be given by name"
        )
        #expect(
            refusal(
                LibgpiodButtonConfiguration(
                    chip: "lane-buttons", buttons: [unladen], presenceCheckInterval: .milliseconds(5)))
                == "GPIO configuration: presence_check_interval: 5 ms is shorter than 10 ms")
        #expect(
            refusal(configuration([ButtonLineConfiguration(role: .exitLoop, line: .name(""))]))
                == "GPIO configuration: exit_loop button: the line name is empty")
    }

    @Test func chipErrorsSayWhatIsThere() {
        let missing = GPIOError.openFailed(path: "lane-buttons", errno: ENOENT)
        #expect(
            ButtonBackendError.chip("lane-buttons", missing, available: []).description
                == "no GPIO chip has the path, name, number or label \"lane-buttons\""
                + " (no GPIO chips are present)"
        )
        #expect(
            ButtonBackendError.chip("lane-buttons", missing, available: ["gpiochip0 [pinctrl-bcm2711]"])
                .description
                == "no GPIO chip has the path, name, number or label \"lane-buttons\""
                + " (chips present: gpiochip0 [pinctrl-bcm2711])")
        let denied = GPIOError.openFailed(path: "/dev/gpiochip0", errno: EACCES)
        #expect(
            ButtonBackendError.chip("/dev/gpiochip0", denied, available: nil).description
                == "GPIO chip \"/dev/gpiochip0\":"
                + " cannot open GPIO chip /dev/gpiochip0: Permission denied (EACCES)"
                + " (the chips in /dev could not be listed)")
    }

    @Test func lineErrorsNameRoleLineAndChip() {
        let error = ButtonBackendError.line(
            .help, .lamp, .name("LAMP_HELP"), chip: "gpiochip2 [lane-io]",
            .lineNotFound(chip: "gpiochip2", name: "LAMP_HELP", errno: ENOENT))
        #expect(
            error.description
                == "help lamp, line \"LAMP_HELP\" on gpiochip2 [lane-io]:"
                + " GPIO chip gpiochip2 has no line named \"LAMP_HELP\""
        )
        #expect(
            GPIOError.lineNotFound(chip: nil, name: "UNLADEN", errno: ENOENT).description
                == "no GPIO chip has a line named \"UNLADEN\"")
    }

    @Test func faultsReadWell() {
        #expect(
            GPIOFault.chipVanished(chip: "lane-io", errno: ENODEV).description
                == "GPIO chip lane-io vanished: No such device (ENODEV)")
        #expect(
            GPIOFault.lineRequestFailed(.help, .button, errno: EBUSY).description
                == "cannot request the help button line again: Device or resource busy (EBUSY)")
        #expect(
            GPIOFault.stuckButton(.unladen, pressedAtNanoseconds: 42).description
                == "unladen button stuck: active since 42 ns")
        #expect(
            ButtonInputEvent.recovered(.lampFailed(.help, errno: EIO)).description
                == "recovered: cannot switch the help lamp: Input/output error (EIO)")
    }

    /// This machine's kernel has no GPIO chip: starting fails at once and says so.
    @Test func startingWithoutTheChipIsAClearError() async throws {
        guard (try? GPIOChip.available())?.isEmpty == true else {
            try Test.cancel("this machine has GPIO chips; the shimmed tests cover a missing one")
        }
        let configuration = LibgpiodButtonConfiguration(
            chip: "lane-buttons", buttons: [ButtonLineConfiguration(role: .unladen, line: .name("UNLADEN"))])
        let error = await #expect(throws: ButtonBackendError.self) {
            _ = try await LibgpiodButtonBackend(configuration: configuration)
        }
        #expect(
            error == .chip("lane-buttons", .openFailed(path: "lane-buttons", errno: ENOENT), available: []))
    }
}
