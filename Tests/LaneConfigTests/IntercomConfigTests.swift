import Foundation
import Testing

@testable import LaneConfig

/// The optional `intercom` section: one voice path, a command or a SIP URI,
/// and what a technician is told when the section is wrong.
@Suite("Lane config: the intercom")
struct IntercomConfigTests {
    let directory: ConfigDirectory

    init() throws { directory = try ConfigDirectory() }

    var file: String { directory.url.appendingPathComponent("lane.yaml").path }

    func load(_ intercom: String) throws -> LaneConfiguration {
        try LaneConfiguration.load(path: try directory.write(minimal + intercom))
    }

    /// The problems of `minimal` plus `intercom`, printed as laned prints them.
    func refused(_ intercom: String) throws -> [String] {
        try problems(minimal + intercom, in: directory).problems.map(\.description)
    }

    @Test func withoutTheSectionTheLaneHasNoIntercom() throws {
        let config = try LaneConfiguration.load(path: try directory.write(minimal))
        #expect(config.intercom == nil)
        #expect(!config.flattened.contains { $0.key.hasPrefix("intercom.") })
    }

    @Test func aCommandIsAProgramAndItsArgumentsWithTheDefaultTimeout() throws {
        let config = try load(
            "intercom:\n  command: [/usr/local/lib/lanekiosk/intercom, --device, \"hw:1\", '']\n")
        #expect(
            config.intercom
                == .init(
                    voice: .command(["/usr/local/lib/lanekiosk/intercom", "--device", "hw:1", ""]),
                    timeout: .seconds(5)))
        #expect(config.intercom?.programKey == "intercom.command")
        // A lone program needs no brackets; a relative one is taken from the config's directory.
        let lone = try load("intercom:\n  command: bin/intercom\n  timeout: 1500ms\n")
        #expect(
            lone.intercom
                == .init(
                    voice: .command([directory.url.appendingPathComponent("bin/intercom").path]),
                    timeout: .milliseconds(1500)))
    }

    @Test func aSIPURIGetsTheShippedClientUnlessOneIsGiven() throws {
        let config = try load("intercom:\n  sip_uri: sip:lmc-officers@pbx.lmc.example\n")
        #expect(
            config.intercom
                == .init(
                    voice: .sip(
                        uri: "sip:lmc-officers@pbx.lmc.example",
                        client: ["/usr/local/lib/lanekiosk/intercom-baresip"]),
                    timeout: .seconds(5)))
        #expect(config.intercom?.programKey == "intercom.sip_client")
        let own = try load(
            """
            intercom:
              sip_uri: sips:8100@10.20.0.5:5061;transport=tls
              sip_client: [/usr/bin/baresip-dial, --ctrl, 127.0.0.1:4445]
              timeout: 2s

            """)
        #expect(
            own.intercom
                == .init(
                    voice: .sip(
                        uri: "sips:8100@10.20.0.5:5061;transport=tls",
                        client: ["/usr/bin/baresip-dial", "--ctrl", "127.0.0.1:4445"]),
                    timeout: .seconds(2)))
        let flat = own.flattened.filter { $0.key.hasPrefix("intercom.") }
        #expect(flat.map(\.key) == ["intercom.sip_uri", "intercom.sip_client", "intercom.timeout"])
        #expect(
            flat.map(\.value) == [
                "sips:8100@10.20.0.5:5061;transport=tls", "[/usr/bin/baresip-dial, --ctrl, 127.0.0.1:4445]",
                "2s",
            ])
    }

    @Test func bothOrNeitherVoicePathIsRefusedNamingTheKeys() throws {
        #expect(
            try refused("intercom:\n  command: [/bin/true]\n  sip_uri: sip:a@pbx.example\n") == [
                "\(file):15:3: intercom: both intercom.command and intercom.sip_uri are given; expected exactly one"
            ])
        #expect(
            try refused("intercom:\n  timeout: 5s\n") == [
                "\(file):15:3: intercom: no voice path; expected intercom.command (a program and its arguments) "
                    + "or intercom.sip_uri (sip:user@host); leave intercom out for a lane without one"
            ])
        #expect(
            try refused("intercom:\n  command: [/bin/true]\n  sip_client: [/usr/bin/baresip-dial]\n") == [
                "\(file):16:15: intercom.sip_client: given with intercom.command; expected it only with "
                    + "intercom.sip_uri (the program that dials it)"
            ])
        #expect(
            try refused("intercom:\n  comand: [/bin/true]\n") == [
                "\(file):15:3: intercom.comand: unknown key; expected one of: command, sip_uri, sip_client, "
                    + "timeout (did you mean command?)",
                "\(file):15:3: intercom: no voice path; expected intercom.command (a program and its arguments) "
                    + "or intercom.sip_uri (sip:user@host); leave intercom out for a lane without one",
            ])
        #expect(
            try refused("intercom:\n") == [
                "\(file):14:10: intercom: expected a mapping of keys to values; got an empty value"
            ])
    }

    @Test func aCommandThatIsNotAListOfTextsIsRefused() throws {
        let expected =
            "expected a list of a program's path and its arguments, such as "
            + "[/usr/local/lib/lanekiosk/intercom, --device, hw:1]"
        #expect(
            try refused("intercom:\n  command: /usr/bin/intercom --device hw:1\n") == [
                "\(file):15:12: intercom.command: \(expected); got \"/usr/bin/intercom --device hw:1\" (it is not "
                    + "run through a shell: give the program and each argument as an item of the list)"
            ])
        #expect(
            try refused("intercom:\n  command: []\n") == [
                "\(file):15:12: intercom.command: \(expected); got an empty list"
            ])
        #expect(
            try refused("intercom:\n  command:\n") == [
                "\(file):15:11: intercom.command: \(expected); got an empty value"
            ])
        #expect(
            try refused("intercom:\n  command: [/bin/intercom, {device: hw}]\n") == [
                "\(file):15:28: intercom.command[1]: expected an argument (a text value); got a mapping"
            ])
        #expect(
            try refused("intercom:\n  sip_uri: sip:a@pbx.example\n  sip_client: [~, --x]\n") == [
                "\(file):16:16: intercom.sip_client[0]: expected a file path; got an empty value"
            ])
    }

    @Test(arguments: [
        "lmc-officers@pbx.lmc.example", "http://pbx.example", "sip:pbx.lmc.example", "sip:@pbx.example",
        "sip:officers@", "sip:officers@pbx..example", "sip:officers@-pbx.example", "sip:a@b@c",
        "sip:officers@pbx.example:0", "sip:officers@pbx.example:99999", "sip:officers@pbx.example:50x",
        "sip:offi cers@pbx.example", "sip:officers@[2001:db8::1", "tel:+85212345678", "sip:辦公室@pbx.example",
    ])
    func aSIPURIWithoutSchemeUserOrHostIsRefused(_ uri: String) throws {
        let quoted = "'\(uri)'"
        #expect(
            try refused("intercom:\n  sip_uri: \(quoted)\n") == [
                "\(file):15:12: intercom.sip_uri: expected a SIP URI such as sip:officers@pbx.example (sip: or "
                    + "sips:, a user, @ and a host); got \"\(uri)\""
            ])
    }

    @Test(arguments: [
        "sip:lmc-officers@pbx.lmc.example", "SIP:8100@10.20.0.5", "sips:desk.1@pbx.example:5061",
        "sip:officers@[2001:db8::1]:5060", "sip:officers@pbx.example;transport=tcp",
        "sip:officers:secret@pbx.example", "sip:+85212345678@gw.example?subject=help",
    ])
    func aSIPURIWithSchemeUserAndHostIsTaken(_ uri: String) throws {
        let config = try load("intercom:\n  sip_uri: '\(uri)'\n")
        #expect(
            config.intercom?.voice
                == .sip(uri: uri, client: LaneConfiguration.IntercomSection.defaultSIPClient))
    }

    @Test func aTimeoutOutOfRangeSaysTheRange() throws {
        #expect(
            try refused("intercom:\n  command: [/bin/true]\n  timeout: 2m\n") == [
                "\(file):16:12: intercom.timeout: expected a duration such as 500ms, 2s or 1m, from 100ms to 1m; "
                    + "got \"2m\""
            ])
    }

    @Test func theIntercomNeedsARestartNotAReload() throws {
        let without = try LaneConfiguration.load(path: try directory.write(minimal, as: "old.yaml"))
        let with = try LaneConfiguration.load(
            path: try directory.write(minimal + "intercom: {command: [/bin/true]}\n", as: "new.yaml"))
        let (changed, restart) = without.reloadable(from: with)
        #expect(changed.isEmpty)
        #expect(Set(restart) == ["intercom.command", "intercom.timeout"])
        #expect(Set(with.reloadable(from: without).needsRestart) == Set(restart))
    }

    @Test func theExamplesCarryTheSectionCommentedOut() throws {
        for name in ["laned-LMC-IN-01.yaml", "laned-LMC-OUT-01.yaml"] {
            let url = repositoryConfig.appendingPathComponent(name)
            let text = try String(contentsOf: url, encoding: .utf8)
            #expect(text.contains("# intercom:"), "\(name) shows no intercom section")
            #expect(try LaneConfiguration.load(path: url.path).intercom == nil)
            // Uncommented, the example is a valid section.
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            guard let start = lines.firstIndex(of: "# intercom:") else {
                Issue.record("\(name): no `# intercom:` line")
                continue
            }
            var section = [String]()
            for line in lines[start...] {
                guard line.hasPrefix("#") else { break }
                section.append(String(line.dropFirst(line.hasPrefix("# ") ? 2 : 1)))
            }
            let yaml = minimal + section.joined(separator: "\n") + "\n"
            let config = try LaneConfiguration.load(path: try directory.write(yaml, as: "uncommented.yaml"))
            #expect(config.intercom != nil, "\(name): the uncommented section gives no intercom")
        }
    }
}
