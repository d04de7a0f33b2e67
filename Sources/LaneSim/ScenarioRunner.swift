import BoardLayout
import Central
import Displays
import Foundation
import LaneJournal
import LaneRuntime
import RoadCargo

/// Runs a scenario against a fresh ``Simulation`` and reports every failed
/// expectation as a diff a technician can act on.
public struct ScenarioRunner: Sendable {
    /// One failed step.
    public struct Failure: Sendable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var step: String
        /// What differed, one line each: `xdb: expected CLEARED, shown STOP`.
        public var differences: [String]
        /// The lane as it was, for context.
        public var context: [String]

        public var description: String {
            var lines = ["\(file):\(line): \(step)"]
            lines += differences.map { "    \($0)" }
            lines += context.map { "    | \($0)" }
            return lines.joined(separator: "\n")
        }
    }

    public struct Result: Sendable {
        public var scenario: String
        public var file: String
        public var steps: Int
        public var expectations: Int
        public var failures: [Failure]
        public var seconds: Double
        public var passed: Bool { failures.isEmpty }
    }

    /// Where to write each lane's boards as PNG after every step that changes them (the demo).
    public var picturesDirectory: String?
    /// Prints each step and every board change as text.
    public var narrate: (@Sendable (String) -> Void)?
    /// A pause after every step, for people watching windows.
    public var pace: Duration?
    /// Shows every lane's boards side by side while the scenario runs (a desktop).
    public var window: SimulatorWindow?
    /// Lanes on pty serial lines instead of TCP.
    public var serial = false
    /// A running clearanced to use instead of the embedded one.
    public var remote: RemoteCentral.Options?

    public init(picturesDirectory: String? = nil, narrate: (@Sendable (String) -> Void)? = nil) {
        self.picturesDirectory = picturesDirectory
        self.narrate = narrate
    }

    public func run(_ scenario: Scenario) async -> Result {
        let started = ContinuousClock.now
        var failures: [Failure] = []
        var expectations = 0
        var settings = Simulation.Settings(start: scenario.start, lanes: scenario.lanes)
        settings.phase = scenario.phase
        settings.ladenRate = scenario.ladenRate
        settings.unladenRate = scenario.unladenRate
        settings.decisionTimeout = scenario.decisionTimeout
        settings.unladenGrace = scenario.unladenGrace
        settings.serial = serial
        settings.remote = remote
        let simulation: Simulation
        do {
            simulation = try await Simulation(settings: settings)
            for lane in scenario.lanes { try await startLane(lane.id, in: simulation) }
            // The first step finds every lane linked to central, as a control point in service is.
            for lane in scenario.lanes {
                try await waitForLink(simulation.lane(lane.id))
            }
        } catch {
            return Result(
                scenario: scenario.name, file: scenario.file, steps: 0, expectations: 0,
                failures: [
                    Failure(
                        file: scenario.file, line: 1, step: "start the control point",
                        differences: ["\(error)"],
                        context: [])
                ], seconds: (ContinuousClock.now - started).seconds)
        }
        var names = Names()
        var pictureNumber = 0
        for step in scenario.steps {
            narrate?("\(HongKongTime.displayString(simulation.clock.now()))  \(step.text)")
            do {
                if case .expect(let expectation) = step.action {
                    expectations += 1
                    if let failure = await check(
                        expectation, step: step, scenario: scenario, simulation: simulation)
                    {
                        failures.append(failure)
                        narrate?("    FAILED\n" + failure.description)
                    }
                } else {
                    try await perform(step.action, simulation: simulation, names: &names)
                }
            } catch {
                // A step that cannot be carried out leaves nothing sensible to check after it.
                failures.append(
                    Failure(
                        file: scenario.file, line: step.line, step: step.text,
                        differences: ["the step failed: \(error)"], context: []))
                break
            }
            if let directory = picturesDirectory, case .expect(let expectation) = step.action,
                let lane = try? simulation.lane(expectation.lane)
            {
                pictureNumber += 1
                await writePictures(lane, directory: directory, number: pictureNumber)
            }
            if let window {
                let tiles = await ControlPointView.tiles(simulation, selected: nil)
                let prompt = "\(HongKongTime.displayString(simulation.clock.now()))  \(step.text)"
                try? await window.present(tiles, prompt: prompt)
                if await window.poll().contains(.quit) { break }
            }
            if let pace { try? await Task.sleep(for: pace) }
        }
        await simulation.shutdown()
        return Result(
            scenario: scenario.name, file: scenario.file, steps: scenario.steps.count,
            expectations: expectations,
            failures: failures, seconds: (ContinuousClock.now - started).seconds)
    }

    private func startLane(_ id: LaneID, in simulation: Simulation) async throws {
        let lane = try await simulation.startLane(id)
        guard let narrate else { return }
        let boards = await lane.controller.drawnBoards()
        Task {
            for await board in boards {
                narrate("    \(id.value): \(Self.describe(board))")
            }
        }
    }

    struct Names {
        var consignments: [String: CCRN] = [:]
        var bundles: [String: UBR] = [:]
    }

    private func perform(_ action: Scenario.Action, simulation: Simulation, names: inout Names) async throws {
        switch action {
        case .submit(let name, let direction, let days, let consignee):
            let c = try await simulation.submit(direction: direction, daysAhead: days, consignee: consignee)
            names.consignments[name] = c.ccrn
            narrate?("    \(name) = CCRN \(c.ccrn), valid until \(c.validUntil)")
        case .amend(let name, let days, let consignee):
            _ = try await simulation.amend(names.consignments[name]!, daysAhead: days, consignee: consignee)
        case .bundle(let name, let vrn, let direction, let consignments, let controlPoint):
            let b = try await simulation.bundle(
                vrn: vrn, direction: direction, ccrns: consignments.map { names.consignments[$0]! },
                controlPoint: controlPoint)
            names.bundles[name] = b.ubr
            narrate?(
                "    \(name) = UBR \(b.ubr), earliest crossing \(HongKongTime.displayString(b.earliestCrossing))"
            )
        case .debundle(let name):
            _ = try await simulation.debundle(names.bundles[name]!)
        case .watch(let spec):
            switch spec {
            case .vrn(let vrn): try await simulation.watch(.vrn(vrn))
            case .consignment(let name): try await simulation.watch(.ccrn(names.consignments[name]!))
            case .consignee(let text): try await simulation.watch(.consignee(text))
            }
        case .advance(let seconds):
            try await simulation.advance(by: seconds)
        case .at(let date):
            let now = simulation.clock.now()
            guard date >= now else {
                throw RunnerError(
                    "at: \(HongKongTime.displayString(date)) is before the clock (\(HongKongTime.displayString(now))); time only moves forward"
                )
            }
            try await simulation.advance(by: date.timeIntervalSince(now))
        case .arrive(let id, let vrn, let viaImmigration):
            if viaImmigration {
                try await simulation.immigrationArrival(vrn, lane: id)
            } else {
                try await simulation.lane(id).arrive(vrn)
            }
        case .leave(let id):
            try await simulation.lane(id).leave()
        case .button(let id, let role, let how):
            let lane = try simulation.lane(id)
            switch how {
            case "press": lane.press(role)
            case "release": lane.release(role)
            default: lane.click(role)
            }
            // GPIO edges enter the lane a moment later, as on a real kiosk; let them land.
            try await Task.sleep(for: .milliseconds(100))
        case .override(let id, let instruction, let reason, let officer, let text):
            let status = try await simulation.lane(id).status()
            guard let request = status.currentRequestID else {
                throw RunnerError("override: lane \(id) has no vehicle with a request to override")
            }
            try await simulation.command(
                .override(requestID: request, instruction: instruction, reason: reason, text: text), lane: id,
                officer: officer)
            try await applied(at: id, in: simulation) { status in
                if case .decided(instruction, reason, _) = status.board.phase { return true }
                return false
            }
        case .help(let id, let officer, let step):
            switch step {
            case .answer:
                try await simulation.help(lane: id, officer: officer) { .answer(by: $0) }
                try await applied(at: id, in: simulation) { $0.board.help == .connected }
            case .phrase(let phrase, let text):
                try await simulation.help(lane: id, officer: officer) {
                    .message(by: $0, phraseID: phrase, text: text)
                }
                try await applied(at: id, in: simulation) { $0.board.officerMessage?.phraseID == phrase }
            case .end:
                try await simulation.help(lane: id, officer: officer) { .end(by: $0) }
                try await applied(at: id, in: simulation) { $0.board.help == .idle }
            }
        case .open(let id, let officer):
            try await simulation.command(.open, lane: id, officer: officer)
            try await applied(at: id, in: simulation) { $0.open }
        case .close(let id, let officer):
            try await simulation.command(.close, lane: id, officer: officer)
            try await applied(at: id, in: simulation) { !$0.open }
        case .offline(let id, let on, let officer):
            try await simulation.command(.offline(on), lane: id, officer: officer)
            try await applied(at: id, in: simulation) { $0.board.offline == on }
        case .link(let id, let up):
            let lane = try simulation.lane(id)
            if up { lane.restoreLink() } else { await lane.cutLink() }
        case .kill(.central):
            try await simulation.killCentral()
        case .kill(.lane(let id)):
            await simulation.stopLane(id)
        case .restart(.central):
            try await simulation.startCentral()
        case .restart(.lane(let id)):
            try await startLane(id, in: simulation)
            if simulation.isCentralRunning { try await waitForLink(simulation.lane(id)) }
        case .wait(let duration):
            try await Task.sleep(for: duration)
        case .expect:
            break
        }
    }

    /// An officer's command travels through central and the link: the next
    /// step starts once the lane has carried it out (when the link is up; a
    /// lane cut off gets it when the link returns).
    private func applied(
        at id: LaneID, in simulation: Simulation, _ done: @Sendable (LaneStatus) -> Bool
    ) async throws {
        let lane = try simulation.lane(id)
        var waited = AwakeWait(limit: .seconds(10))
        while !waited.isOver {
            let status = await lane.status()
            if done(status) || status.linkUp != true { return }
            await waited.nap()
        }
        throw RunnerError("lane \(id) did not carry out the officer's command within 10 s")
    }

    private func waitForLink(_ lane: SimLane) async throws {
        var waited = AwakeWait(limit: .seconds(15))
        while await lane.status().linkUp != true {
            guard !waited.isOver else {
                throw RunnerError("lane \(lane.lane.id) did not link to central within 15 s")
            }
            await waited.nap()
        }
    }

    // MARK: Expectations

    private func check(
        _ expectation: Scenario.Expectation, step: Scenario.Step, scenario: Scenario, simulation: Simulation
    ) async -> Failure? {
        var waited = AwakeWait(limit: expectation.within)
        var differences: [String] = []
        var context: [String] = []
        repeat {
            guard let lane = try? simulation.lane(expectation.lane) else {
                return Failure(
                    file: scenario.file, line: step.line, step: step.text,
                    differences: ["lane \(expectation.lane) is not running (killed?)"], context: [])
            }
            let status = await lane.status()
            let shown = Self.observed(status)
            differences = []
            for (key, wanted) in expectation.fields {
                let actual = shown[key] ?? "none"
                if actual.caseInsensitiveCompare(wanted) != .orderedSame {
                    differences.append("\(key): expected \(wanted), shown \(actual)")
                }
            }
            let recent = (try? await lane.daemon.journal.tail(limit: 400)) ?? []
            if let journal = expectation.journal {
                let found = recent.contains { record in
                    record.kind == journal.kind
                        && (journal.vrn == nil || record.entry?.vrn?.value == journal.vrn)
                        && (journal.reason == nil || record.entry?.reason?.rawValue == journal.reason)
                }
                if !found {
                    let wanted = [journal.kind, journal.vrn, journal.reason].compactMap { $0 }.joined(
                        separator: " ")
                    differences.append("journal: expected an entry \(wanted), none in the lane's journal")
                }
            }
            if let cache = expectation.cache {
                do {
                    let held = try await lane.daemon.journal.cachedBundle(
                        vrn: cache.vrn, direction: status.lane.direction)
                    let shown = held == nil ? "none" : "active"
                    if shown != cache.bundle {
                        differences.append(
                            "cache: \(cache.vrn.value): expected \(cache.bundle), held \(shown)")
                    }
                } catch {
                    differences.append("cache: the lane's cache could not be read: \(error)")
                }
            }
            if differences.isEmpty && status.drawn { return nil }
            if differences.isEmpty { differences = ["the boards are still being drawn"] }
            context = [
                "lane \(expectation.lane): phase \(status.phase), XDB \(shown["xdb"]!), AIOP \(shown["aiop"]!), "
                    + "reason \(shown["reason"]!), vrn \(shown["vrn"]!), link \(shown["link"]!)"
            ]
            context += recent.suffix(5).map { record in
                let e = record.entry
                return "journal \(record.seq) \(HongKongTime.displayString(record.at)) \(record.kind) "
                    + [e?.vrn?.value, e?.instruction?.rawValue, e?.reason?.rawValue, e?.detail]
                    .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
            }
            await waited.nap()
        } while !waited.isOver
        return Failure(
            file: scenario.file, line: step.line, step: step.text, differences: differences, context: context)
    }

    /// What a technician sees at the lane, by the names scenario files use.
    static func observed(_ status: LaneStatus) -> [String: String] {
        var reason = "none"
        var earliest = "none"
        switch status.board.phase {
        case .decided(_, let r, let e):
            reason = r.rawValue
            if let e { earliest = String(HongKongTime.displayString(e).dropFirst(11).prefix(5)) }
        case .systemUnavailable:
            reason = Reason.systemUnavailable.rawValue
        default:
            break
        }
        let help: String =
            switch status.board.help {
            case .idle: "idle"
            case .ringing: "ringing"
            case .connected: "connected"
            }
        return [
            "xdb": status.board.xdbInstruction.rawValue, "aiop": status.aiopInstruction.rawValue,
            "phase": status.phase, "reason": reason, "vrn": status.board.vrn?.value ?? "none",
            "offline": "\(status.board.offline)", "help": help,
            "link": status.linkUp.map { $0 ? "up" : "down" } ?? "none",
            "unladen_acknowledged": "\(status.board.unladenAcknowledged)", "earliest_crossing": earliest,
            "language": status.board.language.rawValue,
            "officer_message": status.board.officerMessage.map { "\($0.phraseID)" } ?? "none",
            // What the lane has yet to deliver: 0 once central has taken
            // every report, offline crossings among them.
            "outbox_pending": "\(status.outboxPending)",
        ]
    }

    /// One line for a board state: what the driver reads.
    static func describe(_ board: BoardState) -> String {
        var parts = ["XDB \(board.xdbInstruction.rawValue)"]
        if case .systemUnavailable = board.phase { parts.append("AIOP DROP_MANIFEST") }
        if case .decided(_, let reason, let earliest) = board.phase {
            parts.append(reason.rawValue)
            if let earliest { parts.append("not before \(HongKongTime.displayString(earliest))") }
        }
        if let vrn = board.vrn { parts.append("vrn \(vrn.value)") }
        if board.unladenAcknowledged { parts.append("unladen pressed") }
        switch board.help {
        case .idle: break
        case .ringing: parts.append("help ringing")
        case .connected: parts.append("officer connected")
        }
        if let message = board.officerMessage { parts.append("officer says \"\(message.text)\"") }
        if board.offline { parts.append("OFFLINE") }
        if board.linkDown { parts.append("link down") }
        return parts.joined(separator: ", ")
    }

    /// Both boards of the lane an expectation looked at, as the driver saw them.
    private func writePictures(_ lane: SimLane, directory: String, number: Int) async {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let status = await lane.status()
        for board in [BoardKind.xdb, .aiop] {
            guard let png = try? await lane.controller.screenshot(board) else { continue }
            let shown = board == .xdb ? status.board.xdbInstruction : status.aiopInstruction
            let name =
                "\(String(format: "%02d", number))-\(lane.lane.id.value)-\(board.rawValue)-\(shown.rawValue).png"
            _ = FileManager.default.createFile(atPath: "\(directory)/\(name)", contents: Data(png))
        }
    }
}

