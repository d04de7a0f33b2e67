import AnyJSON
import ArgumentParser
import Foundation
import LaneControl

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the lane now: open or closed, link, boards, vehicle, last decision, faults.")

    @OptionGroup var target: LaneOptions

    @Flag(help: "Print laned's status object as JSON instead of the table.")
    var json = false

    func run() throws {
        let status = try target.connect().call(.status)
        Output.line(json ? status.rendered(pretty: true) : LaneTables.status(status))
    }
}

// The protocol's own names are the arguments' values.
extension ControlButton: ExpressibleByArgument {}
extension ControlPressAction: ExpressibleByArgument {}
extension ControlBoard: ExpressibleByArgument {}

struct Press: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Press a virtual button (lanes with control.allow_virtual_inputs only).",
        discussion: """
            The press enters the lane exactly as a GPIO edge would. `click` presses \
            and releases; `press` alone holds the button down until `release`.
            """)

    @Argument(help: "The button: unladen or help.")
    var button: ControlButton

    @Option(help: "press, release, or click (press then release).")
    var action: ControlPressAction = .click

    @OptionGroup var target: LaneOptions

    func run() throws {
        _ = try target.connect().call(.press(button: button, action: action))
        Output.line("\(button.rawValue) button: \(action.rawValue)")
    }
}

struct Arrive: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a vehicle arriving (lanes with control.allow_virtual_inputs only).",
        discussion: "The lane normalises the plate by its rules and asks central for a decision.")

    @Argument(help: "The plate as read, e.g. 'AB 1234'.")
    var vrn: String

    @Flag(
        help: ArgumentHelp(
            "Wait for the decision on both boards and print it.",
            discussion:
                "Waits up to --timeout; a vehicle without a bundle waits out the unladen grace (20 s by default) first, so give it --timeout 30."
        ))
    var wait = false

    @OptionGroup var target: LaneOptions

    func validate() throws {
        if vrn.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("the VRN is empty; give the plate as read, e.g. 'AB 1234'")
        }
    }

    func run() throws {
        // laned answers a little before lanectl stops listening, so a slow
        // decision is reported as such and not as a silent laned.
        let waitMilliseconds = min(
            ControlRequest.arriveWaits.upperBound, max(1, Int(target.timeout * 1000) - 250))
        let result = try target.connect().call(
            .arrive(vrn: vrn, waitMilliseconds: wait ? waitMilliseconds : nil))
        let plate = result["vrn"]?.text ?? vrn
        if let request = result["request_id"]?.text, !request.isEmpty {
            Output.line("arrived: \(plate), decision requested (request \(request))")
        } else {
            Output.line("arrived: \(plate)")
        }
        guard wait else { return }
        guard let shown = result["shown"], let xdb = shown["xdb"]?.text else {
            throw Failure(
                .timedOut,
                "no decision on the boards for \(plate) within \(waitMilliseconds / 1000) s; the vehicle is still at the lane (lanectl status)"
            )
        }
        var line = "shown: XDB \(xdb), AIOP \(shown["aiop"]?.text ?? "?") (\(shown["reason"]?.text ?? "?"))"
        if let earliest = shown["earliest_crossing"]?.text, !earliest.isEmpty {
            line += ", earliest crossing \(earliest)"
        }
        Output.line(line)
    }
}

struct Leave: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate the vehicle driving off (lanes with control.allow_virtual_inputs only).")

    @OptionGroup var target: LaneOptions

    func run() throws {
        _ = try target.connect().call(.leave)
        Output.line("vehicle left")
    }
}

struct Open: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Open the lane: the boards show WELCOME.")

    @Option(help: "The officer opening the lane, for the journal (laned writes 'lanectl' when omitted).")
    var officer: String?

    @OptionGroup var target: LaneOptions

    func run() throws {
        _ = try target.connect().call(.open(officer: officer))
        Output.line("lane open")
    }
}

struct Close: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Close the lane: the boards show CLOSED.")

    @Option(help: "The officer closing the lane, for the journal (laned writes 'lanectl' when omitted).")
    var officer: String?

    @OptionGroup var target: LaneOptions

    func run() throws {
        _ = try target.connect().call(.close(officer: officer))
        Output.line("lane closed")
    }
}