/// The simulator's words for what lanes show, for terminals and logs.
public enum ScenarioText {
    /// One line for a board state: what the driver reads.
    public static func describe(_ board: BoardState) -> String { ScenarioRunner.describe(board) }

    /// One line for a lane's status.
    public static func statusLine(_ status: LaneStatus) -> String {
        let shown = ScenarioRunner.observed(status)
        return "\(status.lane.id.value): \(status.phase), XDB \(shown["xdb"]!), AIOP \(shown["aiop"]!), "
            + "reason \(shown["reason"]!), vrn \(shown["vrn"]!), link \(shown["link"]!), help \(shown["help"]!)"
    }

    /// Seconds in a duration as scenario files write it (`20s`, `30m`, `1h30m`).
    public static func seconds(_ text: String) -> TimeInterval? {
        Scenario.Reader.parseDuration(text)?.seconds
    }
}

/// A wait that counts only the time this task spent waiting, each nap at
/// most ten naps long: a machine too busy to run the simulation for a while
/// (a loaded CI host) does not use up a lane's time to get somewhere.
struct AwakeWait {
    let limit: Duration
    let step = Duration.milliseconds(10)
    private(set) var waited = Duration.zero

    init(limit: Duration) { self.limit = limit }

    var isOver: Bool { waited >= limit }

    mutating func nap() async {
        let before = ContinuousClock.now
        try? await Task.sleep(for: step)
        waited += min(ContinuousClock.now - before, step * 10)
    }
}

struct RunnerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension ScenarioRunner.Result {
    /// JUnit XML for CI systems: one test suite per file, one test case per scenario.
    public static func junit(_ results: [ScenarioRunner.Result]) -> String {
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let failures = results.filter { !$0.passed }.count
        xml += "<testsuites name=\"lanesim\" tests=\"\(results.count)\" failures=\"\(failures)\">\n"
        for r in results {
            xml += "  <testsuite name=\"\(escape(r.file))\" tests=\"1\" failures=\"\(r.passed ? 0 : 1)\" "
            xml += "time=\"\(String(format: "%.3f", r.seconds))\">\n"
            xml += "    <testcase classname=\"lanesim\" name=\"\(escape(r.scenario))\" "
            xml += "time=\"\(String(format: "%.3f", r.seconds))\">\n"
            if !r.passed {
                let text = r.failures.map(\.description).joined(separator: "\n\n")
                xml +=
                    "      <failure message=\"\(escape(r.failures.first?.differences.first ?? "failed"))\">"
                xml += escape(text) + "</failure>\n"
            }
            xml += "    </testcase>\n  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }
}