struct Journal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the lane's journal, oldest first; --follow keeps printing new entries.",
        discussion: """
            --follow asks laned for entries after the last one shown every --interval \
            seconds, and waits for laned to come back when it restarts. Stop it with \
            Ctrl-C.
            """)

    @Option(help: "How many entries to show first (1 to 1000).")
    var limit = 20

    @Option(help: ArgumentHelp("Show only entries after this sequence number.", valueName: "seq"))
    var after: Int64?

    @Flag(help: "Keep printing new entries as the lane writes them.")
    var follow = false

    @Option(help: ArgumentHelp("Seconds between asks with --follow.", valueName: "seconds"))
    var interval: Double = 1

    @Flag(help: "Print one JSON object per entry and line, as laned gives them.")
    var json = false

    @OptionGroup var target: LaneOptions

    func validate() throws {
        guard ControlRequest.journalLimits.contains(limit) else {
            throw ValidationError("--limit \(limit): give 1 to 1000 entries")
        }
        guard interval >= 0.05, interval <= 3600 else {
            throw ValidationError("--interval \(interval): give seconds between 0.05 and 3600")
        }
    }

    func run() async throws {
        var connection: ControlConnection? = try target.connect()
        var request = ControlRequest.journal(limit: limit, after: after)
        var last = after
        var first = true
        let printer = JournalPrinter(json: json)
        while true {
            var page: [JSONValue]?
            do {
                page = try fetch(&connection, request)
            } catch {
                guard follow, [.unavailable, .timedOut].contains(error.kind) else { throw error }
                if connection != nil {
                    Output.error("lanectl: lost laned (\(error.message)); waiting for it to come back")
                }
                connection = nil
            }
            if let page {
                printer.print(page, header: first)
                first = false
                if let seq = page.last?["seq"]?.integer { last = seq }
                guard follow else { return }
            }
            request = .journal(limit: ControlRequest.journalLimits.upperBound, after: last)
            // A full page means more are waiting: ask again at once.
            if page?.count != ControlRequest.journalLimits.upperBound {
                try await Task.sleep(for: .seconds(interval))
            }
        }
    }

    /// One page of entries, reconnecting first when the last ask lost laned.
    private func fetch(_ connection: inout ControlConnection?, _ request: ControlRequest) throws(Failure)
        -> [JSONValue]
    {
        if connection == nil {
            connection = try target.connect()
            Output.error("lanectl: laned is back")
        }
        return try Self.entries(connection!.call(request))
    }

    static func entries(_ result: JSONValue) throws(Failure) -> [JSONValue] {
        guard let entries = result["entries"]?.array else {
            throw Failure(
                .dataError, "laned's journal answer has no `entries` array: \(result.text.prefix(120))")
        }
        return entries
    }
}

/// Prints journal entries as a table whose columns stay put across
/// `--follow` batches, or as JSON lines.
struct JournalPrinter {
    var json: Bool

    func print(_ entries: [JSONValue], header: Bool) {
        if json {
            for entry in entries { Output.line(entry.rendered(pretty: false)) }
            return
        }
        if header { Output.line(LaneTables.journalHeader) }
        for entry in entries { Output.line(LaneTables.journalRow(entry)) }
    }
}

struct Screenshot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save what a board shows now as a PNG file.")

    @Option(help: "The board: xdb (the big board over the lane) or aiop (the driver's panel).")
    var board: ControlBoard

    @Option(
        name: [.short, .customLong("output")],
        help: ArgumentHelp("The PNG file to write; - for stdout.", valueName: "file"),
        completion: .file(extensions: ["png"]))
    var output: String

    @OptionGroup var target: LaneOptions

    func run() throws {
        let result = try target.connect().call(.screenshot(board: board))
        guard let png = (try? ControlResponse.result(ControlScreenshotResult.self, from: result))?.png else {
            throw Failure(.dataError, "laned's screenshot answer has no base64 `png_base64`")
        }
        guard let size = PNGInfo.size(of: png) else {
            throw Failure(.dataError, "laned's screenshot of \(board.rawValue) is not a PNG image")
        }
        if output == "-" {
            Output.bytes(png)
            return
        }
        do {
            try png.write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
            throw Failure(.cantCreate, "cannot write \(output): \(reason)")
        }
        Output.line(
            "\(board.rawValue): \(size.width)x\(size.height) PNG, \(png.count) bytes, written to \(output)")
    }
}

/// The width and height from a PNG's header, which also proves it is one.
enum PNGInfo {
    static func size(of data: Data) -> (width: Int, height: Int)? {
        let bytes = [UInt8](data.prefix(24))
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard bytes.count == 24, Array(bytes[0..<8]) == signature, Array(bytes[12..<16]) == Array("IHDR".utf8)
        else { return nil }
        func word(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (word(16), word(20))
    }
}

struct ClockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clock",
        abstract:
            "Show the lane's clock, or step it (--offset: lanes with control.allow_virtual_inputs only).",
        discussion: """
            Without --offset, prints the lane's time (Hong Kong) and the offset laned adds to \
            the host's clock. With --offset, laned's clock becomes the host's clock plus that \
            many seconds (negative steps it back), as an NTP step would; the step is journaled \
            as clock_stepped. Timers keep running on the monotonic clock.
            """)

    @Option(
        help:
            "Seconds to add to the host's clock, -604800 to 604800 (7 days), a negative one as --offset=-3600; 0 undoes a step."
    )
    var offset: Int64?

    @OptionGroup var target: LaneOptions

    func validate() throws {
        if let offset, abs(offset) > ControlRequest.clockOffsetLimit {
            throw ValidationError(
                "--offset \(offset) is out of range; expected -\(ControlRequest.clockOffsetLimit) to \(ControlRequest.clockOffsetLimit) seconds (7 days)"
            )
        }
    }

    func run() throws {
        let result = try target.connect().call(.clock(offsetSeconds: offset))
        let now = result["now"]?.text ?? "?"
        let current = result["offset_seconds"]?.text ?? "?"
        if let previous = result["previous_offset_seconds"]?.text, !previous.isEmpty {
            Output.line("clock stepped: offset \(previous) s -> \(current) s; lane time now \(now)")
        } else {
            Output.line("lane time \(now), offset \(current) s")
        }
    }
}
